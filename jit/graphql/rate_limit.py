"""A sliding-window rate limit kept in Redis, so every replica counts against one budget.

Each admitted action is a member of a sorted set scored by its time; whatever left the
window is dropped before counting. Unlike a fixed window (which let 60 through at the end
of one minute and 60 more at the start of the next), no span of `window` seconds ever
holds more than `limit`. A refused attempt is not recorded: it changed nothing.
"""

from __future__ import annotations

import uuid
from typing import Any

from redis.asyncio import Redis

# KEYS[1]: the counter; ARGV: now, window (s), limit, n (actions asked for), a unique prefix.
# Returns -1 when admitted, else the seconds until enough of the window has passed.
_TAKE = """
local now, window, limit, n = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count + n > limit then
  if n > limit then return tostring(window) end
  local oldest = redis.call('ZRANGE', KEYS[1], count + n - limit - 1, count + n - limit - 1, 'WITHSCORES')
  return tostring(tonumber(oldest[2]) + window - now)
end
for i = 1, n do redis.call('ZADD', KEYS[1], now, ARGV[5] .. ':' .. i) end
redis.call('PEXPIRE', KEYS[1], math.ceil(window * 1000) + 1000)
return '-1'
"""


async def take(redis: Redis, key: str, now: float, window: float, limit: int, n: int = 1) -> float | None:
    """Admits n actions at `now` (seconds) and returns None, or returns how many seconds to
    wait before they would fit; nothing is recorded then."""
    answer: Any = await redis.eval(_TAKE, 1, key, repr(now), repr(window), str(limit), str(n),  # type: ignore[misc]
                                   uuid.uuid4().hex)
    wait = float(answer.decode() if isinstance(answer, bytes) else answer)
    return None if wait < 0 else max(wait, 0.001)
