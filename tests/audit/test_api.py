"""`auditEvents`: admins and auditors read the log, filtered and paged; nobody else does."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from jit.audit.service import record
from tests.graphql.client import Api, in_process_app

EVENTS = """
query($filter: AuditEventFilter, $first: Int!, $after: String) {
  auditEvents(filter: $filter, first: $first, after: $after) {
    __typename
    ... on AuditEventConnection {
      edges { cursor node { seq action actorId onBehalfOf subjectType subjectId before after hash prevHash actor { userName } } }
      pageInfo { hasNextPage endCursor }
    }
    ... on Error { message field }
  }
}"""


@pytest.fixture
async def api(demo):
    app = in_process_app(demo.rt)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://jit.test") as client:
        yield Api(client, {})


async def test_auditors_and_admins_read_filter_and_page(api, demo):
    rt = demo.rt
    bob = await demo.user("bob")
    start = rt.clock.now()
    for i in range(3):
        rt.clock.advance(minutes=1)
        await record(rt.clock.now(), bob.id, "delegation.created", subject_id=f"d{i}", on_behalf_of="carol-id",
                     after={"to": "carol", "n": i})
    await record(rt.clock.now(), None, "drift.detected", subject_id="f1")

    flt = {"actorId": bob.id, "types": ["delegation.created"], "since": start.isoformat()}
    page = (await api.as_(rt, "audrey", EVENTS, filter=flt, first=2))["auditEvents"]
    assert page["__typename"] == "AuditEventConnection"
    nodes = [e["node"] for e in page["edges"]]
    assert [n["subjectId"] for n in nodes] == ["d0", "d1"]
    assert nodes[0]["actor"]["userName"] == "bob" and nodes[0]["onBehalfOf"] == "carol-id"
    assert nodes[0]["subjectType"] == "delegation" and nodes[0]["after"] == {"to": "carol", "n": 0}
    assert nodes[1]["prevHash"] == nodes[0]["hash"]
    assert page["pageInfo"]["hasNextPage"] is True

    rest = (await api.as_(rt, "admin", EVENTS, filter=flt, first=2, after=page["pageInfo"]["endCursor"]))["auditEvents"]
    assert [e["node"]["subjectId"] for e in rest["edges"]] == ["d2"]
    assert rest["pageInfo"]["hasNextPage"] is False

    drift = (await api.as_(rt, "admin", EVENTS, filter={"subjectType": "drift", "subjectId": "f1"}, first=10))
    assert [e["node"]["action"] for e in drift["auditEvents"]["edges"]] == ["drift.detected"]

    until = (await api.as_(rt, "admin", EVENTS, filter={"types": ["delegation.created"],
                                                        "until": (start + timedelta(minutes=2)).isoformat()}, first=10))
    assert [e["node"]["subjectId"] for e in until["auditEvents"]["edges"]] == ["d0"]


async def test_others_may_not_read_the_log(api, demo):
    for user in ("alice", "bob"):
        result = (await api.as_(demo.rt, user, EVENTS, first=5))["auditEvents"]
        assert result["__typename"] == "NotAllowedError"


@pytest.mark.parametrize("variables, field", [
    ({"first": 0}, "first"),
    ({"first": 10_000}, "first"),
    ({"first": 5, "after": "ticket:12"}, "after"),
    ({"first": 5, "filter": {"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}}, "since"),
    ({"first": 5, "filter": {"since": "2026-02-01T00:00:00"}}, "since"),
])
async def test_bad_filters_are_typed_errors(api, demo, variables, field):
    result = (await api.as_(demo.rt, "audrey", EVENTS, **variables))["auditEvents"]
    assert result["__typename"] == "ValidationError"
    assert result["field"] == field
