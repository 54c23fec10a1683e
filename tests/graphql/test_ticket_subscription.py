"""ticketUpdated with many sockets on one ticket: what the sockets share for one event (the
row, each reader's decision, the executed result, the credential check) never outlives
that event, and never crosses from one reader to another."""

from __future__ import annotations

import asyncio
import contextlib

import httpx
from httpx_ws import aconnect_ws
from httpx_ws.transport import ASGIWebSocketTransport

from jit.approvals import service as approvals
from jit.approvals.models import Outcome
from jit.auth.models import ApiToken
from jit.auth.service import CredentialChecks, create_token, identify_token
from jit.rules.models import ApprovalRule
from jit.rules.service import RuleService, rule_to_spec
from jit.tickets import service as tickets
from tests.graphql.client import in_process_app
from tests.security.conftest import runtime_with

SUBSCRIBE = "subscription($id: ID!) { ticketUpdated(id: $id) { status ticket { id justification } } }"


@contextlib.asynccontextmanager
async def sockets(rt, tokens: list[str], ticket_id: str):
    """One websocket per token, each subscribed to the ticket and past its first message."""
    app = in_process_app(rt)
    async with httpx.AsyncClient(transport=ASGIWebSocketTransport(app), base_url="http://jit.test") as client:
        async with contextlib.AsyncExitStack() as stack:
            opened = []
            for token in tokens:
                ws = await stack.enter_async_context(aconnect_ws("/graphql", client,
                                                                 subprotocols=["graphql-transport-ws"]))
                await ws.send_json({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
                assert (await ws.receive_json(timeout=5))["type"] == "connection_ack"
                await ws.send_json({"id": "1", "type": "subscribe",
                                    "payload": {"query": SUBSCRIBE, "variables": {"id": ticket_id}}})
                first = await ws.receive_json(timeout=5)
                assert first["type"] == "next", first
                opened.append(ws)
            yield opened


async def _next(ws) -> dict:
    return await ws.receive_json(timeout=5)


async def _dev_ticket(demo):
    return await demo.request("alice", [("payments-dev", "PowerUserAccess")], justification="fan-out")


async def test_every_socket_of_every_reader_gets_the_event(demo):
    ticket = await _dev_ticket(demo)
    alice, _ = await create_token(demo.rt.clock, "alice", "ws")
    bob, _ = await create_token(demo.rt.clock, "bob", "ws")
    async with sockets(demo.rt, [alice, bob, alice, bob], str(ticket.id)) as opened:
        await approvals.decide(demo.rt, await demo.user("bob"), str(ticket.id), Outcome.APPROVED)
        messages = await asyncio.gather(*(_next(ws) for ws in opened))
    for message in messages:
        assert message["type"] == "next", message
        update = message["payload"]["data"]["ticketUpdated"]
        assert update == {"status": "SCHEDULED", "ticket": {"id": str(ticket.id), "justification": "fan-out"}}


async def test_a_reader_whose_access_is_withdrawn_mid_stream_gets_no_further_event(demo):
    ticket = await _dev_ticket(demo)
    alice_row, bob_row = await demo.user("alice"), await demo.user("bob")
    alice, _ = await create_token(demo.rt.clock, "alice", "ws")
    bob, _ = await create_token(demo.rt.clock, "bob", "ws")
    async with sockets(demo.rt, [bob, alice, bob], str(ticket.id)) as (bob_1, alice_ws, bob_2):
        await approvals.decide(demo.rt, bob_row, str(ticket.id), Outcome.APPROVED)
        for ws in (bob_1, alice_ws, bob_2):
            assert (await _next(ws))["payload"]["data"]["ticketUpdated"]["status"] == "SCHEDULED"

        # bob stops being an approver of the ticket's rule: he may no longer read it.
        rule = await ApprovalRule.get(name="dev-access")
        spec = rule_to_spec(rule)
        spec.steps[0].groups, spec.steps[0].users = [], ["carol"]
        await RuleService(demo.rt).update(rule.id, spec, None)
        assert not await demo.rt.authz.may_read(bob_row.id, await tickets.ticket_parties(ticket))

        await tickets.cancel_ticket(demo.rt, alice_row, str(ticket.id), "changed my mind")
        assert (await _next(alice_ws))["payload"]["data"]["ticketUpdated"]["status"] == "CANCELLED"
        for ws in (bob_1, bob_2):
            message = await _next(ws)
            assert message["type"] == "complete", message
            assert "CANCELLED" not in str(message)


async def test_one_revoked_token_closes_its_socket_and_not_the_others(demo):
    ticket = await _dev_ticket(demo)
    kept, _ = await create_token(demo.rt.clock, "alice", "kept")
    revoked, row = await create_token(demo.rt.clock, "alice", "revoked")
    rt = runtime_with(demo.rt, ws_recheck_interval=3600)  # only the per-event check can catch it
    async with sockets(rt, [kept, revoked, kept], str(ticket.id)) as (kept_1, revoked_ws, kept_2):
        await ApiToken.filter(id=row.id).update(revoked_at=demo.rt.clock.now())
        await tickets.cancel_ticket(demo.rt, await demo.user("alice"), str(ticket.id), "changed my mind")
        for ws in (kept_1, kept_2):
            assert (await _next(ws))["payload"]["data"]["ticketUpdated"]["status"] == "CANCELLED"
        message = None
        try:
            message = await _next(revoked_ws)
        except Exception as exc:  # noqa: BLE001 - the close is what we expect
            assert getattr(exc, "code", None) == 4403, exc
        assert message is None, message


async def test_credential_checks_asked_together_are_answered_together_and_fresh(demo):
    alice, _ = await create_token(demo.rt.clock, "alice", "a")
    bob, bob_row = await create_token(demo.rt.clock, "bob", "b")
    ids = [await identify_token(demo.rt.clock, t) for t in (alice, bob, alice)]
    checks = CredentialChecks(demo.rt.settings, demo.rt.clock)
    assert await asyncio.gather(*(checks.still_valid(i) for i in ids)) == [True, True, True]
    await ApiToken.filter(id=bob_row.id).update(revoked_at=demo.rt.clock.now())
    # Asked after the revocation committed: the next batch sees it.
    assert await asyncio.gather(*(checks.still_valid(i) for i in ids)) == [True, False, True]
