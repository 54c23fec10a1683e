"""The black-box probe's findings (issue 16, the GraphQL/HTTP half), each replayed in process:
every one is refused quickly, cleanly and the same way over HTTP and websockets."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import re
import time
from pathlib import Path

import pytest
import strawberry
from graphql import parse
from httpx_ws import aconnect_ws

from jit.auth.models import ApiToken
from jit.auth.service import create_token
from jit.client import documents
from jit.config import Settings
from jit.graphql.limits import Limits, measure
from jit.graphql.schema import TimedSchema, build_schema
from jit.graphql.security import build_extensions
from jit.ids import int_id
from jit.input_guard import json_depth
from jit.ops.logs import incoming_request_id
from tests.security.conftest import client_for, runtime_with
from tests.security.test_websockets import ws_client

ROOT = Path(__file__).resolve().parents[2]
ARABIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def fan_out(levels: int) -> str:
    """`fragment Fi { ...F(i-1) ...F(i-1) }`: 2**levels fields from a few hundred bytes."""
    parts = ["fragment F0 on User { id }"]
    parts += [f"fragment F{i} on User {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, levels + 1)]
    return "\n".join(parts) + f"\n{{ me {{ user {{ ...F{levels} }} }} }}"


# 30 aliases of a page of 100 tickets with their history: 10.3 s and 1.6 MB before.
ALIASED_PAGES = "{ " + " ".join(
    f"a{i}: tickets(first: 100) {{ edges {{ node {{ id status history {{ action fromStatus toStatus "
    f"actor {{ userName }} }} }} }} }}" for i in range(30)) + " }"


async def _token(demo, user="alice", **kw) -> str:
    token, _ = await create_token(demo.rt.clock, user, "probe", **kw)
    return token


def _refused_as_too_complex(body: dict, limit: str) -> dict:
    assert body.get("data") is None, body
    error = body["errors"][0]
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX" and error["extensions"]["limit"] == limit, error
    return error


def _server_lines(caplog) -> list[logging.LogRecord]:
    """What the server logged (the test's own HTTP client logs each request too)."""
    return [r for r in caplog.records if r.levelno >= logging.INFO and not r.name.startswith(("httpx", "httpcore"))]


def _security_headers(response) -> None:
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"


# --- 1. fragment fan-out, cost, timeout ------------------------------------------------

@pytest.mark.parametrize("levels", [21, 29])
async def test_a_fragment_fan_out_is_refused_at_once_over_http(make_api, demo, levels):
    api = await make_api(mode="production")
    query = fan_out(levels)
    assert len(query) < 1200
    started = time.perf_counter()
    response = await api.raw(query, token=await _token(demo))
    elapsed = time.perf_counter() - started
    error = _refused_as_too_complex(response.json(), "cost")
    assert error["extensions"]["value"] >= 2**levels
    # Generous: the refusal takes about a millisecond; the old limiters took 6.4 s (21 levels).
    assert elapsed < 1.0, elapsed


async def test_a_fragment_fan_out_is_refused_over_a_websocket_too(demo):
    token = await _token(demo)
    rt = runtime_with(demo.rt, mode="production")
    async with ws_client(rt) as client, aconnect_ws("/graphql", client, subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send_json({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
        assert (await ws.receive_json(timeout=5))["type"] == "connection_ack"
        started = time.perf_counter()
        await ws.send_json({"type": "subscribe", "id": "1", "payload": {"query": fan_out(21)}})
        answer = await ws.receive_json(timeout=5)
        elapsed = time.perf_counter() - started
    assert answer["type"] == "error" and answer["id"] == "1", answer
    assert answer["payload"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert elapsed < 1.0, elapsed


async def test_a_shallow_fan_out_within_the_budget_still_answers(api, demo):
    body = (await api.raw(fan_out(8), token=await _token(demo))).json()
    assert "errors" not in body and body["data"]["me"]["user"]["id"]


async def test_thirty_aliased_pages_of_tickets_are_over_the_cost_budget(api, demo):
    token = await _token(demo)
    error = _refused_as_too_complex((await api.raw(ALIASED_PAGES, token=token)).json(), "cost")
    assert error["extensions"]["value"] > error["extensions"]["allowed"] == 60000
    # One such page is an ordinary request.
    one = ALIASED_PAGES.split(" a1:")[0] + " }"
    body = (await api.raw(one, token=token)).json()
    assert "errors" not in body, body


async def test_page_sizes_in_variables_count_and_defaults_count_when_none_is_given(api, demo):
    token = await _token(demo)
    query = "query($n: Int!) { tickets(first: $n) { edges { node { id history { action } } } } }"
    body = (await api.raw(query, {"n": 10}, token=token)).json()
    assert "errors" not in body, body
    schema = build_schema(Settings(mode="test"))._schema
    limits = Limits(max_depth=12, max_aliases=30, max_cost=60000, list_size=5)
    # A page beyond the largest any connection serves counts as that largest page (500);
    # the resolver then refuses it with its own typed error on `first`.
    [found] = measure(schema, parse(query), {"n": 10**6}, limits).values()
    assert found.cost == 1 + 1 + 500 * 8
    body = (await api.raw(query, {"n": 10**6}, token=token)).json()
    assert body["data"] is None or body.get("errors"), body
    assert "QUERY_TOO_COMPLEX" not in str(body) and "first" in str(body), body
    # tickets' default page is 20, and sizes the edges: tickets 1 + edges (1 + 20 * node (1 + id 1)) = 42
    [found] = measure(schema, parse("{ tickets { edges { node { id } } } }"), {}, limits).values()
    assert found.cost == 42 and found.depth == 3
    # docs/security.md's example.
    example = "{ tickets(first: 100) { edges { node { id history { action } } } } }"
    assert [m.cost for m in measure(schema, parse(example), {}, limits).values()] == [802]
    # A list without a page size counts as JIT_GRAPHQL_COST_LIST_SIZE items.
    [found] = measure(schema, parse("{ users { id userName } }"), {}, limits).values()
    assert found.cost == 1 + 5 * 2


def _operations(text: str) -> list[str]:
    return [d.name.value if d.name else "anonymous" for d in parse(text).definitions if hasattr(d, "operation")]


def test_every_document_the_console_and_the_cli_send_is_within_the_limits():
    s = Settings()
    limits = Limits(max_depth=s.graphql_max_depth, max_aliases=s.graphql_max_aliases, max_cost=s.graphql_max_cost,
                    list_size=s.graphql_cost_list_size)
    schema = build_schema(s)._schema
    sources = []
    folder = ROOT / "frontend" / "src" / "graphql"
    fragments = (folder / "fragments.graphql").read_text()
    for path in sorted(folder.glob("*.graphql")):
        if path.name != "fragments.graphql":
            sources.append((path.name, fragments + "\n" + path.read_text()))
    for name, value in vars(documents).items():
        if (name.isupper() and not name.startswith("_") and isinstance(value, str)
                and re.search(r"\b(query|mutation|subscription)\b", value)):
            sources.append((f"jit.client.documents.{name}", value))
    assert len(sources) > 20
    # The largest pages the services allow.
    variables = {"first": 100}
    checked = 0
    for name, text in sources:
        for operation, m in measure(schema, parse(text), variables, limits).items():
            checked += 1
            where = f"{name}: {operation.name.value if operation.name else 'anonymous'}"
            assert m.depth <= limits.max_depth, (where, m)
            assert m.aliases <= limits.max_aliases, (where, m)
            assert m.cost <= limits.max_cost, (where, m)
    assert checked > 30


async def test_a_query_running_past_the_timeout_is_stopped_and_a_mutation_is_not(demo):
    @strawberry.type
    class Query:
        @strawberry.field
        async def slow(self) -> str:
            await asyncio.sleep(5)
            return "late"

    @strawberry.type
    class Mutation:
        @strawberry.mutation
        async def change(self) -> str:
            await asyncio.sleep(0.4)
            return "done"

    schema = TimedSchema(query=Query, mutation=Mutation, extensions=build_extensions(None), timeout=0.2)
    started = time.perf_counter()
    result = await schema.execute("{ slow }")
    assert time.perf_counter() - started < 2
    assert result.data is None and result.errors[0].extensions["code"] == "TIMEOUT"
    # The websocket transport runs queries through Schema.stream: the same limit.
    results = [r async for r in await schema.stream("{ slow }")]
    assert results[0].errors[0].extensions["code"] == "TIMEOUT"
    assert (await schema.execute("mutation { change }")).data == {"change": "done"}


def test_the_served_schema_has_the_timeout_of_the_settings():
    assert build_schema(Settings(mode="test")).timeout == 10.0
    assert build_schema(Settings(mode="test", graphql_timeout_seconds=0)).timeout is None


# --- 2. the mutation rate limit ----------------------------------------------------------

CANCEL = 'mutation { cancelTicket(ticketId: "00000000-0000-0000-0000-000000000000") { __typename } }'


async def test_the_mutation_limit_is_a_sliding_window_answered_with_429(make_api, demo):
    window = 60
    api = await make_api(mutation_rate_limit=3, mutation_rate_window=window)
    token = await _token(demo)
    clock = demo.rt.clock
    for _ in range(3):
        assert (await api.raw(CANCEL, token=token)).status_code == 200
    # Step just past the next minute boundary (still inside the 60 s after the first three):
    # a fixed window would start afresh here and let three more through.
    now = clock.now().timestamp()
    clock.advance(seconds=(math.floor(now / window) + 1) * window - now + 0.5)
    assert clock.now().timestamp() - now < window
    response = await api.raw(CANCEL, token=token)
    assert response.status_code == 429
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    retry = error["extensions"]["retryAfterSeconds"]
    assert response.headers["retry-after"] == str(retry)
    assert abs(retry - (window - (clock.now().timestamp() - now))) <= 1
    _security_headers(response)
    # Once the first three have left the window, there is room again.
    clock.advance(seconds=retry)
    assert (await api.raw(CANCEL, token=token)).status_code == 200


async def test_the_window_is_shared_by_replicas(make_api, demo):
    one = await make_api(mutation_rate_limit=2, mutation_rate_window=60)
    two = await make_api(mutation_rate_limit=2, mutation_rate_window=60)
    token = await _token(demo)
    assert (await one.raw(CANCEL, token=token)).status_code == 200
    assert (await two.raw(CANCEL, token=token)).status_code == 200
    assert (await one.raw(CANCEL, token=token)).status_code == 429
    assert (await two.raw(CANCEL, token=token)).status_code == 429


# --- 3. /metrics -------------------------------------------------------------------------

async def test_metrics_are_not_served_in_production_without_a_token(demo):
    async with client_for(runtime_with(demo.rt, mode="production")) as client:
        response = await client.get("/metrics")
        assert response.status_code == 404 and "jit_" not in response.text
        _security_headers(response)
    async with client_for(runtime_with(demo.rt, mode="production", metrics_token="scrape")) as client:
        assert (await client.get("/metrics")).status_code == 401
        assert (await client.get("/metrics", headers={"Authorization": "Bearer scrape"})).status_code == 200
    async with client_for(runtime_with(demo.rt, mode="test")) as client:
        assert (await client.get("/metrics")).status_code == 200


# --- 4. malformed input ------------------------------------------------------------------

def _nested(depth: int) -> str:
    return '{"query": "query($v: String) { me { roles } }", "variables": {"v": ' + "[" * depth + "]" * depth + "}}"


@pytest.mark.parametrize("depth", [1000, 900, 33])
async def test_deeply_nested_json_is_a_clean_400_with_one_log_line(make_api, demo, caplog, depth):
    caplog.set_level(logging.DEBUG)
    api = await make_api(mode="production")
    token = await _token(demo)
    caplog.clear()
    response = await api.client.post("/graphql", content=_nested(depth), headers={
        "Authorization": f"Bearer {token}", "content-type": "application/json"})
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert "recursion" not in response.text
    _security_headers(response)
    lines = _server_lines(caplog)
    assert len(lines) == 1 and "nested" in lines[0].getMessage(), [r.getMessage() for r in lines]
    assert not any(r.exc_info for r in caplog.records)


async def test_json_as_deep_as_the_limit_is_read(make_api, demo):
    api = await make_api(mode="production")
    response = await api.client.post("/graphql", content=_nested(30), headers={
        "Authorization": f"Bearer {await _token(demo)}", "content-type": "application/json"})
    assert response.status_code == 200  # the variable is refused as a String, by GraphQL
    assert response.json()["errors"][0]["message"].startswith("Variable '$v'")


def test_json_depth_ignores_brackets_inside_strings():
    assert json_depth(b'{"a": "[[[[{{{{", "b": [1, [2]]}') == 3
    assert json_depth(b'{"a": "\\"[[[["}') == 1
    assert json_depth(b"12") == 0


@pytest.mark.parametrize("path", ["/%00", "/console%00.js", "/%01", "/graphql%0a", "/a%1fb", "/%7f"])
async def test_control_characters_in_the_path_are_a_clean_400(make_api, demo, caplog, path):
    caplog.set_level(logging.DEBUG)
    api = await make_api(mode="production")
    caplog.clear()
    response = await api.client.get(path)
    assert response.status_code == 400
    _security_headers(response)
    assert not any(r.exc_info for r in caplog.records)
    assert len(_server_lines(caplog)) == 1


async def test_ids_in_other_scripts_digits_name_nothing(api, demo):
    token = await _token(demo)
    _, row = await create_token(demo.rt.clock, "alice", "target")
    arabic = str(row.id).translate(ARABIC)
    assert int(arabic) == row.id  # what Python's int() would have found
    revoke = "mutation($id: ID!) { revokeApiToken(id: $id) { __typename ... on Error { message } } }"
    for body in ((await api.raw(revoke, {"id": arabic}, token=token)).json(),
                 (await api.raw(f'mutation {{ revokeApiToken(id: "{arabic}") {{ __typename }} }}', token=token)).json()):
        assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "BAD_INPUT", body
    assert (await ApiToken.get(id=row.id)).revoked_at is None
    # A ticket's UUID written in Arabic-Indic digits is not that ticket.
    ticket = await demo.request("alice", [("sandbox-alice", "ReadOnlyAccess")])
    body = (await api.raw("query($id: ID!) { ticket(id: $id) { id } }",
                          {"id": str(ticket.id).translate(ARABIC)}, token=token)).json()
    assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "BAD_INPUT"
    # Inside input objects too.
    body = (await api.raw("query($f: TicketFilter) { tickets(filter: $f) { edges { node { id } } } }",
                          {"f": {"requesterId": "١٢"}}, token=token)).json()
    assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "BAD_INPUT"


def test_integer_ids_are_ascii_digits_only():
    assert int_id("12") == 12 and int_id(12) == 12
    for text in ("١٢", "+12", " 12", "1_2", "12 ", "", "²", "1" * 19, True):
        assert int_id(text) is None, text


# --- 5. suggestions ----------------------------------------------------------------------

async def test_no_field_or_value_suggestions_in_production(make_api, demo):
    token = await _token(demo)
    typo = '{ tickt(id: "x") { id } }'
    enum = "query($f: TicketFilter) { tickets(filter: $f) { edges { node { id } } } }"
    production, development = await make_api(mode="production"), await make_api(mode="test")
    for api, shown in ((production, False), (development, True)):
        found = (await api.raw(typo, token=token)).json()["errors"][0]["message"]
        assert ("Did you mean" in found) is shown, found
        found = (await api.raw(enum, {"f": {"status": ["PENDING_APROVAL"]}}, token=token)).json()
        assert ("Did you mean" in json.dumps(found)) is shown, found
    enabled = await make_api(mode="production", graphql_suggestions=True)
    assert "Did you mean" in (await enabled.raw(typo, token=token)).json()["errors"][0]["message"]


# --- 6. request ids ----------------------------------------------------------------------

async def test_only_plain_request_ids_are_kept(make_api, demo, caplog):
    caplog.set_level(logging.INFO)
    api = await make_api(mode="production")
    secret = await _token(demo)
    for unsafe in (secret, "a" * 65, "abc:def", "tab\there", "ünï"):
        echoed = (await api.client.get("/healthz", headers={"X-Request-Id": unsafe.encode()})).headers["x-request-id"]
        assert echoed != unsafe and re.fullmatch(r"[0-9a-f]{32}", echoed)
    kept = (await api.client.get("/healthz", headers={"X-Request-Id": "req-1.2_3"})).headers["x-request-id"]
    assert kept == "req-1.2_3"
    assert incoming_request_id("a" * 64) == "a" * 64
    assert secret not in caplog.text
