"""Leases held in the database and kept alive by a heartbeat.

Only the holder of a ticket's lease grants or revokes that ticket, and only the holder of
an assignment's lease looks at, creates or deletes that assignment: two tickets for the
same principal, account and permission set must not both find it missing and both create
it, nor one delete it while the other records it as shared. A worker that is SIGKILLed
stops renewing, and its lease lapses after `job_lease_seconds`; a worker that cannot
renew (the database is gone, or someone took the lease over) cancels its own work rather
than race the new holder.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta
from typing import cast

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q

from jit.reconcile.models import Lease
from jit.runtime import Runtime

log = logging.getLogger(__name__)


class LeaseBusy(Exception):
    """Another live worker holds the ticket."""


class LeaseLost(Exception):
    """The lease could not be renewed in time; the work was stopped."""


def holder_name() -> str:
    return f"{socket.gethostname()[:24]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def ticket_key(ticket_id: str) -> str:
    return f"ticket:{ticket_id}"


def assignment_key(account_id: str, permission_set_arn: str, principal_id: str) -> str:
    return f"assignment:{account_id}:{permission_set_arn.rsplit('/', 1)[-1]}:{principal_id}"


async def acquire(rt: Runtime, key: str, holder: str) -> bool:
    now = rt.clock.now()
    until = now + timedelta(seconds=rt.settings.job_lease_seconds)
    taken = await Lease.filter(Q(key=key) & (Q(expires_at__lt=now) | Q(holder=holder))).update(
        holder=holder, expires_at=until
    )
    if taken:
        return True
    try:
        await Lease.create(key=key, holder=holder, expires_at=until)
    except IntegrityError:
        return False
    return True


async def renew(rt: Runtime, key: str, holder: str) -> bool:
    until = rt.clock.now() + timedelta(seconds=rt.settings.job_lease_seconds)
    return bool(await Lease.filter(key=key, holder=holder).update(expires_at=until))


async def release(key: str, holder: str) -> None:
    await Lease.filter(key=key, holder=holder).delete()


async def live_leases(rt: Runtime) -> set[str]:
    """Ids of tickets some live worker is working on."""
    # Tortoise types a flat values_list as tuples; these are single keys.
    keys = cast(list[str], await Lease.filter(key__startswith="ticket:", expires_at__gte=rt.clock.now())
                .values_list("key", flat=True))
    return {k.split(":", 1)[1] for k in keys}


@asynccontextmanager
async def held(rt: Runtime, key: str, wait: float = 0.0) -> AsyncIterator[None]:
    """Holds the lease on `key` for the block, waiting up to `wait` seconds for it."""
    holder = holder_name()
    loop = asyncio.get_running_loop()
    give_up = loop.time() + wait
    pause = 0.05
    while not await acquire(rt, key, holder):
        if loop.time() >= give_up:
            raise LeaseBusy(key)
        await asyncio.sleep(random.uniform(pause / 2, pause))
        pause = min(pause * 2, 1.0)
    ttl = rt.settings.job_lease_seconds
    work = asyncio.current_task()
    assert work is not None  # held() is entered from a coroutine, so inside a task
    lost = False

    async def heartbeat() -> None:
        nonlocal lost
        renewed = loop.time()
        while True:
            await asyncio.sleep(ttl / 3)
            try:
                ok = await renew(rt, key, holder)
            except Exception:  # noqa: BLE001 - a database blip; the lease is still valid for a while
                log.warning("could not renew the lease on %s", key, exc_info=True)
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
            raise LeaseLost(key) from None
        raise
    finally:
        beat.cancel()
        try:
            await release(key, holder)
        except Exception:  # noqa: BLE001 - it lapses on its own
            log.warning("could not release the lease on %s", key, exc_info=True)


def ticket_lease(rt: Runtime, ticket_id: str) -> AbstractAsyncContextManager[None]:
    return held(rt, ticket_key(ticket_id))


def assignment_lease(rt: Runtime, account_id: str, permission_set_arn: str, principal_id: str,
                     ) -> AbstractAsyncContextManager[None]:
    # Another ticket's job holds it only for one create or delete and its polling.
    return held(rt, assignment_key(account_id, permission_set_arn, principal_id),
                wait=rt.settings.assignment_poll_timeout + rt.settings.job_lease_seconds)
