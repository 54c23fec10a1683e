"""A lease on a ticket's resource stack, held in the database and kept alive by a heartbeat.

Only the holder of a live lease grants or revokes a ticket. A worker that is SIGKILLed
stops renewing, and its lease lapses after `job_lease_seconds`; a worker that cannot
renew (the database is gone, or someone took the lease over) cancels its own work rather
than race the new holder.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q

from jit.reconcile.models import TicketLease
from jit.runtime import Runtime

log = logging.getLogger(__name__)


class LeaseBusy(Exception):
    """Another live worker holds the ticket."""


class LeaseLost(Exception):
    """The lease could not be renewed in time; the work was stopped."""


def holder_name() -> str:
    return f"{socket.gethostname()[:24]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


async def acquire(rt: Runtime, ticket_id: str, holder: str) -> bool:
    now = rt.clock.now()
    until = now + timedelta(seconds=rt.settings.job_lease_seconds)
    taken = await TicketLease.filter(Q(ticket_id=ticket_id) & (Q(expires_at__lt=now) | Q(holder=holder))).update(
        holder=holder, expires_at=until
    )
    if taken:
        return True
    try:
        await TicketLease.create(ticket_id=ticket_id, holder=holder, expires_at=until)
    except IntegrityError:
        return False
    return True


async def renew(rt: Runtime, ticket_id: str, holder: str) -> bool:
    until = rt.clock.now() + timedelta(seconds=rt.settings.job_lease_seconds)
    return bool(await TicketLease.filter(ticket_id=ticket_id, holder=holder).update(expires_at=until))


async def release(ticket_id: str, holder: str) -> None:
    await TicketLease.filter(ticket_id=ticket_id, holder=holder).delete()


async def is_held(rt: Runtime, ticket_id: str) -> bool:
    return await TicketLease.filter(ticket_id=ticket_id, expires_at__gte=rt.clock.now()).exists()


async def live_leases(rt: Runtime) -> set[str]:
    return {str(t) for t in await TicketLease.filter(expires_at__gte=rt.clock.now()).values_list("ticket_id", flat=True)}


@asynccontextmanager
async def ticket_lease(rt: Runtime, ticket_id: str) -> AsyncIterator[None]:
    holder = holder_name()
    if not await acquire(rt, ticket_id, holder):
        raise LeaseBusy(ticket_id)
    ttl = rt.settings.job_lease_seconds
    loop = asyncio.get_running_loop()
    work = asyncio.current_task()
    lost = False

    async def heartbeat() -> None:
        nonlocal lost
        renewed = loop.time()
        while True:
            await asyncio.sleep(ttl / 3)
            try:
                ok = await renew(rt, ticket_id, holder)
            except Exception:  # noqa: BLE001 - a database blip; the lease is still valid for a while
                log.warning("could not renew the lease on ticket %s", ticket_id, exc_info=True)
                ok = loop.time() - renewed < ttl * 0.8
            else:
                renewed = loop.time() if ok else renewed
            if not ok:
                lost = True
                work.cancel()
                return

    beat = asyncio.create_task(heartbeat())
    try:
        yield
    except asyncio.CancelledError:
        if lost:
            raise LeaseLost(ticket_id) from None
        raise
    finally:
        beat.cancel()
        try:
            await release(ticket_id, holder)
        except Exception:  # noqa: BLE001 - it lapses on its own
            log.warning("could not release the lease on ticket %s", ticket_id, exc_info=True)
