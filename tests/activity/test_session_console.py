"""What the console's session activity view asks for: server-side write-only and
errors-only filters, calls per minute across the window, how complete the source can be,
a source that is not configured, and the same refusals as the pages."""

from __future__ import annotations

from datetime import timedelta

from tests.activity.test_session_activity import _active
from tests.support.cloudtrail import cloudtrail_record

ROLE = "AWSReservedSSO_ReadOnlyAccess_0123abcd"

PAGE = """
query($id: ID!, $first: Int!, $filter: SessionActivityFilter) {
  ticketSessionActivity(ticketId: $id, first: $first, filter: $filter) {
    __typename
    ... on SessionActivityPage { events { eventName readOnly errorCode } hasNextPage
                                 window { start end readAt caughtUp deliveryDelaySeconds } }
    ... on Error { message field }
  }
}"""

TIMELINE = """
query($id: ID!, $filter: SessionActivityFilter) {
  ticketSessionTimeline(ticketId: $id, filter: $filter) {
    __typename
    ... on SessionTimeline { minutes { minute calls writes errors } events truncated source
                             window { start end caughtUp } }
    ... on Error { message field }
  }
}"""


def _seed(cloudtrail, demo, ticket):
    """Minute 1: two reads; minute 2: a write and a refused write; minute 4: a refused read."""
    account, start = demo.account("payments-prod"), ticket.start_at.replace(second=0, microsecond=0)
    at = lambda minutes, seconds=0: start + timedelta(minutes=minutes, seconds=seconds)  # noqa: E731
    records = [
        ("ListBuckets", at(1, 5), {}),
        ("GetObject", at(1, 40), {}),
        ("PutObject", at(2, 10), {"read_only": False}),
        ("DeleteBucket", at(2, 20), {"read_only": False, "errorCode": "AccessDenied"}),
        ("GetSecretValue", at(4, 0), {"errorCode": "AccessDenied"}),
    ]
    for name, when, extra in records:
        cloudtrail.records.append(cloudtrail_record(account, ROLE, "alice", name, max(when, ticket.start_at), **extra))


async def test_filters_are_applied_on_the_server_and_say_how_complete_the_source_is(make_api, demo, cloudtrail):
    ticket = await _active(demo, [("payments-prod", "ReadOnlyAccess")])
    demo.rt.clock.advance(minutes=10)
    _seed(cloudtrail, demo, ticket)
    api = await make_api(activity_cloudtrail_endpoint_url=cloudtrail.url, activity_sts_endpoint_url=cloudtrail.url)
    rt = demo.rt

    def names(page):
        assert page["__typename"] == "SessionActivityPage", page
        return sorted(e["eventName"] for e in page["events"])

    everything = (await api.as_(rt, "bob", PAGE, id=str(ticket.id), first=50))["ticketSessionActivity"]
    assert names(everything) == ["DeleteBucket", "GetObject", "GetSecretValue", "ListBuckets", "PutObject"]
    writes = (await api.as_(rt, "bob", PAGE, id=str(ticket.id), first=50, filter={"writeOnly": True}))
    assert names(writes["ticketSessionActivity"]) == ["DeleteBucket", "PutObject"]
    refused = (await api.as_(rt, "audrey", PAGE, id=str(ticket.id), first=50, filter={"errorsOnly": True}))
    assert names(refused["ticketSessionActivity"]) == ["DeleteBucket", "GetSecretValue"]
    both = (await api.as_(rt, "bob", PAGE, id=str(ticket.id), first=1, filter={"writeOnly": True, "errorsOnly": True}))
    assert names(both["ticketSessionActivity"]) == ["DeleteBucket"]
    assert both["ticketSessionActivity"]["hasNextPage"] is False

    window = everything["window"]
    # The ticket is still active: its window ends an hour after its end, and it has not caught up.
    assert window["caughtUp"] is False and window["deliveryDelaySeconds"] == 900
    assert window["start"].startswith(ticket.start_at.isoformat()[:19])
    assert window["end"] > ticket.end_at.isoformat()
    assert window["readAt"].startswith(rt.clock.now().isoformat()[:19])

    # Long after the window (and the delivery delay), the source has caught up.
    rt.clock.advance(days=1)
    later = (await api.as_(rt, "bob", PAGE, id=str(ticket.id), first=1))["ticketSessionActivity"]
    assert later["window"]["caughtUp"] is True


async def test_the_timeline_counts_calls_writes_and_errors_per_minute(make_api, demo, cloudtrail):
    ticket = await _active(demo, [("payments-prod", "ReadOnlyAccess")])
    demo.rt.clock.advance(minutes=10)
    _seed(cloudtrail, demo, ticket)
    api = await make_api(activity_cloudtrail_endpoint_url=cloudtrail.url, activity_sts_endpoint_url=cloudtrail.url)
    rt = demo.rt
    out = (await api.as_(rt, "bob", TIMELINE, id=str(ticket.id)))["ticketSessionTimeline"]
    assert out["__typename"] == "SessionTimeline", out
    counts = [(m["calls"], m["writes"], m["errors"]) for m in out["minutes"]]
    assert counts == [(2, 0, 0), (2, 2, 1), (1, 0, 1)]
    assert [m["minute"][14:19] for m in out["minutes"]] == [m[14:19] for m in sorted(m["minute"] for m in out["minutes"])]
    assert all(m["minute"][17:19] == "00" for m in out["minutes"])
    assert out["events"] == 5 and out["truncated"] is False and out["source"] == "lookup_events"
    writes = (await api.as_(rt, "bob", TIMELINE, id=str(ticket.id), filter={"writeOnly": True}))["ticketSessionTimeline"]
    assert [(m["calls"], m["writes"]) for m in writes["minutes"]] == [(2, 2)]

    # The same refusal as the pages: erin may not read alice's ticket, and no AWS call is made.
    calls = len(cloudtrail.calls)
    denied = (await api.as_(rt, "erin", TIMELINE, id=str(ticket.id)))["ticketSessionTimeline"]
    assert denied["__typename"] == "NotFoundError"
    assert len(cloudtrail.calls) == calls


async def test_a_source_that_is_not_configured_says_so_by_field(make_api, demo, cloudtrail):
    ticket = await _active(demo, [("payments-prod", "ReadOnlyAccess")])
    api = await make_api(activity_source="logs_insights", activity_log_group=None)
    for query, name in ((PAGE, "ticketSessionActivity"), (TIMELINE, "ticketSessionTimeline")):
        variables = {"id": str(ticket.id), **({"first": 10} if query is PAGE else {})}
        out = (await api.as_(demo.rt, "bob", query, **variables))[name]
        assert out["__typename"] == "ValidationError" and out["field"] == "source", out
        assert "JIT_ACTIVITY_LOG_GROUP" in out["message"]
    # A reader who may not read the ticket learns nothing about the configuration.
    denied = (await api.as_(demo.rt, "erin", PAGE, id=str(ticket.id), first=10))["ticketSessionActivity"]
    assert denied["__typename"] == "NotFoundError"
    assert cloudtrail.calls == []
