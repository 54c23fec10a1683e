"""API tokens over GraphQL: list, create (shown once) and revoke."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

import strawberry
from strawberry.types import Info

from jit import errors
from jit.auth import service
from jit.auth.models import ApiToken as TokenRow
from jit.auth.scopes import Scope
from jit.graphql.context import Context
from jit.graphql.directory import User
from jit.graphql.errors import NotAllowedError, NotFoundError, ValidationError, to_error
from jit.ids import int_id

ApiTokenScope = strawberry.enum(Scope, name="ApiTokenScope")
DEFAULT_TOKEN_DAYS = 90


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
        default=None, description=f"Defaults to {DEFAULT_TOKEN_DAYS} days from now; at most JIT_TOKEN_MAX_DAYS.")
    user_name: str | None = strawberry.field(default=None, description="Admins only; defaults to the caller.")


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
    @strawberry.field(description="The caller's API tokens; admins may ask for everyone's with all: true.")
    async def api_tokens(self, info: Info[Context, None], all: bool = False) -> list[ApiToken]:
        ctx = info.context
        if all and not await ctx.runtime.authz.is_admin(ctx.actor.id):
            raise ValueError("only admins may list every user's tokens")
        return [ApiToken.of(r) for r in await service.list_tokens(None if all else ctx.actor.id)]


@strawberry.type
class TokenMutation:
    @strawberry.mutation(description="A new API token with the given scopes. It can never do more than its owner.")
    async def create_api_token(self, info: Info[Context, None], input: CreateApiTokenInput) -> CreateApiTokenResult:
        ctx = info.context
        rt = ctx.runtime
        try:
            user_name = input.user_name or ctx.actor.user_name
            if user_name != ctx.actor.user_name and not await rt.authz.is_admin(ctx.actor.id):
                raise errors.NotAllowed("only admins may create tokens for someone else", field="userName")
            now = rt.clock.now()
            expires_at = input.expires_at or now + timedelta(days=DEFAULT_TOKEN_DAYS)
            if expires_at - now > timedelta(days=rt.settings.token_max_days):
                raise errors.ValidationFailed(
                    f"a token lives at most {rt.settings.token_max_days} days", field="expiresAt")
            token, row = await service.create_token(
                rt.clock, user_name, input.name.strip(), expires_at, frozenset(Scope(s) for s in input.scopes),
                creator=ctx.identity,
            )
        except errors.DomainError as exc:
            return to_error(exc)
        await row.fetch_related("user")
        return NewApiToken(token=token, api_token=ApiToken.of(row))

    @strawberry.mutation(description="Revoke a token now; open websockets that use it are closed.")
    async def revoke_api_token(self, info: Info[Context, None], id: strawberry.ID) -> RevokeApiTokenResult:
        ctx = info.context
        try:
            owner = None if await ctx.runtime.authz.is_admin(ctx.actor.id) else ctx.actor.id
            return ApiToken.of(await service.revoke_token(ctx.runtime.clock, _parse_id(id), owner, actor_id=ctx.actor.id))
        except errors.DomainError as exc:
            return to_error(exc)
