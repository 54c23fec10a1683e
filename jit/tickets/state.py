"""The ticket state machine. The only code that changes a ticket's status.

A transition is a conditional UPDATE on (status, version): if anyone else moved the
ticket first, it writes nothing and raises, so an illegal or stale transition can never
be stored. Every transition is an audit event and a live event.
"""

from __future__ import annotations

from typing import Any

from jit.audit.service import record
from jit.clock import Clock
from jit.errors import WrongState
from jit.events.bus import TicketEvent
from jit.ops.logs import set_ticket
from jit.runtime import Effects
from jit.tickets.models import Ticket, TicketStatus

S = TicketStatus

TRANSITIONS: dict[TicketStatus, frozenset[TicketStatus]] = {
    S.PENDING_APPROVAL: frozenset({S.SCHEDULED, S.REJECTED, S.CANCELLED, S.EXPIRED}),
    S.SCHEDULED: frozenset({S.GRANTING, S.CANCELLED}),
    S.GRANTING: frozenset({S.ACTIVE, S.FAILED}),
    S.ACTIVE: frozenset({S.REVOKING}),
    S.REVOKING: frozenset({S.ENDED}),
    S.ENDED: frozenset(),
    S.REJECTED: frozenset(),
    S.CANCELLED: frozenset(),
    S.EXPIRED: frozenset(),
    S.FAILED: frozenset(),
}

# Tickets whose access exists, or may exist, in AWS right now.
LIVE = frozenset({S.GRANTING, S.ACTIVE})
TERMINAL = frozenset(s for s, nxt in TRANSITIONS.items() if not nxt)


def can_transition(current: TicketStatus, target: TicketStatus) -> bool:
    return target in TRANSITIONS[current]


async def transition(
    ticket: Ticket,
    to: TicketStatus,
    *,
    clock: Clock,
    effects: Effects,
    actor_id: str | None,
    detail: dict[str, Any] | None = None,
    **changes: Any,
) -> Ticket:
    current = TicketStatus(ticket.status)
    set_ticket(ticket.id)
    if not can_transition(current, to):
        raise WrongState(f"a {current.value} ticket cannot become {to.value}", current=current.value)
    now = clock.now()
    updated = await Ticket.filter(id=ticket.id, status=current, version=ticket.version).update(
        status=to, version=ticket.version + 1, updated_at=now, **changes
    )
    if updated != 1:
        fresh = await Ticket.get_or_none(id=ticket.id)
        raise WrongState(
            "the ticket was changed by someone else; reload and try again",
            current=fresh.status.value if fresh else None,
        )
    ticket.status = to
    ticket.version += 1
    ticket.updated_at = now
    for key, value in changes.items():
        setattr(ticket, key, value)
    reason = (detail or {}).get("reason")
    await record(
        now, actor_id, f"ticket.{to.value.lower()}", ticket_id=ticket.id,
        from_status=current.value, to_status=to.value, detail=detail,
    )
    effects.publish(
        TicketEvent(
            ticket_id=str(ticket.id), previous_status=current.value, status=to.value,
            version=ticket.version, at=now.isoformat(), actor_id=actor_id, reason=reason,
        )
    )
    return ticket
