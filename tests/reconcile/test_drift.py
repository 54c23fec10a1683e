"""Drift: assignments AWS holds that no live ticket and no declared standing assignment explains."""

from __future__ import annotations

import json

import pytest

from jit.audit.models import AuditEvent
from jit.errors import ValidationFailed
from jit.reconcile import counters, drift, standing
from jit.reconcile.models import DriftFinding
from jit.tickets import stack
from tests.reconcile.conftest import active_ticket


def out_of_band(world, account, ps, user):
    world.sso().create_account_assignment(
        InstanceArn=world.org.instance_arn, TargetId=world.account(account), TargetType="AWS_ACCOUNT",
        PermissionSetArn=world.ps(ps), PrincipalType="USER", PrincipalId=world.org.users[user],
    )


async def test_out_of_band_assignment_is_reported_once_and_live_tickets_are_not(demo):
    await active_ticket(demo)
    out_of_band(demo, "sandbox-erin", "PowerUserAccess", "erin")
    report = await drift.scan(demo.rt)
    assert [(f.account_id, f.principal_id) for f in report.found] == [(demo.account("sandbox-erin"), demo.org.users["erin"])]
    assert report.new == 1
    again = await drift.scan(demo.rt)
    assert again.new == 0 and len(again.found) == 1
    assert await AuditEvent.filter(action="drift.detected").count() == 1
    assert (await counters.snapshot())[counters.DRIFT_DETECTED] == 1


async def test_remove_deletes_it_from_aws_and_resolves_the_finding(demo):
    out_of_band(demo, "sandbox-erin", "PowerUserAccess", "erin")
    [finding] = (await drift.scan(demo.rt)).found
    await drift.remove(demo.rt, finding.id, actor_id=None)
    assert demo.assignments("sandbox-erin", "PowerUserAccess", "erin") == []
    row = await DriftFinding.get(id=finding.id)
    assert row.resolution == "REMOVED" and row.resolved_at is not None
    assert (await drift.scan(demo.rt)).found == []


async def test_auto_remove_setting(demo):
    demo.rt.settings = demo.rt.settings.model_copy(update={"drift_auto_remove": True})
    ticket = await active_ticket(demo)
    out_of_band(demo, "sandbox-shared", "ReadOnlyAccess", "erin")
    report = await drift.scan(demo.rt)
    assert report.removed == 1
    assert demo.assignments("sandbox-shared", "ReadOnlyAccess", "erin") == []
    # The live ticket's assignment stays.
    assert len(demo.assignments("sandbox-alice", "ReadOnlyAccess", "alice")) == 1
    assert ticket


async def test_declared_standing_assignment_is_not_drift(demo, tmp_path):
    path = tmp_path / "standing.yaml"
    path.write_text("- {account: '*', permission_set: PowerUserAccess, principal: erin}\n")
    demo.rt.settings = demo.rt.settings.model_copy(update={"standing_assignments": str(path)})
    out_of_band(demo, "sandbox-erin", "PowerUserAccess", "erin")
    out_of_band(demo, "sandbox-erin", "ReadOnlyAccess", "erin")
    report = await drift.scan(demo.rt, auto_remove=True)
    assert [f.permission_set_arn for f in report.found] == [demo.ps("ReadOnlyAccess")]
    assert len(demo.assignments("sandbox-erin", "PowerUserAccess", "erin")) == 1
    assert demo.assignments("sandbox-erin", "ReadOnlyAccess", "erin") == []


async def test_access_left_after_a_ticket_ended_is_drift(demo):
    """Pre-existing (standing) access a ticket found is kept when the ticket ends, and is
    drift unless declared."""
    out_of_band(demo, "sandbox-alice", "ReadOnlyAccess", "alice")
    ticket = await active_ticket(demo)
    assert (await drift.scan(demo.rt)).found == []  # the live ticket explains it
    demo.rt.clock.advance(seconds=61)
    await stack.revoke(demo.rt, str(ticket.id))
    assert len((await drift.scan(demo.rt)).found) == 1


async def test_finding_that_a_ticket_now_explains_is_kept(demo):
    from jit.errors import NotAllowed

    out_of_band(demo, "sandbox-alice", "ReadOnlyAccess", "alice")
    [finding] = (await drift.scan(demo.rt)).found
    await active_ticket(demo)
    with pytest.raises(NotAllowed):
        await drift.remove(demo.rt, finding.id, actor_id=None)
    assert len(demo.assignments("sandbox-alice", "ReadOnlyAccess", "alice")) == 1
    assert (await DriftFinding.get(id=finding.id)).resolution == "EXPLAINED"


def test_standing_assignments_parse_json_and_reject_bad_entries():
    parsed = standing.parse(json.dumps([{"account": "111122223333", "permission_set": "Admin", "principal": "g",
                                         "principal_type": "group"}]))
    assert parsed == [standing.StandingAssignment("111122223333", "Admin", "g", "GROUP")]
    with pytest.raises(ValidationFailed) as bad:
        standing.parse('[{"account": "1"}]')
    assert bad.value.field == "standing_assignments[0]"
    with pytest.raises(ValidationFailed):
        standing.parse("/no/such/file.yaml")
