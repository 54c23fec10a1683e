from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from jit.auth.scopes import Scope
from jit.graphql.context import Context
from jit.graphql.directory import User
from jit.graphql.errors import NotAllowedError, NotFoundError, ValidationError, WrongStateError
from jit.graphql.resolver import INPUT, mutation, query
from jit.rules import changes, service
from jit.rules.models import ApprovalRule as RuleRow
from jit.rules.models import RuleChange as RuleChangeRow
from jit.rules.plan import step_warnings
from jit.rules.schemas import RuleSpec, StepSpec, parse_rule
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
class OnBehalf:
    requesters: Principals
    principals: Principals


@strawberry.type
class ExtensionPolicy:
    requires_approval: bool
    steps: int | None = strawberry.field(description="How many of the rule's steps an extension passes; null means all.")
    max_total_duration_seconds: int
    max_extensions: int


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
    on_behalf: list[OnBehalf] = strawberry.field(description="Who may request for whom under this rule.")
    break_glass: bool = strawberry.field(description="Whether the requester may approve their own ticket, with a reason.")
    approval_window_seconds: int
    extension: ExtensionPolicy | None = strawberry.field(description="Null: tickets under this rule cannot be extended.")
    permission_set_groups: list[str]
    permission_set_groups_bundle_only: bool = strawberry.field(
        default=False, description="The groups' permission sets are requestable only as the whole group.")

    @strawberry.field(description=(
        "Problems that do not stop the rule from being saved: each step that needs more approvals than its "
        "groups and users hold people, counting the directory as synced. Requests such a step would govern "
        "are refused."))
    async def warnings(self, info: Info[Context, None]) -> list[str]:
        directory = await info.context.directory.load("directory")
        return step_warnings(self.name, [StepSpec(name=s.name, users=s.users, groups=s.groups,
                                                  required=s.required) for s in self.steps], directory)

    @classmethod
    def of(cls, row: RuleRow) -> ApprovalRule:
        spec = row.spec
        return cls(
            id=strawberry.ID(str(row.id)), name=row.name, description=row.description,
            requesters=Principals(users=row.requester_users, groups=row.requester_groups),
            scope=RuleScope(accounts=row.accounts, organizational_units=row.organizational_units,
                            permission_sets=row.permission_sets),
            max_duration_seconds=row.max_duration_seconds, justification_required=row.justification_required,
            steps=[ApprovalStep(name=s.name, users=s.users, groups=s.groups, required=s.required) for s in spec.steps],
            auto_approved=not row.steps, created_at=row.created_at, updated_at=row.updated_at,
            on_behalf=[OnBehalf(requesters=Principals(**e["requesters"]), principals=Principals(**e["principals"]))
                       for e in row.on_behalf or []],
            break_glass=row.break_glass, approval_window_seconds=row.approval_window_seconds,
            extension=ExtensionPolicy(
                requires_approval=spec.extension.requires_approval, steps=spec.extension.steps,
                max_total_duration_seconds=spec.extension.max_total_duration_seconds,
                max_extensions=spec.extension.max_extensions,
            ) if spec.extension else None,
            permission_set_groups=list(row.permission_set_groups or []),
            permission_set_groups_bundle_only=row.permission_set_groups_bundle_only,
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
    permission_set_groups: list[str] = strawberry.field(
        default_factory=list, description="Permission set group names. Each group is requestable as one target, and "
                                          "each of its permission sets alone too unless permissionSetGroupsBundleOnly.")
    permission_set_groups_bundle_only: bool = strawberry.field(
        default=False, description="The groups' permission sets are requestable only as the whole group.")


@strawberry.input
class OnBehalfInput:
    requesters: PrincipalsInput
    principals: PrincipalsInput


@strawberry.input
class ExtensionPolicyInput:
    requires_approval: bool = True
    steps: int | None = None
    max_total_duration_seconds: int
    max_extensions: int = 1


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
    on_behalf: list[OnBehalfInput] = strawberry.field(default_factory=list)
    break_glass: bool = False
    approval_window_seconds: int = 86400
    extension: ExtensionPolicyInput | None = None


def _principals(p: PrincipalsInput) -> dict[str, Any]:
    return {"users": p.users, "groups": p.groups}


def _spec(data: ApprovalRuleInput) -> RuleSpec:
    return parse_rule({
        "name": data.name, "description": data.description,
        "requesters": {"users": data.requesters.users, "groups": data.requesters.groups},
        "scope": {"accounts": data.scope.accounts, "organizational_units": data.scope.organizational_units,
                  "permission_sets": data.scope.permission_sets,
                  "permission_set_groups": data.scope.permission_set_groups,
                  "permission_set_groups_bundle_only": data.scope.permission_set_groups_bundle_only},
        "max_duration_seconds": data.max_duration_seconds,
        "justification_required": data.justification_required,
        "steps": [{"name": s.name, "users": s.users, "groups": s.groups, "required": s.required} for s in data.steps],
        "on_behalf": [{"requesters": _principals(e.requesters), "principals": _principals(e.principals)}
                      for e in data.on_behalf],
        "break_glass": data.break_glass, "approval_window_seconds": data.approval_window_seconds,
        "extension": None if data.extension is None else {
            "requires_approval": data.extension.requires_approval, "steps": data.extension.steps,
            "max_total_duration_seconds": data.extension.max_total_duration_seconds,
            "max_extensions": data.extension.max_extensions,
        },
    })


@strawberry.type
class DeletedApprovalRule:
    id: strawberry.ID


@strawberry.type(description="A change to a rule scoped to a guarded OU, waiting for a second admin.")
class PendingRuleChange:
    id: strawberry.ID
    action: str
    rule_name: str
    status: str
    before: JSON | None
    after: JSON | None
    proposed_at: datetime
    proposed_by_id: strawberry.Private[str | None]
    decided_at: datetime | None

    @classmethod
    def of(cls, row: RuleChangeRow) -> PendingRuleChange:
        before = None if row.before is None else JSON(row.before)
        after = None if row.after is None else JSON(row.after)
        return cls(id=strawberry.ID(str(row.id)), action=row.action, rule_name=row.rule_name, status=row.status,
                   before=before, after=after, proposed_at=row.proposed_at, proposed_by_id=row.proposed_by,
                   decided_at=row.decided_at)

    @strawberry.field
    async def proposed_by(self, info: Info[Context, None]) -> User | None:
        if self.proposed_by_id is None:
            return None
        row = await info.context.users.load(self.proposed_by_id)
        return User.of(row) if row else None


ApprovalRuleResult = Annotated[
    ApprovalRule | PendingRuleChange | ValidationError | NotAllowedError | NotFoundError | WrongStateError,
    strawberry.union("ApprovalRuleResult"),
]
RuleChangeResult = Annotated[
    PendingRuleChange | ValidationError | NotAllowedError | NotFoundError | WrongStateError,
    strawberry.union("RuleChangeResult"),
]
DeleteApprovalRuleResult = Annotated[
    DeletedApprovalRule | PendingRuleChange | ValidationError | NotAllowedError | NotFoundError | WrongStateError,
    strawberry.union("DeleteApprovalRuleResult"),
]


def _rules(info: Info[Context, None]) -> changes.RuleChangeService:
    return changes.RuleChangeService(info.context.runtime)


def _rule_or_change(result: RuleRow | changes.Proposed) -> ApprovalRule | PendingRuleChange:
    if isinstance(result, changes.Proposed):
        return PendingRuleChange.of(result.change)
    return ApprovalRule.of(result)


@strawberry.type
class RulesQuery:
    @query(Scope.READ,
           description="Every approval rule. Anyone signed in may read them: rules are policy, not secrets.")
    async def approval_rules(self, info: Info[Context, None]) -> list[ApprovalRule]:
        return [ApprovalRule.of(r) for r in await service.list_rules()]


@strawberry.type
class RuleChangesQuery:
    @query(Scope.READ, description="Admins only: rule changes waiting for a second admin.")
    async def pending_rule_changes(self, info: Info[Context, None]) -> list[PendingRuleChange]:
        if not await info.context.runtime.authz.is_admin(info.context.actor.id):
            return []
        return [PendingRuleChange.of(c) for c in await changes.pending_changes()]


@strawberry.type
class RulesMutation:
    @mutation(Scope.ADMIN, errors=INPUT,
              description="Admins only, and not the admin who proposed it. Applies the change.")
    async def approve_rule_change(self, info: Info[Context, None], id: strawberry.ID, comment: str = "") -> RuleChangeResult:
        return PendingRuleChange.of(await _rules(info).decide(id, info.context.actor.id, True, comment))

    @mutation(Scope.ADMIN, errors=INPUT, description="Admins only. Discards the change.")
    async def reject_rule_change(self, info: Info[Context, None], id: strawberry.ID, comment: str = "") -> RuleChangeResult:
        return PendingRuleChange.of(await _rules(info).decide(id, info.context.actor.id, False, comment))

    @mutation(Scope.ADMIN, errors=INPUT, description="Admins only.")
    async def create_approval_rule(self, info: Info[Context, None], input: ApprovalRuleInput) -> ApprovalRuleResult:
        return _rule_or_change(await _rules(info).create(_spec(input), info.context.actor.id))

    @mutation(Scope.ADMIN, errors=INPUT, description="Admins only. Replaces the whole rule.")
    async def update_approval_rule(
        self, info: Info[Context, None], id: strawberry.ID, input: ApprovalRuleInput
    ) -> ApprovalRuleResult:
        rule_id: uuid.UUID = parse_uuid(id, "id")
        return _rule_or_change(await _rules(info).update(rule_id, _spec(input), info.context.actor.id))

    @mutation(Scope.ADMIN, errors=INPUT, description="Admins only. Tickets already requested keep their copied steps.")
    async def delete_approval_rule(self, info: Info[Context, None], id: strawberry.ID) -> DeleteApprovalRuleResult:
        proposed = await _rules(info).delete(parse_uuid(id, "id"), info.context.actor.id)
        return PendingRuleChange.of(proposed.change) if proposed else DeletedApprovalRule(id=id)
