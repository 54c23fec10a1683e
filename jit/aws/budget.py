"""One AWS call budget for the whole deployment (ARCHITECTURE.md, invariant 10).

IAM Identity Center's account access API allows 20 calls per second per instance and 15
outstanding asynchronous writes. Every sso-admin call JIT makes passes this budget, in
priority order: revokes, then grants, then status polls, then reads (drift, sync,
activity). The caller says which it is with `aws_priority`; a call made outside one is a
read, the lowest.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from redis.exceptions import RedisError

from jit.ops import metrics

log = logging.getLogger(__name__)


class Priority(IntEnum):
    """Lower is more urgent."""

    REVOKE = 0
    GRANT = 1
    POLL = 2
    READ = 3


_priority: contextvars.ContextVar[Priority] = contextvars.ContextVar("aws_priority", default=Priority.READ)


def current_priority() -> Priority:
    return _priority.get()


@contextmanager
def aws_priority(priority: Priority) -> Iterator[None]:
    """AWS calls made inside this block are spent at `priority`."""
    token = _priority.set(priority)
    try:
        yield
    finally:
        _priority.reset(token)


# --- the budget --------------------------------------------------------------------------
#
# Written here rather than taken from a library: the Redis rate limiters on PyPI (limits,
# aiolimiter's local bucket, redis-cell) answer "may I call now?" for one caller class. JIT
# needs strict priority between classes across processes (a read must not take the token
# a due revoke is waiting for) and a semaphore of outstanding writes that is released when
# AWS settles the request, not when the call returns. Both are one Lua script each, run
# atomically by Redis with Redis's own clock, so every replica sees one bucket.


_PRIORITIES = len(Priority)
# A waiter's registration outlives its own sleep by this much, so a higher-priority caller
# that is about to try again still holds lower ones back; a caller that died is forgotten.
_WAITER_GRACE_MS = 250

# KEYS: bucket hash, then one waiter set per priority (0..3).
# ARGV: rate per second, burst, priority, member, tokens reads must leave untouched.
# Returns 0 when a token was taken, else how many ms to wait before asking again.
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local prio = tonumber(ARGV[3])
local member = ARGV[4]
local floor = 0
if prio == 3 then floor = tonumber(ARGV[5]) end
local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(b[1]) or burst
local ts = tonumber(b[2]) or now
if now > ts then tokens = math.min(burst, tokens + (now - ts) * rate / 1000) end
local ahead = 0
for p = 0, prio - 1 do
  redis.call('ZREMRANGEBYSCORE', KEYS[p + 2], '-inf', now)
  ahead = ahead + redis.call('ZCARD', KEYS[p + 2])
end
local wait = 0
if ahead == 0 and tokens >= 1 + floor then
  tokens = tokens - 1
  redis.call('ZREM', KEYS[prio + 2], member)
else
  wait = math.ceil((1 + floor - tokens) * 1000 / rate)
  if wait < 10 then wait = 10 end
  redis.call('ZADD', KEYS[prio + 2], now + wait + tonumber(ARGV[6]), member)
  redis.call('PEXPIRE', KEYS[prio + 2], 60000)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], 60000)
return wait
"""

# KEYS: outstanding writes (member -> lease end), then one waiter set per priority.
# ARGV: most outstanding, priority, member, lease ms, slots only revokes may take.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local most = tonumber(ARGV[1])
local prio = tonumber(ARGV[2])
local member = ARGV[3]
local floor = 0
if prio > 0 then floor = tonumber(ARGV[5]) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local ahead = 0
for p = 0, prio - 1 do
  redis.call('ZREMRANGEBYSCORE', KEYS[p + 2], '-inf', now)
  ahead = ahead + redis.call('ZCARD', KEYS[p + 2])
end
if ahead == 0 and redis.call('ZCARD', KEYS[1]) + floor < most then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[4]), member)
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[4]) * 2)
  redis.call('ZREM', KEYS[prio + 2], member)
  return 0
end
local wait = 100
redis.call('ZADD', KEYS[prio + 2], now + wait + tonumber(ARGV[6]), member)
redis.call('PEXPIRE', KEYS[prio + 2], 60000)
return wait
"""


@dataclass(frozen=True)
class BudgetLimits:
    rate: float  # calls per second, all sso-admin calls of the deployment
    max_outstanding: int  # creates and deletes AWS has not settled
    lease_seconds: float = 120.0  # an outstanding write whose holder died is forgotten after this
    local_fraction: float = 0.25  # of both, per process, while Redis cannot be reached

    @property
    def burst(self) -> float:
        return max(self.rate, 1.0)

    @property
    def read_reserve(self) -> float:
        """Tokens reads leave in the bucket, so a revoke arriving finds one at once (none
        when the bucket holds a single token: reads could never run)."""
        return 0.0 if self.burst < 2 else max(1.0, self.burst / 4)

    @property
    def revoke_slots(self) -> int:
        """Outstanding writes only revokes may take."""
        return 0 if self.max_outstanding < 3 else max(1, self.max_outstanding // 5)


class _LocalBudget:
    """The same rules within one process: the fallback while Redis is away."""

    def __init__(self, limits: BudgetLimits) -> None:
        self.rate = max(limits.rate * limits.local_fraction, 0.5)
        self.burst = max(self.rate, 1.0)
        self.max_outstanding = max(1, int(limits.max_outstanding * limits.local_fraction))
        self.limits = limits
        self.tokens = self.burst
        self.ts = time.monotonic()
        self.waiting = [0] * _PRIORITIES
        self.slot_waiting = [0] * _PRIORITIES
        self.outstanding: dict[str, float] = {}

    def take(self, priority: Priority) -> int:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.ts) * self.rate)
        self.ts = now
        floor = min(self.limits.read_reserve, self.burst / 4) if priority == Priority.READ else 0.0
        if not any(self.waiting[:priority]) and self.tokens >= 1 + floor:
            self.tokens -= 1
            return 0
        return max(10, int((1 + floor - self.tokens) * 1000 / self.rate) + 1)

    def acquire(self, priority: Priority, member: str) -> int:
        now = time.monotonic()
        self.outstanding = {m: end for m, end in self.outstanding.items() if end > now}
        floor = 0 if priority == Priority.REVOKE or self.max_outstanding < 3 else 1
        if not any(self.slot_waiting[:priority]) and len(self.outstanding) + floor < self.max_outstanding:
            self.outstanding[member] = now + self.limits.lease_seconds
            return 0
        return 100


class AwsBudget:
    """The deployment's AWS call budget: `spend` before every sso-admin call (the clients
    do it), `acquire_write`/`release_write` around every create and delete until AWS
    settles it. Shared through Redis; if Redis cannot be reached, each process keeps to a
    quarter of it on its own (logged, and reported by /readyz) until Redis is back."""

    def __init__(self, redis: Any, limits: BudgetLimits, prefix: str = "jit:aws:budget") -> None:
        self._redis = redis
        self.limits = limits
        self._bucket = f"{prefix}:bucket"
        self._waiters = [f"{prefix}:waiting:{p}" for p in range(_PRIORITIES)]
        self._outstanding = f"{prefix}:outstanding"
        self._slot_waiters = [f"{prefix}:slot-waiting:{p}" for p in range(_PRIORITIES)]
        self._take = redis.register_script(_TAKE)
        self._acquire = redis.register_script(_ACQUIRE)
        self._local = _LocalBudget(limits)
        self._local_until = 0.0  # while monotonic time is below this, stay local
        self.degraded_since: float | None = None
        self.slots: dict[str, str] = {}  # AWS request id -> the outstanding write it holds

    @property
    def degraded(self) -> bool:
        return self.degraded_since is not None

    def _redis_down(self, exc: BaseException) -> None:
        if self.degraded_since is None:
            log.warning("AWS budget: Redis unreachable (%s); each process keeps to %.1f calls/s and %d "
                        "outstanding writes on its own until it is back", exc, self._local.rate,
                        self._local.max_outstanding)
            self.degraded_since = time.time()

            metrics.AWS_BUDGET_DEGRADED.set(1)
        self._local_until = time.monotonic() + 2.0

    def _redis_up(self) -> None:
        if self.degraded_since is not None:
            log.warning("AWS budget: Redis is back; the shared budget applies again")
            self.degraded_since = None

            metrics.AWS_BUDGET_DEGRADED.set(0)

    async def _ask(self, shared: Callable[..., Awaitable[Any]], keys: list[str], args: list[Any],
                   local: Callable[[], int]) -> int:
        if time.monotonic() >= self._local_until:
            try:
                wait = int(await shared(keys=keys, args=args))
                self._redis_up()
                return wait
            except (TimeoutError, RedisError, OSError) as exc:
                self._redis_down(exc)
        return local()

    async def spend(self, priority: Priority | None = None) -> float:
        """Waits for one call's token; returns how long it waited (seconds)."""
        priority = current_priority() if priority is None else priority
        member = uuid.uuid4().hex
        started = time.monotonic()
        keys = [self._bucket, *self._waiters]
        args = [self.limits.rate, self.limits.burst, int(priority), member, self.limits.read_reserve,
                _WAITER_GRACE_MS]
        while True:
            self._local.waiting[priority] += 1
            try:
                wait = await self._ask(self._take, keys, args, lambda: self._local.take(priority))
            finally:
                self._local.waiting[priority] -= 1
            if wait == 0:
                break
            self._local.waiting[priority] += 1
            try:
                await asyncio.sleep(wait / 1000)
            finally:
                self._local.waiting[priority] -= 1
        waited = time.monotonic() - started
        _observe_wait("call", priority, waited)
        return waited

    async def acquire_write(self, priority: Priority) -> str:
        """Waits for an outstanding-write slot; returns its id for `release_write`."""
        member = uuid.uuid4().hex
        started = time.monotonic()
        keys = [self._outstanding, *self._slot_waiters]
        args = [self.limits.max_outstanding, int(priority), member, int(self.limits.lease_seconds * 1000),
                self.limits.revoke_slots, _WAITER_GRACE_MS]
        while True:
            self._local.slot_waiting[priority] += 1
            try:
                wait = await self._ask(self._acquire, keys, args, lambda: self._local.acquire(priority, member))
            finally:
                self._local.slot_waiting[priority] -= 1
            if wait == 0:
                break
            self._local.slot_waiting[priority] += 1
            try:
                await asyncio.sleep(wait / 1000)
            finally:
                self._local.slot_waiting[priority] -= 1
        _observe_wait("write", priority, time.monotonic() - started)
        return member

    def bind(self, request_id: str | None, slot: str) -> None:
        """The write holding `slot` became AWS request `request_id` (released when it settles)."""
        if request_id:
            self.slots[request_id] = slot

    async def settled(self, request_id: str | None) -> None:
        slot = self.slots.pop(request_id, None) if request_id else None
        if slot is not None:
            await self.release_write(slot)

    async def release_write(self, slot: str) -> None:
        self._local.outstanding.pop(slot, None)
        try:
            await self._redis.zrem(self._outstanding, slot)
        except (TimeoutError, RedisError, OSError):
            pass  # its lease ends it

    async def outstanding(self) -> int:
        try:
            return int(await self._redis.zcount(self._outstanding, time.time() * 1000, "+inf"))
        except (TimeoutError, RedisError, OSError):
            return len(self._local.outstanding)

    def status(self, redis_answers: bool = True) -> dict[str, Any]:
        """For /readyz: the shared budget, or this process's own share while Redis is away
        (seen by the budget's last call, or by the probe's own Redis check)."""
        if self.degraded_since is None and redis_answers:
            return {"mode": "shared", "rate": self.limits.rate, "max_outstanding": self.limits.max_outstanding}
        return {"mode": "local", "since": self.degraded_since or time.time(), "rate": self._local.rate,
                "max_outstanding": self._local.max_outstanding}


def _observe_wait(kind: str, priority: Priority, seconds: float) -> None:

    metrics.AWS_BUDGET_WAIT.labels(kind=kind, priority=priority.name.lower()).observe(seconds)
