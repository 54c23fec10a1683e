"""Session activity: the principal's CloudTrail events in the granted accounts during the
ticket, read by the real aioboto3 clients from a CloudTrail-compatible endpoint, with a
role assumed in each account through moto's STS."""

from __future__ import annotations

from datetime import timedelta

import pytest

from jit.activity.service import session_activity, session_query
from jit.approvals.models import Outcome
from jit.approvals.service import decide
from jit.tickets import stack
from jit.tickets.models import Ticket
from tests.security.conftest import runtime_with
from tests.support.cloudtrail import cloudtrail_record

ACTIVITY = """
query($id: ID!, $first: Int!, $after: String) {
  ticketSessionActivity(ticketId: $id, first: $first, after: $after) {
    __typename
    ... on SessionActivityPage {
      events { eventName eventSource accountId roleName eventTime sourceIp readOnly }
      endCursor hasNextPage unavailable source
    }
    ... on Error { message field }
  }
}"""


async def _active(demo, targets):
    ticket = await demo.request("alice", targets, duration=3600)
    await decide(demo.rt, await demo.user("bob"), str(ticket.id), Outcome.APPROVED)
    assert (await stack.grant(demo.rt, str(ticket.id))).result == "granted"
    return await Ticket.get(id=ticket.id)


def _seed(cloudtrail, demo, ticket, per_account: int):
    """The principal's events in each granted account, and noise that must not show."""
    start = ticket.start_at
    session = "alice"
    for account_name in ("payments-prod", "checkout-prod"):
        account = demo.account(account_name)
        for i in range(per_account):
            cloudtrail.records.append(cloudtrail_record(
                account, "AWSReservedSSO_ReadOnlyAccess_0123abcd", session, f"Get{account_name}{i}",
                start + timedelta(minutes=1 + i)))
        # Another permission set's role, another person, before the window, another account.
        cloudtrail.records.append(cloudtrail_record(
            account, "AWSReservedSSO_AdministratorAccess_99", session, "DeleteBucket", start + timedelta(minutes=2)))
        cloudtrail.records.append(cloudtrail_record(
            account, "AWSReservedSSO_ReadOnlyAccess_0123abcd", "erin", "ListBuckets", start + timedelta(minutes=3)))
        cloudtrail.records.append(cloudtrail_record(
            account, "AWSReservedSSO_ReadOnlyAccess_0123abcd", session, "Earlier", start - timedelta(hours=2)))
    cloudtrail.records.append(cloudtrail_record(
        demo.account("search-prod"), "AWSReservedSSO_ReadOnlyAccess_0123abcd", session, "Elsewhere",
        start + timedelta(minutes=5)))


async def test_lookup_events_pages_across_granted_accounts(demo, cloudtrail):
    ticket = await _active(demo, [("payments-prod", "ReadOnlyAccess"), ("checkout-prod", "ReadOnlyAccess")])
    demo.rt.clock.advance(hours=3)
    _seed(cloudtrail, demo, ticket, per_account=60)  # more than one LookupEvents page each
    rt = runtime_with(demo.rt, activity_cloudtrail_endpoint_url=cloudtrail.url, activity_sts_endpoint_url=cloudtrail.url)
    bob = await demo.user("bob")

    seen, cursor, pages = [], None, 0
    while True:
        page = await session_activity(rt, bob.id, str(ticket.id), 45, cursor)
        pages += 1
        assert not page.unavailable
        seen.extend(page.events)
        cursor = page.next_cursor
        if cursor is None:
            break
    names = [e.event_name for e in seen]
    assert len(names) == 120 and len(set(names)) == 120, names
    assert {e.account_id for e in seen} == {demo.account("payments-prod"), demo.account("checkout-prod")}
    assert all(e.role_name.startswith("AWSReservedSSO_ReadOnlyAccess_") for e in seen)
    assert pages >= 3
    # Each account was read with credentials of a role assumed in that account.
    lookups = [(account, body) for target, account, body in cloudtrail.calls if target.endswith("LookupEvents")]
    assert {account for account, _ in lookups} == {demo.account("payments-prod"), demo.account("checkout-prod")}
    assert all(body["LookupAttributes"] == [{"AttributeKey": "Username", "AttributeValue": "alice"}]
               for _, body in lookups)


@pytest.mark.parametrize("refusal", ["denied", "denied_roles"])
async def test_an_account_that_refuses_is_reported_not_fatal(demo, cloudtrail, refusal):
    """LookupEvents refused, or the reader role missing (STS AssumeRole refused)."""
    ticket = await _active(demo, [("payments-prod", "ReadOnlyAccess"), ("checkout-prod", "ReadOnlyAccess")])
    demo.rt.clock.advance(minutes=30)
    _seed(cloudtrail, demo, ticket, per_account=3)
    getattr(cloudtrail, refusal).add(demo.account("payments-prod"))
    rt = runtime_with(demo.rt, activity_cloudtrail_endpoint_url=cloudtrail.url, activity_sts_endpoint_url=cloudtrail.url)
    page = await session_activity(rt, (await demo.user("audrey")).id, str(ticket.id), 50, None)
    assert [e.account_id for e in page.events] == [demo.account("checkout-prod")] * 3
    assert len(page.unavailable) == 1 and "AccessDenied" in page.unavailable[0]
    assert demo.account("payments-prod") in page.unavailable[0]


async def test_the_window_covers_sessions_outliving_the_ticket(demo):
    ticket = await _active(demo, [("payments-prod", "ReadOnlyAccess")])
    demo.rt.clock.advance(days=1)
    query = await session_query(demo.rt, ticket)
    assert query.start == ticket.start_at
    assert query.end > ticket.end_at  # plus the permission set's session duration
    assert query.session_name == "alice"
    assert query.targets[0].role_prefixes() == ("AWSReservedSSO_ReadOnlyAccess_",)


async def test_graphql_shows_activity_to_readers_only(make_api, demo, cloudtrail):
    ticket = await _active(demo, [("payments-prod", "ReadOnlyAccess")])
    demo.rt.clock.advance(minutes=30)
    _seed(cloudtrail, demo, ticket, per_account=3)
    api = await make_api(activity_cloudtrail_endpoint_url=cloudtrail.url, activity_sts_endpoint_url=cloudtrail.url)
    rt = demo.rt
    first = (await api.as_(rt, "bob", ACTIVITY, id=str(ticket.id), first=2))["ticketSessionActivity"]
    assert first["__typename"] == "SessionActivityPage", first
    assert first["source"] == "lookup_events" and first["hasNextPage"] is True
    assert [e["eventName"] for e in first["events"]] == ["Getpayments-prod2", "Getpayments-prod1"]
    rest = (await api.as_(rt, "audrey", ACTIVITY, id=str(ticket.id), first=2, after=first["endCursor"]))
    assert [e["eventName"] for e in rest["ticketSessionActivity"]["events"]] == ["Getpayments-prod0"]
    # erin may not read alice's ticket: it looks missing, and no AWS call is made for her.
    calls = len(cloudtrail.calls)
    denied = (await api.as_(rt, "erin", ACTIVITY, id=str(ticket.id), first=2))["ticketSessionActivity"]
    assert denied["__typename"] == "NotFoundError"
    assert len(cloudtrail.calls) == calls
    bad = (await api.as_(rt, "bob", ACTIVITY, id=str(ticket.id), first=2, after="%%%"))["ticketSessionActivity"]
    assert bad["__typename"] == "ValidationError" and bad["field"] == "after"
