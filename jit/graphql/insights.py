"""The insights dashboard over GraphQL: `insights(days)` (docs/console.md, "Insights")."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from jit.auth.scopes import Scope
from jit.graphql.context import Context
from jit.graphql.errors import ValidationError
from jit.graphql.resolver import OUTPUT, query
from jit.insights import queries


@strawberry.type
class DayCount:
    day: datetime
    count: int


@strawberry.type(description="From a ticket's request to its rule's last approval.")
class RuleApprovalTime:
    rule_name: str
    tickets: int
    p50_seconds: float
    p95_seconds: float


@strawberry.type
class CountedTarget:
    id: str = strawberry.field(description="An account id or a permission set ARN.")
    name: str
    count: int = strawberry.field(description="Targets requested.")


@strawberry.type
class BreakGlassUse:
    used: int = strawberry.field(description="Break-glass tickets requested in the range.")
    reviews_outstanding: int = strawberry.field(description="Break-glass tickets not yet reviewed, whenever requested.")


@strawberry.type(description="When revokes started relative to their ticket's end (jit.tickets.plan).")
class RevokeLateness:
    revokes: int
    late: int = strawberry.field(description="Revokes that started after the ticket's end.")
    worst_late_seconds: float
    average_early_seconds: float | None = strawberry.field(description="Negative when revokes started late on average.")


@strawberry.type(description="The deployment's AWS call budget for IAM Identity Center, now.")
class AwsBudgetUse:
    mode: str = strawberry.field(description="shared (Redis) or local (this process's share while Redis is away).")
    rate_per_second: float
    max_outstanding: int
    outstanding: int = strawberry.field(description="Asynchronous writes (creates, deletes) in flight now.")


@strawberry.type
class Insights:
    since: datetime
    until: datetime
    everyone: bool = strawberry.field(description="True for admins and auditors; otherwise only the caller's tickets.")
    active_grants: list[DayCount] = strawberry.field(description="Granted tickets whose window overlaps each day (UTC).")
    approval_times: list[RuleApprovalTime]
    top_accounts: list[CountedTarget]
    top_permission_sets: list[CountedTarget]
    break_glass: BreakGlassUse
    revoke_lateness: RevokeLateness
    aws_budget: AwsBudgetUse | None = strawberry.field(description="Admins and auditors only.")


InsightsResult = Annotated[Insights | ValidationError, strawberry.union("InsightsResult")]


async def _budget(info: Info[Context, None]) -> AwsBudgetUse:
    budget = info.context.runtime.budget
    status = budget.status()
    return AwsBudgetUse(mode=status["mode"], rate_per_second=float(status["rate"]),
                        max_outstanding=int(status["max_outstanding"]), outstanding=await budget.outstanding())


@strawberry.type
class InsightsQuery:
    @query(Scope.READ, errors=OUTPUT, description=(
        "Aggregates over the last `days` days: every ticket for admins and auditors, the caller's own otherwise."))
    async def insights(self, info: Info[Context, None], days: int = 30) -> InsightsResult:
        rt, actor = info.context.runtime, info.context.actor
        everyone = await rt.authz.is_admin_or_auditor(actor.id)
        scope = queries.scope(rt.clock.now(), days, None if everyone else actor.id)
        out = await queries.insights(scope)
        return Insights(
            since=scope.since, until=scope.until, everyone=everyone,
            active_grants=[DayCount(day=d.day, count=d.count) for d in out.active_grants],
            approval_times=[RuleApprovalTime(rule_name=r.rule_name, tickets=r.tickets, p50_seconds=r.p50_seconds,
                                             p95_seconds=r.p95_seconds) for r in out.approval_times],
            top_accounts=[CountedTarget(id=c.id, name=c.name, count=c.count) for c in out.top_accounts],
            top_permission_sets=[CountedTarget(id=c.id, name=c.name, count=c.count) for c in out.top_permission_sets],
            break_glass=BreakGlassUse(used=out.break_glass.used, reviews_outstanding=out.break_glass.reviews_outstanding),
            revoke_lateness=RevokeLateness(
                revokes=out.revoke_lateness.revokes, late=out.revoke_lateness.late,
                worst_late_seconds=out.revoke_lateness.worst_late_seconds,
                average_early_seconds=out.revoke_lateness.average_early_seconds),
            aws_budget=await _budget(info) if everyone else None,
        )
