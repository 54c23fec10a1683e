"""Session activity over GraphQL: `ticketSessionActivity` (docs/audit.md#session-activity)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from botocore.exceptions import ClientError
from strawberry.scalars import JSON
from strawberry.types import Info

from jit.activity import service
from jit.activity.sources import ActivityEvent
from jit.auth.scopes import Scope
from jit.aws.errors import explain
from jit.graphql.context import Context
from jit.graphql.errors import NotAllowedError, NotFoundError, ValidationError
from jit.graphql.resolver import OUTPUT, query


@strawberry.type(description="One CloudTrail event of the principal's role session.")
class SessionEvent:
    event_id: str
    event_time: datetime
    event_name: str
    event_source: str
    account_id: str
    region: str
    role_name: str = strawberry.field(description="AWSReservedSSO_<PermissionSetName>_<suffix>")
    session_arn: str
    source_ip: str | None
    user_agent: str | None
    error_code: str | None
    read_only: bool | None
    cloud_trail_event: JSON = strawberry.field(description="The whole CloudTrail record.")

    @classmethod
    def of(cls, e: ActivityEvent) -> SessionEvent:
        return cls(
            event_id=e.event_id, event_time=e.event_time, event_name=e.event_name, event_source=e.event_source,
            account_id=e.account_id, region=e.region, role_name=e.role_name, session_arn=e.session_arn,
            source_ip=e.source_ip, user_agent=e.user_agent, error_code=e.error_code, read_only=e.read_only,
            cloud_trail_event=JSON(e.raw),
        )


@strawberry.input(description="Server-side filters of a ticket's session activity.")
class SessionActivityFilter:
    write_only: bool = strawberry.field(default=False, description="Only calls that change something (readOnly false).")
    errors_only: bool = strawberry.field(default=False, description="Only calls that AWS answered with an error code.")


@strawberry.type(description="The ticket's window and how complete the source can be now.")
class SessionWindow:
    start: datetime
    end: datetime = strawberry.field(description="The ticket's end plus the longest session duration of its permission sets.")
    read_at: datetime = strawberry.field(description="When the source was read for this answer.")
    caught_up: bool = strawberry.field(description=(
        "False while the window ended less than JIT_ACTIVITY_DELIVERY_DELAY_SECONDS ago: CloudTrail delivers "
        "events minutes late, so more may still arrive."))
    delivery_delay_seconds: int

    @classmethod
    def of(cls, r: service.Reading, delay: int) -> SessionWindow:
        return cls(start=r.window_start, end=r.window_end, read_at=r.read_at, caught_up=r.caught_up,
                   delivery_delay_seconds=delay)


@strawberry.type
class SessionMinute:
    minute: datetime
    calls: int
    writes: int
    errors: int


@strawberry.type(description="Calls per minute across the ticket's window (only minutes with calls).")
class SessionTimeline:
    window: SessionWindow
    minutes: list[SessionMinute]
    events: int
    truncated: bool = strawberry.field(description=f"More than {service.TIMELINE_MAX_EVENTS} events: only the newest are counted.")
    unavailable: list[str]
    source: str


@strawberry.type
class SessionActivityPage:
    events: list[SessionEvent]
    window: SessionWindow
    end_cursor: str | None = strawberry.field(description="Pass as `after` for the next page.")
    has_next_page: bool
    unavailable: list[str] = strawberry.field(
        description="Accounts or sources that could not be read, with AWS's reason: the page is partial.")
    source: str = strawberry.field(description="lookup_events, lake or logs_insights (JIT_ACTIVITY_SOURCE).")


SessionActivityResult = Annotated[
    SessionActivityPage | ValidationError | NotFoundError | NotAllowedError, strawberry.union("SessionActivityResult")
]
SessionTimelineResult = Annotated[
    SessionTimeline | ValidationError | NotFoundError | NotAllowedError, strawberry.union("SessionTimelineResult")
]


def _unavailable(exc: ClientError) -> NotAllowedError:
    # Only a source reading one central store gets here (its store is the whole answer).
    return NotAllowedError(message=f"session activity is unavailable: {explain(exc)}", field=None)


@strawberry.type
class ActivityQuery:
    @query(Scope.READ, errors=OUTPUT, description=(
        "What the ticket's principal did in the granted accounts during the ticket, from CloudTrail. "
        "Readable by whoever may read the ticket."))
    async def ticket_session_activity(
        self, info: Info[Context, None], ticket_id: strawberry.ID, first: int = 50, after: str | None = None,
        filter: SessionActivityFilter | None = None,
    ) -> SessionActivityResult:
        rt = info.context.runtime
        f = filter or SessionActivityFilter()
        try:
            page, reading = await service.session_activity_read(
                rt, info.context.actor.id, str(ticket_id), first, after,
                write_only=f.write_only, errors_only=f.errors_only)
        except ClientError as exc:
            return _unavailable(exc)
        return SessionActivityPage(
            events=[SessionEvent.of(e) for e in page.events], end_cursor=page.next_cursor,
            window=SessionWindow.of(reading, rt.settings.activity_delivery_delay_seconds),
            has_next_page=page.next_cursor is not None, unavailable=page.unavailable, source=rt.settings.activity_source,
        )

    @query(Scope.READ, errors=OUTPUT, description=(
        "Calls per minute of the ticket's session activity across its window, for a chart. "
        "Readable by whoever may read the ticket."))
    async def ticket_session_timeline(
        self, info: Info[Context, None], ticket_id: strawberry.ID, filter: SessionActivityFilter | None = None,
    ) -> SessionTimelineResult:
        rt = info.context.runtime
        f = filter or SessionActivityFilter()
        try:
            t = await service.session_timeline(rt, info.context.actor.id, str(ticket_id),
                                               write_only=f.write_only, errors_only=f.errors_only)
        except ClientError as exc:
            return _unavailable(exc)
        return SessionTimeline(
            window=SessionWindow.of(t.reading, rt.settings.activity_delivery_delay_seconds),
            minutes=[SessionMinute(minute=m.minute, calls=m.calls, writes=m.writes, errors=m.errors) for m in t.minutes],
            events=t.events, truncated=t.truncated, unavailable=t.unavailable, source=rt.settings.activity_source,
        )
