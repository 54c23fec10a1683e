"""The root schema, composed from one mixin per domain."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from jit.config import Settings
from jit.graphql.activity import ActivityQuery
from jit.graphql.audit import AuditQuery
from jit.graphql.context import Context
from jit.graphql.credentials import ActingCredential
from jit.graphql.security import build_extensions
from jit.graphql.sharing import SharedEventExecutionContext
from jit.graphql.tokens import TokenMutation, TokenQuery
from jit.graphql.directory import DirectoryQuery, Group, User
from jit.graphql.eligibility import EligibilityQuery
from jit.graphql.approval_engine import ApprovalEngineMutation, ApprovalEngineQuery
from jit.graphql.console_admin import ConsoleAdminMutation, ConsoleAdminQuery
from jit.graphql.groups import GroupsMutation, GroupsQuery
from jit.graphql.notify import NotifyMutation, NotifyQuery
from jit.graphql.reliability import ReliabilityMutation, ReliabilityQuery
from jit.graphql.rules import RuleChangesQuery, RulesMutation, RulesQuery
from jit.graphql.tickets import TicketMutation, TicketQuery, TicketSubscription


@strawberry.type
class Me:
    user: User
    roles: list[str] = strawberry.field(description="ADMIN and/or AUDITOR, from the configured groups.")
    groups: list[Group]


@strawberry.type
class Query(
    DirectoryQuery, RulesQuery, TicketQuery, ApprovalEngineQuery, GroupsQuery, RuleChangesQuery, TokenQuery,
    ReliabilityQuery, EligibilityQuery, ConsoleAdminQuery, NotifyQuery, AuditQuery, ActivityQuery,
):
    @strawberry.field(description="The signed-in user.")
    async def me(self, info: Info[Context, None]) -> Me:
        actor = info.context.actor
        user = User.of(actor)
        return Me(user=user, roles=await info.context.runtime.authz.roles(actor.id), groups=await user.groups())


@strawberry.type
class Mutation(
    TicketMutation, RulesMutation, ApprovalEngineMutation, GroupsMutation, TokenMutation, ReliabilityMutation,
    ConsoleAdminMutation, NotifyMutation,
):
    pass


@strawberry.type
class Subscription(TicketSubscription):
    pass


class PublicError(ValueError):
    """Raised by resolvers for messages that are safe to show (bad ids, cursors)."""


def build_schema(settings: Settings | None = None) -> strawberry.Schema:
    """The served schema gets the guards of jit.graphql.security; the exported one is plain."""
    return strawberry.Schema(
        query=Query, mutation=Mutation, subscription=Subscription,
        extensions=[ActingCredential, *build_extensions(settings)] if settings else build_extensions(settings),
        execution_context_class=SharedEventExecutionContext,
    )


schema = build_schema()
