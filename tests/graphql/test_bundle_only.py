"""A rule scoped by a permission set group makes each member requestable alone, says so in
the preview, and with permission_set_groups_bundle_only allows the whole group only."""

from __future__ import annotations

import yaml

from jit.rules.groups import apply_rules_file, dump_groups_yaml, list_groups
from jit.rules.service import dump_rules_yaml, list_rules
from tests.graphql.client import REQUEST

PREVIEW = """query($a: String!, $p: String!) { approvalPreview(accountId: $a, permissionSet: $p) {
  ... on ApprovalPreview { rules { name viaPermissionSetGroups requestableAlone } } } }"""
TARGETS = """query($ids: [ID!]) { requestableTargets(accountIds: $ids) {
  permissionSet { name } permissionSetGroup { name } } }"""


async def _dev_access_bundle_only(demo) -> None:
    data = yaml.safe_load(dump_groups_yaml(await list_groups()) + dump_rules_yaml(await list_rules()))
    for rule in data["rules"]:
        if rule["name"] == "dev-access":
            rule["scope"]["permission_set_groups_bundle_only"] = True
    await apply_rules_file(demo.rt, yaml.safe_dump(data), None)


async def _choices(api, demo) -> set[str]:
    rows = (await api.as_(demo.rt, "alice", TARGETS, ids=[demo.account("payments-dev")]))["requestableTargets"]
    return {(r["permissionSet"] or {}).get("name") or "group:" + r["permissionSetGroup"]["name"] for r in rows}


def _alone(demo, ps: str) -> dict:
    return {"targets": [{"accountId": demo.account("payments-dev"), "permissionSet": ps}], "durationSeconds": 3600,
            "justification": "x"}


async def test_members_of_a_scoped_group_are_requestable_alone_by_default(api, demo):
    preview = (await api.as_(demo.rt, "admin", PREVIEW, a="payments-dev", p="DatabaseAdmin"))["approvalPreview"]
    assert {"name": "dev-access", "viaPermissionSetGroups": ["DBA"], "requestableAlone": True} in preview["rules"]
    assert {"DatabaseAdmin", "ReadOnlyAccess", "PowerUserAccess", "group:DBA"} <= await _choices(api, demo)
    result = (await api.as_(demo.rt, "alice", REQUEST, input=_alone(demo, "DatabaseAdmin")))["requestTicket"]
    assert result["__typename"] == "Ticket", result


async def test_bundle_only_allows_the_whole_group_only(api, demo):
    await _dev_access_bundle_only(demo)
    preview = (await api.as_(demo.rt, "admin", PREVIEW, a="payments-dev", p="DatabaseAdmin"))["approvalPreview"]
    assert {"name": "dev-access", "viaPermissionSetGroups": ["DBA"], "requestableAlone": False} in preview["rules"]
    powered = (await api.as_(demo.rt, "admin", PREVIEW, a="payments-dev", p="PowerUserAccess"))["approvalPreview"]
    assert {"name": "dev-access", "viaPermissionSetGroups": [], "requestableAlone": True} in powered["rules"]

    choices = await _choices(api, demo)
    assert "group:DBA" in choices and "PowerUserAccess" in choices
    assert "DatabaseAdmin" not in choices and "ReadOnlyAccess" not in choices

    refused = (await api.as_(demo.rt, "alice", REQUEST, input=_alone(demo, "DatabaseAdmin")))["requestTicket"]
    assert refused["__typename"] == "NotAllowedError" and refused["field"] == "targets[0]"
    bundle = {"targets": [{"accountId": demo.account("payments-dev"), "permissionSetGroup": "DBA"}],
              "durationSeconds": 3600, "justification": "x"}
    granted = (await api.as_(demo.rt, "alice", REQUEST, input=bundle))["requestTicket"]
    assert granted["__typename"] == "Ticket", granted
