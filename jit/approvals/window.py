"""The approval window: a ticket not fully approved in time becomes EXPIRED, and its
pending approvers are reminded before that.

Both jobs take a ticket id, re-read the ticket and do nothing when there is nothing to
do, so they may run any number of times.
"""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.expressions import Q

from jit.approvals.models import Decision
from jit.audit.service import record
from jit.errors import WrongState
from jit.events.bus import TicketEvent
from jit.runtime import Runtime
from jit.tickets.approval import current_step, decision_deadline, expire_unapproved
from jit.tickets.models import Ticket, TicketStatus

S = TicketStatus


@dataclass(frozen=True)
class WindowOutcome:
    result: str  # expired | early | done | missing | reminded
    detail: str = ""


async def expire(rt: Runtime, ticket_id: str) -> WindowOutcome:
    ticket = await Ticket.get_or_none(id=ticket_id)
    if ticket is None:
        return WindowOutcome("missing")
    deadline = decision_deadline(ticket)
    if ticket.status != S.PENDING_APPROVAL or deadline is None:
        return WindowOutcome("done", ticket.status.value)
    if rt.clock.now() < deadline:
        return WindowOutcome("early", deadline.isoformat())
    passed = ("window passed" if not ticket.starts_on_approval and deadline == ticket.end_at
              else "approval window passed")
    try:
        async with rt.unit_of_work() as effects:
            await expire_unapproved(rt, effects, ticket, {
                "reason": f"{passed} before it was approved", "approval_expires_at": deadline.isoformat(),
            })
    except WrongState:
        # A decision landed at the same moment; the next run (or the reconciler) re-reads.
        return WindowOutcome("raced")
    return WindowOutcome("expired")


async def remind(rt: Runtime, ticket_id: str) -> WindowOutcome:
    """Records an `approval.reminder` audit event naming the pending step and its
    approvers, and publishes a live event. The notification outbox delivers reminders
    from these audit events; this job is its seam."""
    ticket = await Ticket.get_or_none(id=ticket_id)
    if ticket is None:
        return WindowOutcome("missing")
    if ticket.status != S.PENDING_APPROVAL:
        return WindowOutcome("done", ticket.status.value)
    step = await current_step(ticket.id)
    if step is None:
        return WindowOutcome("done", "no pending step")
    approvals = await Decision.filter(step_id=step.id).count()
    now = rt.clock.now()
    async with rt.unit_of_work() as effects:
        await record(
            now, None, "approval.reminder", ticket_id=ticket.id,
            detail={
                "step": step.name, "rule": step.rule_name, "approvals": approvals, "required": step.required,
                "approver_users": step.approver_users, "approver_groups": step.approver_groups,
                "approval_expires_at": ticket.approval_expires_at.isoformat() if ticket.approval_expires_at else None,
            },
        )
        effects.publish(TicketEvent(
            ticket_id=str(ticket.id), previous_status=ticket.status.value, status=ticket.status.value,
            version=ticket.version, at=now.isoformat(), actor_id=None, reason="approval reminder",
        ))
    return WindowOutcome("reminded")


async def expire_due(rt: Runtime) -> int:
    """For the cron: expire every overdue ticket whose job was lost, and every pending
    ticket whose own window has passed (deadlines before issue 17 could lie past it)."""
    now = rt.clock.now()
    due = await Ticket.filter(
        Q(approval_expires_at__lte=now) | Q(starts_on_approval=False, end_at__lte=now), status=S.PENDING_APPROVAL,
    ).values_list("id", flat=True)
    count = 0
    for ticket_id in due:
        if (await expire(rt, str(ticket_id))).result == "expired":
            count += 1
    return count
