"""The arq worker: job functions named `domain.verb`, shared clients built once.

Jobs carry ids only and may run more than once: each re-reads the database and returns
early when its work is already done (see jit.tickets.stack).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any

from arq import Retry, cron
from arq.connections import RedisSettings
from arq.worker import Function, Worker, func
from prometheus_client import start_http_server
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from tortoise import Tortoise

from jit import backoff
from jit.approvals import window
from jit.audit import verifications
from jit.audit.retention import prune_by_retention
from jit.authz.service import Authorizer
from jit.aws.assignments import AssignmentTimeout
from jit.aws.clients import AwsClients
from jit.clock import SystemClock
from jit.config import Settings
from jit.db import close_db, init_db
from jit.directory.offboarding import offboard
from jit.directory.service import sync_directory
from jit.insights.tasks import roll_up as roll_up_insights
from jit.notify import delivery
from jit.notify import service as notify
from jit.ops import deployment, logs, metrics
from jit.reconcile import drift_scans, retries
from jit.reconcile import service as reconcile_service
from jit.reconcile.lease import LeaseBusy, LeaseLost, ticket_lease
from jit.runtime import Runtime
from jit.tickets import extensions, plan, stack
from jit.tickets.models import Ticket, TicketStatus

log = logging.getLogger(__name__)
S = TicketStatus
# What arq passes every job: the shared clients ("runtime", "redis") and the job's own keys.
Ctx = dict[str, Any]
Job = Callable[..., Coroutine[Any, Any, Any]]


def _retry_delay(ctx: Ctx) -> int:
    return int(backoff.exponential(5, int(ctx.get("job_try", 1)), 300))


def _busy_delay(rt: Runtime) -> float:
    # Another worker holds the ticket; if it died, its lease lapses within this.
    return max(min(rt.settings.job_lease_seconds, 5.0), 0.5)


async def grant_ticket(ctx: Ctx, ticket_id: str) -> str:
    rt: Runtime = ctx["runtime"]
    try:
        async with ticket_lease(rt, ticket_id):
            outcome = await stack.grant(rt, ticket_id)
    except (LeaseBusy, LeaseLost) as exc:
        raise Retry(defer=_busy_delay(rt)) from exc
    except AssignmentTimeout as exc:
        raise Retry(defer=_retry_delay(ctx)) from exc
    if outcome.result == "early":
        ticket = await Ticket.get(id=ticket_id)
        raise Retry(defer=max((plan.grant_starts(rt, ticket) - rt.clock.now()).total_seconds(), 0.2))
    return outcome.result


async def revoke_ticket(ctx: Ctx, ticket_id: str) -> str:
    rt: Runtime = ctx["runtime"]
    try:
        async with ticket_lease(rt, ticket_id):
            outcome = await stack.revoke(rt, ticket_id)
    except (LeaseBusy, LeaseLost) as exc:
        raise Retry(defer=_busy_delay(rt)) from exc
    except AssignmentTimeout as exc:
        raise Retry(defer=await retries.note_failure(rt, ticket_id, str(exc))) from exc
    if outcome.result == "early":
        # Not yet: the end moved (an extension), or this process expects AWS to take less
        # time than whoever scheduled the job did. Come back when it starts.
        ticket = await Ticket.get(id=ticket_id)
        if ticket.status == S.ACTIVE:
            raise Retry(defer=max((plan.revoke_starts(rt, ticket) - rt.clock.now()).total_seconds(), 0.2))
        return "early"
    if outcome.result == "incomplete":
        raise Retry(defer=await retries.note_failure(rt, ticket_id))
    if outcome.result == "revoked":
        await retries.cleared(rt, ticket_id)
    return outcome.result


async def unwind_ticket(ctx: Ctx, ticket_id: str) -> str:
    """Finishes unwinding a FAILED ticket's stack (see jit.reconcile.service)."""
    rt: Runtime = ctx["runtime"]
    try:
        async with ticket_lease(rt, ticket_id):
            outcome = await stack.finish_unwind(rt, ticket_id)
    except (LeaseBusy, LeaseLost) as exc:
        raise Retry(defer=_busy_delay(rt)) from exc
    except AssignmentTimeout as exc:
        raise Retry(defer=await retries.note_failure(rt, ticket_id, str(exc))) from exc
    if outcome.result == "incomplete":
        raise Retry(defer=await retries.note_failure(rt, ticket_id))
    await retries.cleared(rt, ticket_id)
    return outcome.result


async def expire_approval(ctx: Ctx, ticket_id: str) -> str:
    rt: Runtime = ctx["runtime"]
    outcome = await window.expire(rt, ticket_id)
    if outcome.result == "early":
        raise Retry(defer=max((datetime.fromisoformat(outcome.detail) - rt.clock.now()).total_seconds(), 1))
    if outcome.result == "raced":
        raise Retry(defer=1)
    return outcome.result


async def remind_approvers(ctx: Ctx, ticket_id: str) -> str:
    return (await window.remind(ctx["runtime"], ticket_id)).result


async def expire_extension(ctx: Ctx, extension_id: str) -> str:
    return await extensions.expire_extension(ctx["runtime"], extension_id)


async def expire_due_approvals(ctx: Ctx) -> int:
    """Reconciler for the approval window: tickets whose expiry job was lost."""
    return await window.expire_due(ctx["runtime"])


async def sync(ctx: Ctx) -> dict[str, Any]:
    rt: Runtime = ctx["runtime"]
    report = await sync_directory(rt)
    # What people may no longer hold goes now, not at its end time (jit.directory.offboarding).
    offboarded = await offboard(rt)
    return {**(report.__dict__ if hasattr(report, "__dict__") else {}), "offboarded": offboarded.__dict__}


async def sync_if_due(ctx: Ctx) -> str:
    rt: Runtime = ctx["runtime"]
    key = "jit:directory:last-sync"
    now = rt.clock.now().timestamp()
    last = await ctx["redis"].get(key)
    if last is not None and now - float(last) < rt.settings.sync_interval:
        return "not due"
    await ctx["redis"].set(key, str(now))
    await sync(ctx)
    return "synced"


async def reconcile(ctx: Ctx) -> dict[str, Any]:
    """The reconciler cron (jit.reconcile.service). One run at a time across workers; the
    lock only saves work, since two concurrent runs enqueue the same job ids."""
    rt: Runtime = ctx["runtime"]
    ctx["deployment_id"] = await deployment.keep_claim(ctx["redis"], rt.settings.redis_url, ctx.get("deployment_id"))
    # The lock lasts one interval: a worker killed mid-run must not hold the next run
    # back longer than that (found by the fault suite), and a run that overruns it may
    # overlap the next one, which is harmless.
    lock = ctx["redis"].lock("jit:lock:reconcile", timeout=max(rt.settings.reconcile_interval, 1))
    if not await lock.acquire(blocking=False):
        return {"skipped": "another worker is reconciling"}
    try:
        report = await reconcile_service.reconcile(rt)
        result: dict[str, Any] = {"grants": len(report.grants), "revokes": len(report.revokes),
                                  "unwinds": len(report.unwinds), "alerts": report.alerts}
        # Only queued here: the scan is its own job (`drift.scan`), paced over minutes.
        queued_scan = await drift_scans.scan_if_due(rt)
        if queued_scan is not None:
            result["drift_scan"] = queued_scan.id
        return result
    finally:
        try:
            await lock.release()
        except Exception:  # noqa: BLE001 - an expired or flushed lock is fine to lose
            pass


async def scan_drift(ctx: Ctx, scan_id: int) -> dict[str, Any]:
    return await drift_scans.run(ctx["runtime"], scan_id)


async def verify_audit(ctx: Ctx, run_id: int) -> dict[str, Any]:
    return await verifications.run(ctx["runtime"], run_id)


async def plan_revokes(ctx: Ctx) -> int:
    """Moves revokes earlier where a burst of end times needs more of the AWS budget than
    there is before them (jit.tickets.plan). One planner at a time across workers."""
    rt: Runtime = ctx["runtime"]
    lock = ctx["redis"].lock(plan.LOCK_KEY, timeout=10)
    if not await lock.acquire(blocking=False):
        return 0
    try:
        return await plan.plan_revokes(rt)
    finally:
        try:
            await lock.release()
        except Exception:  # noqa: BLE001 - an expired or flushed lock is fine to lose
            pass


async def deliver_notifications(ctx: Ctx) -> dict[str, int]:
    return (await delivery.deliver_due(ctx["runtime"])).summary()


async def notify_expiring_soon(ctx: Ctx) -> int:
    return await notify.notify_expiring_soon(ctx["runtime"])


async def prune_audit(ctx: Ctx) -> dict[str, Any]:
    """Daily: prune audit events past JIT_AUDIT_RETENTION_DAYS behind a checkpoint. Two
    workers running it at once take turns at the chain head; the second prunes nothing."""
    rt: Runtime = ctx["runtime"]
    result = await prune_by_retention(rt.settings.audit_retention_days, rt.clock)
    return {"pruned": result.count, "checkpoint_seq": result.checkpoint_seq} if result else {"pruned": 0}


def _reconcile_seconds(interval: int) -> set[int]:
    step = max(1, min(interval, 60))
    return set(range(0, 60, step))


async def startup(ctx: Ctx) -> None:
    settings: Settings = ctx.get("settings") or Settings()
    # run_worker starts arq again after losing Redis; the database stays initialized.
    if not Tortoise.is_inited():
        await init_db(settings.database_url)
    try:
        ctx["deployment_id"] = await deployment.claim_at_start(ctx["redis"], settings.redis_url)
    except deployment.SharedRedisDatabase:
        await close_db()  # refused: nothing of this process stays open (SQLite's thread would keep it alive)
        raise
    ctx["runtime"] = Runtime(
        settings=settings, clock=SystemClock(), aws=AwsClients(settings),
        authz=Authorizer(settings), redis=ctx["redis"],
    )


async def shutdown(ctx: Ctx) -> None:
    if "runtime" in ctx:
        await ctx["runtime"].aws.close()
    if not ctx.get("keep_db"):
        await close_db()


def _observed(name: str, fn: Job) -> Job:
    """The job under its name, with the job and ticket ids on every log line it writes, and
    one line (and a counter) saying how it ended and which worker process ran it."""

    @functools.wraps(fn)
    async def job(ctx: Ctx, *args: Any) -> Any:
        logs.job_id.set(ctx.get("job_id"))
        if name.startswith("tickets.") and args:
            logs.set_ticket(args[0])
        started = time.monotonic()
        # How long after its due time the job started: the queue's own delay (poll delay,
        # busy slots, a starved process), apart from the job's work.
        score = ctx.get("score")
        late = round(max(time.time() - score / 1000, 0.0), 3) if score else None
        if late is not None:
            metrics.JOB_START_DELAY.labels(job=name).observe(late)
        outcome, result = "error", None
        try:
            result = await fn(ctx, *args)
            outcome = "complete"
            return result
        except Retry:
            outcome = "retry"
            raise
        except asyncio.CancelledError:
            outcome = "cancelled"
            raise
        finally:
            metrics.JOBS.labels(job=name, outcome=outcome).inc()
            log.info("job %s %s", name, outcome, extra={"job": name, "outcome": outcome, "result": result,
                                                       "seconds": round(time.monotonic() - started, 3),
                                                       "late_seconds": late, "try": ctx.get("job_try")})

    return job


def _job(name: str, fn: Job, **options: Any) -> Function:
    return func(_observed(name, fn), name=name, **options)


def worker_settings(settings: Settings, **overrides: Any) -> dict[str, Any]:
    """arq Worker keyword arguments for these settings."""
    options: dict[str, Any] = {
        "functions": [
            _job("tickets.grant", grant_ticket, max_tries=50, timeout=settings.job_timeout),
            _job("tickets.revoke", revoke_ticket, max_tries=100_000, timeout=settings.job_timeout),
            _job("tickets.unwind", unwind_ticket, max_tries=100_000, timeout=settings.job_timeout),
            _job("directory.sync", sync, max_tries=3),
            _job("approvals.expire", expire_approval, max_tries=20),
            _job("approvals.remind", remind_approvers, max_tries=3),
            _job("extensions.expire", expire_extension, max_tries=3),
            # A paced scan takes up to its share of the drift interval, longer when the AWS
            # budget is busy with grants and revokes.
            _job("drift.scan", scan_drift, max_tries=3, timeout=max(settings.drift_interval * 12, 3600)),
            _job("audit.verify", verify_audit, max_tries=3, timeout=3600),
        ],
        "cron_jobs": [
            cron(reconcile, name="tickets.reconcile", second=_reconcile_seconds(settings.reconcile_interval),
                 run_at_startup=True, timeout=max(settings.reconcile_interval * 4, 60)),
            cron(plan_revokes, name="tickets.plan_revokes", second=set(range(0, 60, 2)), run_at_startup=True,
                 timeout=10),
            cron(sync_if_due, name="directory.sync_if_due", second={15}),
            cron(expire_due_approvals, name="approvals.expire_due", second={45}),
            cron(deliver_notifications, name="notify.deliver", second=_reconcile_seconds(settings.notify_interval),
                 run_at_startup=True, timeout=max(settings.notify_lease_seconds, 10)),
            cron(notify_expiring_soon, name="notify.expiring_soon", second={30}),
            cron(prune_audit, name="audit.prune", hour={3}, minute={30}, second={0}),
            cron(roll_up_insights, name="insights.roll_up", minute=set(range(0, 60, 5)), second={50},
                 run_at_startup=True, timeout=600),
        ],
        "on_startup": startup,
        "on_shutdown": shutdown,
        "redis_settings": RedisSettings.from_dsn(settings.redis_url),
        "ctx": {"settings": settings},
        "poll_delay": settings.queue_poll_delay,
        "max_jobs": 20,
        "handle_signals": True,
        # On SIGTERM take no new jobs and let running ones finish (then arq cancels the
        # rest; they run again elsewhere, as jobs may).
        "job_completion_wait": settings.shutdown_grace_seconds,
    }
    options.update(overrides)
    return options


def run_worker(settings: Settings) -> None:
    """Runs the arq worker. arq exits when Redis goes away mid-poll; losing Redis loses no
    work here (the reconciler rebuilds the queue), so start again in the same process
    instead of leaving the revokes to wait for a supervisor to restart it."""
    if settings.worker_metrics_port:
        start_http_server(settings.worker_metrics_port, addr=settings.worker_metrics_host, registry=metrics.REGISTRY)
    while True:
        try:
            worker = Worker(**worker_settings(settings, ctx={"settings": settings, "keep_db": True}))
            worker.run()
            # The database stayed open across restarts after losing Redis; on the way out it
            # is closed on the loop it was opened on (aiosqlite's thread would otherwise keep
            # a SIGTERMed worker alive).
            worker.loop.run_until_complete(close_db())
            return
        except (RedisConnectionError, RedisTimeoutError, ConnectionError, OSError):
            log.warning("lost Redis; starting the worker again in 1 s", exc_info=True)
            time.sleep(1)
