"""Session activity over GraphQL: `ticketSessionActivity` (docs/audit.md#session-activity)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from botocore.exceptions import ClientError
from strawberry.scalars import JSON
from strawberry.types import Info

from jit import errors
from jit.activity import service
from jit.activity.sources import ActivityEvent
from jit.aws.errors import explain
from jit.graphql.context import Context
from jit.graphql.errors import NotAllowedError, NotFoundError, ValidationError, to_error


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
            cloud_trail_event=e.raw,
        )


@strawberry.type
class SessionActivityPage:
    events: list[SessionEvent]
    end_cursor: str | None = strawberry.field(description="Pass as `after` for the next page.")
    has_next_page: bool
    unavailable: list[str] = strawberry.field(
        description="Accounts or sources that could not be read, with AWS's reason: the page is partial.")
    source: str = strawberry.field(description="lookup_events, lake or logs_insights (JIT_ACTIVITY_SOURCE).")


SessionActivityResult = Annotated[
    SessionActivityPage | ValidationError | NotFoundError | NotAllowedError, strawberry.union("SessionActivityResult")
]


@strawberry.type
class ActivityQuery:
    @strawberry.field(description=(
        "What the ticket's principal did in the granted accounts during the ticket, from CloudTrail. "
        "Readable by whoever may read the ticket."))
    async def ticket_session_activity(
        self, info: Info[Context, None], ticket_id: strawberry.ID, first: int = 50, after: str | None = None
    ) -> SessionActivityResult:
        rt = info.context.runtime
        try:
            page = await service.session_activity(rt, info.context.actor.id, str(ticket_id), first, after)
        except errors.DomainError as exc:
            return to_error(exc)
        except ClientError as exc:
            # Only a source reading one central store gets here (its store is the whole answer).
            return NotAllowedError(message=f"session activity is unavailable: {explain(exc)}", field=None)
        return SessionActivityPage(
            events=[SessionEvent.of(e) for e in page.events], end_cursor=page.next_cursor,
            has_next_page=page.next_cursor is not None, unavailable=page.unavailable, source=rt.settings.activity_source,
        )
