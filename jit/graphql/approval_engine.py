"""Delegations, extensions and break-glass over GraphQL. Resolvers parse input, call a
service and map the result; the services check authorization."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated, cast

import strawberry
from strawberry.types import Info

from jit.approvals import break_glass as break_glass_service
from jit.approvals import delegations as delegation_service
from jit.approvals.models import Delegation as DelegationRow
from jit.approvals.models import Outcome
from jit.auth.scopes import Scope
from jit.graphql.context import Context
from jit.graphql.directory import User
from jit.graphql.engine_types import Extension, load_user
from jit.graphql.errors import NotAllowedError, NotFoundError, ValidationError, WrongStateError
from jit.graphql.resolver import OUTPUT, mutation, query
from jit.graphql.tickets import Ticket, TicketResult
from jit.rules.models import ApprovalRule as RuleRow
from jit.tickets.extensions import decide_extension, request_extension


@strawberry.enum
class DelegationState(Enum):
    ACTIVE = "ACTIVE"
    NOT_STARTED = "NOT_STARTED"
    EXPIRED = "EXPIRED"
    REVOKED = "REVOKED"


@strawberry.type(description="An approver lets a delegate decide in their name for a window. Not transitive.")
class Delegation:
    id: strawberry.ID
    starts_at: datetime
    ends_at: datetime
    reason: str
    rule_ids: list[strawberry.ID] = strawberry.field(description="Empty: every rule the delegator approves for.")
    state: DelegationState
    created_at: datetime
    revoked_at: datetime | None
    delegator_id: strawberry.Private[str]
    delegate_id: strawberry.Private[str]

    @strawberry.field
    async def delegator(self, info: Info[Context, None]) -> User | None:
        return await load_user(info, self.delegator_id)

    @strawberry.field
    async def delegate(self, info: Info[Context, None]) -> User | None:
        return await load_user(info, self.delegate_id)

    @strawberry.field
    async def rule_names(self) -> list[str]:
        if not self.rule_ids:
            return []
        # Tortoise types values_list as tuples even with flat=True, which returns the bare names.
        names = cast(list[str], await RuleRow.filter(id__in=[str(r) for r in self.rule_ids]).values_list("name", flat=True))
        return sorted(names)

    @classmethod
    def of(cls, row: DelegationRow, now: datetime) -> Delegation:
        return cls(
            id=strawberry.ID(str(row.id)), starts_at=row.starts_at, ends_at=row.ends_at, reason=row.reason,
            rule_ids=[strawberry.ID(str(r)) for r in row.rule_ids or []],
            state=DelegationState(delegation_service.delegation_state(row, now)), created_at=row.created_at,
            revoked_at=row.revoked_at, delegator_id=row.delegator_id, delegate_id=row.delegate_id,
        )


@strawberry.input
class CreateDelegationInput:
    delegate_id: strawberry.ID
    ends_at: datetime
    reason: str
    starts_at: datetime | None = strawberry.field(default=None, description="Defaults to now.")
    rule_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Limit to these rules; empty or null means every rule you approve for."
    )


DelegationResult = Annotated[
    Delegation | ValidationError | NotAllowedError | NotFoundError | WrongStateError,
    strawberry.union("DelegationResult"),
]
ExtensionResult = Annotated[
    Extension | ValidationError | NotAllowedError | NotFoundError | WrongStateError,
    strawberry.union("ExtensionResult"),
]


@strawberry.type
class ApprovalEngineQuery:
    @query(Scope.READ, description="Delegations you gave or received (admins and auditors: all).")
    async def delegations(self, info: Info[Context, None], include_inactive: bool = False) -> list[Delegation]:
        rt = info.context.runtime
        rows = await delegation_service.list_delegations(rt, info.context.actor, include_inactive)
        now = rt.clock.now()
        return [Delegation.of(r, now) for r in rows]


@strawberry.type
class ApprovalEngineMutation:
    @mutation(Scope.DECIDE, errors=OUTPUT, description="Let someone decide in your name (approvers only; not transitive).")
    async def create_delegation(self, info: Info[Context, None], input: CreateDelegationInput) -> DelegationResult:
        rt = info.context.runtime
        row = await delegation_service.create_delegation(rt, info.context.actor, delegation_service.DelegationRequest(
            delegate_id=str(input.delegate_id), starts_at=input.starts_at, ends_at=input.ends_at,
            reason=input.reason, rule_ids=[str(r) for r in input.rule_ids or []],
        ))
        return Delegation.of(row, rt.clock.now())

    @mutation(Scope.DECIDE, errors=OUTPUT, description="The delegator, the delegate or an admin ends a delegation now.")
    async def revoke_delegation(self, info: Info[Context, None], id: strawberry.ID) -> DelegationResult:
        rt = info.context.runtime
        row = await delegation_service.revoke_delegation(rt, info.context.actor, str(id))
        return Delegation.of(row, rt.clock.now())

    @mutation(Scope.REQUEST, errors=OUTPUT, description="Ask to move the end of a SCHEDULED or ACTIVE ticket later.")
    async def request_extension(
        self, info: Info[Context, None], ticket_id: strawberry.ID, additional_duration_seconds: int, reason: str
    ) -> ExtensionResult:
        return Extension.of(await request_extension(
            info.context.runtime, info.context.actor, str(ticket_id), additional_duration_seconds, reason
        ))

    @mutation(Scope.DECIDE, errors=OUTPUT, description="Approve an extension at its current step (directly or through a delegation).")
    async def approve_extension(
        self, info: Info[Context, None], extension_id: strawberry.ID, comment: str = ""
    ) -> ExtensionResult:
        return Extension.of(await decide_extension(
            info.context.runtime, info.context.actor, str(extension_id), Outcome.APPROVED, comment
        ))

    @mutation(Scope.DECIDE, errors=OUTPUT, description="Reject an extension; the ticket keeps its end.")
    async def reject_extension(
        self, info: Info[Context, None], extension_id: strawberry.ID, comment: str = ""
    ) -> ExtensionResult:
        return Extension.of(await decide_extension(
            info.context.runtime, info.context.actor, str(extension_id), Outcome.REJECTED, comment
        ))

    @mutation(Scope.REQUEST, errors=OUTPUT,
              description=("Break-glass: the requester approves their own ticket with a reason, where every "
                           "governing rule allows it. Granted at once; flagged until reviewed."))
    async def break_glass_ticket(
        self, info: Info[Context, None], ticket_id: strawberry.ID, reason: str
    ) -> TicketResult:
        return Ticket.of(await break_glass_service.break_glass(
            info.context.runtime, info.context.actor, str(ticket_id), reason
        ))

    @mutation(Scope.DECIDE, errors=OUTPUT, description="The post-hoc review of a break-glass ticket by an approver of its rules.")
    async def review_break_glass(
        self, info: Info[Context, None], ticket_id: strawberry.ID, comment: str = ""
    ) -> TicketResult:
        return Ticket.of(await break_glass_service.review_break_glass(
            info.context.runtime, info.context.actor, str(ticket_id), comment
        ))
