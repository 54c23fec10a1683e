"""The whole path with every part real and separate: the API and an arq worker in their
own processes, GraphQL over HTTP and graphql-transport-ws, moto checked through boto3."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os

import httpx
import pytest
import websockets

from jit.auth.models import ApiToken
from jit.auth.service import create_token
from jit.demo.embedded import free_port
from jit.demo.stack import LiveStack
from jit.ops import deployment
from jit.tickets import service as tickets

SUBSCRIBE = """subscription($id: ID!) { ticketUpdated(id: $id) { previousStatus status version ticket { id } } }"""


def _env(settings, port) -> dict[str, str]:
    env = os.environ.copy()
    env.update({
        "JIT_MODE": "test", "JIT_DATABASE_URL": settings.database_url, "JIT_REDIS_URL": settings.redis_url,
        "JIT_AWS_ENDPOINT_URL": settings.aws_endpoint_url, "JIT_AWS_REGION": settings.aws_region,
        "JIT_MIN_DURATION_SECONDS": "1", "JIT_ASSIGNMENT_POLL_INTERVAL": "0.05", "JIT_ASSIGNMENT_FIRST_POLL": "0.05",
        "JIT_REVOKE_LEAD_SECONDS": "0", "JIT_PORT": str(port),
        # The browser test's wizard asks for 21 targets to see the server's refusal.
        "JIT_MAX_TARGETS": "20",
    })
    return env


@pytest.fixture
def processes(demo):
    port = free_port()
    env = _env(demo.rt.settings, port)
    # The other database parametrization's deployment claimed this Redis index (its worker
    # may still be stopping): each test's world is a new deployment on the same index.
    import redis

    redis.Redis.from_url(demo.rt.settings.redis_url).delete(deployment.REDIS_KEY)
    stack = LiveStack(env, inherit_output=True)
    stack.start_api(port)
    stack.start_worker()
    try:
        stack.wait_ready("/healthz", timeout=30)
        yield stack.api_url()
    finally:
        stack.stop(10)


async def _gql(client, token, query, **variables):
    response = await client.post("/graphql", json={"query": query, "variables": variables},
                                 headers={"Authorization": f"Bearer {token}"})
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    return body["data"]


async def test_request_approve_grant_expire_over_http_and_websocket(demo, processes):
    alice, _ = await create_token(demo.rt.clock, "alice", "e2e")
    bob, _ = await create_token(demo.rt.clock, "bob", "e2e")
    async with httpx.AsyncClient(base_url=processes, timeout=30) as client:
        data = await _gql(client, alice, """mutation($input: RequestTicketInput!) { requestTicket(input: $input) {
            __typename ... on Ticket { id status } ... on Error { message field } } }""",
            input={"targets": [{"accountId": demo.account("payments-prod"), "permissionSet": "ReadOnlyAccess"}],
                   "durationSeconds": 4, "justification": "incident 42"})
        ticket = data["requestTicket"]
        assert ticket["__typename"] == "Ticket", ticket

        ws_url = processes.replace("http", "ws") + "/graphql"
        async with websockets.connect(ws_url, subprotocols=["graphql-transport-ws"]) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {alice}"}}))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            await ws.send(json.dumps({"id": "1", "type": "subscribe",
                                      "payload": {"query": SUBSCRIBE, "variables": {"id": ticket["id"]}}}))
            first = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert first["payload"]["data"]["ticketUpdated"]["status"] == "PENDING_APPROVAL"

            approved = await _gql(client, bob, """mutation($id: ID!) { approveTicket(ticketId: $id, comment: "ok") {
                __typename ... on Ticket { status } } }""", id=ticket["id"])
            assert approved["approveTicket"]["status"] == "SCHEDULED"

            statuses, present_when_active = [], None
            while not statuses or statuses[-1] != "ENDED":
                message = json.loads(await asyncio.wait_for(ws.recv(), 30))
                assert message["type"] == "next", message
                update = message["payload"]["data"]["ticketUpdated"]
                statuses.append(update["status"])
                if update["status"] == "ACTIVE":
                    present_when_active = demo.assignments("payments-prod", "ReadOnlyAccess", "alice")
            assert statuses == ["SCHEDULED", "GRANTING", "ACTIVE", "REVOKING", "ENDED"]
            assert len(present_when_active) == 1
            assert demo.assignments("payments-prod", "ReadOnlyAccess", "alice") == []

        final = await _gql(client, alice, "query($id: ID!) { ticket(id: $id) { status endReason } }", id=ticket["id"])
        assert final["ticket"] == {"status": "ENDED", "endReason": "EXPIRED"}


async def test_websocket_needs_a_valid_token_and_readable_ticket(demo, processes):
    alice, _ = await create_token(demo.rt.clock, "alice", "e2e")
    erin, _ = await create_token(demo.rt.clock, "erin", "e2e")
    ticket = await demo.request("alice", [("payments-prod", "ReadOnlyAccess")])
    ws_url = processes.replace("http", "ws") + "/graphql"
    async with websockets.connect(ws_url, subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": "Bearer jit_nope"}}))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 10)
        assert closed.value.rcvd.code == 4403
    async with websockets.connect(ws_url, subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {erin}"}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe",
                                  "payload": {"query": SUBSCRIBE, "variables": {"id": str(ticket.id)}}}))
        message = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert message["type"] == "error" or message["payload"].get("errors"), message
        assert "alice" not in json.dumps(message)
    assert alice


async def test_a_token_revoked_mid_stream_closes_its_socket_through_jit_serve(demo, processes):
    """Through the served websocket implementation (jit/cli.py): shared frames reach the
    sockets whose tokens hold, and the socket whose token was revoked is closed with 4403."""
    kept, _ = await create_token(demo.rt.clock, "alice", "kept")
    revoked, row = await create_token(demo.rt.clock, "alice", "revoked")
    ticket = await demo.request("alice", [("payments-prod", "ReadOnlyAccess")])
    ws_url = processes.replace("http", "ws") + "/graphql"

    async def subscribed(stack: contextlib.AsyncExitStack, token: str):
        ws = await stack.enter_async_context(websockets.connect(ws_url, subprotocols=["graphql-transport-ws"]))
        await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe",
                                  "payload": {"query": SUBSCRIBE, "variables": {"id": str(ticket.id)}}}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "next"
        return ws

    async with contextlib.AsyncExitStack() as stack:
        kept_1, gone, kept_2 = [await subscribed(stack, t) for t in (kept, revoked, kept)]
        await ApiToken.filter(id=row.id).update(revoked_at=demo.rt.clock.now())
        await tickets.cancel_ticket(demo.rt, await demo.user("alice"), str(ticket.id), "changed my mind")
        texts = [await asyncio.wait_for(ws.recv(), 10) for ws in (kept_1, kept_2)]
        assert [json.loads(t)["payload"]["data"]["ticketUpdated"]["status"] for t in texts] == ["CANCELLED"] * 2
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(gone.recv(), 10)
        assert closed.value.rcvd.code == 4403
