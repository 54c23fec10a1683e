"""Break-glass: the requester approves their own ticket, with a reason, when every rule
governing it allows that. The ticket is granted at once and stays flagged until an
approver of one of its rules reviews it."""

from __future__ import annotations

from jit.approvals import quorum
from jit.auth.acting import require_own_credential
from jit.directory.models import User
from jit.errors import NotAllowed, WrongState
from jit.runtime import Runtime
from jit.tickets.approval import approve_by_break_glass, checked_break_glass_reason, mark_break_glass_reviewed
from jit.tickets.locks import lock_ticket
from jit.tickets.models import Ticket, TicketStatus
from jit.tickets.service import get_readable_ticket, ticket_parties

S = TicketStatus


async def break_glass(rt: Runtime, actor: User, ticket_id: str, reason: str) -> Ticket:
    ticket = await get_readable_ticket(rt, actor.id, ticket_id)
    require_own_credential("approve a ticket by break-glass")
    who = await ticket_parties(ticket)
    if not await rt.authz.may_break_glass(actor.id, who, who.rule_ids):
        raise NotAllowed(
            "break-glass is not allowed: only the requester may use it, and only when every rule "
            "governing the ticket allows it", field="ticketId",
        )
    reason = checked_break_glass_reason(reason)
    async with rt.unit_of_work() as effects:
        ticket = await lock_ticket(ticket.id)
        if ticket.status != S.PENDING_APPROVAL:
            raise WrongState(
                f"only a ticket awaiting approval can be approved by break-glass; this one is {ticket.status.value}",
                current=ticket.status.value, field="ticketId",
            )
        await approve_by_break_glass(rt, effects, ticket, actor.id, rt.clock.now(), reason)
    return ticket


async def review_break_glass(rt: Runtime, actor: User, ticket_id: str, comment: str = "") -> Ticket:
    ticket = await get_readable_ticket(rt, actor.id, ticket_id)
    require_own_credential("review a break-glass ticket")
    if not await rt.authz.may_review(actor.id, await ticket_parties(ticket)):
        raise NotAllowed("only an approver of the ticket's rules may review a break-glass ticket", field="ticketId")
    comment = quorum.checked_comment(comment)
    if not ticket.break_glass:
        raise WrongState("this ticket was not approved by break-glass", current=ticket.status.value, field="ticketId")
    now = rt.clock.now()
    async with rt.unit_of_work() as effects:
        await mark_break_glass_reviewed(effects, ticket, actor.id, now, comment)
    return await Ticket.get(id=ticket.id)
