"""jit/graphql/sharing.py encode_message: a result shared by many sockets is encoded once,
and every message is the text json.dumps would have made."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from types import SimpleNamespace

import strawberry

from jit.graphql import sharing
from jit.graphql.sharing import SharedEventExecutionContext, encode_message


def _plain(message: object) -> str:
    return json.dumps(message, separators=(",", ":"))


def test_every_message_is_the_text_json_dumps_makes():
    data = {"ticketUpdated": {"status": "ACTIVE", "at": "2026-01-01T00:00:00+00:00", "reason": "caf\u00e9 \"x\""}}
    messages = [
        {"id": "1", "type": "next", "payload": {"data": data}},
        {"id": 'a"\u00e9', "type": "next", "payload": {"data": data}},
        {"id": "1", "type": "next", "payload": {"data": data, "errors": [{"message": "Unexpected error."}]}},
        {"id": "1", "type": "next", "payload": {"data": None, "errors": [{"message": "no"}]}},
        {"id": "1", "type": "complete"},
        {"type": "connection_ack"},
        {"data": {"ticket": None}},
    ]
    for message in messages:
        assert encode_message(message) == _plain(message)


def test_one_result_for_many_sockets_is_encoded_once(monkeypatch):
    shared = {"ticketUpdated": {"status": "ENDED"}}
    encoded = []
    plain_dumps = json.dumps

    def dumps(value, **kwargs):
        encoded.append(value)
        return plain_dumps(value, **kwargs)

    monkeypatch.setattr(sharing.json, "dumps", dumps)
    before = len(sharing._ENCODED)
    texts = [encode_message({"id": str(n), "type": "next", "payload": {"data": shared}}) for n in range(5)]
    assert sum(1 for value in encoded if value is shared) == 1
    assert len(sharing._ENCODED) == before + 1
    assert texts[3] == _plain({"id": "3", "type": "next", "payload": {"data": shared}})
    # An equal result that is another object (another reader's execution) has its own entry.
    encode_message({"id": "1", "type": "next", "payload": {"data": {"ticketUpdated": {"status": "ENDED"}}}})
    assert len(sharing._ENCODED) == before + 2


def test_the_cache_stays_bounded():
    for n in range(sharing._ENCODED_LIMIT * 2):
        encode_message({"id": "1", "type": "next", "payload": {"data": {"n": n}}})
    assert len(sharing._ENCODED) == sharing._ENCODED_LIMIT


# A field that answers per reader, on a schema of its own with the shared execution context.
@strawberry.type
class _Event:
    execution_results: strawberry.Private[dict | None]

    @strawberry.field
    def reader(self, info: strawberry.Info) -> str:
        info.context.resolved.append(1)
        return info.context.identity.user.id


@strawberry.type
class _Query:
    noop: int = 0


@strawberry.type
class _Subscription:
    @strawberry.subscription
    async def events(self, info: strawberry.Info) -> AsyncGenerator[_Event, None]:
        for event in info.context.events:
            yield event


_SCHEMA = strawberry.Schema(query=_Query, subscription=_Subscription,
                            execution_context_class=SharedEventExecutionContext)


async def _receive(user: str, events: list, resolved: list) -> list:
    identity = SimpleNamespace(user=SimpleNamespace(id=user), method="token", scopes=[])
    context = SimpleNamespace(identity=identity, events=events, resolved=resolved)
    stream = await _SCHEMA.subscribe("subscription { events { reader } }", context_value=context)
    return [result.data["events"]["reader"] async for result in stream]


async def test_readers_never_share_a_result_and_sockets_of_one_reader_do():
    events = [_Event(execution_results={}), _Event(execution_results={})]
    resolved: list = []
    got = [await _receive(user, events, resolved) for user in ("alice", "bob", "alice", "bob")]
    assert got == [["alice", "alice"], ["bob", "bob"], ["alice", "alice"], ["bob", "bob"]]
    assert len(resolved) == 4  # two events x two readers, not x four sockets
