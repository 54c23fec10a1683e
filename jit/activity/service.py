"""A ticket's session activity: what the principal did in the granted accounts while the
ticket was in force, read from CloudTrail through the configured source."""

from __future__ import annotations

import re
from datetime import timedelta

from jit.activity.sources import ActivityPage, ActivitySource, SessionQuery, SessionTarget
from jit.directory.models import PermissionSet
from jit.errors import ValidationFailed
from jit.runtime import Runtime
from jit.tickets.models import Ticket, TicketStatus
from jit.tickets.service import get_readable_ticket

MAX_PAGE = 200
# Tickets that never reached AWS have no session to show.
_NEVER_GRANTED = {TicketStatus.PENDING_APPROVAL, TicketStatus.REJECTED, TicketStatus.EXPIRED, TicketStatus.SCHEDULED}
_DURATION = re.compile(r"^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$")


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


def _session_seconds(duration: str) -> int:
    match = _DURATION.match(duration or "")
    if not match:
        return 3600
    hours, minutes, seconds = (int(x or 0) for x in match.groups())
    return hours * 3600 + minutes * 60 + seconds


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
    longest = max((_session_seconds(p.session_duration) for p in sets.values()), default=3600)
    end = min(ticket.end_at + timedelta(seconds=longest), rt.clock.now())
    return SessionQuery(
        session_name=ticket.principal.user_name,
        targets=tuple(SessionTarget(account, tuple(names)) for account, names in by_account.items()),
        start=ticket.start_at, end=max(end, ticket.start_at),
    )


async def session_activity(
    rt: Runtime, actor_id: str, ticket_id: str, first: int, after: str | None, source: ActivitySource | None = None
) -> ActivityPage:
    """Whoever may read the ticket may see its session activity (approvers, auditors,
    admins, the requester and the principal)."""
    if not 1 <= first <= MAX_PAGE:
        raise ValidationFailed(f"first must be between 1 and {MAX_PAGE}", field="first")
    ticket = await get_readable_ticket(rt, actor_id, ticket_id)
    if ticket.status in _NEVER_GRANTED:
        return ActivityPage(events=[], next_cursor=None)
    query = await session_query(rt, ticket)
    return await (source or build_source(rt)).page(query, first, after)
