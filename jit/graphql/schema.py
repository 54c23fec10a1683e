"""The root schema, composed from one mixin per domain."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors
from strawberry.types import Info

from jit.graphql.context import Context
from jit.graphql.directory import DirectoryQuery, Group, User
from jit.graphql.reliability import ReliabilityMutation, ReliabilityQuery
from jit.graphql.rules import RulesMutation, RulesQuery
from jit.graphql.tickets import TicketMutation, TicketQuery, TicketSubscription


@strawberry.type
class Me:
    user: User
    roles: list[str] = strawberry.field(description="ADMIN and/or AUDITOR, from the configured groups.")
    groups: list[Group]


@strawberry.type
class Query(DirectoryQuery, RulesQuery, TicketQuery, ReliabilityQuery):
    @strawberry.field(description="The signed-in user.")
    async def me(self, info: Info[Context, None]) -> Me:
        actor = info.context.actor
        user = User.of(actor)
        return Me(user=user, roles=await info.context.runtime.authz.roles(actor.id), groups=await user.groups())


@strawberry.type
class Mutation(TicketMutation, RulesMutation, ReliabilityMutation):
    pass


@strawberry.type
class Subscription(TicketSubscription):
    pass


class PublicError(ValueError):
    """Raised by resolvers for messages that are safe to show (bad ids, cursors)."""


def _should_mask(error: GraphQLError) -> bool:
    original = error.original_error
    if original is None:
        return False  # parse and validation errors describe the caller's own document
    return not isinstance(original, ValueError) or type(original).__module__.startswith(("tortoise", "asyncpg", "redis"))


def build_schema() -> strawberry.Schema:
    return strawberry.Schema(
        query=Query, mutation=Mutation, subscription=Subscription,
        extensions=[MaskErrors(should_mask_error=_should_mask, error_message="Unexpected error.")],
    )


schema = build_schema()
