"""API tokens over GraphQL: list, create (shown once) and revoke."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from jit import errors
from jit.auth import service
from jit.auth.models import ApiToken as TokenRow
from jit.auth.scopes import Scope
from jit.graphql.context import Context
from jit.graphql.directory import User
from jit.graphql.errors import NotAllowedError, NotFoundError, ValidationError
from jit.graphql.resolver import OUTPUT, mutation, query
from jit.ids import int_id

# Registers the GraphQL enum on Scope itself (strawberry.enum returns the class it is given).
strawberry.enum(Scope, name="ApiTokenScope")
ApiTokenScope = Scope


@strawberry.type
class ApiToken:
    id: strawberry.ID
    name: str
    scopes: list[ApiTokenScope]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None
    owner: User

    @classmethod
    def of(cls, row: TokenRow) -> ApiToken:
        return cls(
            id=strawberry.ID(str(row.id)), name=row.name,
            scopes=sorted(service.token_scopes(row), key=lambda s: list(Scope).index(s)),
            created_at=row.created_at, expires_at=row.expires_at, last_used_at=row.last_used_at,
            revoked_at=row.revoked_at, owner=User.of(row.user),
        )


@strawberry.type
class NewApiToken:
    token: str = strawberry.field(description="The secret. It is shown only this once; JIT keeps only its digest.")
    api_token: ApiToken


@strawberry.input
class CreateApiTokenInput:
    name: str
    scopes: list[ApiTokenScope]
    expires_at: datetime | None = strawberry.field(
        default=None, description="At most JIT_TOKEN_MAX_DAYS from now, and never after the token or session that "
        "mints it ends. Leave it out to make the token end with its minting credential (or in 90 days, when that "
        "never ends).")
    user_name: str | None = strawberry.field(
        default=None, description="Only the caller's own user name: tokens for someone else are made by an operator "
        "with `jit token create`.")


CreateApiTokenResult = Annotated[
    NewApiToken | ValidationError | NotAllowedError | NotFoundError, strawberry.union("CreateApiTokenResult")
]
RevokeApiTokenResult = Annotated[
    ApiToken | NotAllowedError | NotFoundError | ValidationError, strawberry.union("RevokeApiTokenResult")
]


def _parse_id(raw: str) -> int:
    found = int_id(raw)
    if found is None:
        raise errors.ValidationFailed("not a token id", field="id")
    return found


@strawberry.type
class TokenQuery:
    @query(Scope.READ, description="The caller's API tokens; admins may ask for everyone's with all: true.")
    async def api_tokens(self, info: Info[Context, None], all: bool = False) -> list[ApiToken]:
        ctx = info.context
        if all and not await ctx.runtime.authz.is_admin(ctx.actor.id):
            raise ValueError("only admins may list every user's tokens")
        return [ApiToken.of(r) for r in await service.list_tokens(None if all else ctx.actor.id)]


@strawberry.type
class TokenMutation:
    @mutation(Scope.ADMIN, errors=OUTPUT,
              description="A new API token of the caller's own, with at most the caller's scopes. It "
                          "never outlives the token or session that mints it, and is revoked with it.")
    async def create_api_token(self, info: Info[Context, None], input: CreateApiTokenInput) -> CreateApiTokenResult:
        ctx = info.context
        rt = ctx.runtime
        token, row = await service.create_token(
            rt.clock, input.user_name or ctx.actor.user_name, input.name.strip(), input.expires_at,
            frozenset(Scope(s) for s in input.scopes), creator=ctx.identity, max_days=rt.settings.token_max_days,
        )
        await row.fetch_related("user")
        return NewApiToken(token=token, api_token=ApiToken.of(row))

    @mutation(Scope.ADMIN, errors=OUTPUT,
              description="Revoke a token, and every token minted from it, now; open websockets that "
                          "use them are closed on every replica.")
    async def revoke_api_token(self, info: Info[Context, None], id: strawberry.ID) -> RevokeApiTokenResult:
        ctx = info.context
        owner = None if await ctx.runtime.authz.is_admin(ctx.actor.id) else ctx.actor.id
        row, ended = await service.revoke_token(ctx.runtime.clock, _parse_id(id), owner, actor_id=ctx.actor.id)
        await ctx.runtime.credentials_ended(tokens=ended)
        return ApiToken.of(row)
