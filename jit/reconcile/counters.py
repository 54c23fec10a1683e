"""Reliability counters kept in the database, so they survive restarts and Redis flushes."""

from __future__ import annotations

from datetime import datetime

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F

from jit.reconcile.models import ReliabilityCounter

# Names, so the schema and the docs can list them.
RECONCILE_RUNS = "reconcile.runs"
REENQUEUED_GRANTS = "reconcile.reenqueued_grants"
REENQUEUED_REVOKES = "reconcile.reenqueued_revokes"
REENQUEUED_UNWINDS = "reconcile.reenqueued_unwinds"
REVOKE_FAILURES = "revoke.failures"
REVOKE_ALERTS = "revoke.alerts"
DRIFT_DETECTED = "drift.detected"
DRIFT_REMOVED = "drift.removed"
SESSIONS_KILLED = "session_kill.applied"


async def bump(at: datetime, name: str, by: int = 1) -> None:
    if by == 0:
        return
    if await ReliabilityCounter.filter(name=name).update(value=F("value") + by, updated_at=at):
        return
    try:
        await ReliabilityCounter.create(name=name, value=by, updated_at=at)
    except IntegrityError:
        await ReliabilityCounter.filter(name=name).update(value=F("value") + by, updated_at=at)


async def snapshot() -> dict[str, int]:
    return {c.name: c.value for c in await ReliabilityCounter.all()}
