"""Execute a subscription event once per distinct (document, variables, reader).

graphql-core executes every subscription's selection set on every event it receives: a
thousand sockets watching one ticket ran the same selection on the same payload a
thousand times. A payload that carries an `execution_results` dict (one per event, see
TicketUpdate) is executed once per key and its result handed to every subscriber with
the same key. The reader is part of the key (their user, how they signed in and their
scopes), so a field that answers differently per reader is never shared across readers.
"""

from __future__ import annotations

import asyncio
import json
from collections import OrderedDict
from typing import Any

from graphql.execution.executor import CollectedErrors
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext


def _reader(context: Any) -> tuple[Any, ...]:
    identity = getattr(context, "identity", None)
    if identity is None:
        return (None,)
    return (identity.user.id, identity.method, tuple(sorted(s.value for s in identity.scopes)))


class SharedEventExecutionContext(StrawberryGraphQLCoreExecutionContext):
    _event_results: dict[tuple[Any, ...], Any] | None = None
    _key: tuple[Any, ...] | None = None

    def build_per_event_executor(self, payload: Any) -> Any:
        results = getattr(payload, "execution_results", None)
        if results is None:
            return super().build_per_event_executor(payload)
        # The document, variables and reader of a subscription do not change while it
        # runs (the reader is the socket's, fixed at connection_init): keyed once.
        if self._key is None:
            self._key = self._sharing_key()
        # What graphql-core's copy(self) does for a plain object, without copy's
        # generic __reduce_ex__ round trip (it was ~5% of a fan-out's CPU).
        executor = object.__new__(type(self))
        executor.__dict__.update(self.__dict__)
        executor.root_value = payload
        executor.collected_errors = CollectedErrors()
        executor._event_results = results
        return executor

    def _sharing_key(self) -> tuple[Any, ...]:
        operation = self.operation
        document = operation.loc.source.body if operation.loc is not None else id(operation)
        name = operation.name.value if operation.name is not None else None
        variables = json.dumps(self.variable_values, sort_keys=True, default=str)
        return document, name, variables, _reader(self.context_value)

    def execute_operation(self, serially: bool | None = None) -> Any:
        results = self._event_results
        if results is None:
            return super().execute_operation(serially)
        key = self._key if self._key is not None else self._sharing_key()
        if key not in results:
            results[key] = super().execute_operation(serially)
        found = results[key]
        if not self.is_awaitable(found):
            return found
        if not isinstance(found, asyncio.Future):
            found = results[key] = asyncio.ensure_future(found)
        return _shared(found)


async def _shared(future: asyncio.Future[Any]) -> Any:
    if future.done():
        return future.result()
    # One subscriber going away must not cancel the execution the others wait for.
    return await asyncio.shield(future)


# The JSON text of the last results sent, by the identity of their `data`: a shared
# result (above) is one `data` object for every socket that receives it, so it is encoded
# once, and each socket's message only adds its own operation id around it. The entry
# holds the object, so its id cannot be reused while it is in here.
_ENCODED: OrderedDict[int, tuple[object, str]] = OrderedDict()
_ENCODED_LIMIT = 64


def encode_message(message: object) -> str:
    """json.dumps(message, separators=(",", ":")), with a `next` result's data encoded
    once however many sockets it goes to."""
    if (isinstance(message, dict) and message.get("type") == "next" and len(message) == 3
            and isinstance(message.get("id"), str) and isinstance(payload := message.get("payload"), dict)
            and len(payload) == 1 and isinstance(data := payload.get("data"), dict)):
        found = _ENCODED.get(id(data))
        if found is None or found[0] is not data:
            found = _ENCODED[id(data)] = (data, json.dumps(data, separators=(",", ":")))
            if len(_ENCODED) > _ENCODED_LIMIT:
                _ENCODED.popitem(last=False)
        return '{"id":' + json.dumps(message["id"]) + ',"type":"next","payload":{"data":' + found[1] + "}}"
    return json.dumps(message, separators=(",", ":"))
