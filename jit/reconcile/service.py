"""The reconciler: compares what should be (the database) with what is (the arq queue)
and mends the difference. Safe to run twice at once: it only enqueues jobs, with ids
that are the same for every run in the same interval, and the jobs themselves take a
lease on their ticket and re-read the stack before doing anything.

The bound it keeps (docs/reliability.md): once a ticket's end time has passed, its
revoke is running or queued within one reconcile interval (plus a lapsed lease, if the
worker holding it died), whatever Redis lost.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from tortoise.expressions import Q

from jit.jobs.queue import queued_tickets
from jit.reconcile import counters, retries
from jit.reconcile.lease import live_leases
from jit.reconcile.models import RevokeRetry
from jit.runtime import Runtime
from jit.tickets.models import StackEntry, Ticket, TicketStatus, UnwindStatus
from jit.tickets.plan import revoke_lead

S = TicketStatus
log = logging.getLogger(__name__)

GRANT, REVOKE, UNWIND = "tickets.grant", "tickets.revoke", "tickets.unwind"


@dataclass
class ReconcileReport:
    grants: list[str] = field(default_factory=list)
    revokes: list[str] = field(default_factory=list)
    unwinds: list[str] = field(default_factory=list)
    alerts: int = 0


def reconcile_job_id(function: str, ticket_id: str, bucket: int) -> str:
    return f"{function}:{ticket_id}:reconcile:{bucket}"


async def reconcile(rt: Runtime) -> ReconcileReport:
    now = rt.clock.now()
    bucket = int(now.timestamp()) // max(rt.settings.reconcile_interval, 1)
    busy = await live_leases(rt)
    report = ReconcileReport()

    due_grants = await Ticket.filter(
        Q(status=S.SCHEDULED, start_at__lte=now) | Q(status=S.GRANTING)
    ).values_list("id", flat=True)
    due_revokes = await Ticket.filter(
        Q(status=S.ACTIVE, end_at__lte=now + timedelta(seconds=revoke_lead(rt)))
        | Q(status=S.ACTIVE, revoke_at__lte=now) | Q(status=S.REVOKING)
    ).values_list("id", flat=True)
    # A ticket that failed while granting unwinds what it made; if that unwind was cut
    # short, the access it left is finished off here.
    half_unwound = await StackEntry.filter(
        Q(ticket__status=S.FAILED)
        & (Q(unwind_status__isnull=True) | Q(unwind_status__in=[UnwindStatus.INTENDED, UnwindStatus.IN_PROGRESS, UnwindStatus.FAILED]))
    ).values_list("ticket_id", flat=True)
    waiting = await retries.not_before(rt)

    plan = [
        (GRANT, [str(t) for t in due_grants], report.grants),
        (REVOKE, [str(t) for t in due_revokes if str(t) not in waiting], report.revokes),
        (UNWIND, sorted({str(t) for t in half_unwound} - {str(t) for t in waiting}), report.unwinds),
    ]
    for function, ticket_ids, enqueued in plan:
        if not ticket_ids:
            continue
        queued = await queued_tickets(rt.redis, function + ":")
        for ticket_id in ticket_ids:
            if ticket_id in busy or ticket_id in queued:
                continue
            job = await rt.redis.enqueue_job(function, ticket_id, _job_id=reconcile_job_id(function, ticket_id, bucket))
            if job is not None:
                enqueued.append(ticket_id)

    for row in await RevokeRetry.filter(
        alerted_at=None, attempts__gte=rt.settings.revoke_alert_attempts
    ):
        await retries.raise_alert(rt, row)
        report.alerts += 1

    await counters.bump(now, counters.RECONCILE_RUNS)
    await counters.bump(now, counters.REENQUEUED_GRANTS, len(report.grants))
    await counters.bump(now, counters.REENQUEUED_REVOKES, len(report.revokes))
    await counters.bump(now, counters.REENQUEUED_UNWINDS, len(report.unwinds))
    if report.grants or report.revokes or report.unwinds:
        log.warning("reconciler re-enqueued grants=%s revokes=%s unwinds=%s",
                    report.grants, report.revokes, report.unwinds)
    return report
