"""`jit rules apply|export`: rules kept as code, applied all or nothing."""

from __future__ import annotations

import pytest

from jit.audit.models import AuditEvent
from jit.errors import NotAllowed, ValidationFailed
from jit.rules.models import ApprovalRule
from jit.rules.service import RuleService, dump_rules_yaml, list_rules, load_rules_yaml


async def test_export_then_apply_is_a_no_op(demo):
    text = dump_rules_yaml(await list_rules())
    report = await RuleService(demo.rt).apply(load_rules_yaml(text), None, prune=True)
    assert report.created == report.updated == report.deleted == []
    assert len(report.unchanged) == await ApprovalRule.all().count()


async def test_apply_updates_creates_and_prunes(demo):
    specs = load_rules_yaml(dump_rules_yaml(await list_rules()))
    specs[0] = specs[0].model_copy(update={"max_duration_seconds": 1800})
    kept = specs[:2]
    report = await RuleService(demo.rt).apply(kept, (await demo.user("admin")).id, prune=True)
    assert report.updated == [kept[0].name]
    assert len(report.deleted) == len(specs) - 2
    assert await ApprovalRule.all().count() == 2
    event = await AuditEvent.filter(action="rule.updated").first()
    assert event.detail["before"]["max_duration_seconds"] != event.detail["after"]["max_duration_seconds"]


async def test_the_services_refuse_a_person_who_is_not_an_admin(demo):
    """The admin check lives in the services, so every caller (the API, the CLI) gets it."""
    from jit.rules.groups import GroupService, GroupSpec, apply_rules_file

    before = dump_rules_yaml(await list_rules())
    alice = (await demo.user("alice")).id
    specs = load_rules_yaml(before)
    with pytest.raises(NotAllowed):
        await RuleService(demo.rt).apply(specs[:1], alice, prune=True)
    with pytest.raises(NotAllowed):
        await apply_rules_file(demo.rt, before, alice, prune=True)
    with pytest.raises(NotAllowed):
        await RuleService(demo.rt).delete((await ApprovalRule.get(name=specs[0].name)).id, alice)
    with pytest.raises(NotAllowed):
        await GroupService(demo.rt).create(GroupSpec(name="mine", permission_sets=["ReadOnlyAccess"]), alice)
    assert dump_rules_yaml(await list_rules()) == before
    assert not await AuditEvent.filter(actor_id=alice).exists()


async def test_a_bad_file_changes_nothing(demo):
    before = dump_rules_yaml(await list_rules())
    specs = load_rules_yaml(before)
    bad = specs[1].model_copy(update={"permission_sets": ["Typo"]})
    bad = bad.model_copy(update={"scope": bad.scope.model_copy(update={"permission_sets": ["Typo"]})})
    with pytest.raises(ValidationFailed) as err:
        changed = specs[0].model_copy(update={"description": "new"})
        await RuleService(demo.rt).apply([changed, bad], None)
    assert err.value.field == "rules[1].scope.permission_sets[0]"
    assert dump_rules_yaml(await list_rules()) == before


@pytest.mark.parametrize(
    "text,field",
    [
        ("rules: [", "file"),
        ("rules: 3", "rules"),
        ("rules:\n  - name: x\n", "rules[0].max_duration_seconds"),
        ("rules:\n  - name: x\n    max_duration_seconds: 60\n    colour: red\n", "rules[0].colour"),
    ],
)
def test_yaml_errors_name_the_field(text, field):
    with pytest.raises(ValidationFailed) as err:
        load_rules_yaml(text)
    assert err.value.field == field
