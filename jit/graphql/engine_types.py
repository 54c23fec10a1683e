"""Types of the approval engine shown on tickets: extensions and their decisions,
break-glass flags. Kept apart so jit.graphql.tickets only imports them."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry
from strawberry.types import Info

from jit.approvals.models import ExtensionDecision as ExtensionDecisionRow
from jit.graphql.context import Context
from jit.graphql.directory import User
from jit.tickets.models import Extension as ExtensionRow


async def load_user(info: Info[Context, None], user_id: str | None) -> User | None:
    if user_id is None:
        return None
    row = await info.context.users.load(user_id)
    return User.of(row) if row else None


@strawberry.enum
class ExtensionStatus(Enum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"


@strawberry.enum
class ExtensionOutcome(Enum):
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


@strawberry.type
class ExtensionDecision:
    outcome: ExtensionOutcome
    comment: str
    created_at: datetime
    step_position: int
    decider_id: strawberry.Private[str]
    on_behalf_of_id: strawberry.Private[str | None]

    @strawberry.field
    async def decider(self, info: Info[Context, None]) -> User | None:
        return await load_user(info, self.decider_id)

    @strawberry.field(description="Set when the decider acted through a delegation; the decision counts as theirs.")
    async def on_behalf_of(self, info: Info[Context, None]) -> User | None:
        return await load_user(info, self.on_behalf_of_id)


@strawberry.type
class Extension:
    id: strawberry.ID
    ticket_id: strawberry.ID
    additional_duration_seconds: int
    reason: str
    status: ExtensionStatus
    steps_required: int = strawberry.field(description="How many of the ticket's steps (by position) must approve.")
    expires_at: datetime = strawberry.field(description="A pending extension not approved by then expires.")
    previous_end_at: datetime
    new_end_at: datetime | None
    created_at: datetime
    decided_at: datetime | None
    requester_id: strawberry.Private[str]

    @strawberry.field
    async def requester(self, info: Info[Context, None]) -> User | None:
        return await load_user(info, self.requester_id)

    @strawberry.field
    async def decisions(self, info: Info[Context, None]) -> list[ExtensionDecision]:
        rows: list[ExtensionDecisionRow] = await info.context.extension_decisions.load(str(self.id))
        return [
            ExtensionDecision(outcome=ExtensionOutcome(r.outcome.value), comment=r.comment, created_at=r.created_at,
                              step_position=r.step_position, decider_id=r.decider_id,
                              on_behalf_of_id=r.on_behalf_of_id)
            for r in rows
        ]

    @classmethod
    def of(cls, row: ExtensionRow) -> Extension:
        return cls(
            id=strawberry.ID(str(row.id)), ticket_id=strawberry.ID(str(row.ticket_id)),
            additional_duration_seconds=row.additional_seconds, reason=row.reason,
            status=ExtensionStatus(row.status.value), steps_required=row.steps_required, expires_at=row.expires_at,
            previous_end_at=row.previous_end_at, new_end_at=row.new_end_at, created_at=row.created_at,
            decided_at=row.decided_at, requester_id=row.requester_id,
        )


@strawberry.type
class BreakGlassReview:
    reviewed_at: datetime
    comment: str
    reviewer_id: strawberry.Private[str | None]

    @strawberry.field
    async def reviewer(self, info: Info[Context, None]) -> User | None:
        return await load_user(info, self.reviewer_id)
