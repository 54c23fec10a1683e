"""Decisions on tickets: the only code that writes steps' progress and decisions."""

from __future__ import annotations

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F

from jit.approvals.models import Decision, Outcome, StepStatus, TicketStep
from jit.audit.service import record
from jit.auth.acting import require_own_credential
from jit.directory.models import User
from jit.errors import NotAllowed, NotFound, ValidationFailed, WrongState
from jit.runtime import Runtime
from jit.tickets.models import Ticket, TicketStatus
from jit.tickets.service import (
    approved_window, decision_deadline, get_readable_ticket, schedule_grant, ticket_parties,
)
from jit.tickets.state import transition

S = TicketStatus


async def current_step(ticket_id) -> TicketStep | None:
    return await TicketStep.filter(ticket_id=ticket_id, status=StepStatus.PENDING).order_by("position").first()


async def counted_people(ticket_id) -> set[str]:
    """Everyone a decision on this ticket already counts for: the decider, or the person
    they acted for through a delegation."""
    rows = await Decision.filter(ticket_id=ticket_id).values_list("decider_id", "on_behalf_of_id")
    return {on_behalf or decider for decider, on_behalf in rows}


async def refuse_if_past_deadline(rt: Runtime, ticket: Ticket) -> None:
    """A pending ticket whose window (or approval window) has passed is expired now, not
    approved into a grant that could only fail; the decision is a WrongState."""
    from jit.approvals.window import expire

    deadline = decision_deadline(ticket)
    if ticket.status != S.PENDING_APPROVAL or deadline is None or rt.clock.now() < deadline:
        return
    await expire(rt, str(ticket.id))
    fresh = await Ticket.get(id=ticket.id)
    why = ("its window has passed" if not ticket.starts_on_approval and deadline == ticket.end_at
           else "its approval window has closed")
    raise WrongState(f"this ticket can no longer be decided: {why}", current=fresh.status.value, field="ticketId")


async def decide(rt: Runtime, actor: User, ticket_id: str, outcome: Outcome, comment: str = "") -> Ticket:
    """Record one person's decision on the ticket's current step.

    The first statement bumps the ticket's version, which takes the row lock (PostgreSQL)
    or the write lock (SQLite): concurrent decisions on one ticket run one after another,
    so exactly one of them sees the quorum complete and schedules exactly one grant."""
    ticket = await get_readable_ticket(rt, actor.id, ticket_id)
    credential = require_own_credential("decide a ticket")
    await refuse_if_past_deadline(rt, ticket)
    comment = (comment or "").strip()
    if len(comment) > 4000:
        raise ValidationFailed("comment is longer than 4000 characters", field="comment")
    async with rt.unit_of_work() as effects:
        await Ticket.filter(id=ticket.id).update(version=F("version") + 1)
        ticket = await Ticket.get_or_none(id=ticket.id)
        if ticket is None:
            raise NotFound(f"ticket {ticket_id} not found", field="ticketId")
        if ticket.status != S.PENDING_APPROVAL:
            raise WrongState(
                f"only a ticket awaiting approval can be decided; this one is {ticket.status.value}",
                current=ticket.status.value, field="ticketId",
            )
        deadline = decision_deadline(ticket)
        if deadline is not None and rt.clock.now() >= deadline:
            why = ("its window has passed" if not ticket.starts_on_approval and deadline == ticket.end_at
                   else "its approval window has closed")
            raise WrongState(f"this ticket can no longer be decided: {why}", current=ticket.status.value,
                             field="ticketId")
        who = await ticket_parties(ticket)
        if actor.id in (who.requester_id, who.principal_id):
            raise NotAllowed("you cannot decide your own ticket", field="ticketId")
        step = await current_step(ticket.id)
        if step is None:  # pragma: no cover - a pending ticket always has a pending step
            raise WrongState("the ticket has no step awaiting a decision", current=ticket.status.value)
        now = rt.clock.now()
        # Delegations are checked now, at decision time, not when the ticket was created.
        identities = await rt.authz.deciding_as(actor.id, who, str(step.rule_id), step.step_index, now)
        if not identities:
            raise NotAllowed(f"you are not an approver of step {step.name!r} ({step.rule_name})", field="ticketId")
        if await Decision.filter(ticket_id=ticket.id, decider_id=actor.id).exists():
            raise NotAllowed("you have already decided this ticket; one person counts once", field="ticketId")
        counted = await counted_people(ticket.id)
        remaining = [who_ for who_ in identities if who_ not in counted]
        if not remaining:
            raise NotAllowed(
                "a decision already counts for you (or for everyone you act for) on this ticket", field="ticketId"
            )
        on_behalf_of = None if remaining[0] == actor.id else remaining[0]
        try:
            await Decision.create(
                ticket_id=ticket.id, step_id=step.id, decider_id=actor.id, outcome=outcome,
                comment=comment, created_at=now, on_behalf_of_id=on_behalf_of, credential=credential,
            )
        except IntegrityError:
            raise NotAllowed("you have already decided this ticket; one person counts once", field="ticketId") from None
        await record(
            now, actor.id, f"decision.{outcome.value.lower()}", ticket_id=ticket.id, on_behalf_of=on_behalf_of,
            detail={"step": step.name, "rule": step.rule_name, "comment": comment,
                    **({"on_behalf_of": on_behalf_of} if on_behalf_of else {})},
        )
        if outcome == Outcome.REJECTED:
            await TicketStep.filter(id=step.id).update(status=StepStatus.REJECTED, completed_at=now)
            await transition(
                ticket, S.REJECTED, clock=rt.clock, effects=effects, actor_id=actor.id,
                detail={"reason": comment or f"rejected at step {step.name!r}"},
            )
            return ticket
        approvals = await Decision.filter(step_id=step.id, outcome=Outcome.APPROVED).count()
        if approvals >= step.required:
            await TicketStep.filter(id=step.id).update(status=StepStatus.APPROVED, completed_at=now)
            if await current_step(ticket.id) is None:
                await transition(
                    ticket, S.SCHEDULED, clock=rt.clock, effects=effects, actor_id=actor.id,
                    detail={"reason": "all approval steps complete"}, **approved_window(ticket, now),
                )
                schedule_grant(effects, ticket, rt.settings.assignment_first_poll)
    return ticket
