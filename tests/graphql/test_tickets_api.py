"""The ticket API as scripts use it: real documents, asserting on __typename."""

from __future__ import annotations

import asyncio

from jit.tickets import stack
from jit.tickets.models import Ticket
from jit.tickets.models import TicketStatus as S
from tests.graphql.client import APPROVE, CANCEL, REJECT, REQUEST, REVOKE, TICKET


def _input(world, targets, duration=3600, justification="deploy fix", **extra):
    return {"targets": [{"accountId": world.account(a), "permissionSet": p} for a, p in targets],
            "durationSeconds": duration, "justification": justification, **extra}


async def test_me_shows_roles_and_groups(api, demo):
    data = await api.as_(demo.rt, "admin", "{ me { user { userName } roles groups { displayName } } }")
    assert data["me"] == {"user": {"userName": "admin"}, "roles": ["ADMIN"], "groups": [{"displayName": "jit-admins"}]}
    data = await api.as_(demo.rt, "audrey", "{ me { roles } }")
    assert data["me"]["roles"] == ["AUDITOR"]
    data = await api.as_(demo.rt, "alice", "{ me { roles } }")
    assert data["me"]["roles"] == []


async def test_full_life_is_visible_through_the_api(api, demo):
    data = await api.as_(demo.rt, "alice", REQUEST, input=_input(demo, [("payments-prod", "ReadOnlyAccess")], 600,
                                                                 externalRef="CHG-1"))
    ticket = data["requestTicket"]
    assert ticket["__typename"] == "Ticket" and ticket["status"] == "PENDING_APPROVAL"
    assert ticket["targets"][0]["ruleName"] == "prod-read-only"
    assert ticket["steps"] == [{"name": "Team lead", "required": 1}]

    # The requester can never decide their own ticket.
    own = (await api.as_(demo.rt, "alice", APPROVE, id=ticket["id"], comment=""))["approveTicket"]
    assert own["__typename"] == "NotAllowedError"

    approved = (await api.as_(demo.rt, "bob", APPROVE, id=ticket["id"], comment="go"))["approveTicket"]
    assert approved == {"__typename": "Ticket", "id": ticket["id"], "status": "SCHEDULED"}

    await stack.grant(demo.rt, ticket["id"])
    demo.rt.clock.advance(seconds=601)
    await stack.revoke(demo.rt, ticket["id"])

    seen = (await api.as_(demo.rt, "bob", TICKET, id=ticket["id"]))["ticket"]
    assert seen["status"] == "ENDED" and seen["endReason"] == "EXPIRED"
    assert seen["requester"] == seen["principal"] == {"userName": "alice"}
    assert seen["targets"][0]["account"]["name"] == "payments-prod"
    assert seen["steps"][0]["approvals"] == 1 and seen["steps"][0]["status"] == "APPROVED"
    assert seen["decisions"] == [{"outcome": "APPROVED", "comment": "go", "decider": {"userName": "bob"}}]
    [entry] = seen["resourceStack"]
    assert entry["status"] == "SUCCEEDED" and entry["requestId"] and entry["unwindStatus"] == "DELETED"
    assert [h["toStatus"] for h in seen["history"] if h["toStatus"]] == [
        "PENDING_APPROVAL", "SCHEDULED", "GRANTING", "ACTIVE", "REVOKING", "ENDED"]
    assert [h["action"] for h in seen["history"]][:3] == ["ticket.requested", "decision.approved", "ticket.scheduled"]


async def test_one_person_counts_once_per_ticket(api, demo):
    data = await api.as_(demo.rt, "alice", REQUEST, input=_input(demo, [("payments-prod", "PowerUserAccess")]))
    ticket_id = data["requestTicket"]["id"]
    assert (await api.as_(demo.rt, "bob", APPROVE, id=ticket_id, comment=""))["approveTicket"]["status"] == "PENDING_APPROVAL"
    again = (await api.as_(demo.rt, "bob", APPROVE, id=ticket_id, comment=""))["approveTicket"]
    assert again["__typename"] == "NotAllowedError" and "once" in again["message"]
    # dave approves the security step, which is not the current one yet.
    early = (await api.as_(demo.rt, "dave", APPROVE, id=ticket_id, comment=""))["approveTicket"]
    assert early["__typename"] == "NotAllowedError"


async def test_racing_approvals_produce_exactly_one_grant(api, demo):
    """bob and carol complete the same step at once; exactly one of them schedules."""
    for _ in range(3):
        data = await api.as_(demo.rt, "alice", REQUEST, input=_input(demo, [("payments-prod", "ReadOnlyAccess")]))
        ticket_id = data["requestTicket"]["id"]
        results = await asyncio.gather(
            api.as_(demo.rt, "bob", APPROVE, id=ticket_id, comment="a"),
            api.as_(demo.rt, "carol", APPROVE, id=ticket_id, comment="b"),
        )
        typenames = sorted(r["approveTicket"]["__typename"] for r in results)
        assert typenames == ["Ticket", "WrongStateError"], results
        ticket = await Ticket.get(id=ticket_id)
        assert ticket.status == S.SCHEDULED
    jobs = await demo.rt.redis.queued_jobs()
    # (Each ticket also has its approval-window jobs, which the approval cancels in effect.)
    assert sorted(j.function for j in jobs if j.function.startswith("tickets.")) == ["tickets.grant"] * 3


async def test_reject_cancel_and_revoke(api, demo):
    data = await api.as_(demo.rt, "alice", REQUEST, input=_input(demo, [("payments-prod", "ReadOnlyAccess")]))
    rejected = (await api.as_(demo.rt, "carol", REJECT, id=data["requestTicket"]["id"], comment="no"))["rejectTicket"]
    assert rejected["status"] == "REJECTED"

    data = await api.as_(demo.rt, "alice", REQUEST, input=_input(demo, [("payments-dev", "PowerUserAccess")]))
    ticket_id = data["requestTicket"]["id"]
    other = (await api.as_(demo.rt, "erin", CANCEL, id=ticket_id))["cancelTicket"]
    assert other["__typename"] == "NotFoundError"  # erin may not even see it
    assert (await api.as_(demo.rt, "alice", CANCEL, id=ticket_id))["cancelTicket"]["status"] == "CANCELLED"

    data = await api.as_(demo.rt, "alice", REQUEST, input=_input(demo, [("sandbox-alice", "ReadOnlyAccess")]))
    ticket_id = data["requestTicket"]["id"]
    not_yet = (await api.as_(demo.rt, "alice", REVOKE, id=ticket_id))["revokeTicket"]
    assert not_yet["__typename"] == "WrongStateError"
    await stack.grant(demo.rt, ticket_id)
    assert (await api.as_(demo.rt, "admin", REVOKE, id=ticket_id))["revokeTicket"]["status"] == "REVOKING"
    after = (await api.as_(demo.rt, "alice", CANCEL, id=ticket_id))["cancelTicket"]
    assert after["__typename"] == "WrongStateError"


TICKETS = """
query($filter: TicketFilter, $first: Int!, $after: String) {
  tickets(filter: $filter, first: $first, after: $after) {
    edges { cursor node { id status principal { userName } } }
    pageInfo { hasNextPage endCursor }
  }
}"""


async def test_tickets_connection_filters_and_pages(api, demo):
    ids = []
    for account in ["payments-prod", "checkout-prod", "search-prod"]:
        data = await api.as_(demo.rt, "alice", REQUEST, input=_input(demo, [(account, "ReadOnlyAccess")]))
        ids.append(data["requestTicket"]["id"])
        demo.rt.clock.advance(seconds=1)
    data = await api.as_(demo.rt, "erin", REQUEST, input=_input(demo, [("sandbox-erin", "ReadOnlyAccess")], justification=""))
    erin_ticket = data["requestTicket"]["id"]

    page1 = (await api.as_(demo.rt, "alice", TICKETS, first=2))["tickets"]
    assert [e["node"]["id"] for e in page1["edges"]] == [ids[2], ids[1]]
    assert page1["pageInfo"]["hasNextPage"] is True
    page2 = (await api.as_(demo.rt, "alice", TICKETS, first=2, after=page1["pageInfo"]["endCursor"]))["tickets"]
    assert [e["node"]["id"] for e in page2["edges"]] == [ids[0]]
    assert page2["pageInfo"]["hasNextPage"] is False

    # bob approves prod tickets: he sees alice's, not erin's sandbox one.
    inbox = (await api.as_(demo.rt, "bob", TICKETS, first=50, filter={"awaitingMyDecision": True}))["tickets"]
    assert sorted(e["node"]["id"] for e in inbox["edges"]) == sorted(ids)
    await api.as_(demo.rt, "bob", APPROVE, id=ids[0], comment="")
    inbox = (await api.as_(demo.rt, "bob", TICKETS, first=50, filter={"awaitingMyDecision": True}))["tickets"]
    assert sorted(e["node"]["id"] for e in inbox["edges"]) == sorted(ids[1:])

    by_account = (await api.as_(demo.rt, "audrey", TICKETS, first=50, filter={"accountId": demo.account("checkout-prod")}))
    assert [e["node"]["id"] for e in by_account["tickets"]["edges"]] == [ids[1]]
    everything = (await api.as_(demo.rt, "audrey", TICKETS, first=50))["tickets"]["edges"]
    assert erin_ticket in {e["node"]["id"] for e in everything}
    bobs = (await api.as_(demo.rt, "bob", TICKETS, first=50))["tickets"]["edges"]
    assert erin_ticket not in {e["node"]["id"] for e in bobs}
    scheduled = (await api.as_(demo.rt, "erin", TICKETS, first=50, filter={"status": ["SCHEDULED"]}))["tickets"]["edges"]
    assert [e["node"]["id"] for e in scheduled] == [erin_ticket]
    bad = await api.raw(TICKETS, {"first": 5, "after": "!!"}, api.tokens["alice"])
    assert bad.json()["errors"][0]["message"] == "malformed cursor"


async def test_requestable_targets_show_strictest_rule_and_maximum(api, demo):
    data = await api.as_(demo.rt, "alice", """{ requestableTargets {
        account { name } permissionSet { name } maxDurationSeconds ruleName autoApproved justificationRequired } }""")
    # Permission set groups are choices of their own, without a single permission set.
    rows = {(r["account"]["name"], r["permissionSet"]["name"]): r for r in data["requestableTargets"] if r["permissionSet"]}
    assert rows[("sandbox-alice", "ReadOnlyAccess")]["autoApproved"] is True
    assert rows[("payments-prod", "ReadOnlyAccess")]["ruleName"] == "prod-read-only"
    assert rows[("payments-prod", "AdministratorAccess")]["maxDurationSeconds"] == 7200
    assert ("audit", "ReadOnlyAccess") not in rows
    admin = await api.as_(demo.rt, "admin", "{ requestableTargets { ruleName } }")
    assert admin["requestableTargets"] == []


async def test_directory_queries(api, demo):
    data = await api.as_(demo.rt, "alice", """{ accounts { id name organizationalUnitPath tags { key value } }
        organizationalUnits { name path } permissionSets { name } users { userName } groups { displayName } }""")
    assert len(data["accounts"]) >= 20
    assert {"ReadOnlyAccess", "PowerUserAccess", "AdministratorAccess"} <= {p["name"] for p in data["permissionSets"]}
    assert {"alice", "bob", "carol", "admin", "audrey"} <= {u["userName"] for u in data["users"]}
    prod = next(a for a in data["accounts"] if a["name"] == "payments-prod")
    assert {"key": "env", "value": "prod"} in prod["tags"]
