"""The insights dashboard's numbers (docs/console.md, "Insights").

Everyone's view (admins, auditors) is read from the daily rollups (jit.insights.rollup): a
range is its partial first day and today, computed live from the tickets of those two
windows only, plus the closed days between, read as one row per day (and per rule bucket or
requested target). A closed day that has no row yet is computed live, so the answer never
depends on whether the cron has run. What the rollup rows say about a range (`_Closed`) is
kept in process per rollup version (`jit.insights.rollup.version`, which every write moves)
and range cut; only the live parts are read per request. A requester's own view stays live over their tickets
(jit.insights.live), which the (principal|requester, created_at) indexes keep small.

Read-only; no table is written here."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tortoise import connections
from tortoise.expressions import Q
from tortoise.functions import Sum

from jit.directory.models import Account, PermissionSet
from jit.insights import live
from jit.insights.live import (
    TOP,
    BreakGlass,
    Counted,
    DayCount,
    Insights,
    RevokeLateness,
    RuleApprovalTime,
    Scope,
    _aware,
    _percentile,
    scope,
)
from jit.insights.models import InsightsApprovalBucket, InsightsDay, InsightsTargetDay
from jit.insights.rollup import (
    ACCOUNT,
    DAY,
    HOUR,
    PAGE_DAYS,
    PERMISSION_SET,
    Window,
    active_on,
    bucket,
    epoch_day,
    hour_of,
    midnight,
    postgres,
    version,
    window,
)
from jit.tickets.models import Ticket

__all__ = ["Insights", "Scope", "insights", "scope", "_percentile"]


class _Range:
    """A scope cut at UTC midnights and hours: [since, head) live, [head, first) hour rows,
    [first, today) day rows, [today, now_hour) hour rows, [now_hour, until] live."""

    def __init__(self, s: Scope) -> None:
        self.s = s
        self.first = midnight(s.since) + DAY
        self.today = midnight(s.until)
        self.closed = Q(span=24, day__gte=self.first, day__lt=self.today)
        # The ends' closed hours: [hour after since, first) and [today, this hour).
        start = hour_of(s.since)
        self.head = min(start if start == s.since else start + HOUR, self.first)
        self.now_hour = max(hour_of(s.until), self.today)
        self.hours = [self.head + i * HOUR for i in range(int((self.first - self.head) / HOUR))] + [
            self.today + i * HOUR for i in range(int((self.now_hour - self.today) / HOUR))]


def _add(total: Window, part: Window) -> None:
    for rule, values in part.approval_seconds.items():
        total.approval_seconds.setdefault(rule, []).extend(values)
    for mine, theirs in ((total.accounts, part.accounts), (total.permission_sets, part.permission_sets)):
        for key, n in theirs.items():
            mine[key] = mine.get(key, 0) + n
    total.break_glass_used += part.break_glass_used
    total.revokes += part.revokes
    total.revokes_late += part.revokes_late
    total.revoke_sum_early += part.revoke_sum_early
    if part.revoke_min_early is not None:
        total.revoke_min_early = (part.revoke_min_early if total.revoke_min_early is None
                                  else min(total.revoke_min_early, part.revoke_min_early))


async def _hours(r: _Range) -> tuple[Window, list[datetime]]:
    """The ends' closed hours from their rows, and those that have none."""
    total = Window()
    if not r.hours:
        return total, []
    which = Q(span=1, day__in=r.hours)
    rows, buckets, targets = await asyncio.gather(
        InsightsDay.filter(which).values(), InsightsApprovalBucket.filter(which).values("rule_name", "seconds"),
        InsightsTargetDay.filter(which).values("kind", "target_id", "count"))
    for row in rows:
        _add(total, Window(break_glass_used=row["break_glass_used"], revokes=row["revokes"],
                           revokes_late=row["revokes_late"], revoke_min_early=row["revoke_min_early"],
                           revoke_sum_early=float(row["revoke_sum_early"])))
    for row in buckets:
        total.approval_seconds.setdefault(row["rule_name"], []).extend(float(v) for v in row["seconds"])
    for row in targets:
        counts = total.accounts if row["kind"] == ACCOUNT else total.permission_sets
        counts[row["target_id"]] = counts.get(row["target_id"], 0) + int(row["count"])
    have = {_aware(row["day"]) for row in rows}
    return total, [h for h in r.hours if h not in have]


async def _edges(r: _Range, missing: list[datetime]) -> Window:
    """The ends of a range, added up: the less than an hour at each end, live; the closed
    hours between those and the closed days, from their rows (live where they have none);
    and any closed day the cron has not written yet, live."""
    hours, hours_missing = await _hours(r)
    parts = await asyncio.gather(window(r.s.since, r.head),
                                 window(max(r.now_hour, r.s.since), r.s.until, closed=True),
                                 *(window(hour, hour + HOUR) for hour in hours_missing),
                                 *(window(day, day + DAY) for day in missing))
    total = hours
    for part in parts:
        _add(total, part)
    return total


@dataclass
class _Closed:
    """What a range's rollup rows say, read once per rollup version (`rollup.version`) and range
    cut: the day rows of the chart and the closed days, the ends' closed hours, the requests per
    target over the closed days, and (filled as requests need them) the closed days' values of
    approval buckets. The rows change only in a transaction that moves the version, so this is
    the same answer the rows would give now; what no row holds yet (`missing`, `hours_missing`)
    is computed live on every request, never kept."""

    chart: dict[datetime, dict[str, Any]]
    missing: list[datetime]
    hours: Window
    hours_missing: list[datetime]
    counts: dict[str, dict[int, int]]  # rule -> bucket -> approvals on the closed days
    accounts: dict[str, int]
    permission_sets: dict[str, int]
    top_accounts: list[tuple[str, int]]
    top_permission_sets: list[tuple[str, int]]
    break_glass_used: int
    revokes: int
    revokes_late: int
    revoke_sum_early: float
    revoke_mins: list[float]
    held: dict[tuple[str, int], list[float]] = field(default_factory=dict)


_CACHE: OrderedDict[tuple[Any, ...], _Closed] = OrderedDict()
_CACHED = 32  # ranges kept: a few days' choices, each cut on the hour


async def _closed(r: _Range) -> _Closed:
    v = await version()
    key = (v, r.first, r.today, r.head, r.now_hour)
    if v is not None and key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key]
    (chart, missing), (hours, hours_missing) = await asyncio.gather(_days(r), _hours(r))
    rows = [row for d, row in chart.items() if d >= r.first]
    # The running totals hold only whole pages of written days: with a day missing, the day rows.
    paged = postgres() and not missing
    accounts, sets = await asyncio.gather(_closed_counts(r, ACCOUNT, paged), _closed_counts(r, PERMISSION_SET, paged))
    counts: dict[str, dict[int, int]] = {}
    for row in rows:
        for rule, per_bucket in row["approval_counts"].items():
            mine = counts.setdefault(rule, {})
            for b, n in per_bucket.items():
                mine[int(b)] = mine.get(int(b), 0) + n
    out = _Closed(
        chart=chart, missing=missing, hours=hours, hours_missing=hours_missing, counts=counts,
        accounts=accounts, permission_sets=sets, top_accounts=_ranked(accounts)[:TOP],
        top_permission_sets=_ranked(sets)[:TOP],
        break_glass_used=sum(int(row["break_glass_used"]) for row in rows),
        revokes=sum(int(row["revokes"]) for row in rows), revokes_late=sum(int(row["revokes_late"]) for row in rows),
        revoke_sum_early=sum(float(row["revoke_sum_early"]) for row in rows),
        revoke_mins=[float(row["revoke_min_early"]) for row in rows if row["revoke_min_early"] is not None])
    if v is not None:
        _CACHE[key] = out
        while len(_CACHE) > _CACHED:
            _CACHE.popitem(last=False)
    return out


def _ranked(counts: dict[str, int]) -> list[tuple[str, int]]:
    return sorted(((k, n) for k, n in counts.items() if n > 0), key=lambda kv: (-kv[1], kv[0]))


async def _approval_times(r: _Range, closed: _Closed, edges: Window) -> list[RuleApprovalTime]:
    """Exact percentile_cont per rule: the bucket counts of the day rows locate the ranks
    wanted, and only those buckets' values are read (once per rollup version)."""
    counts = {rule: dict(per_rule) for rule, per_rule in closed.counts.items()}
    live_buckets: dict[str, dict[int, list[float]]] = {}
    for rule, values in edges.approval_seconds.items():
        per_rule = counts.setdefault(rule, {})
        for value in values:
            b = bucket(value)
            per_rule[b] = per_rule.get(b, 0) + 1
            live_buckets.setdefault(rule, {}).setdefault(b, []).append(value)
    wanted: dict[str, dict[int, int]] = {}  # rule -> bucket -> rank of its first value
    ranks: dict[str, list[tuple[float, int, int]]] = {}  # rule -> (q, low rank, high rank)
    for rule, per_rule in counts.items():
        n = sum(per_rule.values())
        if n == 0:
            continue
        ranks[rule] = []
        for q in (0.5, 0.95):
            position = (n - 1) * q
            low, high = int(position), min(int(position) + (position > int(position)), n - 1)
            ranks[rule].append((q, low, high))
        starts, seen = {}, 0
        for b in sorted(per_rule):
            starts[b] = seen
            seen += per_rule[b]
        needed = {b for _, low, high in ranks[rule] for rank in (low, high)
                  for b in starts if starts[b] <= rank < starts[b] + per_rule[b]}
        wanted[rule] = {b: starts[b] for b in needed}
    unread = {rule: [b for b in bs if (rule, b) not in closed.held] for rule, bs in wanted.items()}
    unread = {rule: bs for rule, bs in unread.items() if bs}
    if unread:
        read: dict[tuple[str, int], list[float]] = {(rule, b): [] for rule, bs in unread.items() for b in bs}
        which = Q(*(Q(rule_name=rule, bucket__in=bs) for rule, bs in unread.items()), join_type="OR")
        for row in await InsightsApprovalBucket.filter(r.closed).filter(which).values("rule_name", "bucket", "seconds"):
            read[(row["rule_name"], row["bucket"])].extend(float(v) for v in row["seconds"])
        closed.held.update({k: sorted(v) for k, v in read.items()})
    held: dict[tuple[str, int], list[float]] = {
        (rule, b): sorted(closed.held[(rule, b)] + live_buckets.get(rule, {}).get(b, []))
        for rule, bs in wanted.items() for b in bs}
    out = []
    for rule in sorted(ranks):
        n = sum(counts[rule].values())

        def at(rank: int, rule: str = rule) -> float:
            b = next(b for b, start in wanted[rule].items() if start <= rank < start + counts[rule][b])
            return held[(rule, b)][rank - wanted[rule][b]]

        p: dict[float, float] = {}
        for q, low, high in ranks[rule]:
            position = (n - 1) * q
            lo, hi = at(low), at(high)
            p[q] = lo + (hi - lo) * (position - low)
        out.append(RuleApprovalTime(rule, n, p[0.5], p[0.95]))
    return out


def _top(closed_top: list[tuple[str, int]], closed: dict[str, int], edges: dict[str, int]) -> list[tuple[str, int]]:
    """The top ten of rollups plus edges. A target in neither the rollups' top ten (ordered
    as the answer is, count then id) nor the edges cannot beat those ten, so the candidates
    are those, with their full rollup counts."""
    totals = dict(closed_top)
    for k, n in edges.items():
        totals[k] = closed.get(k, 0) + n
    return _ranked(totals)[:TOP]


async def _closed_counts(r: _Range, kind: str, paged: bool) -> dict[str, int]:
    """Per target, requests on the closed days."""
    if r.first >= r.today:
        return {}
    if paged:
        return await _closed_counts_paged(r, kind)
    query = InsightsTargetDay.filter(r.closed, kind=kind).annotate(n=Sum("count")).group_by("target_id")
    return {row["target_id"]: int(row["n"]) for row in await query.values("target_id", "n")}


async def _closed_counts_paged(r: _Range, kind: str) -> dict[str, int]:
    """From the running totals of at most two pages (PostgreSQL): a fixed number of rows per
    target however many days the range has."""
    first, last = epoch_day(r.first), epoch_day(r.today) - 1
    terms = []
    for page in range(first // PAGE_DAYS, last // PAGE_DAYS + 1):
        start = page * PAGE_DAYS
        lo, hi = max(first, start) - start, min(last, start + PAGE_DAYS - 1) - start
        before = f" - coalesce((cum->>{lo - 1})::int, 0)" if lo > 0 else ""
        terms.append(f"WHEN {page} THEN coalesce((cum->>{hi})::int, 0){before}")
    pages = ", ".join(str(p) for p in range(first // PAGE_DAYS, last // PAGE_DAYS + 1))
    sql = f"""SELECT target_id, sum(CASE page {' '.join(terms)} END) AS n FROM insights_target_page
              WHERE kind = $1 AND page IN ({pages}) GROUP BY target_id"""
    rows = await connections.get("default").execute_query_dict(sql, [kind])
    return {row["target_id"]: int(row["n"]) for row in rows}


async def _days(r: _Range) -> tuple[dict[datetime, dict[str, Any]], list[datetime]]:
    """The day rows from the chart's first day (whole, though the other numbers start at
    `since`) to yesterday, and the closed days among them that have none."""
    rows = {_aware(row["day"]): row
            for row in await InsightsDay.filter(span=24, day__gte=r.first - DAY, day__lt=r.today).values()}
    missing, day = [], r.first
    while day < r.today:
        if day not in rows:
            missing.append(day)
        day += DAY
    return rows, missing


async def _everyone(s: Scope) -> Insights:
    """The closed part from the rollups (cached per version), the rest live: the minutes at
    either end, what has no row yet, today's active grants and the outstanding reviews."""
    r = _Range(s)
    closed, head, tail, outstanding, today = await asyncio.gather(
        _closed(r), window(s.since, r.head), window(max(r.now_hour, s.since), s.until, closed=True),
        Ticket.filter(break_glass=True, break_glass_reviewed_at__isnull=True).count(),
        active_on(r.today, s.until))
    active_days = live._days(s)
    # The first day of the chart is whole: only today is partial.
    late_days = [d for d in active_days if d not in closed.chart and d != r.today]
    parts = await asyncio.gather(*(window(hour, hour + HOUR) for hour in closed.hours_missing),
                                 *(window(day, day + DAY) for day in closed.missing))
    late_counts = await asyncio.gather(*(active_on(d) for d in late_days))
    edges = Window()
    for part in (closed.hours, head, tail, *parts):
        _add(edges, part)
    times = await _approval_times(r, closed, edges)
    accounts = _top(closed.top_accounts, closed.accounts, edges.accounts)
    sets = _top(closed.top_permission_sets, closed.permission_sets, edges.permission_sets)
    counts = {**{d: int(row["active_grants"]) for d, row in closed.chart.items()},
              **dict(zip(late_days, late_counts, strict=True)), r.today: today}
    revokes = edges.revokes + closed.revokes
    total = edges.revoke_sum_early + closed.revoke_sum_early
    mins = list(closed.revoke_mins)
    if edges.revoke_min_early is not None:
        mins.append(edges.revoke_min_early)
    account_names, set_names = await asyncio.gather(
        Account.filter(id__in=[a for a, _ in accounts]).values_list("id", "name"),
        PermissionSet.filter(arn__in=[a for a, _ in sets]).values_list("arn", "name"))
    names, arns = dict(account_names), dict(set_names)
    return Insights(
        scope=s,
        active_grants=[DayCount(d, counts.get(d, 0)) for d in active_days],
        approval_times=times,
        top_accounts=[Counted(a, names.get(a, a), n) for a, n in accounts],
        top_permission_sets=[Counted(a, arns.get(a, a.rsplit("/", 1)[-1]), n) for a, n in sets],
        break_glass=BreakGlass(used=edges.break_glass_used + closed.break_glass_used, reviews_outstanding=outstanding),
        revoke_lateness=RevokeLateness(
            revokes=revokes, late=edges.revokes_late + closed.revokes_late,
            worst_late_seconds=max(0.0, -min(mins)) if mins else 0.0,
            average_early_seconds=total / revokes if revokes else None),
    )


async def insights(s: Scope) -> Insights:
    """Everyone's view from the rollups; a requester's own, live."""
    if s.user_id is not None:
        return await live.insights(s)
    return await _everyone(s)

