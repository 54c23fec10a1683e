"""Revokes planned by deadline against the AWS budget.

A revoke is due when access must be gone: at the ticket's end time. AWS takes a second or
more to settle a delete, and the deployment may start only so many deletes a second
(jit.aws.budget), so the worker starts each revoke early enough that its delete settles by
the end time: `lead` before it when nothing else competes, and earlier still when a burst
of end times needs more deletes than the budget allows before them. It never ends access
late to avoid ending it early; how early each revoke started is recorded on the ticket
(`revoke_started_early`) and in its audit event.

The plan is a backward pass in earliest-deadline order: the last ticket to end starts at
its end less the lead, and each earlier one no later than one revoke's share of the budget
before the next. Only ACTIVE tickets ending within the horizon are planned; each pass plans
afresh, earlier or later, and an extension sets a ticket's plan afresh.

The budget's rate is what the deployment may spend, not what it achieves: grants hold
write slots too, and deletes settle at AWS's pace. So while revokes queue for the budget
(more deletes pending than write slots, at every look for `OBSERVE_SECONDS`), the plan
uses the rate deletes actually settled at instead, when that is lower, and the revokes
still to come start earlier (docs/performance.md, 7).
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.expressions import Q

from jit.runtime import Effects, Runtime
from jit.tickets.models import EntryOrigin, StackEntry, Ticket, TicketStatus, UnwindStatus

S = TicketStatus
log = logging.getLogger(__name__)
LOCK_KEY = "jit:lock:plan-revokes"
# The share of the budget a burst is planned to use. Deletes arrive in clumps (end times
# fall on whole seconds) and settle at random: a plan that fills the slots to 95% left
# revokes queueing for a slot for seconds (bench_quota, 300 ending at 5/s: p99 3.9 s
# late); at 85% none was late but the first settled 12.4 s early; 90% sits between.
PLAN_MARGIN = 0.9
# How long revokes must have queued for the budget before the rate they achieved replaces
# the budget's in the plan, and the window that rate is measured over.
OBSERVE_SECONDS = 20.0
SAMPLES_KEY = "jit:plan:pending-deletes"
# However slowly deletes settled, the plan assumes at least this share of the budget's
# rate: an AWS outage must not start every revoke of the horizon at once.
OBSERVED_FLOOR = 0.25


def revoke_lead(rt: Runtime) -> float:
    """Seconds before its end time a revoke starts when nothing competes for the budget:
    about the longest AWS takes to settle a delete (as this process has seen it), plus a
    second for the job to start and the call to be made."""
    return max(rt.settings.revoke_lead_seconds, rt.settle_times().delete.high + 1.0)


def revokes_per_second(rt: Runtime) -> float:
    """What the budget allows: each revoke is a delete and one or two status polls, and
    holds an outstanding-write slot until a poll sees AWS settle it. How long a slot is
    held is measured (the last deletes' average; before the first deletes, that of the
    process's first creates, which look the way revokes do). With neither it is taken as
    the high settle time, the pessimistic end, so a first burst starts early rather than
    late and is planned later again as the measure comes in."""
    limits = rt.budget.limits
    times = rt.settle_times()
    measured = next((t for t in (times.delete, times.create) if t.held is not None and t.held_count >= 10), None)
    hold = measured.held + 0.1 if measured is not None and measured.held is not None else times.delete.high + 0.2
    return PLAN_MARGIN * min(limits.rate / 2.5, limits.max_outstanding / hold)


async def pending_deletes() -> int:
    """Deletes that revokes under way still have to make or see settle."""
    return await StackEntry.filter(
        Q(ticket__status=S.REVOKING) & Q(origin=EntryOrigin.CREATED)
        & (Q(unwind_status__isnull=True) | Q(unwind_status__in=[UnwindStatus.INTENDED, UnwindStatus.IN_PROGRESS]))
    ).count()


async def observed_revokes_per_second(rt: Runtime) -> float | None:
    """Deletes settled per second over the last OBSERVE_SECONDS, when revokes queued for
    the budget throughout: more deletes pending than write slots at every look (each
    planning pass looks once, every two seconds). None when they did not, or when Redis,
    which keeps the looks, cannot say."""
    now = rt.clock.now()
    pending = await pending_deletes()
    at = now.timestamp()
    try:
        async with rt.redis.pipeline(transaction=False) as pipe:
            pipe.lpush(SAMPLES_KEY, f"{at:.3f}:{pending}")
            pipe.ltrim(SAMPLES_KEY, 0, 63)
            pipe.expire(SAMPLES_KEY, int(OBSERVE_SECONDS * 3))
            pipe.lrange(SAMPLES_KEY, 0, -1)
            *_, raw = await pipe.execute()
    except Exception:  # noqa: BLE001 - Redis down: plan with the budget's rate
        log.debug("revoke plan: looks at the queue not kept", exc_info=True)
        return None
    looks = []
    for item in raw:
        text = item.decode() if isinstance(item, bytes) else str(item)
        when, _, count = text.partition(":")
        if at - float(when) <= OBSERVE_SECONDS:
            looks.append((float(when), int(count)))
    if not looks or at - min(w for w, _ in looks) < OBSERVE_SECONDS * 0.75:
        return None
    if any(count < rt.budget.limits.max_outstanding for _, count in looks):
        return None
    settled = await StackEntry.filter(
        unwind_status=UnwindStatus.DELETED, updated_at__gte=now - timedelta(seconds=OBSERVE_SECONDS),
    ).count()
    return settled / OBSERVE_SECONDS


async def planning_rate(rt: Runtime) -> float:
    """Revokes a second to plan with: the budget's, or what revokes achieved while they
    queued for it, when that is lower (never below OBSERVED_FLOOR of the budget's)."""
    budget = revokes_per_second(rt)
    observed = await observed_revokes_per_second(rt)
    if observed is None or observed >= budget:
        return budget
    rate = max(observed, OBSERVED_FLOOR * budget)
    log.info("revoke plan: revokes queue for the budget and settle at %.2f/s; planning at %.2f/s, not %.2f/s",
             observed, rate, budget)
    return rate


def grant_starts(rt: Runtime, ticket: Ticket) -> datetime:
    """When a scheduled ticket's grant starts: about the time AWS takes to settle a create
    before its start time, so access arrives on time rather than a few seconds late. (The
    grant job is queued for the start time less the configured first estimate; a worker
    that has learned AWS is slower starts it that much earlier when it next looks.)"""
    return ticket.start_at - timedelta(seconds=rt.settle_times().create.median)


def revoke_job_id(ticket_id: str, at: datetime) -> str:
    return f"tickets.revoke:{ticket_id}:at:{int(at.timestamp())}"


def revoke_starts(rt: Runtime, ticket: Ticket) -> datetime:
    """When the ticket's revoke starts: where a burst moved it (`revoke_at`), else its end
    time less the lead."""
    unplanned = ticket.end_at - timedelta(seconds=revoke_lead(rt))
    return min(ticket.revoke_at, unplanned) if ticket.revoke_at is not None else unplanned


def schedule_planned_revoke(rt: Runtime, effects: Effects, ticket: Ticket) -> None:
    """The revoke job for an ACTIVE ticket, at the moment its revoke starts."""
    at = revoke_starts(rt, ticket)
    effects.enqueue("tickets.revoke", str(ticket.id), job_id=revoke_job_id(str(ticket.id), at), defer_until=at)


@dataclass(frozen=True)
class Planned:
    ticket_id: str
    end_at: datetime
    start_at: datetime


def backward_plan(ends: list[tuple[str, datetime, int]], lead: float, per_second: float) -> list[Planned]:
    """Latest start times, earliest deadline first, such that each revoke (weighted by its
    deletes) has its share of the budget before the next and settles by its end time."""
    planned: list[Planned] = []
    next_start: datetime | None = None
    for ticket_id, end_at, deletes in sorted(ends, key=lambda e: e[1], reverse=True):
        start = end_at - timedelta(seconds=lead)
        if next_start is not None:
            # Its own deletes take their share of the budget before the next one starts.
            start = min(start, next_start - timedelta(seconds=max(deletes, 1) / per_second))
        planned.append(Planned(ticket_id, end_at, start))
        next_start = start
    planned.reverse()
    return planned


async def plan_revokes(rt: Runtime) -> int:
    """Plans the revokes of the coming end times against the budget: earlier where a burst
    would make them late, later again (never past the lead) where a plan made with less
    knowledge of AWS started them earlier than needed. Returns how many moved."""
    now = rt.clock.now()
    horizon = now + timedelta(seconds=rt.settings.revoke_plan_horizon_seconds)
    rows = await Ticket.filter(status=S.ACTIVE, end_at__lte=horizon).values_list("id", "end_at", "revoke_at")
    if not rows:
        return 0
    deletes = Counter(
        str(t) for t in await StackEntry.filter(
            ticket_id__in=[r[0] for r in rows], origin=EntryOrigin.CREATED, unwind_status=None,
        ).values_list("ticket_id", flat=True)
    )
    current = {str(r[0]): r[2] for r in rows}
    plan = backward_plan([(str(r[0]), r[1], deletes[str(r[0])]) for r in rows], revoke_lead(rt),
                         await planning_rate(rt))
    lead = timedelta(seconds=revoke_lead(rt))
    moved = 0
    effects = Effects()
    half_second = timedelta(seconds=0.5)
    for item in plan:
        was = current[item.ticket_id]
        unplanned = item.end_at - lead
        if was is not None and was <= now:
            continue  # due already: its job is starting it
        earliest = max(item.start_at, now)
        # None: the lead alone is enough.
        start: datetime | None = None if earliest >= unplanned - half_second else earliest
        if (start or unplanned) - half_second < (was or unplanned) < (start or unplanned) + half_second:
            continue
        # Only while it is still ACTIVE with the plan read above: an extension or a revoke
        # that started meanwhile wins.
        same_plan = {"revoke_at__isnull": True} if was is None else {"revoke_at": was}
        changed = await Ticket.filter(
            id=item.ticket_id, status=S.ACTIVE, end_at=item.end_at, **same_plan
        ).update(revoke_at=start)
        if changed:
            moved += 1
            # A job already queued for an earlier plan finds the ticket not yet due and
            # comes back at the new time; a later plan's job would come too late.
            if start is not None and (was is None or start < was):
                effects.enqueue("tickets.revoke", item.ticket_id, job_id=revoke_job_id(item.ticket_id, start),
                                defer_until=start)
    await rt.flush(effects)
    if moved:
        log.info("revoke plan: %d revokes moved earlier for a burst of end times", moved)
    return moved
