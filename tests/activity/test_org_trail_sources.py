"""The organization-trail sources: CloudWatch Logs Insights (what teams without CloudTrail
Lake use) and CloudTrail Lake, through the real aioboto3 clients against compatible
endpoints. One query covers every granted account; results are re-filtered to the
principal's role sessions before anyone sees them."""

from __future__ import annotations

from datetime import timedelta

from jit.activity.service import session_activity
from tests.activity.test_session_activity import _active, _seed
from tests.security.conftest import runtime_with


async def _all_pages(rt, actor_id, ticket_id, first):
    seen, cursor, pages = [], None, 0
    while True:
        page = await session_activity(rt, actor_id, ticket_id, first, cursor)
        seen.extend(page.events)
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            return seen, pages
        assert pages < 50, "paging does not end"


async def test_logs_insights_pages_through_ties(demo, cloudtrail):
    ticket = await _active(demo, [("payments-prod", "ReadOnlyAccess"), ("checkout-prod", "ReadOnlyAccess")])
    demo.rt.clock.advance(hours=3)
    _seed(cloudtrail, demo, ticket, per_account=7)  # both accounts' events share timestamps: ties
    rt = runtime_with(demo.rt, activity_source="logs_insights", activity_log_group="org-trail",
                      activity_logs_endpoint_url=cloudtrail.url)
    seen, pages = await _all_pages(rt, (await demo.user("audrey")).id, str(ticket.id), 3)
    names = [e.event_name for e in seen]
    assert len(names) == 14 and len(set(names)) == 14, names
    assert pages >= 5
    assert [e.event_time for e in seen] == sorted((e.event_time for e in seen), reverse=True)
    first = cloudtrail.queries[0]
    assert "AWSReservedSSO_ReadOnlyAccess_" in first and "\\/alice$/" in first
    assert f'"{demo.account("payments-prod")}"' in first and f'"{demo.account("checkout-prod")}"' in first


async def test_lake_reuses_its_query_across_pages(demo, cloudtrail):
    ticket = await _active(demo, [("payments-prod", "ReadOnlyAccess"), ("checkout-prod", "ReadOnlyAccess")])
    demo.rt.clock.advance(hours=3)
    _seed(cloudtrail, demo, ticket, per_account=5)
    rt = runtime_with(demo.rt, activity_source="lake", activity_lake_event_data_store="eds-0123456789",
                      activity_cloudtrail_endpoint_url=cloudtrail.url)
    seen, pages = await _all_pages(rt, (await demo.user("bob")).id, str(ticket.id), 4)
    assert sorted(e.event_name for e in seen) == sorted(
        [f"Getpayments-prod{i}" for i in range(5)] + [f"Getcheckout-prod{i}" for i in range(5)])
    assert pages == 3
    assert len(cloudtrail.queries) == 1  # later pages read the same query's results
    sql = cloudtrail.queries[0]
    assert sql.startswith("SELECT ") and "FROM eds-0123456789 " in sql
    assert "LIKE '%:assumed-role/AWSReservedSSO_ReadOnlyAccess_%/alice'" in sql
    assert seen[0].event_time - ticket.start_at <= timedelta(hours=2)


async def test_a_cursor_from_another_ticket_shows_nothing_of_it(demo, cloudtrail):
    """A Lake cursor names a query; one made for another ticket is re-filtered to this
    ticket's principal and accounts, so it cannot be used to read someone else's session."""
    mine = await _active(demo, [("payments-prod", "ReadOnlyAccess")])
    demo.rt.clock.advance(hours=3)
    _seed(cloudtrail, demo, mine, per_account=3)
    rt = runtime_with(demo.rt, activity_source="lake", activity_lake_event_data_store="eds-0123456789",
                      activity_cloudtrail_endpoint_url=cloudtrail.url)
    audrey = (await demo.user("audrey")).id
    page = await session_activity(rt, audrey, str(mine.id), 1, None)
    other = await demo.request("erin", [("payments-prod", "ReadOnlyAccess")], justification="erin's")
    from jit.approvals.models import Outcome
    from jit.approvals.service import decide
    from jit.tickets import stack

    await decide(demo.rt, await demo.user("bob"), str(other.id), Outcome.APPROVED)
    assert (await stack.grant(demo.rt, str(other.id))).result == "granted"
    leaked = await session_activity(rt, audrey, str(other.id), 10, page.next_cursor)
    assert all(e.session_arn.endswith("/erin") for e in leaked.events)
