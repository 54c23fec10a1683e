"""The reconciler re-creates due work the queue lost, and never doubles it."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from arq import Retry

from jit.jobs import worker
from jit.jobs.queue import queued_tickets
from jit.reconcile import counters
from jit.reconcile.lease import acquire, ticket_key
from jit.reconcile.models import Lease
from jit.reconcile.service import reconcile
from jit.tickets.models import Ticket
from jit.tickets.models import TicketStatus as S
from tests.reconcile.conftest import active_ticket, job_ctx


async def test_flushed_redis_due_revoke_is_reenqueued_and_runs(demo):
    ticket = await active_ticket(demo)
    demo.rt.clock.advance(seconds=61)
    await demo.rt.redis.flushdb()
    report = await reconcile(demo.rt)
    assert report.revokes == [str(ticket.id)]
    assert str(ticket.id) in await queued_tickets(demo.rt.redis, "tickets.revoke:")
    assert await worker.revoke_ticket(job_ctx(demo.rt), str(ticket.id)) == "revoked"
    assert demo.assignments("sandbox-alice", "ReadOnlyAccess", "alice") == []
    assert (await counters.snapshot())[counters.REENQUEUED_REVOKES] == 1


async def test_flushed_redis_due_grant_is_reenqueued(demo):
    ticket = await demo.request("alice", [("sandbox-alice", "ReadOnlyAccess")], duration=60, justification="x")
    assert ticket.status == S.SCHEDULED
    await demo.rt.redis.flushdb()
    assert (await reconcile(demo.rt)).grants == [str(ticket.id)]
    assert await worker.grant_ticket(job_ctx(demo.rt), str(ticket.id)) == "granted"
    assert len(demo.assignments("sandbox-alice", "ReadOnlyAccess", "alice")) == 1


async def test_nothing_is_enqueued_while_a_job_is_queued_or_not_yet_due(demo):
    ticket = await active_ticket(demo)
    # Granting queued the revoke for the end time; before it, nothing is due.
    assert (await reconcile(demo.rt)).revokes == []
    demo.rt.clock.advance(seconds=61)
    assert str(ticket.id) in await queued_tickets(demo.rt.redis, "tickets.revoke:")
    assert (await reconcile(demo.rt)).revokes == []


async def test_two_reconcilers_at_once_enqueue_each_job_once(demo):
    tickets = [await active_ticket(demo, user=u, account=a) for u, a in
               [("alice", "sandbox-alice"), ("erin", "sandbox-erin"), ("alice", "sandbox-shared")]]
    demo.rt.clock.advance(seconds=61)
    await demo.rt.redis.flushdb()
    first, second = await asyncio.gather(reconcile(demo.rt), reconcile(demo.rt))
    assert sorted(first.revokes + second.revokes) == sorted(str(t.id) for t in tickets)
    assert await demo.rt.redis.zcard("arq:queue") == 3


async def test_expired_deferred_job_is_replaced(demo):
    """arq drops a deferred job's record some time after it fell due (a day by default):
    workers that were down longer than that would never run it."""
    ticket = await active_ticket(demo)
    await demo.rt.redis.flushdb()
    await demo.rt.redis.enqueue_job("tickets.revoke", str(ticket.id), _job_id=f"tickets.revoke:{ticket.id}:end:1",
                                    _expires=timedelta(milliseconds=300))
    demo.rt.clock.advance(seconds=61)
    assert str(ticket.id) in await queued_tickets(demo.rt.redis, "tickets.revoke:")
    await asyncio.sleep(0.4)
    assert await queued_tickets(demo.rt.redis, "tickets.revoke:") == set()
    assert (await reconcile(demo.rt)).revokes == [str(ticket.id)]


async def test_live_lease_means_someone_is_working_and_a_lapsed_one_does_not(demo):
    ticket = await active_ticket(demo)
    demo.rt.clock.advance(seconds=61)
    await demo.rt.redis.flushdb()
    assert await acquire(demo.rt, ticket_key(str(ticket.id)), "worker-that-will-die")
    assert (await reconcile(demo.rt)).revokes == []
    demo.rt.clock.advance(seconds=demo.rt.settings.job_lease_seconds + 1)
    assert (await reconcile(demo.rt)).revokes == [str(ticket.id)]
    # The replacement job takes the lapsed lease over and finishes the revoke.
    assert await worker.revoke_ticket(job_ctx(demo.rt), str(ticket.id)) == "revoked"
    assert await Lease.all().count() == 0


async def test_job_that_finds_the_ticket_leased_retries_soon(demo):
    ticket = await active_ticket(demo)
    demo.rt.clock.advance(seconds=61)
    assert await acquire(demo.rt, ticket_key(str(ticket.id)), "another-worker")
    with pytest.raises(Retry):
        await worker.revoke_ticket(job_ctx(demo.rt), str(ticket.id))
    assert len(demo.assignments("sandbox-alice", "ReadOnlyAccess", "alice")) == 1


async def test_grant_job_run_twice_at_once_makes_one_assignment(demo):
    ticket = await demo.request("alice", [("sandbox-alice", "ReadOnlyAccess")], duration=60, justification="x")
    results = await asyncio.gather(
        worker.grant_ticket(job_ctx(demo.rt), str(ticket.id)), worker.grant_ticket(job_ctx(demo.rt), str(ticket.id)),
        return_exceptions=True,
    )
    assert sorted(type(r).__name__ for r in results) == ["Retry", "str"], results
    assert len(demo.assignments("sandbox-alice", "ReadOnlyAccess", "alice")) == 1
    assert (await Ticket.get(id=ticket.id)).status == S.ACTIVE


async def test_revoke_job_run_twice_in_a_row_is_harmless(demo):
    ticket = await active_ticket(demo)
    demo.rt.clock.advance(seconds=61)
    assert await worker.revoke_ticket(job_ctx(demo.rt), str(ticket.id)) == "revoked"
    assert await worker.revoke_ticket(job_ctx(demo.rt), str(ticket.id)) == "done"
    assert demo.assignments("sandbox-alice", "ReadOnlyAccess", "alice") == []


async def test_stuck_granting_ticket_is_finished(demo):
    """A worker died after moving the ticket to GRANTING: the grant resumes from the stack."""
    ticket = await demo.request("alice", [("sandbox-alice", "ReadOnlyAccess")], duration=60, justification="x")
    await Ticket.filter(id=ticket.id).update(status=S.GRANTING, version=ticket.version + 1)
    await demo.rt.redis.flushdb()
    assert (await reconcile(demo.rt)).grants == [str(ticket.id)]
    assert await worker.grant_ticket(job_ctx(demo.rt), str(ticket.id)) == "granted"
    assert len(demo.assignments("sandbox-alice", "ReadOnlyAccess", "alice")) == 1


async def test_two_tickets_for_one_assignment_granted_and_revoked_at_once(demo):
    """Found by the fault suite: two overlapping tickets for the same principal, account and
    permission set both found the assignment missing and both created it."""
    first = await demo.request("alice", [("sandbox-alice", "ReadOnlyAccess")], duration=60, justification="x")
    second = await demo.request("alice", [("sandbox-alice", "ReadOnlyAccess")], duration=60, justification="x")
    await asyncio.gather(worker.grant_ticket(job_ctx(demo.rt), str(first.id)),
                         worker.grant_ticket(job_ctx(demo.rt), str(second.id)))
    assert len(demo.assignments("sandbox-alice", "ReadOnlyAccess", "alice")) == 1
    demo.rt.clock.advance(seconds=61)
    await asyncio.gather(worker.revoke_ticket(job_ctx(demo.rt), str(first.id)),
                         worker.revoke_ticket(job_ctx(demo.rt), str(second.id)))
    assert demo.assignments("sandbox-alice", "ReadOnlyAccess", "alice") == []
    assert {t.status for t in await Ticket.filter(id__in=[first.id, second.id])} == {S.ENDED}
