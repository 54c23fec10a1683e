"""The root schema, composed from one mixin per domain."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import strawberry
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError
from strawberry.types import ExecutionContext, Info
from strawberry.types.graphql import OperationType

from jit.auth.scopes import Scope
from jit.config import Settings
from jit.errors import DomainError
from jit.graphql.activity import ActivityQuery
from jit.graphql.approval_engine import ApprovalEngineMutation, ApprovalEngineQuery
from jit.graphql.audit import AuditMutation, AuditQuery
from jit.graphql.console_admin import ConsoleAdminMutation, ConsoleAdminQuery
from jit.graphql.context import Context
from jit.graphql.credentials import ActingCredential
from jit.graphql.directory import DirectoryQuery, Group, User, groups_of
from jit.graphql.eligibility import EligibilityQuery
from jit.graphql.groups import GroupsMutation, GroupsQuery
from jit.graphql.insights import InsightsQuery
from jit.graphql.notify import NotifyMutation, NotifyQuery
from jit.graphql.reliability import ReliabilityMutation, ReliabilityQuery
from jit.graphql.resolver import query
from jit.graphql.rules import RuleChangesQuery, RulesMutation, RulesQuery
from jit.graphql.security import build_extensions
from jit.graphql.sharing import SharedEventExecutionContext
from jit.graphql.tickets import TicketMutation, TicketQuery, TicketSubscription
from jit.graphql.tokens import TokenMutation, TokenQuery


@strawberry.type
class Me:
    user: User
    roles: list[str] = strawberry.field(description="ADMIN and/or AUDITOR, from the configured groups.")
    groups: list[Group]


@strawberry.type
class Query(
    DirectoryQuery, RulesQuery, TicketQuery, ApprovalEngineQuery, GroupsQuery, RuleChangesQuery, TokenQuery,
    ReliabilityQuery, EligibilityQuery, ConsoleAdminQuery, NotifyQuery, AuditQuery, ActivityQuery, InsightsQuery,
):
    @query(Scope.READ, description="The signed-in user.")
    async def me(self, info: Info[Context, None]) -> Me:
        actor = info.context.actor
        user = User.of(actor)
        return Me(user=user, roles=await info.context.runtime.authz.roles(actor.id), groups=await groups_of(str(user.id)))


@strawberry.type
class Mutation(
    TicketMutation, RulesMutation, ApprovalEngineMutation, GroupsMutation, TokenMutation, ReliabilityMutation,
    ConsoleAdminMutation, NotifyMutation, AuditMutation,
):
    pass


@strawberry.type
class Subscription(TicketSubscription):
    pass


log = logging.getLogger(__name__)


class QuietExecutionContext(SharedEventExecutionContext):
    """Leaves out suggestions ("Did you mean …?") from variable errors found at execution."""

    @classmethod
    def build(cls, *args: Any, **kwargs: Any) -> Any:
        kwargs["hide_suggestions"] = True
        return super().build(*args, **kwargs)


def expected_code(error: GraphQLError) -> str | None:
    """The code of an expected failure (the caller's own mistake or a refusal), or None for
    the unexpected. Parse and validation errors, guards' refusals (scopes, limits, rate),
    domain errors and the resolvers' safe messages are expected."""

    original = error.original_error
    code = (error.extensions or {}).get("code")
    if original is None or isinstance(original, GraphQLError):
        return code or "GRAPHQL_VALIDATION_FAILED"
    if isinstance(original, DomainError):
        return type(original).__name__
    if isinstance(original, ValueError) and not type(original).__module__.startswith(("tortoise", "asyncpg", "redis")):
        return code or "BAD_USER_INPUT"
    return None


class TimedSchema(strawberry.Schema):
    """Stops a query that runs longer than JIT_GRAPHQL_TIMEOUT_SECONDS, over HTTP and
    websockets alike (both execute through _execute_operation). Mutations are left to
    finish: one cut between its commit and its enqueue would leave its job to the
    reconciler, and the rate limit and cost budget already bound them. Subscriptions
    run as long as their socket."""

    def __init__(self, *args: Any, timeout: float | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.timeout = timeout

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        """Expected failures are one INFO line with their code; the unexpected keep ERROR
        and their traceback."""
        operation = (execution_context.operation_name if execution_context else None) or "anonymous"
        for error in errors:
            code = expected_code(error)
            if code is None:
                super().process_errors([error], execution_context)
                continue
            path = ".".join(str(p) for p in error.path or ()) or "-"
            message = " ".join(error.message.split())
            log.info("graphql: %s in %s at %s: %s", code, operation, path, message)

    async def _execute_operation(self, execution_context: ExecutionContext, *args: Any, **kwargs: Any) -> Any:
        if self.timeout is None or execution_context.operation_type is not OperationType.QUERY:
            return await super()._execute_operation(execution_context, *args, **kwargs)
        try:
            async with asyncio.timeout(self.timeout):
                return await super()._execute_operation(execution_context, *args, **kwargs)
        except TimeoutError:
            log.warning("graphql: stopped a query after %s s (operation %s)", self.timeout,
                        execution_context.operation_name or "anonymous")
            error = GraphQLError(f"the query took longer than {self.timeout:g} s and was stopped; ask for less",
                                 extensions={"code": "TIMEOUT"})
            return GraphQLExecutionResult(data=None, errors=[error])


def build_schema(settings: Settings | None = None) -> strawberry.Schema:
    """The served schema gets the guards of jit.graphql.security; the exported one is plain."""
    if settings is None:
        return strawberry.Schema(query=Query, mutation=Mutation, subscription=Subscription,
                                 extensions=build_extensions(None), execution_context_class=SharedEventExecutionContext)
    return TimedSchema(
        query=Query, mutation=Mutation, subscription=Subscription,
        extensions=[ActingCredential, *build_extensions(settings)],
        execution_context_class=SharedEventExecutionContext if settings.suggestions_enabled else QuietExecutionContext,
        timeout=settings.graphql_timeout_seconds or None,
    )


schema = build_schema()
