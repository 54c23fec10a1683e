"""Credentials: revocation reaches open sockets at once (on every replica), tokens cannot
impersonate, a token never outlives nor exceeds what minted it, sockets are capped, and
delegations and tickets are bounded in time. Real app, real Redis, real database."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from datetime import timedelta

import httpx
from httpx_ws import WebSocketDisconnect, aconnect_ws
from httpx_ws.transport import ASGIWebSocketTransport

from jit.approvals.models import Decision, Delegation
from jit.audit.models import AuditEvent
from jit.auth import sessions
from jit.auth.models import ApiToken
from jit.auth.scopes import Scope
from jit.auth.service import create_token
from jit.tickets.models import Ticket
from tests.graphql.client import APPROVE, REQUEST, in_process_app
from tests.security.conftest import client_for, runtime_with
from tests.security.test_tokens import CREATE, REVOKE

GT = ["graphql-transport-ws"]
DELEGATE = """mutation($i: CreateDelegationInput!) { createDelegation(input: $i) {
  __typename ... on Error { message field } } }"""


@contextlib.asynccontextmanager
async def ws_client(rt, cookies: dict | None = None):
    transport = ASGIWebSocketTransport(in_process_app(rt))
    async with httpx.AsyncClient(transport=transport, base_url="http://jit.test", cookies=cookies) as client:
        yield client


async def _closed_with(ws, code: int, within: float = 3.0) -> str:
    try:
        async with asyncio.timeout(within):
            while True:
                await ws.receive_json()
    except WebSocketDisconnect as exc:
        assert exc.code == code, (exc.code, exc.reason)
        return exc.reason or ""
    raise AssertionError("the socket stayed open")  # pragma: no cover - asyncio.timeout raises first


async def _init(ws, payload: dict) -> None:
    await ws.send_json({"type": "connection_init", "payload": payload})
    assert (await ws.receive_json(timeout=5))["type"] == "connection_ack"


def _sandbox_request(demo) -> dict:
    return {"input": {"targets": [{"accountId": demo.account("sandbox-alice"), "permissionSet": "ReadOnlyAccess"}],
                      "durationSeconds": 600, "justification": "x"}}


async def _send_request(ws, demo, op_id: str = "1") -> None:
    with contextlib.suppress(Exception):  # the server may already have closed it
        await ws.send_json({"id": op_id, "type": "subscribe",
                            "payload": {"query": REQUEST, "variables": _sandbox_request(demo)}})


# --- 1. revocation reaches open sockets ----------------------------------------------------


async def test_an_operation_on_a_socket_runs_while_its_token_is_valid(demo):
    token, _ = await create_token(demo.rt.clock, "alice", "ws")
    async with ws_client(demo.rt) as client, aconnect_ws("/graphql", client, subprotocols=GT) as ws:
        await _init(ws, {"Authorization": f"Bearer {token}"})
        await _send_request(ws, demo)
        message = await ws.receive_json(timeout=5)
    assert message["payload"]["data"]["requestTicket"]["__typename"] == "Ticket"


async def test_revoking_a_token_closes_its_socket_at_once_and_nothing_more_runs(demo, api):
    token, row = await create_token(demo.rt.clock, "alice", "ws")
    # The default 30 s recheck: only the revocation itself can close the socket in time.
    async with ws_client(demo.rt) as client, aconnect_ws("/graphql", client, subprotocols=GT) as ws:
        await _init(ws, {"Authorization": f"Bearer {token}"})
        revoked = (await api.as_(demo.rt, "alice", REVOKE, id=str(row.id)))["revokeApiToken"]
        assert revoked["__typename"] == "ApiToken"
        await _send_request(ws, demo)
        assert "revoked" in await _closed_with(ws, 4403)
    assert await Ticket.all().count() == 0


async def test_every_operation_checks_the_credential_even_without_the_announcement(demo):
    token, row = await create_token(demo.rt.clock, "alice", "ws")
    rt = runtime_with(demo.rt, ws_credential_cache_seconds=0)
    async with ws_client(rt) as client, aconnect_ws("/graphql", client, subprotocols=GT) as ws:
        await _init(ws, {"Authorization": f"Bearer {token}"})
        # Revoked behind the API's back (no message on the channel).
        await ApiToken.filter(id=row.id).update(revoked_at=demo.rt.clock.now())
        await _send_request(ws, demo)
        await _closed_with(ws, 4403)
    assert await Ticket.all().count() == 0


async def test_logging_out_closes_the_sessions_socket_at_once(demo):
    alice = await demo.user("alice")
    new = await sessions.create_session(demo.rt.settings, demo.rt.clock, alice, "demo")
    cookies = {"jit_session": new.secret, "jit_csrf": new.csrf}
    async with ws_client(demo.rt, cookies) as client, aconnect_ws("/graphql", client, subprotocols=GT) as ws:
        await _init(ws, {"csrfToken": new.csrf})
        async with client_for(demo.rt) as http:
            out = await http.post("/auth/logout", headers={"X-JIT-CSRF": new.csrf}, cookies=cookies)
            assert out.status_code == 200
        await _send_request(ws, demo)
        await _closed_with(ws, 4403)
    assert await Ticket.all().count() == 0


async def test_a_revocation_on_one_replica_closes_the_socket_on_another(demo, api):
    """Two app instances with their own runtimes (caches, listeners), sharing Redis."""
    token, row = await create_token(demo.rt.clock, "alice", "ws")
    replica_b = runtime_with(demo.rt)
    assert await replica_b.open_credentials().wait_listening()
    async with ws_client(replica_b) as client, aconnect_ws("/graphql", client, subprotocols=GT) as ws:
        await _init(ws, {"Authorization": f"Bearer {token}"})
        # A cached "valid" on replica B, as a busy socket would have.
        await _send_request(ws, demo, "warm")
        assert (await ws.receive_json(timeout=5))["id"] == "warm"
        started = time.monotonic()
        await api.as_(demo.rt, "alice", REVOKE, id=str(row.id))  # on replica A
        await _closed_with(ws, 4403, within=2.0)
        took = time.monotonic() - started
    print(f"\nrevocation on replica A closed the socket on replica B in {took * 1000:.1f} ms")
    assert took < 2.0
    await replica_b.open_credentials().close_all()


# --- 2 and 7. no impersonation -------------------------------------------------------------


async def test_an_admin_cannot_mint_a_token_for_someone_else_through_the_api(api, demo):
    before = await ApiToken.all().count()
    result = (await api.as_(demo.rt, "admin", CREATE, i={"name": "x", "scopes": ["READ", "DECIDE"],
                                                         "userName": "bob"}))["createApiToken"]
    assert result["__typename"] == "NotAllowedError" and result["field"] == "userName"
    assert "jit token create" in result["message"]
    assert await ApiToken.all().count() == before + 1  # only the admin's own test token


async def test_a_token_minted_for_someone_else_never_decides(api, demo):
    ticket = await demo.request("alice", [("payments-prod", "ReadOnlyAccess")])
    # An operator minted bob a token, on behalf of the admin: it may read, not decide.
    minted, minted_row = await create_token(demo.rt.clock, "bob", "for bob", minted_by="admin")
    assert minted_row.minted_for_other and minted_row.minted_by == "operator:admin"
    response = await api.raw(APPROVE, {"id": str(ticket.id), "comment": "ok"}, minted)
    result = response.json()["data"]["approveTicket"]
    assert result["__typename"] == "NotAllowedError" and "someone else" in result["message"]
    # Its child inherits that.
    child = (await api.raw(CREATE, {"i": {"name": "child", "scopes": ["READ", "DECIDE"]}}, minted)).json()
    child_secret = child["data"]["createApiToken"]["token"]
    result = (await api.raw(APPROVE, {"id": str(ticket.id), "comment": "ok"}, child_secret)).json()
    assert result["data"]["approveTicket"]["__typename"] == "NotAllowedError"
    assert await Decision.filter(ticket_id=ticket.id).count() == 0
    # bob's own token decides, and the decision and its audit event name the credential.
    own, own_row = await create_token(demo.rt.clock, "bob", "own")
    result = (await api.raw(APPROVE, {"id": str(ticket.id), "comment": "ok"}, own)).json()
    assert result["data"]["approveTicket"]["status"] == "SCHEDULED"
    decision = await Decision.get(ticket_id=ticket.id)
    assert decision.credential == f"token:{own_row.id}"
    event = await AuditEvent.get(ticket_id=ticket.id, action="decision.approved")
    assert event.detail["credential"] == f"token:{own_row.id}"


async def test_a_token_minted_for_someone_else_cannot_delegate_their_approvals(api, demo):
    minted, _ = await create_token(demo.rt.clock, "bob", "for bob", minted_by="admin")
    ends = (demo.rt.clock.now() + timedelta(days=1)).isoformat()
    carol = await demo.user("carol")
    body = (await api.raw(DELEGATE, {"i": {"delegateId": carol.id, "endsAt": ends, "reason": "leave"}}, minted)).json()
    assert body["data"]["createDelegation"]["__typename"] == "NotAllowedError"
    assert await Delegation.all().count() == 0


# --- 3. a token never outlives nor exceeds its parent -------------------------------------


async def test_a_token_cannot_outlive_the_token_that_mints_it(api, demo):
    now = demo.rt.clock.now()
    parent, parent_row = await create_token(demo.rt.clock, "alice", "1h", now + timedelta(hours=1),
                                            scopes={Scope.READ, Scope.ADMIN})
    far = (now + timedelta(days=364)).isoformat()
    body = (await api.raw(CREATE, {"i": {"name": "long", "scopes": ["READ"], "expiresAt": far}}, parent)).json()
    result = body["data"]["createApiToken"]
    assert result["__typename"] == "ValidationError" and result["field"] == "expiresAt"
    assert "outlive" in result["message"]
    # No expiry asked: it ends with its parent.
    body = (await api.raw(CREATE, {"i": {"name": "child", "scopes": ["READ", "ADMIN"]}}, parent)).json()
    child = body["data"]["createApiToken"]
    row = await ApiToken.get(id=int(child["apiToken"]["id"]))
    assert row.expires_at == parent_row.expires_at and row.parent_token_id == parent_row.id
    assert row.minted_by == f"user:{(await demo.user('alice')).id}" and not row.minted_for_other


async def test_revoking_a_token_revokes_its_descendants(api, demo):
    parent, parent_row = await create_token(demo.rt.clock, "alice", "parent")
    child = (await api.raw(CREATE, {"i": {"name": "child", "scopes": ["READ", "ADMIN"]}}, parent)).json()
    child_secret = child["data"]["createApiToken"]["token"]
    grandchild = (await api.raw(CREATE, {"i": {"name": "grandchild", "scopes": ["READ"]}}, child_secret)).json()
    grandchild_secret = grandchild["data"]["createApiToken"]["token"]
    result = (await api.as_(demo.rt, "alice", REVOKE, id=str(parent_row.id)))["revokeApiToken"]
    assert result["__typename"] == "ApiToken"
    for secret in (child_secret, grandchild_secret):
        response = await api.raw("{ me { user { userName } } }", None, secret)
        assert response.status_code == 401, response.text
    reasons = await ApiToken.filter(parent_token_id__not_isnull=True).values_list("revoked_reason", flat=True)
    assert sorted(reasons) == ["parent revoked", "parent revoked"]


async def test_a_session_mints_tokens_that_end_with_it(demo):
    alice = await demo.user("alice")
    new = await sessions.create_session(demo.rt.settings, demo.rt.clock, alice, "demo")
    cookies = {"jit_session": new.secret, "jit_csrf": new.csrf}
    async with client_for(demo.rt) as http:
        def post(i):
            return http.post("/graphql", json={"query": CREATE, "variables": {"i": i}},
                             headers={"X-JIT-CSRF": new.csrf}, cookies=cookies)

        month = (demo.rt.clock.now() + timedelta(days=30)).isoformat()
        result = (await post({"name": "ci", "scopes": ["READ"], "expiresAt": month})).json()["data"]["createApiToken"]
        assert result["__typename"] == "ValidationError" and result["field"] == "expiresAt"
        made = (await post({"name": "ci", "scopes": ["READ"]})).json()["data"]["createApiToken"]
        row = await ApiToken.get(id=int(made["apiToken"]["id"]))
        assert row.expires_at == new.row.expires_at and row.parent_session_id == new.row.id
        assert row.expires_at - demo.rt.clock.now() == timedelta(seconds=demo.rt.settings.session_absolute_timeout)
        await http.post("/auth/logout", headers={"X-JIT-CSRF": new.csrf}, cookies=cookies)
    row = await ApiToken.get(id=row.id)
    assert row.revoked_at is not None and row.revoked_reason == "session ended"


# --- 4. websocket caps -----------------------------------------------------------------------


async def test_websocket_connections_per_user_are_capped(demo):
    token, _ = await create_token(demo.rt.clock, "alice", "ws")
    other, _ = await create_token(demo.rt.clock, "bob", "ws")
    rt = runtime_with(demo.rt, ws_max_connections_per_user=2)
    auth = {"Authorization": f"Bearer {token}"}
    async with ws_client(rt) as client, contextlib.AsyncExitStack() as stack:
        for _ in range(2):
            await _init(await stack.enter_async_context(aconnect_ws("/graphql", client, subprotocols=GT)), auth)
        async with aconnect_ws("/graphql", client, subprotocols=GT) as third:
            await third.send_json({"type": "connection_init", "payload": auth})
            assert "Too many connections" in await _closed_with(third, 4429)
        # Another user is not affected.
        async with aconnect_ws("/graphql", client, subprotocols=GT) as bobs:
            await _init(bobs, {"Authorization": f"Bearer {other}"})
        assert rt.open_credentials().connections_of((await demo.user("alice")).id) == 2
    # Closed sockets free their places.
    async with ws_client(rt) as client, aconnect_ws("/graphql", client, subprotocols=GT) as ws:
        await _init(ws, auth)


async def test_frames_before_sign_in_are_small(demo):
    async with ws_client(demo.rt) as client, aconnect_ws("/graphql", client, subprotocols=GT) as ws:
        await ws.send_json({"type": "connection_init", "payload": {"Authorization": "x" * 5000}})
        await _closed_with(ws, 1009)


async def test_frames_after_sign_in_are_bounded(demo):
    token, _ = await create_token(demo.rt.clock, "alice", "ws")
    rt = runtime_with(demo.rt, ws_max_frame_bytes=64 * 1024)
    async with ws_client(rt) as client, aconnect_ws("/graphql", client, subprotocols=GT) as ws:
        await _init(ws, {"Authorization": f"Bearer {token}"})
        # Larger than the pre-sign-in limit is fine now.
        padding = " " * 20_000
        await ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": "{ me { user { userName } } }"
                                                                         + padding}})
        assert (await ws.receive_json(timeout=5))["payload"]["data"]["me"]["user"]["userName"] == "alice"
        await ws.send_json({"id": "2", "type": "subscribe", "payload": {"query": "{ me { roles } }" + " " * 70_000}})
        await _closed_with(ws, 1009)


# --- 5. time bounds ----------------------------------------------------------------------------


async def test_delegations_are_bounded_in_time(api, demo):
    carol = await demo.user("carol")
    now = demo.rt.clock.now()
    for starts, ends, field in ((None, now.replace(year=2126), "endsAt"),
                                (None, now + timedelta(days=91), "endsAt"),
                                (now - timedelta(days=1), now + timedelta(days=1), "startsAt"),
                                (now + timedelta(days=89), now + timedelta(days=95), "endsAt")):
        i = {"delegateId": carol.id, "endsAt": ends.isoformat(), "reason": "leave",
             **({"startsAt": starts.isoformat()} if starts else {})}
        result = (await api.as_(demo.rt, "bob", DELEGATE, i=i))["createDelegation"]
        assert result["__typename"] == "ValidationError" and result["field"] == field, (i, result)
    assert await Delegation.all().count() == 0
    ok = {"delegateId": carol.id, "endsAt": (now + timedelta(days=90)).isoformat(), "reason": "leave"}
    assert (await api.as_(demo.rt, "bob", DELEGATE, i=ok))["createDelegation"]["__typename"] == "Delegation"


async def test_a_ticket_starts_at_most_the_lead_time_ahead(api, demo):
    variables = _sandbox_request(demo)
    variables["input"]["startAt"] = (demo.rt.clock.now() + timedelta(days=31)).isoformat()
    result = (await api.as_(demo.rt, "alice", REQUEST, **variables))["requestTicket"]
    assert result["__typename"] == "ValidationError" and result["field"] == "startAt"
    assert await Ticket.all().count() == 0
    variables["input"]["startAt"] = (demo.rt.clock.now() + timedelta(days=29)).isoformat()
    assert (await api.as_(demo.rt, "alice", REQUEST, **variables))["requestTicket"]["__typename"] == "Ticket"



async def test_a_token_minted_for_a_second_admin_cannot_approve_a_rule_change(demo):
    import pytest

    from jit.auth.acting import acting_as
    from jit.auth.service import identify_token
    from jit.errors import NotAllowed
    from jit.rules.changes import Proposed, RuleChangeService
    from jit.rules.models import ApprovalRule, RuleChange
    from jit.rules.service import rule_to_spec
    from tests.rules.test_change_control import _second_admin

    settings = demo.rt.settings.model_copy(update={"rule_change_approval_ous": ["/Workloads/Prod"]})
    service = RuleChangeService(dataclasses.replace(demo.rt, settings=settings))
    admin, admin2 = (await demo.user("admin")).id, await _second_admin(demo)
    rule = await ApprovalRule.get(name="prod-read-only")
    spec = rule_to_spec(rule)
    spec.max_duration_seconds = 3600
    own, own_row = await create_token(demo.rt.clock, "admin", "own")
    with acting_as(await identify_token(demo.rt.clock, own)):
        proposed = await service.update(rule.id, spec, admin)
    assert isinstance(proposed, Proposed) and proposed.change.proposed_credential == f"token:{own_row.id}"
    # The proposing admin holds a token minted (by an operator, on their word) for admin2.
    minted, _ = await create_token(demo.rt.clock, "admin2", "for admin2", minted_by="admin")
    with acting_as(await identify_token(demo.rt.clock, minted)), pytest.raises(NotAllowed, match="someone else"):
        await service.decide(str(proposed.change.id), admin2, approve=True)
    assert (await RuleChange.get(id=proposed.change.id)).status == "PENDING"
