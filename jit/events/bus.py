"""Live ticket events over Redis pub/sub, published only after the change commits.

Redis carries the fan-out and nothing else: a subscriber that misses an event can always
re-read the ticket, which the database still holds.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Protocol, cast

from redis.asyncio import Redis
from redis.asyncio.client import PubSub


class _Closes(Protocol):
    async def aclose(self) -> None: ...


async def close_pubsub(pubsub: PubSub) -> None:
    # redis 5.3 leaves PubSub.aclose unannotated; it returns None.
    await cast(_Closes, pubsub).aclose()


@dataclass(frozen=True)
class TicketEvent:
    ticket_id: str
    previous_status: str | None
    status: str
    version: int
    at: str  # ISO 8601
    actor_id: str | None = None
    reason: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, raw: str | bytes) -> TicketEvent:
        return cls(**json.loads(raw))

    @property
    def at_datetime(self) -> datetime:
        return datetime.fromisoformat(self.at)


def channel(ticket_id: str | uuid.UUID) -> str:
    return f"jit:ticket:{ticket_id}"


ALL_TICKETS = "jit:tickets"


async def publish(redis: Redis, event: TicketEvent) -> None:
    payload = event.to_json()
    await redis.publish(channel(event.ticket_id), payload)
    await redis.publish(ALL_TICKETS, payload)


@asynccontextmanager
async def subscribe(redis: Redis, ticket_id: str | uuid.UUID) -> AsyncIterator[AsyncIterator[TicketEvent]]:
    """Subscribes before returning, so a caller that reads the ticket afterwards and then
    iterates misses nothing between the two."""
    pubsub = redis.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(channel(ticket_id))

    async def events() -> AsyncIterator[TicketEvent]:
        while True:
            message = await pubsub.get_message(timeout=30.0)
            if message is not None and message.get("type") == "message":
                yield TicketEvent.from_json(message["data"])

    try:
        yield events()
    finally:
        await pubsub.unsubscribe()
        await close_pubsub(pubsub)
