"""What approval does to a ticket: its steps completing, the ticket scheduled, rejected or
expired, break-glass flagged and reviewed.

jit.approvals decides who may decide and when a step's quorum is met; it calls these to
write the ticket, its steps and its flags, inside its own unit of work. Nothing here checks
authorization.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from jit.audit.service import record
from jit.errors import ValidationFailed, WrongState
from jit.events.bus import TicketEvent
from jit.runtime import Effects, Runtime
from jit.tickets.models import StepStatus, Ticket, TicketStatus, TicketStep
from jit.tickets.state import transition

S = TicketStatus
MAX_BREAK_GLASS_REASON = 4000


def checked_break_glass_reason(reason: str | None, field: str = "reason") -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("break-glass needs a reason", field=field)
    if len(reason) > MAX_BREAK_GLASS_REASON:
        raise ValidationFailed(f"reason is longer than {MAX_BREAK_GLASS_REASON} characters", field=field)
    return reason


def grant_job_id(ticket: Ticket) -> str:
    return f"tickets.grant:{ticket.id}:{int(ticket.start_at.timestamp())}"


def schedule_grant(effects: Effects, ticket: Ticket, lead_seconds: float = 0.0) -> None:
    """The grant job, `lead_seconds` (about what AWS takes to settle a create) before the
    start time, so access is there at the start (jit.tickets.plan.grant_starts)."""
    effects.enqueue("tickets.grant", str(ticket.id), job_id=grant_job_id(ticket),
                    defer_until=ticket.start_at - timedelta(seconds=lead_seconds))


def decision_deadline(ticket: Ticket) -> datetime | None:
    """When a pending ticket stops being decidable: its approval deadline, or its end for
    a ticket requested before deadlines stopped at the end."""
    bounds = [ticket.approval_expires_at] if ticket.approval_expires_at else []
    if not ticket.starts_on_approval:
        bounds.append(ticket.end_at)
    return min(bounds) if bounds else None


def past_deadline_reason(ticket: Ticket, deadline: datetime) -> str:
    return ("its window has passed" if not ticket.starts_on_approval and deadline == ticket.end_at
            else "its approval window has closed")


def approved_window(ticket: Ticket, now: datetime) -> dict[str, datetime]:
    """The window changes of the final approval: a ticket that starts when approved gets
    its full duration from now."""
    if not ticket.starts_on_approval:
        return {}
    return {"start_at": now, "end_at": now + (ticket.end_at - ticket.start_at)}


async def current_step(ticket_id: uuid.UUID | str) -> TicketStep | None:
    """The step awaiting decisions: the pending one with the lowest position."""
    return await TicketStep.filter(ticket_id=ticket_id, status=StepStatus.PENDING).order_by("position").first()


async def schedule_approved(rt: Runtime, effects: Effects, ticket: Ticket, actor_id: str | None, now: datetime,
                            detail: dict[str, Any], **changes: Any) -> None:
    """The ticket is approved: SCHEDULED, with its grant job queued."""
    await transition(ticket, S.SCHEDULED, clock=rt.clock, effects=effects, actor_id=actor_id, detail=detail,
                     **changes, **approved_window(ticket, now))
    schedule_grant(effects, ticket, rt.settings.assignment_first_poll)


async def pass_step(rt: Runtime, effects: Effects, ticket: Ticket, step: TicketStep, actor_id: str,
                    now: datetime) -> None:
    """The step's quorum is met; when it was the last pending step the ticket is approved."""
    await TicketStep.filter(id=step.id).update(status=StepStatus.APPROVED, completed_at=now)
    if await current_step(ticket.id) is None:
        await schedule_approved(rt, effects, ticket, actor_id, now, {"reason": "all approval steps complete"})


async def reject_at_step(rt: Runtime, effects: Effects, ticket: Ticket, step: TicketStep, actor_id: str,
                         now: datetime, reason: str) -> None:
    await TicketStep.filter(id=step.id).update(status=StepStatus.REJECTED, completed_at=now)
    await transition(ticket, S.REJECTED, clock=rt.clock, effects=effects, actor_id=actor_id,
                     detail={"reason": reason})


async def expire_unapproved(rt: Runtime, effects: Effects, ticket: Ticket, detail: dict[str, Any]) -> None:
    """Not approved in time: EXPIRED (a WrongState when a decision moved it first)."""
    await transition(ticket, S.EXPIRED, clock=rt.clock, effects=effects, actor_id=None, detail=detail)


async def approve_by_break_glass(rt: Runtime, effects: Effects, ticket: Ticket, actor_id: str, now: datetime,
                                 reason: str) -> None:
    """The requester approved their own ticket: every step still pending counts as passed,
    and the ticket is flagged until an approver reviews it."""
    await TicketStep.filter(ticket_id=ticket.id, status=StepStatus.PENDING).update(
        status=StepStatus.APPROVED, completed_at=now
    )
    await record(now, actor_id, "ticket.break_glass", ticket_id=ticket.id,
                 detail={"reason": reason, "break_glass": True})
    await schedule_approved(rt, effects, ticket, actor_id, now,
                            {"reason": f"break-glass: {reason}", "break_glass": True},
                            break_glass=True, break_glass_reason=reason)


async def mark_break_glass_reviewed(effects: Effects, ticket: Ticket, actor_id: str, now: datetime,
                                    comment: str) -> None:
    """Clears the break-glass flag, once. Not a status change, so the version (the jobs'
    optimistic lock) is left alone; watchers still hear of it."""
    updated = await Ticket.filter(id=ticket.id, break_glass=True, break_glass_reviewed_at=None).update(
        break_glass_reviewed_at=now, break_glass_reviewed_by=actor_id, break_glass_review_comment=comment,
    )
    if updated != 1:
        raise WrongState("this break-glass ticket has already been reviewed", current=ticket.status.value,
                         field="ticketId")
    await record(now, actor_id, "ticket.break_glass_reviewed", ticket_id=ticket.id,
                 detail={"comment": comment, "break_glass": True})
    effects.publish(TicketEvent(
        ticket_id=str(ticket.id), previous_status=ticket.status.value, status=ticket.status.value,
        version=ticket.version, at=now.isoformat(), actor_id=actor_id, reason="break-glass reviewed",
    ))
