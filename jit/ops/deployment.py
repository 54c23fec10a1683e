"""One Redis database per deployment.

arq's queue has no notion of whose job it holds: two deployments (or a test run and a
benchmark) on one Redis database take each other's jobs, and each finishes the other's
as "missing" while the owner's ticket waits for its own reconciler. So each database
carries a deployment id (made by migration 0008, never changed), and every `jit serve`
and `jit worker` claims JIT_REDIS_URL's database with it: the first to start writes the
id, the rest of that deployment find their own id there, and any other deployment is
refused with SharedRedisDatabase.

Redis holds nothing that cannot be rebuilt, the claim included: after a flush the next
process to start, or a worker's next reconcile, claims it again.
"""

from __future__ import annotations

import logging
import os
import signal
import uuid
from collections.abc import Awaitable
from typing import cast
from urllib.parse import urlsplit

from arq.connections import RedisSettings
from redis.asyncio import Redis

from jit.ops.models import Deployment

log = logging.getLogger(__name__)

REDIS_KEY = "jit:deployment"
ROW = 1

# Deletes the claim only if it is still the given deployment's.
_RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"


class SharedRedisDatabase(Exception):
    """JIT_REDIS_URL's database is claimed by another deployment."""

    def __init__(self, redis_url: str, holder: str, ours: str) -> None:
        self.redis_url, self.holder, self.ours = redis_url, holder, ours
        index = RedisSettings.from_dsn(redis_url).database
        super().__init__(
            f"JIT_REDIS_URL {_without_password(redis_url)} (Redis database {index}) is used by another JIT "
            f"deployment (id {holder}; this database's is {ours}): give each deployment its own Redis database "
            f"index. If that other deployment is gone for good, delete the key {REDIS_KEY} from that Redis "
            "database (Redis holds nothing JIT cannot rebuild)."
        )


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    return parts._replace(netloc=f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")).geturl()


async def deployment_id() -> str:
    """This database's deployment id. Made by the migration; made here only if its row was
    deleted by hand, as the audit chain's head is."""
    row, _ = await Deployment.get_or_create(id=ROW, defaults={"deployment_id": uuid.uuid4()})
    return str(row.deployment_id)


async def claim(redis: Redis, redis_url: str, ours: str) -> bool:
    """Makes Redis's database this deployment's, or raises SharedRedisDatabase. True when
    this call wrote the claim (the first start on this database, or after a flush)."""
    # A flush between the two calls leaves nothing to read: try again.
    for _ in range(3):
        if await redis.set(REDIS_KEY, ours, nx=True):
            log.info("claimed Redis database %s for deployment %s", RedisSettings.from_dsn(redis_url).database,
                     ours)
            return True
        holder = await redis.get(REDIS_KEY)
        if holder is None:
            continue
        holder = holder.decode() if isinstance(holder, bytes) else str(holder)
        if holder != ours:
            raise SharedRedisDatabase(redis_url, holder, ours)
        return False
    return False


async def release(redis: Redis, deployment: str) -> bool:
    """Removes the claim if it is still this deployment's: for a database that is being
    thrown away (`jit demo` resetting its own), never for one that lives on."""
    # redis-py types eval for its sync and async clients at once; the async one's is awaitable.
    released = await cast(Awaitable[int], redis.eval(_RELEASE, 1, REDIS_KEY, deployment))
    return bool(released)


async def claim_at_start(redis: Redis, redis_url: str) -> str | None:
    """The claim as `jit serve` and `jit worker` start: refused (SharedRedisDatabase) when
    another deployment holds the database. A database that does not answer yet (down, or
    not migrated) did not stop either process from starting before, and does not now: it
    is logged, and the worker's reconcile claims once it answers."""
    try:
        ours = await deployment_id()
    except Exception as exc:  # noqa: BLE001 - whatever keeps the database from answering
        log.warning("Redis database not claimed for this deployment yet: the database did not answer (%s)",
                    type(exc).__name__, exc_info=True)
        return None
    await claim(redis, redis_url, ours)
    return ours


async def keep_claim(redis: Redis, redis_url: str, ours: str | None) -> str:
    """A worker's reconcile: claims the Redis database again (a flush took the claim with
    everything else). If another deployment took it meanwhile, every job this worker takes
    from now on may be theirs: it stops as on SIGTERM (running jobs finish) and, restarted,
    refuses to start with the same error."""
    ours = ours or await deployment_id()
    try:
        await claim(redis, redis_url, ours)
    except SharedRedisDatabase as exc:
        log.error("jit worker: %s Stopping.", exc)
        os.kill(os.getpid(), signal.SIGTERM)
        raise
    return ours
