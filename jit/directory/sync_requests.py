"""Asking for a directory sync now, and when the last one finished.

The sync itself is the worker's `directory.sync` job (jit.directory.service); this only
enqueues it. Its job id is per minute, so repeated clicks within a minute, from any
number of admins or replicas, make one sync.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.functions import Max

from jit.directory.models import Account, User
from jit.directory.queries import live
from jit.errors import NotAllowed, WrongState
from jit.runtime import Runtime


@dataclass
class SyncRequest:
    job_id: str
    queued: bool
    """False when a sync with this id was already queued, running or just finished."""


async def last_synced_at() -> datetime | None:
    """When the last successful sync finished: it stamps every live row it saw."""
    row = await live(Account).annotate(last=Max("synced_at")).first().values("last")
    return row["last"] if row else None


def sync_job_id(now: datetime) -> str:
    return f"directory.sync:manual:{int(now.timestamp()) // 60}"


async def request_sync(rt: Runtime, actor: User) -> SyncRequest:
    if not await rt.authz.is_admin(actor.id):
        raise NotAllowed("only admins may start a directory sync")
    job_id = sync_job_id(rt.clock.now())
    try:
        job = await rt.redis.enqueue_job("directory.sync", _job_id=job_id)
    except Exception as exc:  # noqa: BLE001 - Redis down: say so, the hourly sync still runs
        raise WrongState(f"the job queue is unavailable: {type(exc).__name__}", current="UNAVAILABLE") from None
    return SyncRequest(job_id=job_id, queued=job is not None)
