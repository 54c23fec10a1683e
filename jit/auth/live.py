"""Open websockets and the credentials behind them, across replicas.

A socket's token or session is checked on every operation it sends. The check is cached
for JIT_WS_CREDENTIAL_CACHE_SECONDS, and the cache is only trusted while this process is
listening on the `jit:credentials:ended` channel: a revocation, a logout or an offboarding
publishes the ended credentials there after commit, and every replica drops them from its
cache and closes their sockets at once (4403). A replica that is not listening (Redis
lost) checks the database on every operation instead.

The same registry counts each user's open sockets, capped at JIT_WS_MAX_CONNECTIONS_PER_USER
per replica.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, cast

from redis.asyncio import Redis

from jit.auth.service import CredentialChecks, Identity
from jit.clock import Clock
from jit.config import Settings

log = logging.getLogger(__name__)

CHANNEL = "jit:credentials:ended"
Key = tuple[str, int]


def key_of(identity: Identity) -> Key | None:
    if identity.token_id is not None:
        return ("token", identity.token_id)
    if identity.session_id is not None:
        return ("session", identity.session_id)
    return None


async def announce(redis: Redis, tokens: list[int] | tuple[int, ...] = (), sessions: list[int] | tuple[int, ...] = ()) -> None:
    """Tell every replica these credentials ended. Call after the commit that ended them."""
    if tokens or sessions:
        await redis.publish(CHANNEL, json.dumps({"tokens": list(tokens), "sessions": list(sessions)}))


class TooManyConnections(Exception):
    pass


@dataclass(eq=False)
class OpenSocket:
    identity: Identity
    on_end: Callable[[], Awaitable[None]]
    key: Key | None = field(default=None)


class OpenCredentials:
    def __init__(self, redis: Redis | None, checks: CredentialChecks, settings: Settings, clock: Clock) -> None:
        self._redis = redis
        self._checks = checks
        self._settings = settings
        self._clock = clock
        self._sockets: dict[Key, set[OpenSocket]] = {}
        self._per_user: dict[str, int] = {}
        self._valid_until: dict[Key, float] = {}
        self._task: asyncio.Task[Any] | None = None
        self._listening = False
        self._closing: set[asyncio.Task[Any]] = set()
        # Bumped whenever credentials end: a check that was running meanwhile may have read
        # the row before the revocation committed, so its answer is not cached.
        self._epoch = 0

    # --- sockets ------------------------------------------------------------------------

    async def open(self, identity: Identity, on_end: Callable[[], Awaitable[None]]) -> OpenSocket:
        """Count a signed-in socket against its user's cap, and close it (on_end) when its
        credential ends. Raises TooManyConnections over the cap."""
        user_id = identity.user.id
        cap = self._settings.ws_max_connections_per_user
        if self._per_user.get(user_id, 0) >= cap:
            raise TooManyConnections(f"at most {cap} open connections per user")
        self._per_user[user_id] = self._per_user.get(user_id, 0) + 1
        socket = OpenSocket(identity, on_end, key_of(identity))
        if socket.key is not None:
            self._sockets.setdefault(socket.key, set()).add(socket)
        self._start()
        return socket

    def close(self, socket: OpenSocket) -> None:
        user_id = socket.identity.user.id
        left = self._per_user.get(user_id, 0) - 1
        if left > 0:
            self._per_user[user_id] = left
        else:
            self._per_user.pop(user_id, None)
        if socket.key is not None:
            group = self._sockets.get(socket.key)
            if group is not None:
                group.discard(socket)
                if not group:
                    del self._sockets[socket.key]
                    self._valid_until.pop(socket.key, None)

    def connections_of(self, user_id: str) -> int:
        return self._per_user.get(user_id, 0)

    # --- checks -------------------------------------------------------------------------

    async def allowed(self, identity: Identity) -> bool:
        """May this credential still act? Cached while the revocation channel is heard."""
        key = key_of(identity)
        if key is None:
            return False
        now = time.monotonic()
        until = self._valid_until.get(key)
        expired = identity.expires_at is not None and identity.expires_at <= self._clock.now()
        if self._listening and until is not None and now < until and not expired:
            return True
        epoch = self._epoch
        valid = await self._checks.still_valid(identity)
        if valid and self._listening and epoch == self._epoch:
            self._valid_until[key] = now + self._settings.ws_credential_cache_seconds
        elif not valid:
            self._valid_until.pop(key, None)
        return valid

    def ended(self, tokens: list[int], sessions: list[int]) -> int:
        """Forget these credentials and close their sockets; returns how many were closed."""
        closed = 0
        self._epoch += 1
        for key in [*(("token", t) for t in tokens), *(("session", s) for s in sessions)]:
            self._valid_until.pop(key, None)
            for socket in list(self._sockets.get(key, ())):
                task = asyncio.ensure_future(socket.on_end())
                self._closing.add(task)
                task.add_done_callback(self._closing.discard)
                closed += 1
        return closed

    # --- the channel --------------------------------------------------------------------

    def _start(self) -> None:
        if self._redis is None:
            return
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._listen())

    async def _listen(self) -> None:
        assert self._redis is not None
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(CHANNEL)
            self._listening = True
            while True:
                message = await pubsub.get_message(timeout=30.0)
                if message is None or message.get("type") != "message":
                    continue
                try:
                    body = json.loads(message["data"])
                    tokens = [int(t) for t in body.get("tokens", [])]
                    sessions = [int(s) for s in body.get("sessions", [])]
                except (ValueError, TypeError, AttributeError):
                    log.warning("ignored a malformed message on %s", CHANNEL)
                    continue
                self.ended(tokens, sessions)
        except asyncio.CancelledError:
            raise
        except Exception:  # fall back to a fresh check per operation; the next socket restarts it
            log.warning("lost the credential revocation channel; checking the database on every operation",
                        exc_info=True)
        finally:
            self._listening = False
            self._valid_until.clear()
            with contextlib.suppress(Exception):  # the connection is already gone
                # redis-py leaves PubSub.aclose unannotated; it returns None.
                await cast(Callable[[], Awaitable[None]], pubsub.aclose)()

    async def wait_listening(self, timeout: float = 5.0) -> bool:
        self._start()
        deadline = time.monotonic() + timeout
        while not self._listening and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        return self._listening

    async def close_all(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
