"""API tokens: the only code that writes api_token. Tokens are shown once, stored hashed."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from jit.auth.models import ApiToken
from jit.clock import Clock
from jit.directory.models import User
from jit.errors import NotFound, Unauthenticated

PREFIX = "jit_"
# Writing last_used_at on every request would turn reads into writes; a minute is plenty.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_token(
    clock: Clock, user_name: str, name: str = "", expires_at: datetime | None = None
) -> tuple[str, ApiToken]:
    user = await User.get_or_none(user_name=user_name, removed_at=None)
    if user is None:
        raise NotFound(f"unknown user {user_name!r}; run `jit sync` first?", field="userName")
    token = PREFIX + secrets.token_urlsafe(32)
    row = await ApiToken.create(
        user=user, name=name, token_hash=digest(token), created_at=clock.now(), expires_at=expires_at
    )
    return token, row


async def revoke_token(clock: Clock, token_id: int) -> None:
    updated = await ApiToken.filter(id=token_id, revoked_at=None).update(revoked_at=clock.now())
    if not updated:
        raise NotFound(f"token {token_id} not found or already revoked", field="id")


def bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthenticated("the Authorization header must be 'Bearer <token>'", field="Authorization")
    return value.strip()


async def authenticate(clock: Clock, token: str | None) -> User:
    if not token:
        raise Unauthenticated("authentication required: send 'Authorization: Bearer <token>'", field="Authorization")
    row = await ApiToken.get_or_none(token_hash=digest(token)).select_related("user")
    now = clock.now()
    if row is None:
        raise Unauthenticated("unknown token", field="Authorization")
    if row.revoked_at is not None:
        raise Unauthenticated("this token was revoked", field="Authorization")
    if row.expires_at is not None and row.expires_at <= now:
        raise Unauthenticated("this token has expired", field="Authorization")
    if row.user.removed_at is not None:
        raise Unauthenticated("this token's user is no longer in the directory", field="Authorization")
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_RESOLUTION:
        await ApiToken.filter(id=row.id).update(last_used_at=now)
    return row.user
