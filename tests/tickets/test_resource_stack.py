"""Idempotency of the jobs, and the overlap rule (an assignment another live ticket
still needs stays in place: TEAM bug #279)."""

from __future__ import annotations

import pytest

from jit.tickets import stack
from jit.tickets.models import EntryOrigin, EntryStatus, StackEntry, Ticket, UnwindStatus
from jit.tickets.models import TicketStatus as S


@pytest.mark.parametrize("runs", [1, 2, 3])
async def test_jobs_run_any_number_of_times_leave_one_then_zero(demo, runs):
    ticket = await demo.request("alice", [("sandbox-alice", "ReadOnlyAccess")], duration=60, justification="")
    for _ in range(runs):
        await stack.grant(demo.rt, str(ticket.id))
    assert len(demo.assignments("sandbox-alice", "ReadOnlyAccess", "alice")) == 1
    demo.rt.clock.advance(seconds=61)
    for _ in range(runs):
        await stack.revoke(demo.rt, str(ticket.id))
    assert demo.assignments("sandbox-alice", "ReadOnlyAccess", "alice") == []
    assert (await Ticket.get(id=ticket.id)).status == S.ENDED


async def test_grant_that_died_after_the_aws_call_does_not_duplicate(demo):
    """The intent was written and AWS created the assignment, but the worker died before
    recording the request id. moto does not deduplicate, so a blind retry would make two."""
    ticket = await demo.request("alice", [("sandbox-alice", "ReadOnlyAccess")], duration=60, justification="")
    await Ticket.filter(id=ticket.id).update(status=S.GRANTING, version=ticket.version + 1)
    now = demo.rt.clock.now()
    await StackEntry.create(
        ticket_id=ticket.id, position=0, account_id=demo.account("sandbox-alice"),
        permission_set_arn=demo.ps("ReadOnlyAccess"), principal_id=demo.org.users["alice"],
        pre_existing=False, status=EntryStatus.INTENDED, created_at=now, updated_at=now,
    )
    demo.sso().create_account_assignment(
        InstanceArn=demo.org.instance_arn, TargetId=demo.account("sandbox-alice"), TargetType="AWS_ACCOUNT",
        PermissionSetArn=demo.ps("ReadOnlyAccess"), PrincipalType="USER", PrincipalId=demo.org.users["alice"],
    )
    await stack.grant(demo.rt, str(ticket.id))
    await stack.grant(demo.rt, str(ticket.id))
    assert len(demo.assignments("sandbox-alice", "ReadOnlyAccess", "alice")) == 1
    entry = await StackEntry.get(ticket_id=ticket.id)
    assert entry.status == EntryStatus.SUCCEEDED and entry.origin == EntryOrigin.CREATED
    demo.rt.clock.advance(seconds=61)
    await stack.revoke(demo.rt, str(ticket.id))
    assert demo.assignments("sandbox-alice", "ReadOnlyAccess", "alice") == []


async def _active(demo, user, account, ps, duration):
    ticket = await demo.request(user, [(account, ps)], duration=duration, justification="x")
    if ticket.status == S.PENDING_APPROVAL:
        raise AssertionError("use an auto-approved target")
    await stack.grant(demo.rt, str(ticket.id))
    return ticket


# (second ticket: user, account, permission set, its status when the first ends) -> first's entry kept?
OVERLAP = [
    ("same principal, account and set, other ticket ACTIVE",
     ("alice", "sandbox-alice", "ReadOnlyAccess", S.ACTIVE), True),
    ("same assignment, other ticket already ENDED", ("alice", "sandbox-alice", "ReadOnlyAccess", S.ENDED), False),
    ("same assignment, other ticket only SCHEDULED", ("alice", "sandbox-alice", "ReadOnlyAccess", S.SCHEDULED), False),
    ("other permission set", ("alice", "sandbox-alice", "PowerUserAccess", S.ACTIVE), False),
    ("other account", ("alice", "sandbox-shared", "ReadOnlyAccess", S.ACTIVE), False),
    ("other principal", ("erin", "sandbox-alice", "ReadOnlyAccess", S.ACTIVE), False),
]


@pytest.mark.parametrize("case,second,kept", OVERLAP, ids=[c[0] for c in OVERLAP])
async def test_overlap_rule(demo, case, second, kept):
    first = await _active(demo, "alice", "sandbox-alice", "ReadOnlyAccess", 60)
    user, account, ps, status = second
    other = await demo.request(user, [(account, ps)], duration=600, justification="x")
    if status in (S.ACTIVE, S.ENDED):
        await stack.grant(demo.rt, str(other.id))
    if status == S.ENDED:
        await Ticket.filter(id=other.id).update(end_at=demo.rt.clock.now())
        await stack.revoke(demo.rt, str(other.id))
        assert (await Ticket.get(id=other.id)).status == S.ENDED

    demo.rt.clock.advance(seconds=61)
    await stack.revoke(demo.rt, str(first.id))
    assert (await Ticket.get(id=first.id)).status == S.ENDED
    entry = await StackEntry.get(ticket_id=first.id)
    remaining = demo.assignments("sandbox-alice", "ReadOnlyAccess", "alice")
    if kept:
        assert entry.unwind_status == UnwindStatus.RETAINED and str(other.id) in entry.unwind_reason
        assert len(remaining) == 1
        # ...and when the second ticket ends, the access goes with it.
        demo.rt.clock.advance(seconds=600)
        await stack.revoke(demo.rt, str(other.id))
        assert demo.assignments("sandbox-alice", "ReadOnlyAccess", "alice") == []
    else:
        assert entry.unwind_status == UnwindStatus.DELETED
        assert remaining == []


async def test_standing_access_is_never_removed(demo):
    demo.sso().create_account_assignment(
        InstanceArn=demo.org.instance_arn, TargetId=demo.account("sandbox-alice"), TargetType="AWS_ACCOUNT",
        PermissionSetArn=demo.ps("ReadOnlyAccess"), PrincipalType="USER", PrincipalId=demo.org.users["alice"],
    )
    ticket = await _active(demo, "alice", "sandbox-alice", "ReadOnlyAccess", 60)
    entry = await StackEntry.get(ticket_id=ticket.id)
    assert entry.pre_existing and entry.origin == EntryOrigin.STANDING
    demo.rt.clock.advance(seconds=61)
    await stack.revoke(demo.rt, str(ticket.id))
    assert len(demo.assignments("sandbox-alice", "ReadOnlyAccess", "alice")) == 1
    assert (await StackEntry.get(ticket_id=ticket.id)).unwind_status == UnwindStatus.RETAINED


