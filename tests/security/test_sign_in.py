"""Console sign-in through a real OIDC provider on loopback, sessions, logout and CSRF."""

from __future__ import annotations

import logging
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from jit.auth.models import SignInSession
from jit.errors import Unauthenticated
from tests.security.conftest import client_for, runtime_with
from tests.security.oidc import CLIENT_ID, JIT_BASE, sign_in_at_provider, start_provider

ME = {"query": "{ me { user { userName } roles } }"}


@pytest.fixture(scope="module")
def provider():
    p = start_provider()
    yield p
    p.process.terminate()
    p.process.wait(10)


@pytest.fixture
def oidc_rt(demo, provider):
    return runtime_with(demo.rt, oidc_issuer=provider.issuer, oidc_client_id=CLIENT_ID, public_url=JIT_BASE)


def _refused_as_unauthenticated(response: httpx.Response) -> bool:
    return response.json()["errors"][0] == {"message": Unauthenticated.PUBLIC_MESSAGE,
                                            "extensions": {"code": "UNAUTHENTICATED", "field": None}}


async def _sign_in(jit: httpx.AsyncClient, login: str, return_to: str = "/console") -> httpx.Response:
    start = await jit.get("/auth/login", params={"returnTo": return_to})
    assert start.status_code == 302
    authorize = start.headers["location"]
    query = parse_qs(urlsplit(authorize).query)
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"] and query["nonce"]
    async with httpx.AsyncClient(timeout=30) as browser:
        back = await sign_in_at_provider(browser, authorize, login)
    return await jit.get(back.removeprefix(JIT_BASE))


def _csrf(jit: httpx.AsyncClient) -> str:
    return jit.cookies["jit_csrf"]


async def test_sign_in_with_oidc_then_use_the_api_and_log_out(oidc_rt):
    async with client_for(oidc_rt, JIT_BASE) as jit:
        done = await _sign_in(jit, "bob", "/console?x=1")
        assert done.status_code == 303 and done.headers["location"] == "/console?x=1"
        cookie = done.headers.get_list("set-cookie")
        session_cookie = next(c for c in cookie if c.startswith("jit_session="))
        assert "HttpOnly" in session_cookie and "SameSite=lax" in session_cookie
        assert any(c.startswith("jit_csrf=") and "SameSite=strict" in c for c in cookie)
        row = await SignInSession.get().select_related("user")
        assert row.user.user_name == "bob" and row.method == "oidc"
        assert jit.cookies["jit_session"] not in str(row.__dict__)  # only its digest is stored

        ok = await jit.post("/graphql", json=ME, headers={"X-JIT-CSRF": _csrf(jit), "Origin": JIT_BASE})
        assert ok.status_code == 200 and ok.json()["data"]["me"]["user"]["userName"] == "bob"

        out = await jit.post("/auth/logout", headers={"X-JIT-CSRF": _csrf(jit), "Origin": JIT_BASE})
        assert out.status_code == 200
        assert (await SignInSession.get(id=row.id)).ended_at is not None
    # The old cookie no longer works, even if a browser kept it.
    async with client_for(oidc_rt, JIT_BASE) as replay:
        replay.cookies.set("jit_session", jit.cookies.get("jit_session") or "gone")
        secret = next(c.split(";")[0].split("=", 1)[1] for c in cookie if c.startswith("jit_session="))
        csrf = next(c.split(";")[0].split("=", 1)[1] for c in cookie if c.startswith("jit_csrf="))
        replay.cookies.set("jit_session", secret)
        response = await replay.post("/graphql", json=ME, headers={"X-JIT-CSRF": csrf})
        assert response.status_code == 401 and _refused_as_unauthenticated(response)


async def test_user_is_matched_by_the_configured_claim(demo, provider):
    rt = runtime_with(demo.rt, oidc_issuer=provider.issuer, oidc_client_id=CLIENT_ID, public_url=JIT_BASE,
                      oidc_user_claim="preferred_username")
    async with client_for(rt, JIT_BASE) as jit:
        assert (await _sign_in(jit, "carol")).status_code == 303
        response = await jit.post("/graphql", json=ME, headers={"X-JIT-CSRF": _csrf(jit)})
        assert response.json()["data"]["me"]["user"]["userName"] == "carol"
    async with client_for(rt, JIT_BASE) as jit:
        refused = await _sign_in(jit, "mallory")  # not in the directory
        assert refused.status_code == 403 and "jit_session" not in jit.cookies
        assert refused.json()["errors"][0]["extensions"]["field"] == "preferred_username"


async def test_a_callback_from_another_browser_or_replayed_is_refused(oidc_rt):
    async with client_for(oidc_rt, JIT_BASE) as jit:
        start = await jit.get("/auth/login")
        async with httpx.AsyncClient(timeout=30) as browser:
            back = await sign_in_at_provider(browser, start.headers["location"], "bob")
    async with client_for(oidc_rt, JIT_BASE) as victim:  # has no state cookie
        response = await victim.get(back.removeprefix(JIT_BASE))
        # The same answer as any other 401; the log says why.
        assert response.status_code == 401 and _refused_as_unauthenticated(response)
    assert await SignInSession.all().count() == 0


async def test_sessions_end_after_idle_and_absolute_timeouts(oidc_rt, demo, caplog):
    caplog.set_level(logging.INFO)
    rt = runtime_with(oidc_rt, session_idle_timeout=600, session_absolute_timeout=3600)
    async with client_for(rt, JIT_BASE) as jit:
        assert (await _sign_in(jit, "alice")).status_code == 303
        demo.rt.clock.advance(minutes=11)
        response = await jit.post("/graphql", json=ME, headers={"X-JIT-CSRF": _csrf(jit)})
        assert response.status_code == 401 and _refused_as_unauthenticated(response)
        assert "idle" in caplog.text
        again = await _sign_in(jit, "alice")
        assert again.status_code == 303, again.text  # a failed second sign-in would look like an idle session
        headers = {"X-JIT-CSRF": _csrf(jit)}
        for _ in range(6):  # active every 9 minutes: stays signed in until the absolute limit
            demo.rt.clock.advance(minutes=9)
            response = await jit.post("/graphql", json=ME, headers=headers)
            assert response.status_code == 200, response.text
        demo.rt.clock.advance(minutes=9)  # 63 minutes after sign-in
        response = await jit.post("/graphql", json=ME, headers=headers)
        assert response.status_code == 401 and _refused_as_unauthenticated(response)
        assert "expired" in caplog.text


async def test_cookie_authenticated_mutations_need_the_csrf_token(oidc_rt):
    from jit.tickets.models import Ticket

    mutation = {"query": 'mutation { cancelTicket(ticketId: "00000000-0000-0000-0000-000000000000") { __typename } }'}
    async with client_for(oidc_rt, JIT_BASE) as jit:
        await _sign_in(jit, "alice")
        for headers in ({}, {"X-JIT-CSRF": "guess"}, {"X-JIT-CSRF": _csrf(jit), "Origin": "https://evil.example"},
                        {"X-JIT-CSRF": _csrf(jit), "Sec-Fetch-Site": "cross-site"}):
            response = await jit.post("/graphql", json=mutation, headers=headers)
            assert response.status_code == 403, headers
            assert response.json()["errors"][0]["extensions"] == {"code": "CSRF", "field": "x-jit-csrf"}
            assert "data" not in response.json() or response.json()["data"] is None
        # A cross-site logout is refused too.
        assert (await jit.post("/auth/logout", headers={"Origin": "https://evil.example"})).status_code == 403
        assert await SignInSession.filter(ended_at=None).count() == 1
        response = await jit.post("/graphql", json=mutation, headers={"X-JIT-CSRF": _csrf(jit), "Origin": JIT_BASE})
        assert response.json()["data"]["cancelTicket"]["__typename"] == "NotFoundError"
    assert await Ticket.all().count() == 0


async def test_a_session_socket_needs_the_csrf_token_and_closes_at_logout(oidc_rt):
    import asyncio

    from httpx_ws import WebSocketDisconnect, aconnect_ws
    from httpx_ws.transport import ASGIWebSocketTransport

    from tests.graphql.client import in_process_app

    async with client_for(oidc_rt, JIT_BASE) as jit:
        await _sign_in(jit, "alice")
        cookies, csrf = dict(jit.cookies), _csrf(jit)
        rt = runtime_with(oidc_rt, ws_recheck_interval=0.2)
        transport = ASGIWebSocketTransport(in_process_app(rt))
        async with httpx.AsyncClient(transport=transport, base_url=JIT_BASE, cookies=cookies) as client:
            async with aconnect_ws("/graphql", client, subprotocols=["graphql-transport-ws"]) as ws:
                await ws.send_json({"type": "connection_init", "payload": {}})
                with pytest.raises(WebSocketDisconnect) as refused:
                    await ws.receive_json(timeout=5)
                assert refused.value.code == 4403
            async with aconnect_ws("/graphql", client, subprotocols=["graphql-transport-ws"]) as ws:
                await ws.send_json({"type": "connection_init", "payload": {"csrfToken": csrf}})
                assert (await ws.receive_json(timeout=5))["type"] == "connection_ack"
                await jit.post("/auth/logout", headers={"X-JIT-CSRF": csrf})
                with pytest.raises(WebSocketDisconnect) as closed:
                    async with asyncio.timeout(5):
                        await ws.receive_json()
                assert closed.value.code == 4403
