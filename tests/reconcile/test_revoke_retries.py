"""A revoke that fails is retried with backoff, forever, and raises an alert after N attempts."""

from __future__ import annotations

import asyncio

import pytest
from arq import Retry

from jit.audit.models import AuditEvent
from jit.jobs import worker
from jit.reconcile import counters, retries
from jit.reconcile.models import RevokeRetry
from jit.reconcile.service import reconcile
from jit.tickets.models import StackEntry, Ticket, UnwindStatus
from jit.tickets.models import TicketStatus as S
from tests.reconcile.conftest import active_ticket, job_ctx


async def test_failed_delete_is_retried_then_alerts_then_finishes(faulty, proxy):
    rt = faulty.rt
    rt.settings = rt.settings.model_copy(update={"revoke_alert_attempts": 3, "revoke_retry_base_seconds": 2.0})
    ticket = await active_ticket(faulty)
    rt.clock.advance(seconds=61)
    proxy.faults.fail_deletes = {faulty.account("sandbox-alice")}

    delays = []
    for attempt in range(1, 5):
        with pytest.raises(Retry) as raised:
            await worker.revoke_ticket(job_ctx(rt, attempt), str(ticket.id))
        delays.append(raised.value.defer_score)
        row = await RevokeRetry.get(ticket_id=ticket.id)
        assert row.attempts == attempt
        assert "Internal failure deleting" in row.last_error
        assert (row.alerted_at is not None) == (attempt >= 3)
    entry = await StackEntry.get(ticket_id=ticket.id)
    assert entry.unwind_status == UnwindStatus.FAILED and "Internal failure" in entry.unwind_reason
    assert await AuditEvent.filter(action="revoke.alert", ticket_id=ticket.id).count() == 1
    snapshot = await counters.snapshot()
    assert snapshot[counters.REVOKE_ALERTS] == 1 and snapshot[counters.REVOKE_FAILURES] == 4
    assert [a.ticket_id for a in await retries.alerts()] == [ticket.id]
    # Backoff grows (jitter stays within the upper half of each ceiling).
    assert delays[0] <= 2000 < delays[3]

    # Still REVOKING, still access in AWS: the alert is the truth.
    assert (await Ticket.get(id=ticket.id)).status == S.REVOKING
    assert len(faulty.assignments("sandbox-alice", "ReadOnlyAccess", "alice")) == 1

    proxy.faults.fail_deletes = set()
    assert await worker.revoke_ticket(job_ctx(rt, 5), str(ticket.id)) == "revoked"
    assert faulty.assignments("sandbox-alice", "ReadOnlyAccess", "alice") == []
    assert await RevokeRetry.filter(ticket_id=ticket.id).count() == 0


async def test_reconciler_waits_for_the_backoff_then_retries(faulty, proxy):
    rt = faulty.rt
    ticket = await active_ticket(faulty)
    rt.clock.advance(seconds=61)
    proxy.faults.fail_deletes = {faulty.account("sandbox-alice")}
    with pytest.raises(Retry):
        await worker.revoke_ticket(job_ctx(rt), str(ticket.id))
    await rt.redis.flushdb()  # the deferred retry is lost
    assert (await reconcile(rt)).revokes == []  # not before the backoff
    rt.clock.advance(seconds=rt.settings.revoke_retry_max_seconds)
    assert (await reconcile(rt)).revokes == [str(ticket.id)]


async def test_revoke_that_exceeds_the_job_timeout_is_resumed(faulty, proxy):
    """arq cancels a job at its timeout and does not retry it; the revoke is picked up
    again by the reconciler and resumes polling the deletion AWS already accepted."""
    rt = faulty.rt
    ticket = await active_ticket(faulty)
    rt.clock.advance(seconds=61)
    await rt.redis.flushdb()
    proxy.faults.in_progress_polls = 100_000  # AWS keeps saying IN_PROGRESS
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(worker.revoke_ticket(job_ctx(rt), str(ticket.id)), 2.0)
    entry = await StackEntry.get(ticket_id=ticket.id)
    assert entry.unwind_status == UnwindStatus.IN_PROGRESS and entry.unwind_request_id
    proxy.faults.in_progress_polls = 0
    assert (await reconcile(rt)).revokes == [str(ticket.id)]
    assert await worker.revoke_ticket(job_ctx(rt), str(ticket.id)) == "revoked"
    assert (await StackEntry.get(ticket_id=ticket.id)).unwind_status == UnwindStatus.DELETED
    assert faulty.assignments("sandbox-alice", "ReadOnlyAccess", "alice") == []
