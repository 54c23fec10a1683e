"""A ticket's session activity: what the principal did in the granted accounts while the
ticket was in force, read from CloudTrail through the configured source."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from jit.activity.sources import ActivityPage, ActivitySource, SessionQuery, SessionTarget
from jit.directory.models import PermissionSet
from jit.durations import MAX_AWS_SESSION_SECONDS, session_seconds
from jit.errors import ValidationFailed
from jit.runtime import Runtime
from jit.tickets.models import Ticket, TicketStatus
from jit.tickets.service import get_readable_ticket

MAX_PAGE = 200
TIMELINE_MAX_EVENTS = 2000  # the chart reads at most this many events, MAX_PAGE at a time
# Tickets that never reached AWS have no session to show.
_NEVER_GRANTED = {TicketStatus.PENDING_APPROVAL, TicketStatus.REJECTED, TicketStatus.EXPIRED, TicketStatus.SCHEDULED}


def build_source(rt: Runtime) -> ActivitySource:
    name = rt.settings.activity_source
    if name == "logs_insights":
        from jit.activity.logs_insights import LogsInsightsSource

        return LogsInsightsSource(rt.settings, rt.aws)
    if name == "lake":
        from jit.activity.cloudtrail_lake import CloudTrailLakeSource

        return CloudTrailLakeSource(rt.settings, rt.aws)
    from jit.activity.cloudtrail_lookup import LookupEventsSource

    return LookupEventsSource(rt.settings, rt.aws)



def source_configured(rt: Runtime) -> str | None:
    """Why the configured source cannot be read, or None when it can."""
    settings = rt.settings
    if settings.activity_source == "logs_insights" and not settings.activity_log_group:
        return "the logs_insights source needs JIT_ACTIVITY_LOG_GROUP"
    if settings.activity_source == "lake" and not settings.activity_lake_event_data_store:
        return "the lake source needs JIT_ACTIVITY_LAKE_EVENT_DATA_STORE"
    return None


@dataclass
class Reading:
    """What was read for a ticket, and how complete it can be: CloudTrail delivers events
    minutes late, so a window that ended less than the delivery delay ago may still grow."""

    window_start: datetime
    window_end: datetime  # the ticket's end plus the longest session duration
    read_at: datetime
    caught_up: bool


@dataclass
class MinuteCount:
    minute: datetime
    calls: int = 0
    writes: int = 0
    errors: int = 0


@dataclass
class Timeline:
    reading: Reading
    minutes: list[MinuteCount] = field(default_factory=list)  # only minutes with calls, in order
    events: int = 0
    truncated: bool = False  # more than TIMELINE_MAX_EVENTS: the chart shows the newest
    unavailable: list[str] = field(default_factory=list)


async def session_query(rt: Runtime, ticket: Ticket) -> SessionQuery:
    """The window runs from the ticket's start to its end plus the longest session
    duration of its permission sets: credentials issued just before the end keep working
    that long, and that is exactly what an auditor wants to see."""
    await ticket.fetch_related("principal", "targets")
    arns = {t.permission_set_arn for t in ticket.targets}
    sets = {p.arn: p for p in await PermissionSet.filter(arn__in=list(arns))}
    by_account: dict[str, list[str]] = {}
    for target in ticket.targets:
        ps = sets.get(target.permission_set_arn)
        name = ps.name if ps else target.permission_set_arn.rsplit("/", 1)[-1]
        names = by_account.setdefault(target.account_id, [])
        if name not in names:
            names.append(name)
    end = min(window_end(ticket, sets.values()), rt.clock.now())
    return SessionQuery(
        session_name=ticket.principal.user_name,
        targets=tuple(SessionTarget(account, tuple(names)) for account, names in by_account.items()),
        start=ticket.start_at, end=max(end, ticket.start_at),
    )


def window_end(ticket: Ticket, permission_sets: Iterable[PermissionSet]) -> datetime:
    # A session lasts up to its permission set's session duration past the ticket's end;
    # with no permission set known, up to AWS's longest.
    longest = max((session_seconds(p.session_duration) for p in permission_sets), default=MAX_AWS_SESSION_SECONDS)
    return ticket.end_at + timedelta(seconds=longest)


async def _reading(rt: Runtime, ticket: Ticket) -> Reading:
    await ticket.fetch_related("targets")
    sets = await PermissionSet.filter(arn__in=list({t.permission_set_arn for t in ticket.targets}))
    end = window_end(ticket, sets)
    now = rt.clock.now()
    caught_up = now >= end + timedelta(seconds=rt.settings.activity_delivery_delay_seconds)
    return Reading(window_start=ticket.start_at, window_end=end, read_at=now, caught_up=caught_up)


async def _readable(rt: Runtime, actor_id: str, ticket_id: str) -> Ticket:
    ticket = await get_readable_ticket(rt, actor_id, ticket_id)
    reason = source_configured(rt)
    if reason is not None:
        raise ValidationFailed(f"session activity is not configured: {reason}", field="source")
    return ticket


async def session_activity(
    rt: Runtime, actor_id: str, ticket_id: str, first: int, after: str | None, source: ActivitySource | None = None,
    *, write_only: bool = False, errors_only: bool = False,
) -> ActivityPage:
    """Whoever may read the ticket may see its session activity (approvers, auditors,
    admins, the requester and the principal)."""
    page, _ = await session_activity_read(rt, actor_id, ticket_id, first, after, source,
                                          write_only=write_only, errors_only=errors_only)
    return page


async def session_activity_read(
    rt: Runtime, actor_id: str, ticket_id: str, first: int, after: str | None, source: ActivitySource | None = None,
    *, write_only: bool = False, errors_only: bool = False,
) -> tuple[ActivityPage, Reading]:
    """A page of the ticket's session activity (filtered on the server) and how complete
    the source can be at this moment."""
    if not 1 <= first <= MAX_PAGE:
        raise ValidationFailed(f"first must be between 1 and {MAX_PAGE}", field="first")
    ticket = await _readable(rt, actor_id, ticket_id)
    reading = await _reading(rt, ticket)
    if ticket.status in _NEVER_GRANTED:
        return ActivityPage(events=[], next_cursor=None), reading
    query = await session_query(rt, ticket)
    query = replace(query, write_only=write_only, errors_only=errors_only)
    return await (source or build_source(rt)).page(query, first, after), reading


async def session_timeline(
    rt: Runtime, actor_id: str, ticket_id: str, source: ActivitySource | None = None,
    *, write_only: bool = False, errors_only: bool = False,
) -> Timeline:
    """Calls per minute across the ticket's window, for the chart: the same events as the
    pages, read through the same source and authorization, counted by minute."""
    ticket = await _readable(rt, actor_id, ticket_id)
    timeline = Timeline(reading=await _reading(rt, ticket))
    if ticket.status in _NEVER_GRANTED:
        return timeline
    query = replace(await session_query(rt, ticket), write_only=write_only, errors_only=errors_only)
    reader = source or build_source(rt)
    counts: dict[datetime, MinuteCount] = {}
    cursor: str | None = None
    while True:
        page = await reader.page(query, MAX_PAGE, cursor)
        timeline.unavailable.extend(u for u in page.unavailable if u not in timeline.unavailable)
        for event in page.events:
            minute = event.event_time.replace(second=0, microsecond=0)
            count = counts.setdefault(minute, MinuteCount(minute))
            count.calls += 1
            count.writes += event.read_only is False
            count.errors += bool(event.error_code)
            timeline.events += 1
        cursor = page.next_cursor
        if cursor is None:
            break
        if timeline.events >= TIMELINE_MAX_EVENTS:
            timeline.truncated = True
            break
    timeline.minutes = [counts[m] for m in sorted(counts)]
    return timeline
