"""The insights dashboard's numbers computed live: aggregated SQL over tickets, targets and
steps, never rows brought back to be counted in Python (docs/console.md, "Insights").

A requester's own view is served from here (their tickets are few and indexed); the view of
everyone is served from the daily rollups (jit.insights.queries), and the tests hold those
to these answers. Read-only; no table is written here."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from tortoise import connections
from tortoise.expressions import Q
from tortoise.functions import Avg, Count, Max, Min
from tortoise.transactions import in_transaction

from jit.approvals.models import StepStatus, TicketStep
from jit.directory.models import Account, PermissionSet
from jit.errors import ValidationFailed
from jit.tickets.models import Target, Ticket, TicketStatus

MAX_DAYS = 90
TOP = 10
# Tickets that reached AWS: their window is access that existed.
GRANTED = [TicketStatus.GRANTING, TicketStatus.ACTIVE, TicketStatus.REVOKING, TicketStatus.ENDED]


@dataclass(frozen=True)
class Scope:
    since: datetime
    until: datetime
    user_id: str | None  # None: every ticket (admins, auditors)

    def tickets(self, prefix: str = "") -> Q:
        if self.user_id is None:
            return Q()
        return Q(**{f"{prefix}requester_id": self.user_id}) | Q(**{f"{prefix}principal_id": self.user_id})


def scope(now: datetime, days: int, user_id: str | None) -> Scope:
    if not 1 <= days <= MAX_DAYS:
        raise ValidationFailed(f"days must be between 1 and {MAX_DAYS}", field="days")
    return Scope(since=now - timedelta(days=days), until=now, user_id=user_id)


@dataclass
class DayCount:
    day: datetime
    count: int


@dataclass
class RuleApprovalTime:
    rule_name: str
    tickets: int
    p50_seconds: float
    p95_seconds: float


@dataclass
class Counted:
    id: str
    name: str
    count: int


@dataclass
class BreakGlass:
    used: int  # break-glass tickets requested in the range
    reviews_outstanding: int  # break-glass tickets never reviewed, whenever they were


@dataclass
class RevokeLateness:
    revokes: int  # revokes started in the range whose timing was recorded
    late: int  # started after the ticket's end
    worst_late_seconds: float  # how late the latest one started (0 when none was late)
    average_early_seconds: float | None


@dataclass
class Insights:
    scope: Scope
    break_glass: BreakGlass
    revoke_lateness: RevokeLateness
    active_grants: list[DayCount] = field(default_factory=list)
    approval_times: list[RuleApprovalTime] = field(default_factory=list)
    top_accounts: list[Counted] = field(default_factory=list)
    top_permission_sets: list[Counted] = field(default_factory=list)


def _days(s: Scope) -> list[datetime]:
    first = s.since.replace(hour=0, minute=0, second=0, microsecond=0)
    out, day = [], first
    while day < s.until:
        out.append(day)
        day += timedelta(days=1)
    return out


async def _active_grants_postgres(s: Scope, days: list[datetime]) -> list[DayCount]:
    """Each granted ticket adds one to every UTC day its window overlaps (day numbers since
    the epoch, so the session's time zone plays no part): work in proportion to ticket-days,
    most tickets being one, rather than to tickets x days."""
    first = (days[0] - datetime(1970, 1, 1, tzinfo=UTC)).days
    params: list[object] = [[status.value for status in GRANTED], s.until, days[0], first, first + len(days) - 1]
    where = "t.status = ANY($1) AND t.start_at <= $2 AND t.end_at > $3"
    if s.user_id is not None:
        where += " AND (t.requester_id = $6 OR t.principal_id = $6)"
        params.append(s.user_id)
    sql = f"""
        SELECT day, count(*) AS n
        FROM ticket t, generate_series(greatest(floor(extract(epoch FROM t.start_at) / 86400)::int, $4::int),
                                       least(ceil(extract(epoch FROM t.end_at) / 86400)::int - 1, $5::int)) AS day
        WHERE {where}
        GROUP BY day"""
    counts = {int(r["day"]): int(r["n"]) for r in await connections.get("default").execute_query_dict(sql, params)}
    return [DayCount(day, counts.get(first + i, 0)) for i, day in enumerate(days)]


async def active_grants(s: Scope) -> list[DayCount]:
    """Granted tickets whose window overlaps each day, in one pass over the range."""
    days = _days(s)
    if connections.get("default").capabilities.dialect == "postgres":
        return await _active_grants_postgres(s, days)
    sums = {
        f"d{i}": Count("id", _filter=Q(start_at__lt=day + timedelta(days=1)) & Q(end_at__gt=day))
        for i, day in enumerate(days)
    }
    row = await (Ticket.filter(s.tickets(), status__in=GRANTED, start_at__lte=s.until, end_at__gt=days[0])
                 .annotate(**sums).first().values(*sums))
    row = row or {}
    return [DayCount(day, int(row.get(f"d{i}") or 0)) for i, day in enumerate(days)]


async def _approval_times_postgres(s: Scope) -> list[RuleApprovalTime]:
    where = "t.created_at >= $1 AND t.created_at <= $2"
    params: list[datetime | str] = [s.since, s.until]
    if s.user_id is not None:
        where += " AND (t.requester_id = $3 OR t.principal_id = $3)"
        params.append(s.user_id)
    sql = f"""
        SELECT rule_name, count(*) AS tickets,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) AS p50,
               percentile_cont(0.95) WITHIN GROUP (ORDER BY seconds) AS p95
        FROM (SELECT st.rule_name, EXTRACT(EPOCH FROM max(st.completed_at) - t.created_at) AS seconds
              FROM ticket_step st JOIN ticket t ON t.id = st.ticket_id
              WHERE {where}
              GROUP BY st.ticket_id, st.rule_name, t.created_at
              HAVING bool_and(st.status = 'APPROVED')) AS approved
        GROUP BY rule_name ORDER BY rule_name"""
    rows = await connections.get("default").execute_query_dict(sql, params)
    return [RuleApprovalTime(r["rule_name"], int(r["tickets"]), float(r["p50"]), float(r["p95"])) for r in rows]


def _percentile(values: list[float], q: float) -> float:
    """Linear interpolation, as PostgreSQL's percentile_cont."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


async def approval_times(s: Scope) -> list[RuleApprovalTime]:
    """From the ticket's request to its rule's last approval, per rule, for tickets whose
    steps of that rule were all approved. Auto-approved rules have no steps and no time."""
    if connections.get("default").capabilities.dialect == "postgres":
        return await _approval_times_postgres(s)
    # SQLite (the embedded demo) has no percentile_cont: the database still groups per
    # ticket and rule; only the percentiles are taken here.
    rows = await (TicketStep.filter(s.tickets("ticket__"), ticket__created_at__gte=s.since,
                                    ticket__created_at__lte=s.until)
                  .annotate(steps=Count("id"), last=Max("completed_at"),
                            approved=Count("id", _filter=Q(status=StepStatus.APPROVED)))
                  .group_by("ticket_id", "rule_name")
                  .values("ticket_id", "rule_name", "steps", "approved", "last"))
    done = [r for r in rows if r["steps"] == r["approved"] and r["last"] is not None]
    created = dict(await Ticket.filter(id__in=list({r["ticket_id"] for r in done})).values_list("id", "created_at"))
    per_rule: dict[str, list[float]] = {}
    for r in done:
        last = _aware(r["last"])
        per_rule.setdefault(r["rule_name"], []).append((last - _aware(created[r["ticket_id"]])).total_seconds())
    return [RuleApprovalTime(rule, len(v), _percentile(v, 0.5), _percentile(v, 0.95))
            for rule, v in sorted(per_rule.items())]


def _aware(value: datetime | str) -> datetime:
    at = datetime.fromisoformat(value) if isinstance(value, str) else value
    return at if at.tzinfo else at.replace(tzinfo=UTC)


async def _tops_postgres(s: Scope) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """Both top tens in one pass over the range's targets (GROUPING SETS), ranked in SQL."""
    where = "t.created_at >= $1 AND t.created_at <= $2"
    params: list[object] = [s.since, s.until, TOP]
    if s.user_id is not None:
        where += " AND (t.requester_id = $4 OR t.principal_id = $4)"
        params.append(s.user_id)
    sql = f"""
        SELECT account_id, permission_set_arn, n FROM (
            SELECT tt.account_id, tt.permission_set_arn, count(*) AS n,
                   row_number() OVER (PARTITION BY grouping(tt.account_id)
                                      ORDER BY count(*) DESC, tt.account_id, tt.permission_set_arn) AS rank
            FROM ticket_target tt JOIN ticket t ON t.id = tt.ticket_id
            WHERE {where}
            GROUP BY GROUPING SETS ((tt.account_id), (tt.permission_set_arn))) ranked
        WHERE rank <= $3
        ORDER BY rank"""
    accounts: list[tuple[str, int]] = []
    sets: list[tuple[str, int]] = []
    for r in await connections.get("default").execute_query_dict(sql, params):
        if r["account_id"] is not None:
            accounts.append((r["account_id"], int(r["n"])))
        else:
            sets.append((r["permission_set_arn"], int(r["n"])))
    return accounts, sets


async def _top(s: Scope, column: str) -> list[tuple[str, int]]:
    rows = await (Target.filter(s.tickets("ticket__"), ticket__created_at__gte=s.since, ticket__created_at__lte=s.until)
                  .annotate(n=Count("id")).group_by(column).order_by("-n", column).limit(TOP).values(column, "n"))
    return [(r[column], int(r["n"])) for r in rows]


async def top_targets(s: Scope) -> tuple[list[Counted], list[Counted]]:
    """The most requested accounts and permission sets of the range, with their names."""
    if connections.get("default").capabilities.dialect == "postgres":
        top_a, top_s = await _tops_postgres(s)
    else:
        top_a, top_s = await _top(s, "account_id"), await _top(s, "permission_set_arn")
    names = dict(await Account.filter(id__in=[a for a, _ in top_a]).values_list("id", "name"))
    arns = dict(await PermissionSet.filter(arn__in=[a for a, _ in top_s]).values_list("arn", "name"))
    return ([Counted(a, names.get(a, a), n) for a, n in top_a],
            [Counted(a, arns.get(a, a.rsplit("/", 1)[-1]), n) for a, n in top_s])


async def break_glass(s: Scope) -> BreakGlass:
    used = await Ticket.filter(s.tickets(), break_glass=True, created_at__gte=s.since, created_at__lte=s.until).count()
    outstanding = await Ticket.filter(s.tickets(), break_glass=True, break_glass_reviewed_at__isnull=True).count()
    return BreakGlass(used=used, reviews_outstanding=outstanding)


async def revoke_lateness(s: Scope) -> RevokeLateness:
    row = await (Ticket.filter(s.tickets(), end_at__gte=s.since, end_at__lte=s.until,
                               revoke_started_early__isnull=False)
                 .annotate(n=Count("id"), late=Count("id", _filter=Q(revoke_started_early__lt=0)),
                           worst=Min("revoke_started_early"), average=Avg("revoke_started_early"))
                 .first().values("n", "late", "worst", "average"))
    row = row or {}
    worst = row.get("worst")
    return RevokeLateness(
        revokes=int(row.get("n") or 0), late=int(row.get("late") or 0),
        worst_late_seconds=max(0.0, -float(worst)) if worst is not None else 0.0,
        average_early_seconds=float(row["average"]) if row.get("average") is not None else None,
    )


# A person's tickets are found through the (requester, time) and (principal, time) index pairs
# (migrations 0005 and 0016), as a BitmapOr of the two. PostgreSQL's default random_page_cost
# (4, priced for spinning disks) values the heap reads that follow at 4x a sequential read, and
# so prefers walking every ticket of the range in time order and filtering, 100 times as many
# rows. 1.1 is what PostgreSQL's documentation suggests where the data is cached or on SSD,
# as a live ticket table is; it is set for the own view's read-only transactions only.
OWN_VIEW_SETTINGS = "SET LOCAL random_page_cost = 1.1"

T = TypeVar("T")


async def _own(part: Callable[[Scope], Awaitable[T]], s: Scope) -> T:
    """One aggregate of a person's own view, in its own transaction (so its own pooled
    connection) planned for their indexes."""
    async with in_transaction():
        await connections.get("default").execute_script(OWN_VIEW_SETTINGS)
        return await part(s)


async def insights(s: Scope) -> Insights:
    """The six aggregates live, at once: on PostgreSQL each takes its own pooled connection, so
    the dashboard waits for the slowest, not for their sum (SQLite runs them one by one). A
    person's own view plans each for their indexes (OWN_VIEW_SETTINGS)."""
    if s.user_id is not None and connections.get("default").capabilities.dialect == "postgres":
        grants, times, (accounts, sets), glass, lateness = await asyncio.gather(
            _own(active_grants, s), _own(approval_times, s), _own(top_targets, s), _own(break_glass, s),
            _own(revoke_lateness, s))
    else:
        grants, times, (accounts, sets), glass, lateness = await asyncio.gather(
            active_grants(s), approval_times(s), top_targets(s), break_glass(s), revoke_lateness(s))
    return Insights(scope=s, active_grants=grants, approval_times=times, top_accounts=accounts,
                    top_permission_sets=sets, break_glass=glass, revoke_lateness=lateness)
