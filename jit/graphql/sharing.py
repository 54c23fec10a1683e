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
from typing import Any

from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext


def _reader(context: Any) -> tuple:
    identity = getattr(context, "identity", None)
    if identity is None:
        return (None,)
    return (identity.user.id, identity.method, tuple(sorted(s.value for s in identity.scopes)))


class SharedEventExecutionContext(StrawberryGraphQLCoreExecutionContext):
    _event_results: dict | None = None

    def build_per_event_executor(self, payload: Any) -> Any:
        executor = super().build_per_event_executor(payload)
        executor._event_results = getattr(payload, "execution_results", None)
        return executor

    def _sharing_key(self) -> tuple:
        operation = self.operation
        document = operation.loc.source.body if operation.loc is not None else id(operation)
        name = operation.name.value if operation.name is not None else None
        variables = json.dumps(self.variable_values, sort_keys=True, default=str)
        return document, name, variables, _reader(self.context_value)

    def execute_operation(self, serially: bool | None = None) -> Any:
        results = self._event_results
        if results is None:
            return super().execute_operation(serially)
        key = self._sharing_key()
        if key not in results:
            results[key] = super().execute_operation(serially)
        found = results[key]
        if not self.is_awaitable(found):
            return found
        if not isinstance(found, asyncio.Future):
            found = results[key] = asyncio.ensure_future(found)
        return _shared(found)


async def _shared(future: asyncio.Future) -> Any:
    if future.done():
        return future.result()
    # One subscriber going away must not cancel the execution the others wait for.
    return await asyncio.shield(future)
