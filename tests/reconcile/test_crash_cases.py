"""A worker killed at any point between the AWS call and the database commit: each case
stops the job's steps where a SIGKILL would, then lets the reconciler's job finish."""

from __future__ import annotations

from jit.jobs import worker
from jit.reconcile.service import reconcile
from jit.tickets.models import EntryStatus, StackEntry, Ticket, UnwindStatus
from jit.tickets.models import TicketStatus as S
from tests.reconcile.conftest import active_ticket, job_ctx


def _delete_out_of_band(world, account="sandbox-alice", ps="ReadOnlyAccess", user="alice") -> str:
    return world.sso().delete_account_assignment(
        InstanceArn=world.org.instance_arn, TargetId=world.account(account), TargetType="AWS_ACCOUNT",
        PermissionSetArn=world.ps(ps), PrincipalType="USER", PrincipalId=world.org.users[user],
    )["AccountAssignmentDeletionStatus"]["RequestId"]


async def _revoking(world):
    ticket = await active_ticket(world)
    world.rt.clock.advance(seconds=61)
    await Ticket.filter(id=ticket.id).update(status=S.REVOKING, version=ticket.version + 1)
    await world.rt.redis.flushdb()
    return ticket


async def test_killed_after_delete_call_before_recording_it(demo):
    ticket = await _revoking(demo)
    await StackEntry.filter(ticket_id=ticket.id).update(unwind_status=UnwindStatus.INTENDED)
    _delete_out_of_band(demo)  # what the dead worker's call did
    assert (await reconcile(demo.rt)).revokes == [str(ticket.id)]
    assert await worker.revoke_ticket(job_ctx(demo.rt), str(ticket.id)) == "revoked"
    entry = await StackEntry.get(ticket_id=ticket.id)
    assert entry.unwind_status == UnwindStatus.DELETED and entry.unwind_reason == "already gone"


async def test_killed_before_the_delete_call(demo):
    ticket = await _revoking(demo)
    await StackEntry.filter(ticket_id=ticket.id).update(unwind_status=UnwindStatus.INTENDED)
    assert (await reconcile(demo.rt)).revokes == [str(ticket.id)]
    assert await worker.revoke_ticket(job_ctx(demo.rt), str(ticket.id)) == "revoked"
    assert demo.assignments("sandbox-alice", "ReadOnlyAccess", "alice") == []


async def test_killed_while_polling_the_deletion(demo):
    ticket = await _revoking(demo)
    request_id = _delete_out_of_band(demo)
    await StackEntry.filter(ticket_id=ticket.id).update(unwind_status=UnwindStatus.IN_PROGRESS, unwind_request_id=request_id)
    assert (await reconcile(demo.rt)).revokes == [str(ticket.id)]
    assert await worker.revoke_ticket(job_ctx(demo.rt), str(ticket.id)) == "revoked"
    entry = await StackEntry.get(ticket_id=ticket.id)
    assert entry.unwind_status == UnwindStatus.DELETED and entry.unwind_request_id == request_id


async def test_killed_after_the_last_delete_before_the_ticket_ended(demo):
    ticket = await _revoking(demo)
    await StackEntry.filter(ticket_id=ticket.id).update(unwind_status=UnwindStatus.DELETED)
    _delete_out_of_band(demo)
    assert await worker.revoke_ticket(job_ctx(demo.rt), str(ticket.id)) == "revoked"
    assert (await Ticket.get(id=ticket.id)).status == S.ENDED


async def test_killed_while_polling_the_creation(demo):
    ticket = await demo.request("alice", [("sandbox-alice", "ReadOnlyAccess")], duration=60, justification="x")
    await Ticket.filter(id=ticket.id).update(status=S.GRANTING, version=ticket.version + 1)
    created = demo.sso().create_account_assignment(
        InstanceArn=demo.org.instance_arn, TargetId=demo.account("sandbox-alice"), TargetType="AWS_ACCOUNT",
        PermissionSetArn=demo.ps("ReadOnlyAccess"), PrincipalType="USER", PrincipalId=demo.org.users["alice"],
    )["AccountAssignmentCreationStatus"]
    now = demo.rt.clock.now()
    await StackEntry.create(
        ticket_id=ticket.id, position=0, account_id=demo.account("sandbox-alice"),
        permission_set_arn=demo.ps("ReadOnlyAccess"), principal_id=demo.org.users["alice"], pre_existing=False,
        status=EntryStatus.IN_PROGRESS, request_id=created["RequestId"], created_at=now, updated_at=now,
    )
    await demo.rt.redis.flushdb()
    assert (await reconcile(demo.rt)).grants == [str(ticket.id)]
    assert await worker.grant_ticket(job_ctx(demo.rt), str(ticket.id)) == "granted"
    assert len(demo.assignments("sandbox-alice", "ReadOnlyAccess", "alice")) == 1
    demo.rt.clock.advance(seconds=61)
    assert await worker.revoke_ticket(job_ctx(demo.rt), str(ticket.id)) == "revoked"
    assert demo.assignments("sandbox-alice", "ReadOnlyAccess", "alice") == []


async def test_failed_ticket_with_a_half_done_unwind_is_finished(demo):
    """The grant failed and began unwinding, and the worker died: access must not stay."""
    ticket = await active_ticket(demo)
    await Ticket.filter(id=ticket.id).update(status=S.FAILED, failure_reason="simulated")
    await demo.rt.redis.flushdb()
    assert (await reconcile(demo.rt)).unwinds == [str(ticket.id)]
    assert await worker.unwind_ticket(job_ctx(demo.rt), str(ticket.id)) == "unwound"
    assert demo.assignments("sandbox-alice", "ReadOnlyAccess", "alice") == []
    assert (await reconcile(demo.rt)).unwinds == []


async def test_workers_down_for_the_whole_window_grant_nothing(demo):
    ticket = await demo.request("alice", [("sandbox-alice", "ReadOnlyAccess")], duration=60, justification="x")
    demo.rt.clock.advance(seconds=61)
    await demo.rt.redis.flushdb()
    assert (await reconcile(demo.rt)).grants == [str(ticket.id)]
    assert await worker.grant_ticket(job_ctx(demo.rt), str(ticket.id)) == "failed"
    ticket = await Ticket.get(id=ticket.id)
    assert ticket.status == S.FAILED and "window ended before it could be granted" in ticket.failure_reason
    assert demo.assignments("sandbox-alice", "ReadOnlyAccess", "alice") == []
