"""Drift scans as jobs: asked for by an admin or by the schedule, run by the worker's
`drift.scan` job, with a row per scan that says how far it got (docs/reliability.md).

One scan is active at a time across every replica (a unique column), so a second click or
a schedule that comes round while a long scan runs gets the running scan back instead of
starting another. A running scan keeps a short-lived heartbeat in Redis, whatever its
pace: a scan whose job was lost with Redis, or whose worker died or was stopped, is
replaced at the next request once its heartbeat lapses. (arq's own in-progress mark is no
help: it lives as long as the longest job timeout of the worker, an hour or more.) A scan
whose row stops moving for `stale_after` is abandoned as well.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError

from jit.directory.models import Account, PermissionSet
from jit.directory.queries import live
from jit.errors import NotAllowed, WrongState
from jit.reconcile import drift, inventory
from jit.reconcile.models import DriftScanRun, DriftScanStatus
from jit.runtime import Runtime

log = logging.getLogger(__name__)
St = DriftScanStatus
ACTIVE = "active"
JOB = "drift.scan"
LAST_SCHEDULED_KEY = "jit:drift:last-scan"
MANUAL, SCHEDULED = "MANUAL", "SCHEDULED"
# How often a running scan writes its progress, at most.
PROGRESS_EVERY_SECONDS = 1.0


class ScanAbandoned(Exception):
    """This scan's row is no longer the active one: it was given up for a newer scan."""


def scan_job_id(scan_id: int) -> str:
    return f"{JOB}:{scan_id}"


def stale_after(rt: Runtime) -> timedelta:
    # A paced scan writes progress after every pair, seconds apart; a queued one waits for
    # a free worker. Neither takes a whole interval (and ten minutes) without a word.
    return timedelta(seconds=max(rt.settings.drift_interval, 600))


# A scan row is written a moment before its job is queued; younger than this, a job not
# yet in the queue is not taken as lost.
JOB_GRACE = timedelta(seconds=10)


# A running scan renews this key every HEARTBEAT_EVERY; it lapses HEARTBEAT_TTL after
# the scan's worker stops.
HEARTBEAT_TTL_SECONDS = 10
HEARTBEAT_EVERY_SECONDS = 3.0


def heartbeat_key(scan_id: int) -> str:
    return f"jit:drift:scan-alive:{scan_id}"


async def _job_alive(rt: Runtime, row: DriftScanRun) -> bool:
    """Whether the scan's job is waiting in arq's queue, or running with its heartbeat."""
    from arq.jobs import Job, JobStatus

    try:
        status = await Job(scan_job_id(row.id), rt.redis).status()
        if status in (JobStatus.deferred, JobStatus.queued):
            return True
        return bool(await rt.redis.exists(heartbeat_key(row.id)))
    except Exception:  # noqa: BLE001 - Redis unreachable: assume alive, staleness still applies
        return True


@contextlib.asynccontextmanager
async def _heartbeat(rt: Runtime, scan_id: int) -> AsyncIterator[None]:
    async def beat() -> None:
        while True:
            try:
                await rt.redis.set(heartbeat_key(scan_id), "1", ex=HEARTBEAT_TTL_SECONDS)
            except Exception:  # noqa: BLE001 - Redis down: the scan goes on; a request may replace it
                log.debug("drift scan %s: heartbeat not written", scan_id, exc_info=True)
            await asyncio.sleep(HEARTBEAT_EVERY_SECONDS)

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        with contextlib.suppress(Exception):
            await rt.redis.delete(heartbeat_key(scan_id))


async def last_scan() -> DriftScanRun | None:
    return await DriftScanRun.all().order_by("-id").first()


async def request_scan(rt: Runtime, *, trigger: str, actor_id: str | None = None) -> tuple[DriftScanRun, bool]:
    """The active scan, or a new one queued now. True when this call queued it."""
    now = rt.clock.now()
    current = await DriftScanRun.get_or_none(active=ACTIVE)
    if current is not None and now - current.updated_at < stale_after(rt):
        if now - current.updated_at < JOB_GRACE or await _job_alive(rt, current):
            return current, False
        # Its job is gone from the queue (Redis flushed or restarted empty), or its worker
        # stopped mid-scan: waiting for staleness would stop scans for minutes.
        await _finish(current, now, St.FAILED, error="abandoned: its job was lost from the queue or its worker stopped")
    elif current is not None:
        await _finish(current, now, St.FAILED, error=f"abandoned: no progress since {current.updated_at.isoformat()}")
    try:
        row = await DriftScanRun.create(trigger=trigger, requested_by=actor_id, status=St.QUEUED, active=ACTIVE,
                                        requested_at=now, updated_at=now)
    except IntegrityError:
        # Another replica queued one a moment ago.
        return await DriftScanRun.get(active=ACTIVE), False
    try:
        await rt.redis.enqueue_job(JOB, row.id, _job_id=scan_job_id(row.id))
    except Exception as exc:  # noqa: BLE001 - Redis down: say so; the schedule asks again
        await _finish(row, now, St.FAILED, error=f"could not queue the scan: {type(exc).__name__}")
        raise WrongState(f"the job queue is unavailable: {type(exc).__name__}", current="UNAVAILABLE") from None
    return row, True


async def request_manual_scan(rt: Runtime, actor_id: str) -> tuple[DriftScanRun, bool]:
    if not await rt.authz.is_admin(actor_id):
        raise NotAllowed("only admins may scan or remove drift")
    return await request_scan(rt, trigger=MANUAL, actor_id=actor_id)


async def scan_if_due(rt: Runtime) -> DriftScanRun | None:
    """Called by the reconciler cron: queues a scheduled scan once per JIT_DRIFT_INTERVAL.
    Returns the scan it queued, if it did. The scan runs as its own job, so a long paced
    scan never holds the reconciler up."""
    now = rt.clock.now().timestamp()
    last = await rt.redis.get(LAST_SCHEDULED_KEY)
    if last is not None and now - float(last) < rt.settings.drift_interval:
        return None
    await rt.redis.set(LAST_SCHEDULED_KEY, str(now))
    row, queued = await request_scan(rt, trigger=SCHEDULED)
    return row if queued else None


class _RowProgress:
    """Writes a scan's progress to its row, at most once a second and at the end of each
    stage; stops the scan if the row was abandoned meanwhile."""

    def __init__(self, rt: Runtime, row: DriftScanRun) -> None:
        self._rt = rt
        self._row = row
        self._written = 0.0

    async def update(self, *, pairs_done: int, pairs_total: int, calls: int) -> None:
        now = time.monotonic()
        if now - self._written < PROGRESS_EVERY_SECONDS and 0 < pairs_done < pairs_total:
            return
        self._written = now
        changed = await DriftScanRun.filter(id=self._row.id, active=ACTIVE).update(
            pairs_done=pairs_done, pairs_total=pairs_total, calls=calls, updated_at=self._rt.clock.now())
        if not changed:
            raise ScanAbandoned(f"drift scan {self._row.id} was abandoned")


async def _expected_calls(accounts: int, permission_sets: int) -> int:
    """What this scan will likely cost: the smaller dimension, plus as many pairs as the
    last finished scan found (or as many again, for the first)."""
    smaller = min(accounts, permission_sets)
    last = await DriftScanRun.filter(status=St.FINISHED).order_by("-id").first()
    return smaller + (last.pairs_total if last else smaller)


def pace_for(rt: Runtime, expected_calls: int) -> inventory.Pace:
    """Spread over JIT_DRIFT_SCAN_SPREAD of JIT_DRIFT_INTERVAL."""
    return inventory.Pace(rt.settings.drift_interval * rt.settings.drift_scan_spread, expected_calls)


async def run(rt: Runtime, scan_id: int, *, pace: inventory.Pace | None = None) -> dict[str, Any]:
    """The `drift.scan` job. May run twice (arq): a finished or failed scan is left alone,
    a running one whose worker died starts over."""
    row = await DriftScanRun.get_or_none(id=scan_id)
    if row is None or row.active != ACTIVE:
        return {"skipped": "not active"}
    now = rt.clock.now()
    changed = await DriftScanRun.filter(id=scan_id, active=ACTIVE).update(
        status=St.RUNNING, started_at=now, updated_at=now, pairs_done=0, pairs_total=0, calls=0)
    if not changed:
        return {"skipped": "not active"}
    try:
        async with _heartbeat(rt, scan_id):
            return await _run(rt, scan_id, row, pace)
    except ScanAbandoned:
        log.warning("drift scan %s was abandoned for a newer one", scan_id)
        return {"skipped": "abandoned"}


async def _run(rt: Runtime, scan_id: int, row: DriftScanRun, pace: inventory.Pace | None) -> dict[str, Any]:

    try:
        if row.trigger == SCHEDULED and rt.settings.session_kill:
            await drift.prune_session_kills(rt)
        if pace is None:
            expected = await _expected_calls(await live(Account).count(),
                                             await live(PermissionSet).count())
            pace = pace_for(rt, expected)
        # An admin's scan shows what is there; only the schedule removes it (JIT_DRIFT_AUTO_REMOVE).
        auto_remove = None if row.trigger == SCHEDULED else False
        report = await drift.scan(rt, auto_remove=auto_remove, pace=pace, progress=_RowProgress(rt, row))
    except ScanAbandoned:
        raise
    except Exception as exc:
        log.exception("drift scan %s failed", scan_id)
        await _finish(await DriftScanRun.get(id=scan_id), rt.clock.now(), St.FAILED, error=f"{type(exc).__name__}: {exc}")
        return {"failed": type(exc).__name__}
    row = await DriftScanRun.get(id=scan_id)
    row.pairs_total, row.pairs_done, row.calls = report.pairs, report.pairs, report.calls
    row.findings, row.new, row.resolved, row.removed = len(report.found), report.new, report.resolved, report.removed
    if report.errors:
        row.error = "; ".join(report.errors)[:2000]
    await _finish(row, rt.clock.now(), St.FINISHED)
    return report.summary()


async def _finish(row: DriftScanRun, now: datetime, status: DriftScanStatus, *, error: str = "") -> None:
    row.status, row.active, row.finished_at, row.updated_at = status, None, now, now
    if error:
        row.error = error
    await row.save()
