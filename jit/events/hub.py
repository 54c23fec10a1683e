"""One Redis subscription per API process, fanned out to every local subscriber.

A subscription that opened its own Redis pub/sub held a Redis connection per socket and
made every subscriber of a ticket fetch the same row for each event. The hub listens to
the all-tickets channel once, and hands each subscriber of that ticket the same
`Delivery`, whose row and parties are read from the database once, however many sockets
wait on them. Authorization is still decided per subscriber (jit/graphql/tickets.py).

If the hub loses Redis it ends every open subscription (the client re-subscribes, and the
first message of a subscription is the ticket as it is now, so nothing is lost) and the
next subscriber starts it again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from contextlib import asynccontextmanager
from typing import Any

from redis.asyncio import Redis

from jit.events.bus import ALL_TICKETS, TicketEvent, close_pubsub

log = logging.getLogger(__name__)

# A socket that stops reading loses its subscription rather than holding memory.
_QUEUE_LIMIT = 256


class SubscriptionLost(Exception):
    """The hub lost Redis, or this subscriber fell too far behind."""


class Delivery:
    """One event, with what every subscriber needs about its ticket, loaded once.

    What subscribers would each compute alike (the row, the reader's decision, the
    payload) is computed once per key and lives as long as the event: nothing decided
    for one event is reused for the next."""

    def __init__(self, event: TicketEvent) -> None:
        self.event = event
        self._futures: dict[Hashable, asyncio.Future[Any]] = {}
        self._made: dict[Hashable, Any] = {}

    async def shared(self, load: Callable[[str], Awaitable[Any]]) -> Any:
        """`load(ticket_id)`, run once for all the subscribers of this event."""
        return await self.share(("load", load), lambda: load(self.event.ticket_id))

    async def share(self, key: Hashable, compute: Callable[[], Awaitable[Any]]) -> Any:
        """`await compute()`, run once per key for all the subscribers of this event."""
        future = self._futures.get(key)
        if future is None:
            future = self._futures[key] = asyncio.ensure_future(compute())
        if future.done():
            return future.result()
        # shield: one subscriber going away must not cancel what the others await.
        return await asyncio.shield(future)

    def once(self, key: Hashable, make: Callable[[], Any]) -> Any:
        """`make()`, called once per key for this event."""
        if key not in self._made:
            self._made[key] = make()
        return self._made[key]


_LOST = object()


class TicketEventHub:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._queues: dict[str, set[asyncio.Queue[Any]]] = {}
        self._task: asyncio.Task[Any] | None = None
        self._ready: asyncio.Event | None = None

    async def _start(self) -> None:
        if self._task is None or self._task.done():
            self._ready = asyncio.Event()
            self._task = asyncio.create_task(self._listen(self._ready))
        assert self._ready is not None
        await self._ready.wait()
        if self._task.done():
            raise SubscriptionLost("the event stream is unavailable")

    async def _listen(self, ready: asyncio.Event) -> None:
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(ALL_TICKETS)
            ready.set()
            while True:
                message = await pubsub.get_message(timeout=30.0)
                if message is None or message.get("type") != "message":
                    continue
                event = TicketEvent.from_json(message["data"])
                queues = self._queues.get(event.ticket_id)
                if not queues:
                    continue
                delivery = Delivery(event)
                for queue in list(queues):
                    try:
                        queue.put_nowait(delivery)
                    except asyncio.QueueFull:
                        self._drop(event.ticket_id, queue)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - every subscriber is told, and the next one restarts the hub
            log.warning("lost the ticket event stream", exc_info=True)
        finally:
            ready.set()
            for ticket_id, queues in list(self._queues.items()):
                for queue in list(queues):
                    self._drop(ticket_id, queue)
            try:
                await close_pubsub(pubsub)
            except Exception:  # noqa: BLE001 - the connection is already gone
                pass

    def _drop(self, ticket_id: str, queue: asyncio.Queue[Any]) -> None:
        self._queues.get(ticket_id, set()).discard(queue)
        while not queue.empty():
            queue.get_nowait()
        queue.put_nowait(_LOST)

    @asynccontextmanager
    async def subscribe(self, ticket_id: str) -> AsyncIterator[AsyncIterator[Delivery]]:
        """Registered before returning, so a caller that reads the ticket afterwards and
        then iterates misses nothing between the two."""
        ticket_id = str(ticket_id)
        await self._start()
        queue: asyncio.Queue[Any] = asyncio.Queue(_QUEUE_LIMIT)
        self._queues.setdefault(ticket_id, set()).add(queue)

        async def deliveries() -> AsyncIterator[Delivery]:
            while True:
                item = await queue.get()
                if item is _LOST:
                    raise SubscriptionLost("the event stream was interrupted; subscribe again")
                yield item

        try:
            yield deliveries()
        finally:
            queues = self._queues.get(ticket_id)
            if queues is not None:
                queues.discard(queue)
                if not queues:
                    del self._queues[ticket_id]

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001
                pass
