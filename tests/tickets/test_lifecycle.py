"""A ticket's life through the services, with the jobs run directly and AWS checked
through a separate client."""

from __future__ import annotations

from jit.approvals.models import Outcome
from jit.approvals.service import decide
from jit.audit.models import AuditEvent
from jit.tickets import stack
from jit.tickets.models import EndReason, StackEntry, Ticket, UnwindStatus
from jit.tickets.models import TicketStatus as S


async def test_auto_approved_ticket_is_granted_and_revoked_at_its_end(demo):
    ticket = await demo.request("alice", [("sandbox-alice", "ReadOnlyAccess")], duration=600, justification="")
    assert ticket.status == S.SCHEDULED

    assert (await stack.grant(demo.rt, str(ticket.id))).result == "granted"
    ticket = await Ticket.get(id=ticket.id)
    assert ticket.status == S.ACTIVE
    assert len(demo.assignments("sandbox-alice", "ReadOnlyAccess", "alice")) == 1

    entry = await StackEntry.get(ticket_id=ticket.id)
    assert entry.request_id and entry.status.value == "SUCCEEDED" and entry.origin.value == "CREATED"

    # Before the end, the revoke job does nothing.
    assert (await stack.revoke(demo.rt, str(ticket.id))).result == "early"
    demo.rt.clock.advance(seconds=601)
    assert (await stack.revoke(demo.rt, str(ticket.id))).result == "revoked"
    ticket = await Ticket.get(id=ticket.id)
    assert ticket.status == S.ENDED and ticket.end_reason == EndReason.EXPIRED
    assert demo.assignments("sandbox-alice", "ReadOnlyAccess", "alice") == []
    entry = await StackEntry.get(ticket_id=ticket.id)
    assert entry.unwind_status == UnwindStatus.DELETED and entry.unwind_request_id

    events = AuditEvent.filter(ticket_id=ticket.id).exclude(action__startswith="assignment.").order_by("id")
    history = [e.action for e in await events]
    assert history == [
        "ticket.requested", "ticket.scheduled", "ticket.granting", "ticket.active", "ticket.revoking", "ticket.ended",
    ]


async def test_two_step_ticket_needs_two_people_then_security(demo):
    ticket = await demo.request("alice", [("payments-prod", "PowerUserAccess")], duration=3600)
    assert ticket.status == S.PENDING_APPROVAL
    bob, carol, dave = [await demo.user(n) for n in ("bob", "carol", "dave")]

    await decide(demo.rt, bob, str(ticket.id), Outcome.APPROVED)
    assert (await Ticket.get(id=ticket.id)).status == S.PENDING_APPROVAL
    await decide(demo.rt, carol, str(ticket.id), Outcome.APPROVED)
    assert (await Ticket.get(id=ticket.id)).status == S.PENDING_APPROVAL
    await decide(demo.rt, dave, str(ticket.id), Outcome.APPROVED, "ok")
    assert (await Ticket.get(id=ticket.id)).status == S.SCHEDULED
    # Exactly one grant job was queued, for the start time.
    jobs = await demo.rt.redis.queued_jobs()
    assert [j.function for j in jobs if j.function.startswith("tickets.")] == ["tickets.grant"]


async def test_rejection_ends_the_ticket_and_grants_nothing(demo):
    ticket = await demo.request("alice", [("payments-prod", "ReadOnlyAccess")])
    await decide(demo.rt, await demo.user("bob"), str(ticket.id), Outcome.REJECTED, "not today")
    ticket = await Ticket.get(id=ticket.id)
    assert ticket.status == S.REJECTED
    assert (await stack.grant(demo.rt, str(ticket.id))).result == "done"
    assert demo.assignments("payments-prod", "ReadOnlyAccess") == []


async def test_revoke_by_requester_ends_early_and_removes_access(demo):
    from jit.tickets.service import revoke_ticket

    ticket = await demo.request("alice", [("sandbox-alice", "PowerUserAccess")], justification="")
    await stack.grant(demo.rt, str(ticket.id))
    await revoke_ticket(demo.rt, await demo.user("alice"), str(ticket.id), "done early")
    ticket = await Ticket.get(id=ticket.id)
    assert ticket.status == S.REVOKING and ticket.end_reason == EndReason.REVOKED
    assert (await stack.revoke(demo.rt, str(ticket.id))).result == "revoked"
    assert (await Ticket.get(id=ticket.id)).status == S.ENDED
    assert demo.assignments("sandbox-alice", "PowerUserAccess") == []


async def test_cancel_before_grant_means_the_grant_job_does_nothing(demo):
    from jit.tickets.service import cancel_ticket

    ticket = await demo.request("alice", [("sandbox-alice", "ReadOnlyAccess")], justification="")
    await cancel_ticket(demo.rt, await demo.user("alice"), str(ticket.id))
    assert (await stack.grant(demo.rt, str(ticket.id))).result == "done"
    assert demo.assignments("sandbox-alice", "ReadOnlyAccess") == []


async def test_multi_target_ticket_grants_every_target_and_unwinds_in_reverse(demo):
    targets = [("sandbox-alice", "ReadOnlyAccess"), ("sandbox-shared", "ReadOnlyAccess"),
               ("sandbox-ml", "PowerUserAccess")]
    ticket = await demo.request("alice", targets, duration=60, justification="")
    await stack.grant(demo.rt, str(ticket.id))
    for account, ps in targets:
        assert len(demo.assignments(account, ps, "alice")) == 1
    demo.rt.clock.advance(seconds=61)
    await stack.revoke(demo.rt, str(ticket.id))
    events = await AuditEvent.filter(ticket_id=ticket.id, action__startswith="assignment.").order_by("id")
    assert [(e.action, e.detail["position"]) for e in events] == [
        ("assignment.requested", 0), ("assignment.succeeded", 0),
        ("assignment.requested", 1), ("assignment.succeeded", 1),
        ("assignment.requested", 2), ("assignment.succeeded", 2),
        ("assignment.delete_requested", 2), ("assignment.deleted", 2),
        ("assignment.delete_requested", 1), ("assignment.deleted", 1),
        ("assignment.delete_requested", 0), ("assignment.deleted", 0),
    ]
    for account, ps in targets:
        assert demo.assignments(account, ps, "alice") == []


async def test_grant_checks_authorization_again(demo):
    """A rule deleted between approval and the start time stops the grant."""
    from jit.rules.models import ApprovalRule
    from jit.rules.service import RuleService

    ticket = await demo.request("alice", [("sandbox-alice", "ReadOnlyAccess")], justification="")
    rule = await ApprovalRule.get(name="sandbox-self-service")
    await RuleService(demo.rt).delete(rule.id, None)
    assert (await stack.grant(demo.rt, str(ticket.id))).result == "failed"
    ticket = await Ticket.get(id=ticket.id)
    assert ticket.status == S.FAILED and "no approval rule" in ticket.failure_reason
    assert demo.assignments("sandbox-alice", "ReadOnlyAccess") == []
    assert not await StackEntry.filter(ticket_id=ticket.id).exists()
