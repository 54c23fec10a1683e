from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from jit import errors
from jit.graphql.context import Context
from jit.graphql.errors import NotAllowedError, NotFoundError, ValidationError, WrongStateError, to_error
from jit.rules import service
from jit.rules.models import ApprovalRule as RuleRow
from jit.rules.schemas import parse_rule
from jit.tickets.service import parse_uuid


@strawberry.type
class Principals:
    users: list[str]
    groups: list[str]


@strawberry.type
class RuleScope:
    accounts: list[str]
    organizational_units: list[str]
    permission_sets: list[str]


@strawberry.type
class ApprovalStep:
    name: str
    users: list[str]
    groups: list[str]
    required: int


@strawberry.type
class ApprovalRule:
    id: strawberry.ID
    name: str
    description: str
    requesters: Principals
    scope: RuleScope
    max_duration_seconds: int
    justification_required: bool
    steps: list[ApprovalStep]
    auto_approved: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: RuleRow) -> ApprovalRule:
        return cls(
            id=strawberry.ID(str(row.id)), name=row.name, description=row.description,
            requesters=Principals(users=row.requester_users, groups=row.requester_groups),
            scope=RuleScope(accounts=row.accounts, organizational_units=row.organizational_units,
                            permission_sets=row.permission_sets),
            max_duration_seconds=row.max_duration_seconds, justification_required=row.justification_required,
            steps=[ApprovalStep(name=s["name"], users=s.get("users", []), groups=s.get("groups", []),
                                required=int(s.get("required", 1))) for s in row.steps],
            auto_approved=not row.steps, created_at=row.created_at, updated_at=row.updated_at,
        )


@strawberry.input
class PrincipalsInput:
    users: list[str] = strawberry.field(default_factory=list, description="User names")
    groups: list[str] = strawberry.field(default_factory=list, description="Group display names")


@strawberry.input
class RuleScopeInput:
    accounts: list[str] = strawberry.field(default_factory=list, description="Account ids or names")
    organizational_units: list[str] = strawberry.field(
        default_factory=list, description="OU ids, or name paths from the root such as /Workloads/Prod"
    )
    permission_sets: list[str] = strawberry.field(default_factory=list, description="Permission set names")


@strawberry.input
class ApprovalStepInput:
    name: str
    users: list[str] = strawberry.field(default_factory=list)
    groups: list[str] = strawberry.field(default_factory=list)
    required: int = 1


@strawberry.input
class ApprovalRuleInput:
    name: str
    description: str = ""
    requesters: PrincipalsInput
    scope: RuleScopeInput
    max_duration_seconds: int
    justification_required: bool = True
    steps: list[ApprovalStepInput] = strawberry.field(default_factory=list)


def _spec(data: ApprovalRuleInput):
    return parse_rule({
        "name": data.name, "description": data.description,
        "requesters": {"users": data.requesters.users, "groups": data.requesters.groups},
        "scope": {"accounts": data.scope.accounts, "organizational_units": data.scope.organizational_units,
                  "permission_sets": data.scope.permission_sets},
        "max_duration_seconds": data.max_duration_seconds,
        "justification_required": data.justification_required,
        "steps": [{"name": s.name, "users": s.users, "groups": s.groups, "required": s.required} for s in data.steps],
    })


@strawberry.type
class DeletedApprovalRule:
    id: strawberry.ID


ApprovalRuleResult = Annotated[
    ApprovalRule | ValidationError | NotAllowedError | NotFoundError | WrongStateError,
    strawberry.union("ApprovalRuleResult"),
]
DeleteApprovalRuleResult = Annotated[
    DeletedApprovalRule | ValidationError | NotAllowedError | NotFoundError | WrongStateError,
    strawberry.union("DeleteApprovalRuleResult"),
]


async def _require_admin(info: Info[Context, None]) -> None:
    ctx = info.context
    if not await ctx.runtime.authz.is_admin(ctx.actor.id):
        raise errors.NotAllowed("only admins may change approval rules")


def _rules(info: Info[Context, None]) -> service.RuleService:
    rt = info.context.runtime
    return service.RuleService(rt.settings, rt.clock)


@strawberry.type
class RulesQuery:
    @strawberry.field(description="Every approval rule. Anyone signed in may read them: rules are policy, not secrets.")
    async def approval_rules(self, info: Info[Context, None]) -> list[ApprovalRule]:
        return [ApprovalRule.of(r) for r in await service.list_rules()]


@strawberry.type
class RulesMutation:
    @strawberry.mutation(description="Admins only.")
    async def create_approval_rule(self, info: Info[Context, None], input: ApprovalRuleInput) -> ApprovalRuleResult:
        try:
            await _require_admin(info)
            return ApprovalRule.of(await _rules(info).create(_spec(input), info.context.actor.id))
        except errors.DomainError as exc:
            return to_error(exc)

    @strawberry.mutation(description="Admins only. Replaces the whole rule.")
    async def update_approval_rule(
        self, info: Info[Context, None], id: strawberry.ID, input: ApprovalRuleInput
    ) -> ApprovalRuleResult:
        try:
            await _require_admin(info)
            rule_id: uuid.UUID = parse_uuid(id, "id")
            return ApprovalRule.of(await _rules(info).update(rule_id, _spec(input), info.context.actor.id))
        except errors.DomainError as exc:
            return to_error(exc)

    @strawberry.mutation(description="Admins only. Tickets already requested keep their copied steps.")
    async def delete_approval_rule(self, info: Info[Context, None], id: strawberry.ID) -> DeleteApprovalRuleResult:
        try:
            await _require_admin(info)
            await _rules(info).delete(parse_uuid(id, "id"), info.context.actor.id)
            return DeletedApprovalRule(id=id)
        except errors.DomainError as exc:
            return to_error(exc)
