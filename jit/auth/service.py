"""API tokens: the only code that writes api_token. Tokens are shown once, stored hashed."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from jit.audit.service import record
from jit.auth.models import ApiToken
from jit.auth.scopes import ALL_SCOPES, Scope
from jit.clock import Clock
from jit.config import Settings
from jit.directory.models import User
from jit.directory.queries import live
from jit.errors import NotAllowed, NotFound, Unauthenticated, ValidationFailed

PREFIX = "jit_"
# A token minted through the API by a credential that never ends lives this long by default.
DEFAULT_TOKEN_DAYS = 90
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
    method: str  # "token" | "session" | "slack"
    token_id: int | None = None
    session_id: int | None = None
    csrf_hash: str | None = None
    # When the credential ends by itself (a session's absolute timeout); None: never.
    expires_at: datetime | None = None
    # A token minted for its owner by someone else: it never decides (jit.auth.acting).
    minted_for_other: bool = False
    # method "slack": the Slack user whose signed request acted (jit/slack/routes.py).
    slack_user_id: str | None = None

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
    *,
    max_days: int | None = None,
    minted_by: str | None = None,
) -> tuple[str, ApiToken]:
    """A new token for user_name.

    With a creator (an API caller) the token is the creator's own, its child: it never
    holds a scope the creator lacks, never outlives it (None: until the creator ends, or
    DEFAULT_TOKEN_DAYS for a creator that never does; at most max_days), and is revoked
    with it. Without one it is an operator's token (`jit token create`): minted_by names
    who made it, and a token made for someone else never decides."""
    scopes = frozenset(ALL_SCOPES if scopes is None else scopes)
    if not scopes:
        raise ValidationFailed("give the token at least one scope", field="scopes")
    if not name.strip() and creator is not None:
        raise ValidationFailed("give the token a name", field="name")
    if len(name) > 128:
        raise ValidationFailed("a token name has at most 128 characters", field="name")
    now = clock.now()
    if creator is not None:
        if user_name != creator.user.user_name:
            raise NotAllowed("a token can only be made for yourself through the API; an operator makes tokens "
                             "for someone else with `jit token create`", field="userName")
        expires_at = child_expiry(now, creator, expires_at, max_days)
    if expires_at is not None and expires_at <= now:
        raise ValidationFailed("the expiry must be in the future", field="expiresAt")
    if creator is not None and not scopes <= creator.scopes:
        extra = ", ".join(sorted(s.value for s in scopes - creator.scopes))
        raise NotAllowed(f"a token cannot grant scopes its creator lacks: {extra}", field="scopes")
    user = await live(User).get_or_none(user_name=user_name)
    if user is None:
        raise NotFound(f"unknown user {user_name!r}; run `jit sync` first?", field="userName")
    minted: str | None
    if creator is not None:
        minted = f"user:{creator.user.id}"
        for_other = creator.minted_for_other
    else:
        minted = f"operator:{minted_by}" if minted_by else None
        for_other = bool(minted_by) and minted_by != user.user_name
    token = PREFIX + secrets.token_urlsafe(32)
    async with in_transaction():
        row = await ApiToken.create(
            user=user, name=name, token_hash=digest(token), created_at=now, expires_at=expires_at,
            scopes=sorted(s.value for s in scopes), minted_by=minted, minted_for_other=for_other,
            parent_token_id=creator.token_id if creator else None,
            parent_session_id=creator.session_id if creator and creator.token_id is None else None,
        )
        # Never the secret nor its digest: the audit log is exported to other systems.
        await record(
            now, creator.user.id if creator else None, "token.created", subject_type="token", subject_id=row.id,
            after=_snapshot(row, user),
            detail={"user": user.user_name, "via": creator.method if creator else "cli", "minted_by": minted,
                    **({"os_user": _os_user()} if creator is None else {})},
        )
    return token, row


def child_expiry(now: datetime, creator: Identity, wanted: datetime | None, max_days: int | None) -> datetime:
    """When a token minted by `creator` ends: what was asked, within the creator's own life."""
    longest = now + timedelta(days=max_days if max_days is not None else DEFAULT_TOKEN_DAYS)
    if wanted is None:
        return min(longest, creator.expires_at or now + timedelta(days=DEFAULT_TOKEN_DAYS))
    if wanted > longest:
        raise ValidationFailed(f"a token lives at most {max_days} days", field="expiresAt")
    if creator.expires_at is not None and wanted > creator.expires_at:
        raise ValidationFailed(
            f"a token may not outlive the {'session' if creator.token_id is None else 'token'} that mints it, which "
            f"ends at {creator.expires_at.isoformat()}; leave the expiry out to make it end then", field="expiresAt")
    return wanted


def _os_user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name (a container): say so
        return "unknown"


def _snapshot(row: ApiToken, user: User) -> dict[str, Any]:
    return {"user_id": user.id, "name": row.name, "scopes": row.scopes, "expires_at": row.expires_at,
            "revoked_at": row.revoked_at, "revoked_reason": row.revoked_reason, "minted_by": row.minted_by,
            "minted_for_other": row.minted_for_other, "parent_token_id": row.parent_token_id,
            "parent_session_id": row.parent_session_id}


async def list_tokens(user_id: str | None = None) -> list[ApiToken]:
    """Tokens of one user, or of everyone when user_id is None (admins)."""
    qs = ApiToken.all() if user_id is None else ApiToken.filter(user_id=user_id)
    return await qs.order_by("-created_at", "-id").select_related("user")


async def revoke_token(
    clock: Clock, token_id: int, owner_id: str | None = None, *, actor_id: str | None = None
) -> tuple[ApiToken, list[int]]:
    """Revoke a token and every token minted from it, however deep (Vault's rule); with
    owner_id, only a token of that user (others look absent). actor_id is who revoked it
    (None: an operator at the command line). Returns the token and the ids of every token
    that ended, for the caller to announce after commit (jit.auth.live)."""
    flt = {"id": token_id} if owner_id is None else {"id": token_id, "user_id": owner_id}
    now = clock.now()
    async with in_transaction():
        updated = await ApiToken.filter(revoked_at=None, **flt).update(revoked_at=now, revoked_reason="revoked")
        if not updated:
            raise NotFound(f"token {token_id} not found or already revoked", field="id")
        row = await ApiToken.get(id=token_id).select_related("user")
        before = {**_snapshot(row, row.user), "revoked_at": None, "revoked_reason": None}
        await record(
            now, actor_id, "token.revoked", subject_type="token", subject_id=row.id,
            on_behalf_of=row.user.id if actor_id and actor_id != row.user.id else None,
            before=before, after=_snapshot(row, row.user), detail={"user": row.user.user_name},
        )
        ended = [row.id, *await _end_descendants(now, [row.id], [], actor_id, "parent revoked")]
    return row, ended


async def end_tokens_of_session(clock: Clock, session_id: int, actor_id: str | None) -> list[int]:
    """Revoke the tokens a session minted, and theirs: called in the transaction that ends it."""
    return await _end_descendants(clock.now(), [], [session_id], actor_id, "session ended")


async def _end_descendants(now: datetime, token_ids: list[int], session_ids: list[int], actor_id: str | None,
                           reason: str) -> list[int]:
    """Revoke the live tokens minted by these tokens or sessions, then theirs, level by
    level; each is audited. A token revoked earlier stops nothing below it: its children
    were revoked with it."""
    ended: list[int] = []
    parents, sessions_ = list(token_ids), list(session_ids)
    while parents or sessions_:
        query = ApiToken.filter(revoked_at=None)
        if parents and sessions_:
            query = query.filter(Q(parent_token_id__in=parents) | Q(parent_session_id__in=sessions_))
        elif parents:
            query = query.filter(parent_token_id__in=parents)
        else:
            query = query.filter(parent_session_id__in=sessions_)
        children = await query.select_related("user")
        if not children:
            break
        ids = [c.id for c in children]
        await ApiToken.filter(id__in=ids, revoked_at=None).update(revoked_at=now, revoked_reason=reason)
        for child in children:
            before = _snapshot(child, child.user)
            child.revoked_at, child.revoked_reason = now, reason
            await record(now, actor_id, "token.revoked", subject_type="token", subject_id=child.id,
                         on_behalf_of=child.user.id if actor_id and actor_id != child.user.id else None,
                         before=before, after=_snapshot(child, child.user),
                         detail={"user": child.user.user_name, "reason": reason,
                                 "parent": f"token:{child.parent_token_id}" if child.parent_token_id
                                 else f"session:{child.parent_session_id}"})
        ended += ids
        parents, sessions_ = ids, []
    return ended


async def end_tokens_of_users(clock: Clock, user_ids: list[str], reason: str) -> list[int]:
    """Revoke every live token of these users (removed from the directory), audited."""
    if not user_ids:
        return []
    now = clock.now()
    rows = await ApiToken.filter(user_id__in=user_ids, revoked_at=None).select_related("user")
    if rows:
        await ApiToken.filter(id__in=[r.id for r in rows], revoked_at=None).update(revoked_at=now, revoked_reason=reason)
    for row in rows:
        before = _snapshot(row, row.user)
        row.revoked_at, row.revoked_reason = now, reason
        await record(now, None, "token.revoked", subject_type="token", subject_id=row.id, before=before,
                     after=_snapshot(row, row.user), detail={"user": row.user.user_name, "reason": reason})
    return [r.id for r in rows]


def token_state(row: ApiToken, now: datetime) -> str:
    """active, expired, revoked, or ended (<why>) when it ended with its parent or user."""
    if row.revoked_at is not None:
        return "revoked" if row.revoked_reason in (None, "revoked") else f"ended ({row.revoked_reason})"
    if row.expires_at is not None and row.expires_at <= now:
        return "expired"
    return "active"


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
    return Identity(user=row.user, scopes=token_scopes(row), method="token", token_id=row.id,
                    expires_at=row.expires_at, minted_for_other=row.minted_for_other)


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
        self._batch: list[tuple[Identity, asyncio.Future[bool]]] | None = None
        self._running: set[asyncio.Task[Any]] = set()

    async def still_valid(self, identity: Identity) -> bool:
        if self._batch is None:
            self._batch = []
            asyncio.get_running_loop().call_soon(self._dispatch)
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._batch.append((identity, future))
        return await future

    def _dispatch(self) -> None:
        batch, self._batch = self._batch or [], None
        task = asyncio.ensure_future(self._answer(batch))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _answer(self, batch: list[tuple[Identity, asyncio.Future[bool]]]) -> None:
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
