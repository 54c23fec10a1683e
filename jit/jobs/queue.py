"""What the arq queue holds, read straight from Redis, for the reconciler.

A ticket "has a job" when a job naming it is queued, its job record still exists (arq
drops a deferred job's record after `expires_extra_ms`), and no worker claims it as in
progress: an in-progress claim may belong to a worker that was killed, and only the
database lease tells a live worker from a dead one.
"""

from __future__ import annotations

import re

from arq.connections import ArqRedis
from arq.constants import default_queue_name, in_progress_key_prefix, job_key_prefix

_TICKET = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def ticket_of(job_id: str) -> str | None:
    found = _TICKET.search(job_id)
    return found.group(0) if found else None


async def queued_tickets(redis: ArqRedis, function_prefix: str) -> set[str]:
    """Ids of tickets with a runnable job whose id starts with `function_prefix`."""
    job_ids = [j.decode() if isinstance(j, bytes) else j for j in await redis.zrange(default_queue_name, 0, -1)]
    job_ids = [j for j in job_ids if j.startswith(function_prefix)]
    if not job_ids:
        return set()
    async with redis.pipeline(transaction=False) as pipe:
        for job_id in job_ids:
            pipe.exists(job_key_prefix + job_id)
            pipe.exists(in_progress_key_prefix + job_id)
        flags = await pipe.execute()
    found: set[str] = set()
    for i, job_id in enumerate(job_ids):
        exists, in_progress = flags[2 * i], flags[2 * i + 1]
        ticket = ticket_of(job_id)
        if exists and not in_progress and ticket:
            found.add(ticket)
    return found
