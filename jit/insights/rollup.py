"""The insights rollups: what each closed UTC day adds to the dashboard of everyone, written
by the worker's `insights.roll_up` cron and read by jit.insights.queries.

A day's numbers are computed by the same window aggregates (`window`, `active_on`) that the
queries use for the partial days at either end of a range, so a range read from rollups adds
up to what the live queries over the tickets table give (tests/insights hold them to it).

Closed days are not quite immutable: a ticket requested on Monday may be approved, made
break-glass or granted late on Wednesday, and a revoke that starts late records its timing
after its end's day has closed. Every change of a ticket moves its `updated_at` (the state
machine, extensions) and every decision stamps its step's `completed_at`; the cron recomputes
the closed days that tickets changed since its last run touched, as well as any day with no
row (a new deployment, a worker that was down: the backfill). A day is rewritten whole in one
transaction and the watermark moves only after every day is written, so a run that crashes
or runs twice leaves correct rows behind."""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise import connections
from tortoise.expressions import F, Q
from tortoise.functions import Count, Max, Min, Sum
from tortoise.transactions import in_transaction

from jit.approvals.models import StepStatus, TicketStep
from jit.clock import Clock
from jit.insights.live import GRANTED, MAX_DAYS, _aware
from jit.insights.models import (
    InsightsApprovalBucket,
    InsightsDay,
    InsightsRollup,
    InsightsTargetDay,
    InsightsTargetPage,
)
from jit.tickets.models import Target, Ticket

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
# Tickets and steps committed this long after the clock read that stamped them are still
# seen by the next run (a transaction's own `now` is taken before it commits).
MARGIN = timedelta(minutes=10)
ACCOUNT, PERMISSION_SET = "account", "permission_set"
PAGE_DAYS = 128
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def postgres() -> bool:
    return str(connections.get("default").capabilities.dialect) == "postgres"


def epoch_day(day: datetime) -> int:
    return (midnight(day) - EPOCH).days


def midnight(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def hour_of(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def bucket(seconds: float) -> int:
    """Fixed log-spaced buckets, eight to each doubling (about 9% wide); 0 holds under a
    second. Non-decreasing in `seconds`, which is all the exact percentiles need."""
    return 0 if seconds < 1 else 1 + int(math.log2(seconds) * 8)


@dataclass
class Window:
    """What the tickets of a time window add to the dashboard, before any percentile or
    top ten is taken: every part adds to another window's."""

    approval_seconds: dict[str, list[float]] = field(default_factory=dict)  # per rule
    accounts: dict[str, int] = field(default_factory=dict)
    permission_sets: dict[str, int] = field(default_factory=dict)
    break_glass_used: int = 0
    revokes: int = 0
    revokes_late: int = 0
    revoke_min_early: float | None = None
    revoke_sum_early: float = 0.0


def _between(column: str, since: datetime, until: datetime, closed: bool) -> Q:
    bounds: dict[str, Any] = {f"{column}__gte": since, f"{column}__lte" if closed else f"{column}__lt": until}
    return Q(**bounds)


async def _approval_seconds(since: datetime, until: datetime, closed: bool) -> dict[str, list[float]]:
    if postgres():
        sql = f"""
            SELECT st.rule_name, EXTRACT(EPOCH FROM max(st.completed_at) - t.created_at)::float8 AS seconds
            FROM ticket_step st JOIN ticket t ON t.id = st.ticket_id
            WHERE t.created_at >= $1 AND t.created_at {'<=' if closed else '<'} $2
            GROUP BY st.ticket_id, st.rule_name, t.created_at
            HAVING bool_and(st.status = 'APPROVED') AND max(st.completed_at) IS NOT NULL"""
        out: dict[str, list[float]] = {}
        for r in await connections.get("default").execute_query_dict(sql, [since, until]):
            out.setdefault(r["rule_name"], []).append(float(r["seconds"]))
        return out
    out = {}
    created = _between("ticket__created_at", since, until, closed)
    rows = await (TicketStep.filter(created)
                  .annotate(steps=Count("id"), last=Max("completed_at"),
                            approved=Count("id", _filter=Q(status=StepStatus.APPROVED)))
                  .group_by("ticket_id", "rule_name")
                  .values("ticket_id", "rule_name", "steps", "approved", "last"))
    done = [r for r in rows if r["steps"] == r["approved"] and r["last"] is not None]
    if done:
        requested = dict(await Ticket.filter(id__in=list({r["ticket_id"] for r in done}))
                         .values_list("id", "created_at"))
        for r in done:
            seconds = (_aware(r["last"]) - _aware(requested[r["ticket_id"]])).total_seconds()
            out.setdefault(r["rule_name"], []).append(seconds)
    return out


async def _targets(since: datetime, until: datetime, closed: bool) -> tuple[dict[str, int], dict[str, int]]:
    accounts: dict[str, int] = {}
    sets: dict[str, int] = {}
    if postgres():
        sql = f"""
            SELECT tt.account_id, tt.permission_set_arn, count(*) AS n
            FROM ticket_target tt JOIN ticket t ON t.id = tt.ticket_id
            WHERE t.created_at >= $1 AND t.created_at {'<=' if closed else '<'} $2
            GROUP BY GROUPING SETS ((tt.account_id), (tt.permission_set_arn))"""
        for r in await connections.get("default").execute_query_dict(sql, [since, until]):
            if r["account_id"] is not None:
                accounts[r["account_id"]] = int(r["n"])
            else:
                sets[r["permission_set_arn"]] = int(r["n"])
        return accounts, sets
    created = _between("ticket__created_at", since, until, closed)
    for column, counts in (("account_id", accounts), ("permission_set_arn", sets)):
        for r in await Target.filter(created).annotate(n=Count("id")).group_by(column).values(column, "n"):
            counts[r[column]] = int(r["n"])
    return accounts, sets


async def window(since: datetime, until: datetime, *, closed: bool = False) -> Window:
    """Every ticket's part in [since, until) ([since, until] when `closed`): requested in it
    for approval times, targets and break-glass use; ending in it for revoke lateness."""
    seconds, (accounts, sets), glass, revoke = await asyncio.gather(
        _approval_seconds(since, until, closed), _targets(since, until, closed),
        Ticket.filter(_between("created_at", since, until, closed), break_glass=True).count(),
        _revoke(since, until, closed))
    out = Window(approval_seconds=seconds, accounts=accounts, permission_sets=sets, break_glass_used=glass)
    out.revokes, out.revokes_late, out.revoke_min_early, out.revoke_sum_early = revoke
    return out


async def _revoke(since: datetime, until: datetime, closed: bool) -> tuple[int, int, float | None, float]:
    revoke = await (Ticket.filter(_between("end_at", since, until, closed), revoke_started_early__isnull=False)
                    .annotate(n=Count("id"), late=Count("id", _filter=Q(revoke_started_early__lt=0)),
                              worst=Min("revoke_started_early"), total=Sum("revoke_started_early"))
                    .first().values("n", "late", "worst", "total"))
    revoke = revoke or {}
    worst = revoke.get("worst")
    return (int(revoke.get("n") or 0), int(revoke.get("late") or 0), float(worst) if worst is not None else None,
            float(revoke["total"]) if worst is not None else 0.0)


async def active_on(day: datetime, until: datetime | None = None) -> int:
    """Granted tickets whose window overlaps the day (only those started by `until`, for today)."""
    qs = Ticket.filter(status__in=GRANTED, start_at__lt=day + DAY, end_at__gt=day)
    if until is not None:
        qs = qs.filter(start_at__lte=until)
    return await qs.count()


@dataclass
class Period:
    day: datetime  # its start
    span: int  # hours: 24 (a day) or 1
    window: Window
    active_grants: int


async def compute(start: datetime, span: int, earliest: datetime | None = None) -> Period:
    """One period's numbers; a period that ends before the first ticket (`earliest`: the
    earliest request or window start, None when there is no ticket) is empty without a query."""
    if earliest is None or start + span * HOUR <= earliest:
        return Period(start, span, Window(), 0)
    if span == 24:
        part, active = await asyncio.gather(window(start, start + DAY), active_on(start))
        return Period(start, span, part, active)
    return Period(start, span, await window(start, start + span * HOUR), 0)


async def _write(d: Period, now: datetime) -> None:
    day, part, span = d.day, d.window, d.span
    buckets: dict[tuple[str, int], list[float]] = {}
    for rule, values in part.approval_seconds.items():
        for value in values:
            buckets.setdefault((rule, bucket(value)), []).append(value)
    await InsightsApprovalBucket.filter(day=day, span=span).delete()
    await InsightsTargetDay.filter(day=day, span=span).delete()
    await InsightsDay.filter(day=day, span=span).delete()
    counts: dict[str, dict[str, int]] = {}
    for (rule, b), values in buckets.items():
        counts.setdefault(rule, {})[str(b)] = len(values)
    await InsightsDay.create(day=day, span=span, approval_counts=counts, active_grants=d.active_grants,
                             break_glass_used=part.break_glass_used,
                             revokes=part.revokes, revokes_late=part.revokes_late,
                             revoke_min_early=part.revoke_min_early, revoke_sum_early=part.revoke_sum_early,
                             computed_at=now)
    await InsightsApprovalBucket.bulk_create([
        InsightsApprovalBucket(day=day, span=span, rule_name=rule, bucket=b, count=len(values), seconds=sorted(values))
        for (rule, b), values in sorted(buckets.items())])
    await InsightsTargetDay.bulk_create(
        [InsightsTargetDay(day=day, span=span, kind=ACCOUNT, target_id=k, count=n) for k, n in part.accounts.items()]
        + [InsightsTargetDay(day=day, span=span, kind=PERMISSION_SET, target_id=k, count=n)
           for k, n in part.permission_sets.items()])


# The running totals of a page, per target, from its day rows (PostgreSQL only).
PAGE_SQL = f"""
INSERT INTO insights_target_page (kind, target_id, page, cum)
SELECT kind, target_id, $1, jsonb_agg(running ORDER BY i)
FROM (SELECT t.kind, t.target_id, s.i,
             sum(coalesce(d.count, 0)) OVER (PARTITION BY t.kind, t.target_id ORDER BY s.i) AS running
      FROM (SELECT DISTINCT kind, target_id FROM insights_target_day WHERE span = 24 AND day >= $2 AND day < $3) t
      CROSS JOIN generate_series(0, {PAGE_DAYS - 1}) AS s(i)
      LEFT JOIN insights_target_day d
        ON d.span = 24 AND d.kind = t.kind AND d.target_id = t.target_id AND d.day = $2 + s.i * interval '1 day') x
GROUP BY kind, target_id"""


async def _earliest() -> datetime | None:
    row = await Ticket.all().annotate(created=Min("created_at"), start=Min("start_at")).first().values(
        "created", "start")
    values = [_aware(v) for v in (row or {}).values() if v is not None]
    return min(values) if values else None


async def bump() -> None:
    """Mark the rollups changed, in the transaction that changes them: the state row is
    rewritten as it is, which gives it the writing transaction's id (PostgreSQL's `xmin`).
    jit.insights.queries keys what it caches by that id (`version`)."""
    await InsightsRollup.filter(id=1).update(watermark=F("watermark"))


async def version() -> str | None:
    """The id of the last transaction that wrote the rollups (PostgreSQL), None without one:
    a new id on every write, never reused (not even after the tables are emptied)."""
    if not postgres():
        return None
    rows = await connections.get("default").execute_query_dict("SELECT xmin::text AS v FROM insights_rollup WHERE id = 1")
    return str(rows[0]["v"]) if rows else None


async def write_days(days: list[datetime], now: datetime) -> None:
    """Recompute closed days and replace their rows: one transaction per page of days, which
    also rewrites that page's running totals, so readers never see them disagree."""
    pages: dict[int, list[datetime]] = {}
    for day in days:
        pages.setdefault(epoch_day(day) // PAGE_DAYS, []).append(day)
    earliest = await _earliest()
    for page, in_page in sorted(pages.items()):
        computed = [await compute(day, 24, earliest) for day in sorted(in_page)]
        async with in_transaction() as conn:
            await bump()
            for d in computed:
                await _write(d, now)
            if postgres():
                start = EPOCH + timedelta(days=page * PAGE_DAYS)
                await InsightsTargetPage.filter(page=page).delete()
                await conn.execute_query(PAGE_SQL, [page, start, start + timedelta(days=PAGE_DAYS)])


async def write_hours(hours: list[datetime], now: datetime) -> None:
    """Recompute closed hours and replace their rows, one transaction per day of them."""
    per_day: dict[datetime, list[datetime]] = {}
    for hour in hours:
        per_day.setdefault(midnight(hour), []).append(hour)
    earliest = await _earliest()
    for _, in_day in sorted(per_day.items()):
        computed = [await compute(hour, 1, earliest) for hour in sorted(in_day)]
        async with in_transaction():
            await bump()
            for d in computed:
                await _write(d, now)


async def changed_days(since: datetime, first: datetime, today: datetime) -> set[datetime]:
    """The closed days in [first, today) that tickets changed at or after `since` count in."""
    days: set[datetime] = set()

    def add(day: datetime) -> None:
        if first <= day < today:
            days.add(day)

    for created, start, end in await Ticket.filter(updated_at__gte=since).values_list(
            "created_at", "start_at", "end_at"):
        created, start, end = _aware(created), _aware(start), _aware(end)
        add(midnight(created))
        add(midnight(end))
        day = max(midnight(start), first)
        while day < min(end, today):
            add(day)
            day += DAY
    for row in await TicketStep.filter(completed_at__gte=since).values("ticket__created_at"):
        add(midnight(_aware(row["ticket__created_at"])))
    return days


async def roll_up(clock: Clock) -> dict[str, Any]:
    """Write the closed days and hours of the last MAX_DAYS (the most the dashboard reads)
    that have no row or that tickets changed since the last run; drop the ones no range
    reaches any more. Hours serve the partial days at a range's ends, so today's closed
    hours are written too."""
    now = clock.now()
    today, this_hour = midnight(now), hour_of(now)
    first = midnight(now - timedelta(days=MAX_DAYS))
    state = await InsightsRollup.get_or_none(id=1)
    if state is None:
        # Written before any day, so that what changes during this first run is seen by the next.
        state, _ = await InsightsRollup.get_or_create(id=1, defaults={"watermark": now})
    have = {(_aware(row["day"]), row["span"])
            for row in await InsightsDay.filter(day__gte=first, day__lt=this_hour).values("day", "span")}
    missing, hours_missing, at = set(), set(), first
    while at < this_hour:
        if at < today and at.hour == 0 and (at, 24) not in have:
            missing.add(at)
        if (at, 1) not in have:
            hours_missing.add(at)
        at += HOUR
    touched = await changed_days(_aware(state.watermark) - MARGIN, first, today + DAY)
    changed = {d for d in touched if d < today} - missing
    hours_changed = {d + i * HOUR for d in touched for i in range(24) if d + i * HOUR < this_hour} - hours_missing
    await write_days(sorted(missing | changed), now)
    await write_hours(sorted(hours_missing | hours_changed), now)
    async with in_transaction():
        await InsightsRollup.filter(id=1).update(watermark=now)
        for model in (InsightsDay, InsightsApprovalBucket, InsightsTargetDay):
            await model.filter(day__lt=first).delete()
        await InsightsTargetPage.filter(page__lt=epoch_day(first) // PAGE_DAYS).delete()
    if (missing or changed or hours_missing or hours_changed) and postgres():
        # Fresh rows have no statistics until autovacuum comes by; the dashboard's plans need them.
        await connections.get("default").execute_script(
            "ANALYZE insights_day, insights_approval_bucket, insights_target_day, insights_target_page")
    return {"missing": len(missing), "changed": len(changed), "hours_missing": len(hours_missing),
            "hours_changed": len(hours_changed)}
