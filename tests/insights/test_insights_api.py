"""`insights(days)`: aggregated numbers over tickets, for everyone by admins and auditors,
a requester's own otherwise."""

from __future__ import annotations

from datetime import timedelta

from jit.approvals.break_glass import break_glass
from jit.approvals.models import Outcome
from jit.approvals.service import decide
from jit.insights.live import _percentile
from jit.tickets import stack

INSIGHTS = """
query($days: Int) {
  insights(days: $days) {
    __typename
    ... on Insights {
      everyone
      activeGrants { day count }
      approvalTimes { ruleName tickets p50Seconds p95Seconds }
      topAccounts { id name count }
      topPermissionSets { name count }
      breakGlass { used reviewsOutstanding }
      revokeLateness { revokes late worstLateSeconds averageEarlySeconds }
      awsBudget { mode ratePerSecond maxOutstanding outstanding }
    }
    ... on Error { message field }
  }
}"""


async def _approved_after(demo, user, account, minutes):
    ticket = await demo.request(user, [(account, "ReadOnlyAccess")], duration=3 * 3600)
    demo.rt.clock.advance(minutes=minutes)
    await decide(demo.rt, await demo.user("bob"), str(ticket.id), Outcome.APPROVED)
    return ticket


async def _world(demo):
    rt = demo.rt
    first = await _approved_after(demo, "alice", "payments-prod", 10)
    await _approved_after(demo, "erin", "checkout-prod", 30)
    assert (await stack.grant(rt, str(first.id))).result == "granted"
    # Revoked 30 s after its end: one late revoke.
    rt.clock.advance(seconds=(first.end_at - rt.clock.now()).total_seconds() + 30)
    await stack.revoke(rt, str(first.id))
    # Break-glass on a prod-change ticket, not yet reviewed.
    glass = await demo.request("alice", [("payments-prod", "PowerUserAccess")], duration=3600)
    await break_glass(rt, await demo.user("alice"), str(glass.id), "incident 7")
    return first


async def test_admins_and_auditors_see_everyone(api, demo):
    first = await _world(demo)
    out = (await api.as_(demo.rt, "audrey", INSIGHTS, days=7))["insights"]
    assert out["__typename"] == "Insights" and out["everyone"] is True

    rules = {r["ruleName"]: r for r in out["approvalTimes"]}
    prod = rules["prod-read-only"]
    assert prod["tickets"] == 2
    assert prod["p50Seconds"] == 1200 and abs(prod["p95Seconds"] - 1740) < 1e-6

    accounts = {a["name"]: a["count"] for a in out["topAccounts"]}
    assert accounts["payments-prod"] == 2 and accounts["checkout-prod"] == 1
    assert out["topAccounts"][0]["name"] == "payments-prod"
    assert {p["name"]: p["count"] for p in out["topPermissionSets"]} == {"ReadOnlyAccess": 2, "PowerUserAccess": 1}

    assert out["breakGlass"] == {"used": 1, "reviewsOutstanding": 1}
    assert out["revokeLateness"]["revokes"] == 1 and out["revokeLateness"]["late"] == 1
    assert out["revokeLateness"]["worstLateSeconds"] == 30 and out["revokeLateness"]["averageEarlySeconds"] == -30

    days = out["activeGrants"]
    assert len(days) in (7, 8)
    granted_day = first.start_at.strftime("%Y-%m-%d")
    counts = {d["day"][:10]: d["count"] for d in days}
    # The granted ticket and the break-glass one (granting at once) overlap today.
    assert counts[granted_day] >= 1 and sum(counts.values()) >= 1
    assert all(c == 0 for day, c in counts.items() if day < (first.start_at - timedelta(days=1)).strftime("%Y-%m-%d"))

    budget = out["awsBudget"]
    assert budget["maxOutstanding"] > 0 and budget["ratePerSecond"] > 0 and budget["outstanding"] >= 0
    admin = (await api.as_(demo.rt, "admin", INSIGHTS, days=7))["insights"]
    assert admin["everyone"] is True and admin["approvalTimes"] == out["approvalTimes"]


async def test_a_requester_sees_their_own(api, demo):
    await _world(demo)
    out = (await api.as_(demo.rt, "erin", INSIGHTS, days=7))["insights"]
    assert out["everyone"] is False and out["awsBudget"] is None
    assert [(r["ruleName"], r["tickets"], r["p50Seconds"]) for r in out["approvalTimes"]] == [
        ("prod-read-only", 1, 1800)]
    assert [a["name"] for a in out["topAccounts"]] == ["checkout-prod"]
    assert out["breakGlass"] == {"used": 0, "reviewsOutstanding": 0}
    assert out["revokeLateness"]["revokes"] == 0 and out["revokeLateness"]["averageEarlySeconds"] is None
    # Someone with no tickets gets zeros, not an error.
    empty = (await api.as_(demo.rt, "maria", INSIGHTS, days=7))["insights"]
    assert empty["approvalTimes"] == [] and empty["topAccounts"] == []
    assert all(d["count"] == 0 for d in empty["activeGrants"])


async def test_bad_range_is_a_typed_error(api, demo):
    for days in (0, 91):
        out = (await api.as_(demo.rt, "admin", INSIGHTS, days=days))["insights"]
        assert out["__typename"] == "ValidationError" and out["field"] == "days"


def test_percentile_interpolates_like_postgres():
    assert _percentile([600, 1800], 0.5) == 1200
    assert _percentile([600, 1800], 0.95) == 1740
    assert _percentile([5], 0.95) == 5
