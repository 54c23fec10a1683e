"""Break-glass: the requester approves their own ticket, with a reason, when every rule
governing it allows that. The ticket is granted at once and stays flagged until an
approver of one of its rules reviews it."""

from __future__ import annotations

from tortoise.expressions import F

from jit.approvals.models import StepStatus, TicketStep
from jit.audit.service import record
from jit.auth.acting import require_own_credential
from jit.directory.models import User
from jit.errors import NotAllowed, ValidationFailed, WrongState
from jit.events.bus import TicketEvent
from jit.runtime import Runtime
from jit.tickets.models import Ticket, TicketStatus
from jit.tickets.service import approved_window, get_readable_ticket, schedule_grant, ticket_parties
from jit.tickets.state import transition

S = TicketStatus
MAX_REASON = 4000


async def break_glass(rt: Runtime, actor: User, ticket_id: str, reason: str) -> Ticket:
    ticket = await get_readable_ticket(rt, actor.id, ticket_id)
    require_own_credential("approve a ticket by break-glass")
    who = await ticket_parties(ticket)
    if not await rt.authz.may_break_glass(actor.id, who, who.rule_ids):
        raise NotAllowed(
            "break-glass is not allowed: only the requester may use it, and only when every rule "
            "governing the ticket allows it", field="ticketId",
        )
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("break-glass needs a reason", field="reason")
    if len(reason) > MAX_REASON:
        raise ValidationFailed(f"reason is longer than {MAX_REASON} characters", field="reason")
    async with rt.unit_of_work() as effects:
        await Ticket.filter(id=ticket.id).update(version=F("version") + 1)
        ticket = await Ticket.get(id=ticket.id)
        if ticket.status != S.PENDING_APPROVAL:
            raise WrongState(
                f"only a ticket awaiting approval can be approved by break-glass; this one is {ticket.status.value}",
                current=ticket.status.value, field="ticketId",
            )
        now = rt.clock.now()
        await TicketStep.filter(ticket_id=ticket.id, status=StepStatus.PENDING).update(
            status=StepStatus.APPROVED, completed_at=now
        )
        await record(now, actor.id, "ticket.break_glass", ticket_id=ticket.id,
                     detail={"reason": reason, "break_glass": True})
        await transition(
            ticket, S.SCHEDULED, clock=rt.clock, effects=effects, actor_id=actor.id,
            detail={"reason": f"break-glass: {reason}", "break_glass": True},
            break_glass=True, break_glass_reason=reason, **approved_window(ticket, now),
        )
        schedule_grant(effects, ticket, rt.settings.assignment_first_poll)
    return ticket


async def review_break_glass(rt: Runtime, actor: User, ticket_id: str, comment: str = "") -> Ticket:
    ticket = await get_readable_ticket(rt, actor.id, ticket_id)
    require_own_credential("review a break-glass ticket")
    if not await rt.authz.may_review(actor.id, await ticket_parties(ticket)):
        raise NotAllowed("only an approver of the ticket's rules may review a break-glass ticket", field="ticketId")
    comment = (comment or "").strip()
    if len(comment) > 4000:
        raise ValidationFailed("comment is longer than 4000 characters", field="comment")
    if not ticket.break_glass:
        raise WrongState("this ticket was not approved by break-glass", current=ticket.status.value, field="ticketId")
    now = rt.clock.now()
    async with rt.unit_of_work() as effects:
        # Not a status change, so the version (the jobs' optimistic lock) is left alone.
        updated = await Ticket.filter(id=ticket.id, break_glass=True, break_glass_reviewed_at=None).update(
            break_glass_reviewed_at=now, break_glass_reviewed_by=actor.id, break_glass_review_comment=comment,
        )
        if updated != 1:
            raise WrongState("this break-glass ticket has already been reviewed", current=ticket.status.value,
                             field="ticketId")
        await record(now, actor.id, "ticket.break_glass_reviewed", ticket_id=ticket.id,
                     detail={"comment": comment, "break_glass": True})
        effects.publish(TicketEvent(
            ticket_id=str(ticket.id), previous_status=ticket.status.value, status=ticket.status.value,
            version=ticket.version, at=now.isoformat(), actor_id=actor.id, reason="break-glass reviewed",
        ))
    return await Ticket.get(id=ticket.id)
