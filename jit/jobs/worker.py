"""The arq worker: job functions named `domain.verb`, shared clients built once.

Jobs carry ids only and may run more than once: each re-reads the database and returns
early when its work is already done (see jit.tickets.stack).
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from arq import Retry, cron
from arq.connections import RedisSettings
from arq.worker import func

from jit.authz.service import Authorizer
from jit.aws.assignments import AssignmentTimeout
from jit.aws.clients import AwsClients
from jit.clock import SystemClock
from jit.config import Settings
from jit.db import close_db, init_db
from jit.directory.service import sync_directory
from jit.runtime import Runtime
from jit.tickets import stack
from jit.tickets.models import Ticket, TicketStatus

log = logging.getLogger(__name__)
S = TicketStatus
LOCK_TTL = 900


class TicketBusy(Exception):
    pass


@asynccontextmanager
async def ticket_lock(redis, ticket_id: str):
    """One grant or revoke per ticket at a time, across every worker.

    Correctness does not rest on it (the stack is re-read on every run); it keeps two
    runs from racing to create the same assignment, which AWS would duplicate."""
    lock = redis.lock(f"jit:lock:ticket:{ticket_id}", timeout=LOCK_TTL)
    if not await lock.acquire(blocking=False):
        raise TicketBusy(ticket_id)
    try:
        yield
    finally:
        try:
            await lock.release()
        except Exception:  # noqa: BLE001 - expired locks are fine to lose
            pass


def _retry_delay(ctx: dict) -> int:
    return min(5 * 2 ** max(ctx.get("job_try", 1) - 1, 0), 300)


async def grant_ticket(ctx: dict, ticket_id: str) -> str:
    rt: Runtime = ctx["runtime"]
    try:
        async with ticket_lock(ctx["redis"], ticket_id):
            outcome = await stack.grant(rt, ticket_id)
    except (TicketBusy, AssignmentTimeout) as exc:
        raise Retry(defer=_retry_delay(ctx)) from exc
    if outcome.result == "early":
        ticket = await Ticket.get(id=ticket_id)
        raise Retry(defer=max((ticket.start_at - rt.clock.now()).total_seconds(), 1))
    return outcome.result


async def revoke_ticket(ctx: dict, ticket_id: str) -> str:
    rt: Runtime = ctx["runtime"]
    try:
        async with ticket_lock(ctx["redis"], ticket_id):
            outcome = await stack.revoke(rt, ticket_id)
    except (TicketBusy, AssignmentTimeout) as exc:
        raise Retry(defer=_retry_delay(ctx)) from exc
    if outcome.result == "early":
        # The end moved (an extension); the job for the new end is already queued.
        return "early"
    if outcome.result == "incomplete":
        raise Retry(defer=_retry_delay(ctx))
    return outcome.result


async def expire_approval(ctx: dict, ticket_id: str) -> str:
    from jit.approvals import window

    rt: Runtime = ctx["runtime"]
    outcome = await window.expire(rt, ticket_id)
    if outcome.result == "early":
        ticket = await Ticket.get(id=ticket_id)
        raise Retry(defer=max((ticket.approval_expires_at - rt.clock.now()).total_seconds(), 1))
    if outcome.result == "raced":
        raise Retry(defer=1)
    return outcome.result


async def remind_approvers(ctx: dict, ticket_id: str) -> str:
    from jit.approvals import window

    return (await window.remind(ctx["runtime"], ticket_id)).result


async def expire_extension(ctx: dict, extension_id: str) -> str:
    from jit.tickets.extensions import expire_extension as expire

    return await expire(ctx["runtime"], extension_id)


async def expire_due_approvals(ctx: dict) -> int:
    """Reconciler for the approval window: tickets whose expiry job was lost."""
    from jit.approvals import window

    return await window.expire_due(ctx["runtime"])


async def sync(ctx: dict) -> dict[str, Any]:
    rt: Runtime = ctx["runtime"]
    report = await sync_directory(rt.settings, rt.aws, rt.clock)
    return report.__dict__ if hasattr(report, "__dict__") else {}


async def sync_if_due(ctx: dict) -> str:
    rt: Runtime = ctx["runtime"]
    key = "jit:directory:last-sync"
    now = rt.clock.now().timestamp()
    last = await ctx["redis"].get(key)
    if last is not None and now - float(last) < rt.settings.sync_interval:
        return "not due"
    await ctx["redis"].set(key, str(now))
    await sync(ctx)
    return "synced"


async def reconcile(ctx: dict) -> dict[str, int]:
    """Re-enqueues due work that has no job, e.g. after Redis lost its queue."""
    rt: Runtime = ctx["runtime"]
    now = rt.clock.now()
    bucket = int(now.timestamp()) // 60
    stale = now - timedelta(minutes=2)
    counts = {"grant": 0, "revoke": 0}
    due_grants = await Ticket.filter(status=S.SCHEDULED, start_at__lte=now).values_list("id", flat=True)
    stuck_grants = await Ticket.filter(status=S.GRANTING, updated_at__lte=stale).values_list("id", flat=True)
    for ticket_id in [*due_grants, *stuck_grants]:
        if await ctx["redis"].enqueue_job("tickets.grant", str(ticket_id), _job_id=f"reconcile:grant:{ticket_id}:{bucket}"):
            counts["grant"] += 1
    due_revokes = await Ticket.filter(status=S.ACTIVE, end_at__lte=now).values_list("id", flat=True)
    stuck_revokes = await Ticket.filter(status=S.REVOKING, updated_at__lte=stale).values_list("id", flat=True)
    for ticket_id in [*due_revokes, *stuck_revokes]:
        if await ctx["redis"].enqueue_job("tickets.revoke", str(ticket_id), _job_id=f"reconcile:revoke:{ticket_id}:{bucket}"):
            counts["revoke"] += 1
    return counts


async def startup(ctx: dict) -> None:
    settings: Settings = ctx.get("settings") or Settings()
    await init_db(settings.database_url)
    ctx["runtime"] = Runtime(
        settings=settings, clock=SystemClock(), aws=AwsClients(settings),
        authz=Authorizer(settings), redis=ctx["redis"],
    )


async def shutdown(ctx: dict) -> None:
    await close_db()


def worker_settings(settings: Settings, **overrides: Any) -> dict[str, Any]:
    """arq Worker keyword arguments for these settings."""
    options: dict[str, Any] = {
        "functions": [
            func(grant_ticket, name="tickets.grant", max_tries=50),
            func(revoke_ticket, name="tickets.revoke", max_tries=1000),
            func(sync, name="directory.sync", max_tries=3),
            func(expire_approval, name="approvals.expire", max_tries=20),
            func(remind_approvers, name="approvals.remind", max_tries=3),
            func(expire_extension, name="extensions.expire", max_tries=3),
        ],
        "cron_jobs": [
            cron(reconcile, name="tickets.reconcile", second={0, 30}, run_at_startup=True),
            cron(sync_if_due, name="directory.sync_if_due", second={15}),
            cron(expire_due_approvals, name="approvals.expire_due", second={45}),
        ],
        "on_startup": startup,
        "on_shutdown": shutdown,
        "redis_settings": RedisSettings.from_dsn(settings.redis_url),
        "ctx": {"settings": settings},
        "poll_delay": 0.2,
        "max_jobs": 20,
        "handle_signals": True,
    }
    options.update(overrides)
    return options
