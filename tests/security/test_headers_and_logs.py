"""Security headers on every HTTP response, and no secrets in the logs."""

from __future__ import annotations

import logging

import pytest

from jit.auth.redact import redact
from jit.auth.service import create_token


@pytest.mark.parametrize("method,path,body", [
    ("GET", "/console", None), ("GET", "/healthz", None), ("POST", "/graphql", {"query": "{ me { roles } }"}),
    ("GET", "/auth/session", None), ("GET", "/nowhere", None),
])
async def test_every_response_carries_the_security_headers(make_api, demo, method, path, body):
    api = await make_api(mode="production")
    response = await api.client.request(method, path, json=body)
    h = response.headers
    assert "frame-ancestors 'none'" in h["content-security-policy"]
    assert "default-src 'self'" in h["content-security-policy"] and "unsafe-inline" not in h["content-security-policy"]
    assert h["x-content-type-options"] == "nosniff"
    assert h["x-frame-options"] == "DENY"
    assert h["referrer-policy"] == "no-referrer"
    assert "camera=()" in h["permissions-policy"]
    assert h["cross-origin-opener-policy"] == "same-origin"
    assert "strict-transport-security" not in h  # plain http: HSTS would be ignored


async def test_hsts_when_served_over_https(make_api, demo):
    api = await make_api(public_url="https://jit.example.com")
    response = await api.client.get("/healthz")
    assert response.headers["strict-transport-security"].startswith("max-age=63072000")


async def test_production_serves_no_graphiql(make_api, demo):
    api = await make_api(mode="production")
    assert (await api.client.get("/graphql")).status_code == 405


async def test_no_secrets_in_logs(make_api, demo, caplog):
    caplog.set_level(logging.DEBUG)
    api = await make_api(mode="test")
    token, _ = await create_token(demo.rt.clock, "alice", "logs")
    bogus = "jit_" + "A" * 43
    await api.client.post("/graphql", json={"query": "{ me { roles } }"}, headers={"Authorization": f"Bearer {token}"})
    await api.client.post("/graphql", json={"query": "{ me { roles } }"}, headers={"Authorization": f"Bearer {bogus}"})
    api.client.cookies.set("jit_session", "s3cr3t-session")
    await api.client.post("/graphql", json={"query": "{ me { roles } }"})
    # Something that logs a secret on purpose: it reaches the log cleaned.
    logging.getLogger("jit.test").warning("request had Authorization: Bearer %s and cookie jit_session=%s",
                                          token, "s3cr3t-session")
    try:
        raise RuntimeError(f"failed with {token}")
    except RuntimeError:
        logging.getLogger("jit.test").exception("boom")
    text = caplog.text + "".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert "[REDACTED]" in text
    for secret in (token, bogus, "s3cr3t-session"):
        assert secret not in text


def test_redaction_patterns():
    assert redact("Authorization: Bearer abc.def") == "Authorization: [REDACTED]"
    assert "xyz" not in redact("GET /auth/callback?code=xyz&state=abc HTTP/1.1")
    assert "abc" not in redact("cookie: __Host-jit_session=abc; other=1")
    assert redact("ticket 42 approved") == "ticket 42 approved"
