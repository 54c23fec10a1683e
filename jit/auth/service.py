"""API tokens: the only code that writes api_token. Tokens are shown once, stored hashed."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.transactions import in_transaction

from jit.audit.service import record
from jit.auth.models import ApiToken
from jit.auth.scopes import ALL_SCOPES, Scope
from jit.clock import Clock
from jit.config import Settings
from jit.directory.models import User
from jit.errors import NotAllowed, NotFound, Unauthenticated, ValidationFailed

PREFIX = "jit_"
# Writing last_used_at on every request would turn reads into writes; a minute is plenty.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def same_digest(secret: str, expected_digest: str) -> bool:
    return hmac.compare_digest(digest(secret), expected_digest)


@dataclass(frozen=True)
class Identity:
    """Who is calling and through what: an API token or a console session."""

    user: User
    scopes: frozenset[Scope]
    method: str  # "token" | "session"
    token_id: int | None = None
    session_id: int | None = None
    csrf_hash: str | None = None

    def allows(self, needed: frozenset[Scope]) -> bool:
        return bool(self.scopes & needed)


def token_scopes(row: ApiToken) -> frozenset[Scope]:
    if row.scopes is None:  # made before scopes existed
        return ALL_SCOPES
    return frozenset(Scope(s) for s in row.scopes if s in Scope._value2member_map_)


async def create_token(
    clock: Clock,
    user_name: str,
    name: str = "",
    expires_at: datetime | None = None,
    scopes: frozenset[Scope] | set[Scope] | None = None,
    creator: Identity | None = None,
) -> tuple[str, ApiToken]:
    """A new token for user_name. With a creator (an API caller), it is for the creator's
    own user unless the creator is an admin, and never holds a scope the creator lacks."""
    scopes = frozenset(ALL_SCOPES if scopes is None else scopes)
    if not scopes:
        raise ValidationFailed("give the token at least one scope", field="scopes")
    if not name.strip() and creator is not None:
        raise ValidationFailed("give the token a name", field="name")
    if len(name) > 128:
        raise ValidationFailed("a token name has at most 128 characters", field="name")
    now = clock.now()
    if expires_at is not None and expires_at <= now:
        raise ValidationFailed("the expiry must be in the future", field="expiresAt")
    if creator is not None and not scopes <= creator.scopes:
        extra = ", ".join(sorted(s.value for s in scopes - creator.scopes))
        raise NotAllowed(f"a token cannot grant scopes its creator lacks: {extra}", field="scopes")
    user = await User.get_or_none(user_name=user_name, removed_at=None)
    if user is None:
        raise NotFound(f"unknown user {user_name!r}; run `jit sync` first?", field="userName")
    token = PREFIX + secrets.token_urlsafe(32)
    async with in_transaction():
        row = await ApiToken.create(
            user=user, name=name, token_hash=digest(token), created_at=now, expires_at=expires_at,
            scopes=sorted(s.value for s in scopes),
        )
        # Never the secret nor its digest: the audit log is exported to other systems.
        await record(
            now, creator.user.id if creator else None, "token.created", subject_type="token", subject_id=row.id,
            on_behalf_of=user.id if creator and creator.user.id != user.id else None,
            after=_snapshot(row, user), detail={"user": user.user_name, "via": creator.method if creator else "cli"},
        )
    return token, row


def _snapshot(row: ApiToken, user: User) -> dict:
    return {"user_id": user.id, "name": row.name, "scopes": row.scopes, "expires_at": row.expires_at,
            "revoked_at": row.revoked_at}


async def list_tokens(user_id: str | None = None) -> list[ApiToken]:
    """Tokens of one user, or of everyone when user_id is None (admins)."""
    qs = ApiToken.all() if user_id is None else ApiToken.filter(user_id=user_id)
    return await qs.order_by("-created_at", "-id").select_related("user")


async def revoke_token(
    clock: Clock, token_id: int, owner_id: str | None = None, *, actor_id: str | None = None
) -> ApiToken:
    """Revoke a token; with owner_id, only a token of that user (others look absent).
    actor_id is who revoked it (None: an operator at the command line)."""
    flt = {"id": token_id} if owner_id is None else {"id": token_id, "user_id": owner_id}
    now = clock.now()
    async with in_transaction():
        updated = await ApiToken.filter(revoked_at=None, **flt).update(revoked_at=now)
        if not updated:
            raise NotFound(f"token {token_id} not found or already revoked", field="id")
        row = await ApiToken.get(id=token_id).select_related("user")
        before = {**_snapshot(row, row.user), "revoked_at": None}
        await record(
            now, actor_id, "token.revoked", subject_type="token", subject_id=row.id,
            on_behalf_of=row.user.id if actor_id and actor_id != row.user.id else None,
            before=before, after=_snapshot(row, row.user), detail={"user": row.user.user_name},
        )
    return row


def bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthenticated("the Authorization header must be 'Bearer <token>'", field="Authorization")
    return value.strip()


async def identify_token(clock: Clock, token: str | None) -> Identity:
    if not token:
        raise Unauthenticated("authentication required: send 'Authorization: Bearer <token>'", field="Authorization")
    row = await ApiToken.get_or_none(token_hash=digest(token)).select_related("user")
    now = clock.now()
    if row is None:
        raise Unauthenticated("unknown token", field="Authorization")
    _check_token(row, now)
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_RESOLUTION:
        await ApiToken.filter(id=row.id).update(last_used_at=now)
    return Identity(user=row.user, scopes=token_scopes(row), method="token", token_id=row.id)


def _check_token(row: ApiToken, now: datetime) -> None:
    if row.revoked_at is not None:
        raise Unauthenticated("this token was revoked", field="Authorization")
    if row.expires_at is not None and row.expires_at <= now:
        raise Unauthenticated("this token has expired", field="Authorization")
    if row.user.removed_at is not None:
        raise Unauthenticated("this token's user is no longer in the directory", field="Authorization")


async def authenticate(clock: Clock, token: str | None) -> User:
    return (await identify_token(clock, token)).user


def _answer_for(identity: Identity, tokens: set[int], sessions_: set[int]) -> bool:
    if identity.token_id is not None:
        return identity.token_id in tokens
    return identity.session_id is not None and identity.session_id in sessions_


async def valid_credentials(
    settings: Settings, clock: Clock, identities: list[Identity]
) -> tuple[set[int], set[int]]:
    """The token ids and session ids among these identities that may still act: one query
    per kind, however many identities are asked about."""
    from jit.auth import sessions

    token_ids = sorted({i.token_id for i in identities if i.token_id is not None})
    session_ids = sorted({i.session_id for i in identities if i.token_id is None and i.session_id is not None})
    tokens: set[int] = set()
    if token_ids:
        now = clock.now()
        for row in await ApiToken.filter(id__in=token_ids).select_related("user"):
            try:
                _check_token(row, now)
            except Unauthenticated:
                continue
            tokens.add(row.id)
    active = await sessions.active_sessions(settings, clock, session_ids) if session_ids else set()
    return tokens, active


class CredentialChecks:
    """`still_valid` for many open websockets at once: the questions asked in one turn of
    the event loop (a thousand sockets sending the same event) are answered together by
    one query started after the last of them was asked, so each answer is as fresh as a
    query of its own would have been."""

    def __init__(self, settings: Settings, clock: Clock) -> None:
        self._settings = settings
        self._clock = clock
        self._batch: list[tuple[Identity, asyncio.Future]] | None = None
        self._running: set[asyncio.Task] = set()

    async def still_valid(self, identity: Identity) -> bool:
        if self._batch is None:
            self._batch = []
            asyncio.get_running_loop().call_soon(self._dispatch)
        future = asyncio.get_running_loop().create_future()
        self._batch.append((identity, future))
        return await future

    def _dispatch(self) -> None:
        batch, self._batch = self._batch or [], None
        task = asyncio.ensure_future(self._answer(batch))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _answer(self, batch: list[tuple[Identity, asyncio.Future]]) -> None:
        try:
            tokens, sessions_ = await valid_credentials(self._settings, self._clock, [i for i, _ in batch])
        except BaseException as exc:  # noqa: BLE001 - every waiter is told, none is left hanging
            failure = exc if isinstance(exc, Exception) else ConnectionError("the credential check was cancelled")
            for _, future in batch:
                if not future.done():
                    future.set_exception(failure)
            return
        for identity, future in batch:
            if not future.done():
                future.set_result(_answer_for(identity, tokens, sessions_))
