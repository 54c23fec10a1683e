"""Permission set groups live in the rules file beside the rules."""

from __future__ import annotations

import pytest

from jit.errors import ValidationFailed
from jit.rules.groups import apply_rules_file, dump_groups_yaml, list_groups
from jit.rules.models import ApprovalRule, PermissionSetGroup
from jit.rules.service import dump_rules_yaml, list_rules


async def test_export_then_apply_changes_nothing(demo):
    text = dump_groups_yaml(await list_groups()) + dump_rules_yaml(await list_rules())
    assert "permission_set_groups:" in text and "DBA" in text
    report = await apply_rules_file(demo.rt, text, None, prune=True)
    assert report.groups.unchanged == ["DBA"] and not report.rules.created and not report.rules.updated


async def test_a_new_group_and_a_rule_scoped_by_it_apply_together(demo):
    text = dump_groups_yaml(await list_groups()) + dump_rules_yaml(await list_rules())
    text = text.replace("permission_set_groups:\n", "permission_set_groups:\n- name: Audit\n  description: ''\n"
                        "  permission_sets: [SecurityAudit, ReadOnlyAccess]\n", 1)
    text = text.replace("    permission_set_groups: []\n", "    permission_set_groups: [Audit]\n", 1)
    await apply_rules_file(demo.rt, text, None)
    assert await PermissionSetGroup.filter(name="Audit").exists()
    assert any("Audit" in r.permission_set_groups for r in await ApprovalRule.all())


async def test_a_rule_naming_an_unknown_group_is_refused(demo):
    text = dump_rules_yaml(await list_rules()).replace("    permission_set_groups: []\n",
                                                       "    permission_set_groups: [Nope]\n", 1)
    with pytest.raises(ValidationFailed) as info:
        await apply_rules_file(demo.rt, text, None)
    assert "scope.permission_set_groups[0]" in info.value.field
