"""Session kill on early revocation, and the warning when sessions outlive a ticket."""

from __future__ import annotations

import json
from datetime import timedelta

from jit.audit.models import AuditEvent
from jit.aws.session_kill import SessionKill
from jit.directory.models import PermissionSet
from jit.durations import session_seconds
from jit.tickets import service as tickets
from jit.tickets import stack
from jit.tickets.models import Target, Ticket
from jit.tickets.warnings import session_warnings
from tests.reconcile.conftest import active_ticket


def _policy(world, ps):
    raw = world.sso().get_inline_policy_for_permission_set(
        InstanceArn=world.org.instance_arn, PermissionSetArn=world.ps(ps))["InlinePolicy"]
    return json.loads(raw) if raw else {"Statement": []}


async def _revoke_early(world, ticket):
    await tickets.revoke_ticket(world.rt, await world.user("alice"), str(ticket.id), "done early")
    assert (await stack.revoke(world.rt, str(ticket.id))).result == "revoked"


async def test_off_by_default_leaves_the_permission_set_alone(demo):
    ticket = await active_ticket(demo)
    await _revoke_early(demo, ticket)
    assert _policy(demo, "ReadOnlyAccess")["Statement"] == []


async def test_early_revocation_denies_sessions_issued_before_it(demo):
    demo.rt.settings = demo.rt.settings.model_copy(update={"session_kill": True})
    ticket = await active_ticket(demo)
    await _revoke_early(demo, ticket)
    [statement] = _policy(demo, "ReadOnlyAccess")["Statement"]
    assert statement["Effect"] == "Deny" and statement["Action"] == "*"
    assert statement["Condition"]["StringEquals"] == {"identitystore:userId": demo.org.users["alice"]}
    issued = statement["Condition"]["DateLessThan"]["aws:TokenIssueTime"]
    assert issued == demo.rt.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    assert await AuditEvent.filter(action="session_kill.applied", ticket_id=ticket.id).count() == 1


async def test_expiry_at_the_end_time_adds_no_deny(demo):
    demo.rt.settings = demo.rt.settings.model_copy(update={"session_kill": True})
    ticket = await active_ticket(demo)
    demo.rt.clock.advance(seconds=61)
    assert (await stack.revoke(demo.rt, str(ticket.id))).result == "revoked"
    assert _policy(demo, "ReadOnlyAccess")["Statement"] == []


async def test_existing_statements_are_kept_and_expired_ones_pruned(demo):
    demo.sso().put_inline_policy_to_permission_set(
        InstanceArn=demo.org.instance_arn, PermissionSetArn=demo.ps("ReadOnlyAccess"),
        InlinePolicy=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Sid": "Theirs", "Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"}]}),
    )
    killer = SessionKill(demo.rt.aws)
    now = demo.rt.clock.now()
    sid, new = await killer.deny(demo.org.instance_arn, demo.ps("ReadOnlyAccess"), ticket_id="t1", user_id="u1",
                                 issued_before=now, session=3600)
    assert new
    assert (await killer.deny(demo.org.instance_arn, demo.ps("ReadOnlyAccess"), ticket_id="t1", user_id="u1",
                              issued_before=now + timedelta(seconds=5), session=3600))[1] is False
    assert [s["Sid"] for s in _policy(demo, "ReadOnlyAccess")["Statement"]] == ["Theirs", sid]
    assert await killer.prune(demo.org.instance_arn, demo.ps("ReadOnlyAccess"), now + timedelta(seconds=3599)) == 0
    assert await killer.prune(demo.org.instance_arn, demo.ps("ReadOnlyAccess"), now + timedelta(seconds=3601)) == 1
    assert [s["Sid"] for s in _policy(demo, "ReadOnlyAccess")["Statement"]] == ["Theirs"]


async def _warnings(ticket: Ticket) -> list[str]:
    arns = [t.permission_set_arn for t in await Target.filter(ticket_id=ticket.id)]
    length = int((ticket.end_at - ticket.start_at).total_seconds())
    return session_warnings(length, await PermissionSet.filter(arn__in=arns), session_kill=False)


async def test_warning_when_sessions_outlive_the_ticket(demo):
    short = await demo.request("alice", [("sandbox-alice", "ReadOnlyAccess")], duration=1800, justification="x")
    [warning] = await _warnings(short)
    assert warning.startswith("ReadOnlyAccess sessions last up to 8h, longer than this ticket (30m)")
    long = await demo.request("alice", [("sandbox-erin", "PowerUserAccess")], duration=5 * 3600, justification="x")
    assert await _warnings(long) == []


def test_session_durations():
    assert session_seconds("PT1H") == 3600 and session_seconds("PT1H30M") == 5400
    assert session_seconds("PT12H") == 43200 and session_seconds("garbage") == 43200
