"""Abuse over HTTP: each refused with the right error, and nothing leaking."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator

import strawberry

from jit.auth.models import ApiToken
from jit.auth.scopes import ALL_SCOPES
from jit.auth.service import Identity, create_token
from jit.errors import Unauthenticated
from jit.graphql.security import build_extensions
from jit.tickets.models import Ticket
from tests.graphql.client import REQUEST

ME = "{ me { user { userName } } }"


async def _token(demo, user="alice", **kw):
    token, _ = await create_token(demo.rt.clock, user, "t", **kw)
    return token


def _no_leak(body: dict) -> None:
    text = str(body)
    for word in ("Traceback", "tortoise", "asyncpg", "File \"", "jit/"):
        assert word not in text, text


async def test_a_query_over_the_depth_limit_is_refused(make_api, demo):
    query = "{ tickets { edges { node { requester { groups { id } } } } } }"  # depth 6
    token = await _token(demo)
    default = await make_api()
    ok = await default.raw(query, token=token)
    assert ok.status_code == 200 and "errors" not in ok.json()
    shallow = await make_api(graphql_max_depth=4)
    body = (await shallow.raw(query, token=token)).json()
    assert body["data"] is None
    assert "exceeds maximum operation depth of 4" in body["errors"][0]["message"]
    _no_leak(body)
    # Fragments do not hide depth.
    body = (await shallow.raw("fragment F on Ticket { requester { groups { id } } } "
                              "query { tickets { edges { node { ...F } } } }", token=token)).json()
    assert body["data"] is None and "maximum operation depth" in body["errors"][0]["message"]


async def test_five_hundred_aliases_are_refused(api, demo):
    query = "{ " + " ".join(f"a{i}: me {{ roles }}" for i in range(500)) + " }"
    response = await api.raw(query, token=await _token(demo))
    body = response.json()
    assert body["data"] is None
    messages = " ".join(e["message"] for e in body["errors"])
    assert "aliases found" in messages or "more than" in messages, messages
    _no_leak(body)


async def test_too_many_tokens_are_refused(api, demo):
    query = "{ me { " + " ".join(["roles"] * 3000) + " } }"
    body = (await api.raw(query, token=await _token(demo))).json()
    assert body["data"] is None and "tokens" in body["errors"][0]["message"]


async def test_introspection_is_off_in_production_unless_enabled(make_api, demo):
    token = await _token(demo)
    production = await make_api(mode="production")
    body = (await production.raw("{ __schema { types { name } } }", token=token)).json()
    assert body["data"] is None
    assert "introspection" in body["errors"][0]["message"].lower()
    body = (await production.raw('{ __type(name: "Ticket") { fields { name } } }', token=token)).json()
    assert body["data"] is None
    enabled = await make_api(mode="production", graphql_introspection=True)
    body = (await enabled.raw("{ __schema { queryType { name } } }", token=token)).json()
    assert body["data"]["__schema"]["queryType"]["name"] == "Query"


async def test_batching_is_off(api, demo):
    token = await _token(demo)
    response = await api.client.post("/graphql", json=[{"query": ME}, {"query": ME}],
                                     headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 400
    assert "alice" not in response.text


async def test_request_bodies_over_the_limit_get_413(make_api, demo):
    small = await make_api(max_body_bytes=2048)
    token = await _token(demo)
    response = await small.client.post("/graphql", json={"query": ME, "variables": {"pad": "x" * 5000}},
                                       headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    assert response.headers["x-content-type-options"] == "nosniff"

    async def chunks():  # no content-length: the limit still holds while streaming
        for _ in range(10):
            yield b"x" * 1000

    response = await small.client.post("/graphql", content=chunks(), headers={
        "Authorization": f"Bearer {token}", "content-type": "application/json"})
    assert response.status_code == 413


async def test_mutations_are_rate_limited_per_user_with_a_clear_error(make_api, demo):
    api = await make_api(mutation_rate_limit=3, mutation_rate_window=60)
    token = await _token(demo)
    bob = await _token(demo, "bob")
    cancel = 'mutation { cancelTicket(ticketId: "00000000-0000-0000-0000-000000000000") { __typename } }'
    for _ in range(3):
        body = (await api.raw(cancel, token=token)).json()
        assert body["data"]["cancelTicket"]["__typename"] == "NotFoundError"
    body = (await api.raw(REQUEST, {"input": {
        "targets": [{"accountId": demo.account("sandbox-alice"), "permissionSet": "ReadOnlyAccess"}],
        "durationSeconds": 600, "justification": "x"}}, token=token)).json()
    assert body["data"] is None
    error = body["errors"][0]
    assert error["extensions"]["code"] == "RATE_LIMITED" and 0 < error["extensions"]["retryAfterSeconds"] <= 60
    assert "at most 3 mutations per 60 s" in error["message"]
    assert await Ticket.all().count() == 0  # refused before anything was written
    # Another user has their own budget, and queries are not counted.
    assert (await api.raw(cancel, token=bob)).json()["data"]["cancelTicket"]["__typename"] == "NotFoundError"
    assert (await api.raw(ME, token=token)).json()["data"]["me"]["user"]["userName"] == "alice"
    # Many mutations in one document count one each.
    many = "mutation { " + " ".join(f'c{i}: cancelTicket(ticketId: "x") {{ __typename }}' for i in range(4)) + " }"
    assert (await api.raw(many, token=bob)).json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"


async def test_expired_and_revoked_tokens_are_refused_with_one_answer_for_every_reason(api, demo, caplog):
    from datetime import timedelta

    caplog.set_level(logging.INFO)
    expired, _ = await create_token(demo.rt.clock, "alice", "e", expires_at=demo.rt.clock.now() + timedelta(seconds=5))
    demo.rt.clock.advance(seconds=10)
    revoked, row = await create_token(demo.rt.clock, "alice", "r")
    await ApiToken.filter(id=row.id).update(revoked_at=demo.rt.clock.now())
    answers = []
    for token in (expired, revoked, "jit_" + "A" * 43, None):
        response = await api.raw(ME, token=token)
        assert response.status_code == 401 and response.headers["www-authenticate"].startswith("Bearer")
        answers.append(response.content)
    response = await api.client.post("/graphql", json={"query": ME}, headers={"Authorization": "Basic eDp5"})
    answers.append(response.content)
    # Whether a token was revoked, expired or never existed is nobody's business but the log's.
    assert len(set(answers)) == 1, answers
    body = response.json()
    assert body["errors"][0]["message"] == Unauthenticated.PUBLIC_MESSAGE
    assert body["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED", "field": None}
    assert "this token has expired" in caplog.text and "this token was revoked" in caplog.text


async def test_unexpected_errors_are_masked_on_queries_mutations_and_subscriptions(demo):
    secret = "password=hunter2 at db.internal:5432"

    def boom() -> str:
        raise RuntimeError(secret)

    @strawberry.type
    class Query:
        @strawberry.field
        def me(self) -> str:
            return boom()

    @strawberry.type
    class Mutation:
        @strawberry.mutation
        def request_ticket(self) -> str:
            return boom()

    @strawberry.type
    class Subscription:
        @strawberry.subscription
        async def ticket_updated(self) -> AsyncGenerator[str, None]:
            yield "first"
            boom()

    schema = strawberry.Schema(query=Query, mutation=Mutation, subscription=Subscription,
                               extensions=build_extensions(demo.rt.settings))
    user = await demo.user("alice")

    class Ctx:
        runtime = demo.rt
        identity = Identity(user=user, scopes=ALL_SCOPES, method="token")

    for document in ("{ me }", "mutation { requestTicket }"):
        result = await schema.execute(document, context_value=Ctx())
        assert [e.message for e in result.errors] == ["Unexpected error."]
    results = [r async for r in await schema.subscribe("subscription { ticketUpdated }", context_value=Ctx())]
    assert results[0].data == {"ticketUpdated": "first"}
    assert [e.message for e in results[-1].errors] == ["Unexpected error."]
    assert secret not in str([r.errors for r in results])


async def test_nul_characters_are_refused_before_anything_runs(api, demo):
    token = await _token(demo)
    for query, variables in (('mutation { cancelTicket(ticketId: "a\\u0000b") { __typename } }', None),
                             ("mutation($r: String!) { cancelTicket(ticketId: \"x\", reason: $r) { __typename } }",
                              {"r": "a\x00b"})):
        body = (await api.raw(query, variables, token=token)).json()
        assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "BAD_INPUT"


async def test_an_overlong_account_id_is_an_unknown_account(api, demo):
    body = (await api.raw(REQUEST, {"input": {
        "targets": [{"accountId": "9" * 40, "permissionSet": "ReadOnlyAccess"}],
        "durationSeconds": 600, "justification": "x"}}, token=await _token(demo))).json()
    result = body["data"]["requestTicket"]
    assert result["__typename"] == "ValidationError" and result["field"] == "targets[0].accountId"
