"""Websocket abuse: refused with the right close code, and nothing leaking."""

from __future__ import annotations

import asyncio
import contextlib

import httpx
import pytest
from httpx_ws import WebSocketDisconnect, aconnect_ws
from httpx_ws.transport import ASGIWebSocketTransport

from jit.auth.models import ApiToken
from jit.auth.service import create_token
from jit.tickets import service as tickets
from tests.graphql.client import in_process_app
from tests.security.conftest import runtime_with

SUBSCRIBE = "subscription($id: ID!) { ticketUpdated(id: $id) { status ticket { id justification } } }"


@contextlib.asynccontextmanager
async def ws_client(rt):
    app = in_process_app(rt)
    async with httpx.AsyncClient(transport=ASGIWebSocketTransport(app), base_url="http://jit.test") as client:
        yield client


async def _closed_with(ws, code: int, within: float = 5.0) -> str:
    with pytest.raises(WebSocketDisconnect) as info:
        async with asyncio.timeout(within):
            while True:
                await ws.receive_json()
    assert info.value.code == code, (info.value.code, info.value.reason)
    return info.value.reason or ""


async def _init(ws, token: str) -> None:
    await ws.send_json({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
    assert (await ws.receive_json(timeout=5))["type"] == "connection_ack"


async def _ticket(demo, user="alice"):
    return await demo.request(user, [("payments-prod", "ReadOnlyAccess")], justification="secret plan")


async def test_a_socket_that_never_sends_connection_init_is_closed(demo):
    rt = runtime_with(demo.rt, ws_connection_init_timeout=0.5)
    async with ws_client(rt) as client, aconnect_ws("/graphql", client, subprotocols=["graphql-transport-ws"]) as ws:
        assert "timeout" in (await _closed_with(ws, 4408)).lower()


async def test_a_legacy_graphql_ws_start_is_refused(demo):
    token, _ = await create_token(demo.rt.clock, "alice", "ws")
    ticket = await _ticket(demo)
    async with ws_client(demo.rt) as client, aconnect_ws("/graphql", client, subprotocols=["graphql-ws"]) as ws:
        with contextlib.suppress(Exception):
            await ws.send_json({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
            await ws.send_json({"type": "start", "id": "1", "payload": {"query": SUBSCRIBE,
                                                                       "variables": {"id": str(ticket.id)}}})
        assert "Subprotocol" in await _closed_with(ws, 4406)


async def test_bad_credentials_in_connection_init_are_refused(demo):
    async with ws_client(demo.rt) as client, aconnect_ws("/graphql", client, subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send_json({"type": "connection_init", "payload": {"Authorization": "Bearer jit_nope"}})
        await _closed_with(ws, 4403)


async def test_a_subscription_to_another_users_ticket_gets_nothing(demo):
    ticket = await _ticket(demo, "alice")
    erin, _ = await create_token(demo.rt.clock, "erin", "ws")
    async with ws_client(demo.rt) as client, aconnect_ws("/graphql", client, subprotocols=["graphql-transport-ws"]) as ws:
        await _init(ws, erin)
        await ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE,
                                                                        "variables": {"id": str(ticket.id)}}})
        messages = []
        async with asyncio.timeout(5):
            while not messages or messages[-1]["type"] not in ("complete", "error"):
                messages.append(await ws.receive_json())
    text = str(messages)
    assert "secret plan" not in text and "PENDING_APPROVAL" not in text
    errors = [e for m in messages for e in (m["payload"].get("errors", []) if m["type"] == "next" else
                                            m.get("payload") or [])]
    assert errors and "not found" in errors[0]["message"]


async def test_a_token_without_read_scope_cannot_subscribe(demo):
    from jit.auth.scopes import Scope

    ticket = await _ticket(demo, "alice")
    token, _ = await create_token(demo.rt.clock, "alice", "rq", scopes={Scope.REQUEST})
    async with ws_client(demo.rt) as client, aconnect_ws("/graphql", client, subprotocols=["graphql-transport-ws"]) as ws:
        await _init(ws, token)
        await ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE,
                                                                        "variables": {"id": str(ticket.id)}}})
        message = await ws.receive_json(timeout=5)
    assert "secret plan" not in str(message)
    payload = message["payload"]
    errors = payload if isinstance(payload, list) else payload["errors"]
    assert errors[0]["extensions"]["code"] == "FORBIDDEN_SCOPE"


async def test_subscriptions_per_connection_are_capped(demo):
    ticket = await _ticket(demo, "alice")
    token, _ = await create_token(demo.rt.clock, "alice", "ws")
    rt = runtime_with(demo.rt, ws_max_subscriptions=2)
    async with ws_client(rt) as client, aconnect_ws("/graphql", client, subprotocols=["graphql-transport-ws"]) as ws:
        await _init(ws, token)
        for n in ("1", "2", "3"):
            await ws.send_json({"id": n, "type": "subscribe", "payload": {"query": SUBSCRIBE,
                                                                          "variables": {"id": str(ticket.id)}}})
        seen = {}
        async with asyncio.timeout(5):
            while "3" not in seen or len(seen) < 3:
                message = await ws.receive_json()
                seen.setdefault(message["id"], message)
    assert seen["1"]["type"] == "next" and seen["2"]["type"] == "next"
    assert seen["3"]["type"] == "error" and seen["3"]["payload"][0]["message"] == "Subscription limit reached"


async def test_a_token_revoked_mid_subscription_closes_the_socket(demo):
    ticket = await _ticket(demo, "alice")
    token, row = await create_token(demo.rt.clock, "alice", "ws")
    rt = runtime_with(demo.rt, ws_recheck_interval=0.2)
    async with ws_client(rt) as client, aconnect_ws("/graphql", client, subprotocols=["graphql-transport-ws"]) as ws:
        await _init(ws, token)
        await ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE,
                                                                        "variables": {"id": str(ticket.id)}}})
        assert (await ws.receive_json(timeout=5))["type"] == "next"
        await ApiToken.filter(id=row.id).update(revoked_at=demo.rt.clock.now())
        assert "revoked" in await _closed_with(ws, 4403)


async def test_no_event_is_delivered_after_the_token_is_revoked(demo):
    ticket = await _ticket(demo, "alice")
    token, row = await create_token(demo.rt.clock, "alice", "ws")
    rt = runtime_with(demo.rt, ws_recheck_interval=3600)  # only the per-event check can catch it
    async with ws_client(rt) as client, aconnect_ws("/graphql", client, subprotocols=["graphql-transport-ws"]) as ws:
        await _init(ws, token)
        await ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE,
                                                                        "variables": {"id": str(ticket.id)}}})
        assert (await ws.receive_json(timeout=5))["type"] == "next"
        await ApiToken.filter(id=row.id).update(revoked_at=demo.rt.clock.now())
        await tickets.cancel_ticket(demo.rt, await demo.user("alice"), str(ticket.id), "changed my mind")
        await _closed_with(ws, 4403)
