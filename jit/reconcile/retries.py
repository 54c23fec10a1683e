"""Revokes that did not finish: backoff, and an alert after N attempts.

Nothing here ever gives up: a failing revoke is retried for as long as the ticket is
REVOKING, with the delay capped at `revoke_retry_max_seconds`. What changes after
`revoke_alert_attempts` is that somebody is told (audit event, counter, GraphQL).
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import cast

from jit.audit.service import record
from jit.backoff import exponential
from jit.reconcile import counters
from jit.reconcile.models import RevokeRetry
from jit.runtime import Runtime
from jit.tickets.models import StackEntry, UnwindStatus


def backoff_seconds(rt: Runtime, attempts: int) -> float:
    """Exponential with full jitter in its upper half, so retries of many tickets spread out."""
    ceiling = exponential(rt.settings.revoke_retry_base_seconds, attempts, rt.settings.revoke_retry_max_seconds)
    return ceiling / 2 + random.uniform(0, ceiling / 2)


async def _reason(ticket_id: str, fallback: str) -> str:
    # Tortoise types a flat values_list as tuples; these are single (nullable) reasons.
    reasons = cast(list[str | None], await StackEntry.filter(
        ticket_id=ticket_id, unwind_status=UnwindStatus.FAILED).values_list("unwind_reason", flat=True))
    return "; ".join(r for r in reasons if r) or fallback


async def note_failure(rt: Runtime, ticket_id: str, error: str = "") -> float:
    """Records one failed revoke attempt; returns how long to wait before the next."""
    now = rt.clock.now()
    reason = await _reason(ticket_id, error or "the revoke did not finish")
    row = await RevokeRetry.get_or_none(ticket_id=ticket_id)
    if row is None:
        row = await RevokeRetry.create(ticket_id=ticket_id, attempts=0, next_attempt_at=now, updated_at=now)
    row.attempts += 1
    delay = backoff_seconds(rt, row.attempts)
    row.last_error = reason
    row.next_attempt_at = now + timedelta(seconds=delay)
    row.updated_at = now
    await row.save()
    await counters.bump(now, counters.REVOKE_FAILURES)
    await record(now, None, "revoke.retry_scheduled", ticket_id=ticket_id,
                 detail={"attempt": row.attempts, "reason": reason, "next_attempt_at": row.next_attempt_at.isoformat()})
    if row.attempts >= rt.settings.revoke_alert_attempts and row.alerted_at is None:
        await raise_alert(rt, row)
    return delay


async def raise_alert(rt: Runtime, row: RevokeRetry) -> None:
    now = rt.clock.now()
    taken = await RevokeRetry.filter(ticket_id=row.ticket_id, alerted_at=None).update(alerted_at=now)
    if not taken:
        return
    row.alerted_at = now
    await counters.bump(now, counters.REVOKE_ALERTS)
    await record(now, None, "revoke.alert", ticket_id=row.ticket_id,
                 detail={"attempts": row.attempts, "reason": row.last_error,
                         "message": "access may still be in place; JIT keeps retrying"})


async def cleared(rt: Runtime, ticket_id: str) -> None:
    """The revoke finished; forget its failures (the audit log keeps them)."""
    await RevokeRetry.filter(ticket_id=ticket_id).delete()


async def alerts() -> list[RevokeRetry]:
    return await RevokeRetry.filter(alerted_at__not_isnull=True).order_by("alerted_at")


async def not_before(rt: Runtime) -> dict[str, object]:
    """Tickets whose next revoke attempt is still in the future (so the reconciler waits)."""
    return {str(r.ticket_id): r.next_attempt_at for r in await RevokeRetry.filter(next_attempt_at__gt=rt.clock.now())}
