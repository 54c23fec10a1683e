"""AWS faults: transient ones are retried, permanent ones fail the ticket cleanly and say why."""

from __future__ import annotations

from jit.tickets import stack
from jit.tickets.models import EntryStatus, StackEntry, Ticket, UnwindStatus
from jit.tickets.models import TicketStatus as S


async def test_conflicts_and_server_errors_are_retried(faulty, proxy):
    ticket = await faulty.request("alice", [("sandbox-alice", "ReadOnlyAccess")], duration=60, justification="")
    proxy.faults.seed(6)
    proxy.faults.conflict_rate = 0.3
    proxy.faults.error_rate = 0.2
    assert (await stack.grant(faulty.rt, str(ticket.id))).result == "granted"
    faulty.rt.clock.advance(seconds=61)
    assert (await stack.revoke(faulty.rt, str(ticket.id))).result == "revoked"
    proxy.faults.conflict_rate = proxy.faults.error_rate = 0
    assert faulty.assignments("sandbox-alice", "ReadOnlyAccess", "alice") == []
    assert proxy.faults.seen.count("CreateAccountAssignment") >= 1


async def test_permission_set_deleted_after_approval_fails_the_ticket_cleanly(faulty, proxy):
    ticket = await faulty.request(
        "alice", [("sandbox-alice", "ReadOnlyAccess"), ("sandbox-shared", "PowerUserAccess")], duration=60, justification=""
    )
    # The first target is granted; the second's permission set was deleted in AWS.
    proxy.faults.error_code = {"CreateAccountAssignment": (
        "ResourceNotFoundException", "Could not find PermissionSet", 400, faulty.ps("PowerUserAccess"))}
    outcome = await stack.grant(faulty.rt, str(ticket.id))
    assert outcome.result == "failed"
    ticket = await Ticket.get(id=ticket.id)
    assert ticket.status == S.FAILED
    assert "ResourceNotFoundException" in ticket.failure_reason and "no longer exists" in ticket.failure_reason
    first, second = await StackEntry.filter(ticket_id=ticket.id).order_by("position")
    assert first.unwind_status == UnwindStatus.DELETED
    assert second.status == EntryStatus.FAILED and "no longer exists" in second.failure_reason
    assert faulty.assignments("sandbox-alice", "ReadOnlyAccess", "alice") == []
    assert faulty.assignments("sandbox-shared", "PowerUserAccess", "alice") == []


async def test_access_denied_is_explained(faulty, proxy):
    ticket = await faulty.request("alice", [("sandbox-alice", "ReadOnlyAccess")], duration=60, justification="")
    proxy.faults.error_code = {"CreateAccountAssignment": (
        "AccessDeniedException", "User is not authorized to perform sso:CreateAccountAssignment", 400)}
    assert (await stack.grant(faulty.rt, str(ticket.id))).result == "failed"
    ticket = await Ticket.get(id=ticket.id)
    assert "AccessDeniedException: User is not authorized" in ticket.failure_reason
    assert "delegated administrator" in ticket.failure_reason and "management account" in ticket.failure_reason
    assert faulty.assignments("sandbox-alice", "ReadOnlyAccess", "alice") == []


async def test_account_removed_from_the_organization_before_grant(demo):
    from jit.directory.models import Account

    ticket = await demo.request("alice", [("sandbox-alice", "ReadOnlyAccess")], duration=60, justification="")
    await Account.filter(id=demo.account("sandbox-alice")).update(removed_at=demo.rt.clock.now())
    outcome = await stack.grant(demo.rt, str(ticket.id))
    assert outcome.result == "failed" and "no longer in the organization" in outcome.detail
    assert demo.assignments("sandbox-alice", "ReadOnlyAccess", "alice") == []
