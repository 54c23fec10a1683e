"""Decisions on tickets: who may decide, and whether the step's quorum is met
(jit.approvals.quorum). What that does to the ticket is jit.tickets.approval."""

from __future__ import annotations

from jit.approvals import quorum
from jit.approvals.models import Outcome
from jit.approvals.window import expire
from jit.audit.service import record
from jit.auth.acting import require_own_credential
from jit.directory.models import User
from jit.errors import WrongState
from jit.runtime import Runtime
from jit.tickets.approval import (
    current_step,
    decision_deadline,
    pass_step,
    past_deadline_reason,
    reject_at_step,
)
from jit.tickets.locks import lock_ticket
from jit.tickets.models import Ticket, TicketStatus
from jit.tickets.service import get_readable_ticket, ticket_parties

__all__ = ["current_step", "decide", "refuse_if_past_deadline"]

S = TicketStatus


async def refuse_if_past_deadline(rt: Runtime, ticket: Ticket) -> None:
    """A pending ticket whose window (or approval window) has passed is expired now, not
    approved into a grant that could only fail; the decision is a WrongState."""
    deadline = decision_deadline(ticket)
    if ticket.status != S.PENDING_APPROVAL or deadline is None or rt.clock.now() < deadline:
        return
    await expire(rt, str(ticket.id))
    fresh = await Ticket.get(id=ticket.id)
    raise WrongState(f"this ticket can no longer be decided: {past_deadline_reason(ticket, deadline)}",
                     current=fresh.status.value, field="ticketId")


async def decide(rt: Runtime, actor: User, ticket_id: str, outcome: Outcome, comment: str = "") -> Ticket:
    """Record one person's decision on the ticket's current step.

    Decisions on one ticket run one after another under its row lock, so exactly one of
    them sees the quorum complete and schedules exactly one grant."""
    ticket = await get_readable_ticket(rt, actor.id, ticket_id)
    credential = require_own_credential("decide a ticket")
    await refuse_if_past_deadline(rt, ticket)
    comment = quorum.checked_comment(comment)
    async with rt.unit_of_work() as effects:
        ticket = await lock_ticket(ticket.id)
        if ticket.status != S.PENDING_APPROVAL:
            raise WrongState(
                f"only a ticket awaiting approval can be decided; this one is {ticket.status.value}",
                current=ticket.status.value, field="ticketId",
            )
        deadline = decision_deadline(ticket)
        if deadline is not None and rt.clock.now() >= deadline:
            raise WrongState(f"this ticket can no longer be decided: {past_deadline_reason(ticket, deadline)}",
                             current=ticket.status.value, field="ticketId")
        who = await ticket_parties(ticket)
        quorum.refuse_own_ticket(actor.id, who, quorum.TICKET)
        step = await current_step(ticket.id)
        if step is None:  # pragma: no cover - a pending ticket always has a pending step
            raise WrongState("the ticket has no step awaiting a decision", current=ticket.status.value)
        now = rt.clock.now()
        on_behalf_of = await quorum.counts_for(rt, actor.id, who, step, now, await quorum.ticket_casts(ticket.id),
                                               quorum.TICKET)
        await quorum.record_ticket_decision(ticket.id, step, actor.id, on_behalf_of, outcome, comment, now,
                                            credential)
        await record(
            now, actor.id, f"decision.{outcome.value.lower()}", ticket_id=ticket.id, on_behalf_of=on_behalf_of,
            detail={"step": step.name, "rule": step.rule_name, "comment": comment,
                    **({"on_behalf_of": on_behalf_of} if on_behalf_of else {})},
        )
        if outcome == Outcome.REJECTED:
            await reject_at_step(rt, effects, ticket, step, actor.id, now,
                                 comment or f"rejected at step {step.name!r}")
        elif quorum.step_passed(step, await quorum.ticket_casts(ticket.id, step.id)):
            await pass_step(rt, effects, ticket, step, actor.id, now)
    return ticket
