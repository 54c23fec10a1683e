"""The quorum rules, written once for decisions on tickets and on their extensions, and the
only code that writes decisions.

- Never your own ticket: the requester and the principal decide neither it nor its extensions.
- Delegated identity: an approver decides as themself, or in the name of someone who
  delegated the step's rule to them (checked at decision time, not at request time).
- One person counts once: nobody decides twice, and a decision counts for one person,
  the decider or whoever they acted for, never for someone already counted.
- A step passes when `required` distinct people approved it.
- The comment limit: at most MAX_COMMENT characters, surrounding spaces dropped.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from tortoise.exceptions import IntegrityError

from jit.approvals.models import Decision, ExtensionDecision, Outcome
from jit.authz.service import TicketParties
from jit.errors import NotAllowed, ValidationFailed
from jit.runtime import Runtime
from jit.tickets.models import TicketStep

MAX_COMMENT = 4000

# (decider, on behalf of) for each decision already made on a ticket or an extension.
Cast = tuple[str, str | None]


@dataclass(frozen=True)
class Ballot:
    """What is being decided, in the words its refusals use."""

    field: str
    own: str
    decided_twice: str
    counted: str


TICKET = Ballot(
    field="ticketId",
    own="you cannot decide your own ticket",
    decided_twice="you have already decided this ticket; one person counts once",
    counted="a decision already counts for you (or for everyone you act for) on this ticket",
)
EXTENSION = Ballot(
    field="extensionId",
    own="you cannot decide an extension of your own ticket",
    decided_twice="you have already decided this extension",
    counted="a decision already counts for you on this extension",
)


def checked_comment(comment: str | None) -> str:
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise ValidationFailed(f"comment is longer than {MAX_COMMENT} characters", field="comment")
    return comment


def refuse_own_ticket(actor_id: str, who: TicketParties, ballot: Ballot) -> None:
    if actor_id in (who.requester_id, who.principal_id):
        raise NotAllowed(ballot.own, field=ballot.field)


def counted(casts: Iterable[Cast]) -> set[str]:
    """Everyone these decisions count for: the decider, or whom they acted for."""
    return {on_behalf or decider for decider, on_behalf in casts}


def step_passed(step: TicketStep, approvals: Iterable[Cast]) -> bool:
    return len(counted(approvals)) >= step.required


async def counts_for(rt: Runtime, actor_id: str, who: TicketParties, step: TicketStep, now: datetime,
                     earlier: list[Cast], ballot: Ballot) -> str | None:
    """Whom the actor's decision on `step` counts for: None for themself, or the person
    they act for through a delegation. Refused when they may not decide the step, or when
    it could count for nobody new."""
    identities = await rt.authz.deciding_as(actor_id, who, str(step.rule_id), step.step_index, now)
    if not identities:
        raise NotAllowed(f"you are not an approver of step {step.name!r} ({step.rule_name})", field=ballot.field)
    if any(decider == actor_id for decider, _ in earlier):
        raise NotAllowed(ballot.decided_twice, field=ballot.field)
    already = counted(earlier)
    remaining = [person for person in identities if person not in already]
    if not remaining:
        raise NotAllowed(ballot.counted, field=ballot.field)
    return None if remaining[0] == actor_id else remaining[0]


async def ticket_casts(ticket_id: uuid.UUID, step_id: int | None = None) -> list[Cast]:
    """The decisions on a ticket (on one step, approvals only, with `step_id`)."""
    qs = Decision.filter(ticket_id=ticket_id)
    if step_id is not None:
        qs = qs.filter(step_id=step_id, outcome=Outcome.APPROVED)
    return [(row["decider_id"], row["on_behalf_of_id"]) for row in await qs.values("decider_id", "on_behalf_of_id")]


async def extension_casts(extension_id: uuid.UUID, position: int | None = None) -> list[Cast]:
    """The decisions on an extension (at one step position, approvals only, with `position`)."""
    qs = ExtensionDecision.filter(extension_id=extension_id)
    if position is not None:
        qs = qs.filter(step_position=position, outcome=Outcome.APPROVED)
    return [(row["decider_id"], row["on_behalf_of_id"]) for row in await qs.values("decider_id", "on_behalf_of_id")]


async def record_ticket_decision(ticket_id: uuid.UUID, step: TicketStep, actor_id: str, on_behalf_of: str | None,
                                 outcome: Outcome, comment: str, now: datetime, credential: str | None) -> None:
    try:
        await Decision.create(
            ticket_id=ticket_id, step_id=step.id, decider_id=actor_id, outcome=outcome,
            comment=comment, created_at=now, on_behalf_of_id=on_behalf_of, credential=credential,
        )
    except IntegrityError:  # the unique (ticket, decider) pair: one person counts once
        raise NotAllowed(TICKET.decided_twice, field=TICKET.field) from None


async def record_extension_decision(extension_id: uuid.UUID, step: TicketStep, actor_id: str,
                                    on_behalf_of: str | None, outcome: Outcome, comment: str, now: datetime,
                                    credential: str | None) -> None:
    try:
        await ExtensionDecision.create(
            extension_id=extension_id, step_position=step.position, decider_id=actor_id,
            on_behalf_of_id=on_behalf_of, outcome=outcome, comment=comment, created_at=now,
            credential=credential,
        )
    except IntegrityError:  # the unique (extension, decider) pair
        raise NotAllowed(EXTENSION.decided_twice, field=EXTENSION.field) from None
