"""Change control: changes to rules, groups and delegations are audited with before and
after; changes to rules scoped to a guarded OU wait for a second admin."""

from __future__ import annotations

import dataclasses

import boto3
import pytest

from jit.audit.models import AuditEvent
from jit.directory.service import sync_directory
from jit.errors import NotAllowed, WrongState
from jit.rules.changes import Proposed, RuleChangeService
from jit.rules.groups import GroupService, GroupSpec
from jit.rules.models import ApprovalRule, PermissionSetGroup, RuleChange
from jit.rules.service import rule_to_spec


async def _second_admin(w) -> str:
    store = boto3.client("identitystore", endpoint_url=w.rt.settings.aws_endpoint_url, region_name="us-east-1")
    user = store.create_user(IdentityStoreId=w.org.identity_store_id, UserName="admin2", DisplayName="Admin Two",
                             Name={"GivenName": "A", "FamilyName": "Two"})["UserId"]
    store.create_group_membership(IdentityStoreId=w.org.identity_store_id, GroupId=w.org.groups["jit-admins"],
                                  MemberId={"UserId": user})
    await sync_directory(w.rt)
    assert await w.rt.authz.is_admin(user)
    return user


async def test_a_change_to_a_guarded_rule_waits_for_a_second_admin(demo):
    settings = demo.rt.settings.model_copy(update={"rule_change_approval_ous": ["/Workloads/Prod"]})
    service = RuleChangeService(dataclasses.replace(demo.rt, settings=settings))
    admin, admin2 = (await demo.user("admin")).id, await _second_admin(demo)
    rule = await ApprovalRule.get(name="prod-read-only")
    spec = rule_to_spec(rule)
    spec.max_duration_seconds = 3600
    proposed = await service.update(rule.id, spec, admin)
    assert isinstance(proposed, Proposed)
    assert (await ApprovalRule.get(id=rule.id)).max_duration_seconds == 14400  # not yet
    event = await AuditEvent.get(action="rule.change_proposed")
    assert event.actor_id == admin and event.detail["before"]["max_duration_seconds"] == 14400
    assert event.detail["after"]["max_duration_seconds"] == 3600

    with pytest.raises(NotAllowed):
        await service.decide(str(proposed.change.id), admin, approve=True)
    change = await service.decide(str(proposed.change.id), admin2, approve=True, comment="ok")
    assert change.status == "APPLIED" and change.decided_by == admin2
    assert (await ApprovalRule.get(id=rule.id)).max_duration_seconds == 3600
    updated = await AuditEvent.filter(action="rule.updated").order_by("-id").first()
    assert updated.actor_id == admin2 and updated.detail["before"]["max_duration_seconds"] == 14400
    with pytest.raises(WrongState):
        await service.decide(str(proposed.change.id), admin2, approve=True)


async def test_unguarded_rules_change_at_once_and_nested_ous_are_guarded(demo):
    settings = demo.rt.settings.model_copy(update={"rule_change_approval_ous": ["/Workloads"]})
    service = RuleChangeService(dataclasses.replace(demo.rt, settings=settings))
    sandbox = await ApprovalRule.get(name="sandbox-self-service")
    spec = rule_to_spec(sandbox)
    spec.description = "changed"
    assert isinstance(await service.update(sandbox.id, spec, None), ApprovalRule)
    dev = await ApprovalRule.get(name="dev-access")  # /Workloads/Dev is inside /Workloads
    assert isinstance(await service.delete(dev.id, None), Proposed)
    assert await ApprovalRule.filter(name="dev-access").exists()
    assert await RuleChange.filter(status="PENDING").count() == 1


async def test_group_changes_are_audited_with_before_and_after(demo):
    service = GroupService(demo.rt)
    group = await PermissionSetGroup.get(name="DBA")
    admin = (await demo.user("admin")).id
    await service.update(group.id, GroupSpec(name="DBA", permission_sets=["DatabaseAdmin"]), admin)
    event = await AuditEvent.get(action="permission_set_group.updated", actor_id=admin)
    assert event.detail["before"]["permission_sets"] == ["ReadOnlyAccess", "DatabaseAdmin"]
    assert event.detail["after"]["permission_sets"] == ["DatabaseAdmin"]
