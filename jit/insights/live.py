"""The insights dashboard's numbers computed live: aggregated SQL over tickets, targets and
steps, never rows brought back to be counted in Python (docs/console.md, "Insights").

A requester's own view is served from here (their tickets are few and indexed); the view of
everyone is served from the daily rollups (jit.insights.queries), and the tests hold those
to these answers. Read-only; no table is written here."""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

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


async def active_grants(s: Scope) -> list[DayCount]:
    """Granted tickets whose window overlaps each day, in one pass over the range."""
    days = _days(s)
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


async def _top(s: Scope, column: str) -> list[tuple[str, int]]:
    rows = await (Target.filter(s.tickets("ticket__"), ticket__created_at__gte=s.since, ticket__created_at__lte=s.until)
                  .annotate(n=Count("id")).group_by(column).order_by("-n", column).limit(TOP).values(column, "n"))
    return [(r[column], int(r["n"])) for r in rows]


async def top_accounts(s: Scope) -> list[Counted]:
    top = await _top(s, "account_id")
    names = dict(await Account.filter(id__in=[a for a, _ in top]).values_list("id", "name"))
    return [Counted(a, names.get(a, a), n) for a, n in top]


async def top_permission_sets(s: Scope) -> list[Counted]:
    top = await _top(s, "permission_set_arn")
    names = dict(await PermissionSet.filter(arn__in=[a for a, _ in top]).values_list("arn", "name"))
    return [Counted(a, names.get(a, a.rsplit("/", 1)[-1]), n) for a, n in top]


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
# as a live ticket table is; it is set for the own view's one read-only transaction only.
OWN_VIEW_SETTINGS = "SET LOCAL random_page_cost = 1.1"


async def insights(s: Scope) -> Insights:
    """The six aggregates live. Everyone's (the rollups' edges and the tests' reference): at
    once, each on its own pooled connection on PostgreSQL, so the dashboard waits for the
    slowest, not for their sum. A person's own: their tickets are few, so the six run one
    after the other in one transaction planned for their indexes (OWN_VIEW_SETTINGS)."""
    if s.user_id is None:
        grants, times, accounts, sets, glass, lateness = await asyncio.gather(
            active_grants(s), approval_times(s), top_accounts(s), top_permission_sets(s), break_glass(s),
            revoke_lateness(s))
    else:
        async with in_transaction():
            if connections.get("default").capabilities.dialect == "postgres":
                await connections.get("default").execute_script(OWN_VIEW_SETTINGS)
            grants, times, accounts, sets = (await active_grants(s), await approval_times(s), await top_accounts(s),
                                             await top_permission_sets(s))
            glass, lateness = await break_glass(s), await revoke_lateness(s)
    return Insights(scope=s, active_grants=grants, approval_times=times, top_accounts=accounts,
                    top_permission_sets=sets, break_glass=glass, revoke_lateness=lateness)
