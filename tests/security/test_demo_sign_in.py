"""The demo user picker exists in demo mode only."""

from __future__ import annotations

import pytest

from jit.auth.models import SignInSession

HEADERS = {"X-JIT-CSRF": "1", "Origin": "http://jit.test"}


async def test_demo_mode_lists_demo_users_and_signs_in_without_password(make_api, demo):
    api = await make_api(mode="demo", public_url="http://jit.test")
    listed = await api.client.get("/auth/demo")
    assert listed.status_code == 200
    assert {"alice", "bob", "admin"} <= {u["userName"] for u in listed.json()["users"]}
    response = await api.client.post("/auth/demo", json={"userName": "bob"}, headers=HEADERS)
    assert response.status_code == 200 and response.json()["user"]["userName"] == "bob"
    me = await api.client.post("/graphql", json={"query": "{ me { user { userName } } }"},
                               headers={"X-JIT-CSRF": api.client.cookies["jit_csrf"]})
    assert me.json()["data"]["me"]["user"]["userName"] == "bob"
    assert (await SignInSession.get()).method == "demo"


async def test_demo_sign_in_refuses_other_sites_and_unknown_users(make_api, demo):
    api = await make_api(mode="demo", public_url="http://jit.test")
    assert (await api.client.post("/auth/demo", json={"userName": "bob"})).status_code == 403
    evil = {"X-JIT-CSRF": "1", "Origin": "https://evil.example"}
    assert (await api.client.post("/auth/demo", json={"userName": "bob"}, headers=evil)).status_code == 403
    assert (await api.client.post("/auth/demo", json={"userName": "root"}, headers=HEADERS)).status_code == 404
    assert await SignInSession.all().count() == 0


@pytest.mark.parametrize("mode", ["production", "test"])
async def test_demo_login_is_unreachable_outside_demo_mode(make_api, demo, mode):
    api = await make_api(mode=mode)
    assert (await api.client.get("/auth/demo")).status_code == 404
    response = await api.client.post("/auth/demo", json={"userName": "admin"}, headers=HEADERS)
    assert response.status_code == 404
    assert "set-cookie" not in response.headers
    assert await SignInSession.all().count() == 0
