"""Chain verifications as records: `jit audit verify` and the console's "Verify now" (the
worker's `audit.verify` job) each leave a row with the result, so the console can show
the chain's status and when it was last checked (docs/audit.md)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from jit.audit import service as audit
from jit.audit.models import AuditVerificationRun
from jit.audit.verify import Verification, verify_chain
from jit.clock import Clock
from jit.errors import NotAllowed, WrongState
from jit.runtime import Runtime

log = logging.getLogger(__name__)
JOB = "audit.verify"
MANUAL, CLI = "MANUAL", "CLI"
QUEUED, RUNNING, OK, BROKEN, FAILED = "QUEUED", "RUNNING", "OK", "BROKEN", "FAILED"
# A queued or running verification younger than this is returned instead of a new one;
# older, its worker is taken as gone.
STALE_AFTER = timedelta(minutes=30)


def job_id(run_id: int) -> str:
    return f"{JOB}:{run_id}"


async def latest() -> AuditVerificationRun | None:
    return await AuditVerificationRun.all().order_by("-id").first()


async def last_finished() -> AuditVerificationRun | None:
    return await AuditVerificationRun.filter(status__in=[OK, BROKEN, FAILED]).order_by("-id").first()


def _result(row: AuditVerificationRun, result: Verification, now: datetime) -> None:
    row.status = OK if result.ok else BROKEN
    row.checked, row.first_seq, row.head_seq = result.checked, result.first_seq, result.head_seq
    row.finished_at = now
    if result.broken is not None:
        row.broken_event_id, row.broken_seq, row.reason = result.broken.event_id, result.broken.seq, result.broken.reason


async def request(rt: Runtime, actor_id: str) -> tuple[AuditVerificationRun, bool]:
    """Admins only. The verification in progress, or a new one queued now (True)."""
    if not await rt.authz.is_admin(actor_id):
        raise NotAllowed("only admins may start a verification of the audit chain")
    now = rt.clock.now()
    current = await AuditVerificationRun.filter(status__in=[QUEUED, RUNNING]).order_by("-id").first()
    if current is not None:
        if now - (current.started_at or current.requested_at) < STALE_AFTER:
            return current, False
        current.status, current.finished_at, current.reason = FAILED, now, "abandoned: no result after 30 minutes"
        await current.save()
    async with in_transaction():
        row = await AuditVerificationRun.create(trigger=MANUAL, requested_by=actor_id, status=QUEUED, requested_at=now)
        await audit.record(now, actor_id, "audit.verification_requested", subject_type="audit", subject_id=row.id)
    try:
        await rt.redis.enqueue_job(JOB, row.id, _job_id=job_id(row.id))
    except Exception as exc:  # noqa: BLE001 - Redis down: say so
        row.status, row.finished_at, row.reason = FAILED, now, f"could not queue the verification: {type(exc).__name__}"
        await row.save()
        raise WrongState(f"the job queue is unavailable: {type(exc).__name__}", current="UNAVAILABLE") from None
    return row, True


async def run(rt: Runtime, run_id: int) -> dict[str, Any]:
    """The `audit.verify` job. May run twice (arq): a finished run is left alone."""
    row = await AuditVerificationRun.get_or_none(id=run_id)
    if row is None or row.status not in (QUEUED, RUNNING):
        return {"skipped": "finished"}
    row.status, row.started_at = RUNNING, rt.clock.now()
    await row.save()
    try:
        result = await verify_chain()
    except Exception as exc:
        log.exception("audit verification %s failed", run_id)
        row.status, row.finished_at, row.reason = FAILED, rt.clock.now(), f"{type(exc).__name__}: {exc}"[:2000]
        await row.save()
        return {"failed": type(exc).__name__}
    _result(row, result, rt.clock.now())
    await row.save()
    return {"status": row.status, "checked": row.checked}


async def verify_and_record(clock: Clock) -> Verification:
    """`jit audit verify`: verifies in this process and records the result."""
    started = clock.now()
    result = await verify_chain()
    row = AuditVerificationRun(trigger=CLI, status=RUNNING, requested_at=started, started_at=started)
    _result(row, result, clock.now())
    await row.save()
    return result
