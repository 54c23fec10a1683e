"""Console sessions: the only code that writes sign_in_session.

The browser holds a random session secret in an HttpOnly cookie and a separate CSRF
secret in a readable cookie; the database holds only their digests. A session ends at
its absolute timeout, after the idle timeout without a request, or at logout.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.transactions import in_transaction

from jit.audit.service import record
from jit.auth.models import SignInSession
from jit.auth.scopes import ALL_SCOPES
from jit.auth.service import Identity, digest, end_tokens_of_session
from jit.clock import Clock
from jit.config import Settings
from jit.directory.models import User
from jit.errors import Unauthenticated

# Refreshing last_seen_at on every request would turn reads into writes.
LAST_SEEN_RESOLUTION = timedelta(seconds=30)


@dataclass(frozen=True)
class NewSession:
    secret: str
    csrf: str
    row: SignInSession


def cookie_names(settings: Settings) -> tuple[str, str]:
    # The __Host- prefix makes browsers refuse the cookie unless Secure, Path=/ and host-only.
    if settings.https:
        return "__Host-jit_session", "__Host-jit_csrf"
    return "jit_session", "jit_csrf"


async def create_session(
    settings: Settings, clock: Clock, user: User, method: str, token_groups: list[str] | None = None
) -> NewSession:
    now = clock.now()
    secret, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    async with in_transaction():
        row = await SignInSession.create(
            user=user, session_hash=digest(secret), csrf_hash=digest(csrf), method=method,
            token_groups=token_groups, created_at=now, last_seen_at=now,
            expires_at=now + timedelta(seconds=settings.session_absolute_timeout),
        )
        await record(
            now, user.id, "user.signed_in", subject_type="user", subject_id=user.id,
            after={"session": row.id, "method": method, "expires_at": row.expires_at},
            detail={"user": user.user_name, "method": method, "groups": token_groups or []},
        )
    return NewSession(secret, csrf, row)


def _live(settings: Settings, row: SignInSession, now: datetime) -> str | None:
    if row.ended_at is not None:
        return "this session has ended; sign in again"
    if row.expires_at <= now:
        return "this session has expired; sign in again"
    if row.last_seen_at + timedelta(seconds=settings.session_idle_timeout) <= now:
        return "this session was idle too long; sign in again"
    return None


async def identify_session(settings: Settings, clock: Clock, secret: str | None) -> Identity:
    if not secret:
        raise Unauthenticated("authentication required: sign in", field="session")
    row = await SignInSession.get_or_none(session_hash=digest(secret)).select_related("user")
    now = clock.now()
    if row is None:
        raise Unauthenticated("unknown session; sign in again", field="session")
    problem = _live(settings, row, now)
    if problem:
        raise Unauthenticated(problem, field="session")
    if row.user.removed_at is not None:
        raise Unauthenticated("this user is no longer in the directory", field="session")
    if now - row.last_seen_at > LAST_SEEN_RESOLUTION:
        await SignInSession.filter(id=row.id).update(last_seen_at=now)
    return Identity(user=row.user, scopes=ALL_SCOPES, method="session", session_id=row.id, csrf_hash=row.csrf_hash,
                    expires_at=row.expires_at)


async def active_sessions(settings: Settings, clock: Clock, session_ids: list[int]) -> set[int]:
    """Which of these sessions may still act, in one query."""
    rows = await SignInSession.filter(id__in=session_ids).select_related("user")
    now = clock.now()
    return {row.id for row in rows if _live(settings, row, now) is None and row.user.removed_at is None}


@dataclass(frozen=True)
class Ended:
    """A session ended at logout, and the tokens it had minted, which ended with it."""

    session_id: int
    token_ids: list[int]


async def end_session(clock: Clock, secret: str | None) -> Ended | None:
    if not secret:
        return None
    now = clock.now()
    async with in_transaction():
        row = await SignInSession.get_or_none(session_hash=digest(secret), ended_at=None).select_related("user")
        if row is None or not await SignInSession.filter(id=row.id, ended_at=None).update(ended_at=now):
            return None
        await record(
            now, row.user.id, "user.signed_out", subject_type="user", subject_id=row.user.id,
            before={"session": row.id, "ended_at": None}, after={"session": row.id, "ended_at": now},
            detail={"user": row.user.user_name, "method": row.method, "credential": f"session:{row.id}"},
        )
        tokens = await end_tokens_of_session(clock, row.id, row.user.id)
    return Ended(row.id, tokens)


async def end_sessions_of_users(clock: Clock, user_ids: list[str], reason: str) -> list[int]:
    """End every open session of these users (removed from the directory), audited."""
    if not user_ids:
        return []
    now = clock.now()
    rows = await SignInSession.filter(user_id__in=user_ids, ended_at=None).select_related("user")
    if rows:
        await SignInSession.filter(id__in=[r.id for r in rows], ended_at=None).update(ended_at=now)
    for row in rows:
        await record(
            now, None, "user.session_ended", subject_type="user", subject_id=row.user.id,
            before={"session": row.id, "ended_at": None}, after={"session": row.id, "ended_at": now},
            detail={"user": row.user.user_name, "method": row.method, "reason": reason},
        )
    return [r.id for r in rows]
