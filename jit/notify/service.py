"""Time-driven notifications, written by the worker's cron rather than by an audit event."""

from __future__ import annotations

from datetime import timedelta

from jit.notify import outbox
from jit.notify.models import NotificationKind
from jit.runtime import Runtime
from jit.tickets.models import Ticket, TicketStatus


async def notify_expiring_soon(rt: Runtime) -> int:
    """Tells the holders of each active ticket that ends within the lead time. The key
    names the end time, so each end is announced once however often this runs, and an
    extended ticket is announced again before its new end."""
    now = rt.clock.now()
    horizon = now + timedelta(seconds=rt.settings.notify_expiring_soon_seconds)
    count = 0
    for ticket in await Ticket.filter(status=TicketStatus.ACTIVE, end_at__gt=now, end_at__lte=horizon):
        await outbox.write(
            NotificationKind.EXPIRING_SOON, f"expiring-soon:{ticket.id}:{ticket.end_at.isoformat()}", now,
            [outbox.user(ticket.principal_id), outbox.user(ticket.requester_id)], ticket=ticket,
            detail={"minutes_left": int((ticket.end_at - now).total_seconds() // 60)},
        )
        count += 1
    return count
