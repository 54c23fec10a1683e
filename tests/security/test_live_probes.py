"""The probe against a fresh `jit serve` in production mode, as the black-box run found it:
the issue's bar is that the 21-level fragment fan-out is refused in under a second while
/healthz keeps answering in under 100 ms. The figures are printed (`pytest -s`)."""

from __future__ import annotations

import asyncio
import os
import statistics
import threading
import time
from pathlib import Path

import httpx
import pytest
from httpx_ws import aconnect_ws

from jit.errors import Unauthenticated
from tests.security.test_probes import ALIASED_PAGES, fan_out
from tests.support.live import LiveJit, database_for


class _ProductionJit(LiveJit):
    @property
    def env(self) -> dict[str, str]:
        return {**super().env, "JIT_MODE": "production", "JIT_LOG_FORMAT": "text"}


@pytest.fixture(scope="module")
def live(redis_url, moto_url, tmp_path_factory):
    logs = tmp_path_factory.mktemp("serve-logs")
    before = os.environ.get("JIT_LIVE_LOG_DIR")
    os.environ["JIT_LIVE_LOG_DIR"] = str(logs)
    try:
        server = _ProductionJit(database_for("probes", logs), redis_url, moto_url, workers=0).start()
    finally:
        if before is None:
            os.environ.pop("JIT_LIVE_LOG_DIR", None)
        else:
            os.environ["JIT_LIVE_LOG_DIR"] = before
    server.log = logs / "serve.log"  # type: ignore[attr-defined]
    yield server
    server.stop()


def _post(http: httpx.Client, live, query: str, **kw) -> httpx.Response:
    return http.post("/graphql", json={"query": query, **kw},
                     headers={"Authorization": f"Bearer {live.tokens['alice']}"})


class _HealthzProbe(threading.Thread):
    """Asks /healthz every 20 ms on its own connection and keeps each latency."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.samples, self.stop = url, [], threading.Event()

    def run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=30) as http:
            while not self.stop.is_set():
                started = time.perf_counter()
                assert http.get("/healthz").status_code == 200
                self.samples.append(time.perf_counter() - started)
                time.sleep(0.02)


def test_the_fragment_fan_out_is_refused_within_a_second_while_healthz_stays_fast(live):
    probe = _HealthzProbe(live.url)
    refusals: dict[str, list[float]] = {}
    with httpx.Client(base_url=live.url, timeout=120) as http:
        assert _post(http, live, "{ me { user { userName } } }").json()["data"]["me"]["user"]["userName"] == "alice"
        probe.start()
        time.sleep(0.2)
        for name, query in (("fan-out 21", fan_out(21)), ("fan-out 29", fan_out(29)),
                            ("30 aliased pages", ALIASED_PAGES)):
            for _ in range(5):
                started = time.perf_counter()
                response = _post(http, live, query)
                refusals.setdefault(name, []).append(time.perf_counter() - started)
                assert response.status_code == 200
                body = response.json()
                assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX", body
        time.sleep(0.2)
        probe.stop.set()
        probe.join(5)
    healthz = probe.samples
    print("\nlive probe (jit serve, production mode), round trip in ms:")
    for name, samples in refusals.items():
        print(f"  {name:<18} median {statistics.median(samples) * 1000:7.1f}  max {max(samples) * 1000:7.1f}")
    print(f"  /healthz meanwhile median {statistics.median(healthz) * 1000:7.1f}  max {max(healthz) * 1000:7.1f}"
          f"  ({len(healthz)} requests)")
    # The bar, generous on a shared machine: under 1 s to refuse, /healthz under 100 ms.
    assert max(max(s) for s in refusals.values()) < 1.0, refusals
    assert len(healthz) >= 5 and max(healthz) < 0.1, healthz


def test_the_fan_out_is_refused_over_a_websocket_too(live):
    async def run() -> dict:
        async with httpx.AsyncClient(base_url=live.url) as client, \
                aconnect_ws(f"{live.url}/graphql", client, subprotocols=["graphql-transport-ws"]) as ws:
            await ws.send_json({"type": "connection_init",
                                "payload": {"Authorization": f"Bearer {live.tokens['alice']}"}})
            assert (await ws.receive_json(timeout=5))["type"] == "connection_ack"
            await ws.send_json({"type": "subscribe", "id": "1", "payload": {"query": fan_out(21)}})
            return await ws.receive_json(timeout=5)

    answer = asyncio.run(run())
    assert answer["type"] == "error" and answer["payload"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"


def test_what_else_a_production_server_answers_a_prober(live):
    with httpx.Client(base_url=live.url, timeout=30) as http:
        healthz = http.get("/healthz")
        assert "server" not in healthz.headers  # no `server: uvicorn`
        assert http.get("/metrics").status_code == 404
        typo = _post(http, live, '{ tickt(id: "1") { id } }').json()["errors"][0]["message"]
        assert "Cannot query field 'tickt'" in typo and "Did you mean" not in typo
        # One 401 for every reason.
        bodies = {http.post("/graphql", json={"query": "{ me { roles } }"}, headers=h).content
                  for h in ({}, {"Authorization": "Bearer jit_" + "x" * 43}, {"Authorization": "Basic eDp5"})}
        assert len(bodies) == 1 and Unauthenticated.PUBLIC_MESSAGE in bodies.pop().decode()
        secret = live.tokens["alice"]
        echoed = http.get("/healthz", headers={"X-Request-Id": secret}).headers["x-request-id"]
        assert echoed != secret

        nested = '{"query": "{ me { roles } }", "variables": {"v": ' + "[" * 1000 + "]" * 1000 + "}}"
        marker = "probe-" + os.urandom(4).hex()
        for response in (http.get("/%00", headers={"X-Request-Id": marker}),
                         http.post("/graphql", content=nested, headers={
                             "content-type": "application/json", "X-Request-Id": marker,
                             "Authorization": f"Bearer {secret}"})):
            assert response.status_code == 400, response.text
            assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
            assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    time.sleep(0.3)  # let the log reach the file
    log = Path(live.log).read_text()
    ours = [line for line in log.splitlines() if marker in line and "jit.input_guard" in line]
    assert len(ours) == 2, ours  # one line each
    assert "Traceback" not in log and secret not in log
