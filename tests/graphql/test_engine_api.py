"""The approval engine through GraphQL: the bad inputs the issue lists each give a typed
error naming the field and write nothing; the new ticket fields read back."""

from __future__ import annotations

from datetime import timedelta

import pytest

from jit.approvals.models import Decision, Delegation, ExtensionDecision
from jit.audit.models import AuditEvent
from jit.tickets import stack
from jit.tickets.models import Extension, Target, Ticket

RESULT = "__typename ... on Error { message field }"
DELEGATE = f"mutation($i: CreateDelegationInput!) {{ createDelegation(input: $i) {{ {RESULT} ... on Delegation {{ id state }} }} }}"
EXTEND = f"""mutation($id: ID!, $s: Int!, $r: String!) {{
  requestExtension(ticketId: $id, additionalDurationSeconds: $s, reason: $r) {{ {RESULT} ... on Extension {{ id status }} }} }}"""
BREAK = (f"mutation($id: ID!, $r: String!) {{ breakGlassTicket(ticketId: $id, reason: $r) {{ {RESULT} "
         "... on Ticket { status breakGlass } } }")
REQUEST = f"mutation($i: RequestTicketInput!) {{ requestTicket(input: $i) {{ {RESULT} ... on Ticket {{ id }} }} }}"


async def _counts():
    return tuple([await m.all().count() for m in (Ticket, Target, AuditEvent, Decision, Delegation, Extension,
                                                  ExtensionDecision)])


async def _active(demo):
    ticket = await demo.request("alice", [("sandbox-alice", "ReadOnlyAccess")], duration=3600, justification="")
    assert (await stack.grant(demo.rt, str(ticket.id))).result == "granted"
    return ticket


async def test_the_listed_bad_inputs(api, demo):
    rt, now = demo.rt, demo.rt.clock.now()
    bob = demo.org.users["bob"]
    active = await _active(demo)
    await api.as_(rt, "alice", EXTEND, id=str(active.id), s=60, r="first")  # sandbox: applied at once
    prod = await demo.request("alice", [("payments-prod", "ReadOnlyAccess")])
    await api.as_(rt, "bob", "mutation($id: ID!) { approveTicket(ticketId: $id) { __typename } }", id=str(prod.id))
    pending_ext = await api.as_(rt, "alice", EXTEND, id=str(prod.id), s=60, r="first")
    assert pending_ext["requestExtension"]["status"] == "PENDING"
    glass = await demo.request("alice", [("payments-prod", "AdministratorAccess")])

    cases = [
        ("bob", DELEGATE, {"i": {"delegateId": bob, "endsAt": (now + timedelta(hours=1)).isoformat(), "reason": "x"}},
         "createDelegation", "ValidationError", "delegateId"),
        ("bob", DELEGATE, {"i": {"delegateId": demo.org.users["erin"], "startsAt": now.isoformat(),
                                 "endsAt": (now - timedelta(hours=1)).isoformat(), "reason": "x"}},
         "createDelegation", "ValidationError", "endsAt"),
        ("alice", EXTEND, {"id": str(prod.id), "s": 60, "r": "second"}, "requestExtension", "ValidationError", "ticketId"),
        ("alice", EXTEND, {"id": str(active.id), "s": 86400, "r": "long"}, "requestExtension", "ValidationError",
         "additionalDurationSeconds"),
        ("alice", BREAK, {"id": str(glass.id), "r": " "}, "breakGlassTicket", "ValidationError", "reason"),
        ("maria", REQUEST, {"i": {"targets": [{"accountId": demo.account("payments-prod"), "permissionSet": "ReadOnlyAccess"}],
                                  "durationSeconds": 600, "justification": "x", "principalId": demo.org.users["dave"]}},
         "requestTicket", "NotAllowedError", "targets[0]"),
        ("alice", REQUEST, {"i": {"targets": [{"organizationalUnitId": "/Workloads", "permissionSet": "ReadOnlyAccess"}],
                                  "durationSeconds": 600, "justification": "x"}},
         "requestTicket", "ValidationError", "targets[0].organizationalUnitId"),
        # Break-glass in the request itself: a refusal or a blank reason makes no ticket at all.
        ("alice", REQUEST, {"i": {"targets": [{"accountId": demo.account("payments-prod"), "permissionSet": "ReadOnlyAccess"}],
                                  "durationSeconds": 600, "justification": "x", "breakGlassReason": "urgent"}},
         "requestTicket", "NotAllowedError", "breakGlassReason"),
        ("alice", REQUEST, {"i": {"targets": [{"accountId": demo.account("payments-prod"),
                                               "permissionSet": "AdministratorAccess"}],
                                  "durationSeconds": 600, "justification": "x", "breakGlassReason": "  "}},
         "requestTicket", "ValidationError", "breakGlassReason"),
    ]
    for user, document, variables, field, typename, bad_field in cases:
        await api.token(rt, user)  # minting the caller's token is itself audited
        before = await _counts()
        data = await api.as_(rt, user, document, **variables)
        result = data[field]
        assert (result["__typename"], result["field"]) == (typename, bad_field), (field, result)
        assert result["message"]
        assert await _counts() == before, (field, bad_field)


async def test_ticket_fields_of_the_engine_read_back(api, demo):
    rt = demo.rt
    ticket = await demo.request("maria", [("payments-prod", "AdministratorAccess")], principal_id=demo.org.users["alice"])
    await api.as_(rt, "maria", BREAK, id=str(ticket.id), r="INC-9")
    await api.as_(rt, "alice", EXTEND, id=str(ticket.id), s=600, r="more")
    data = await api.as_(rt, "alice", """query($id: ID!) { ticket(id: $id) {
        breakGlass breakGlassReason needsBreakGlassReview approvalExpiresAt
        extensions { status additionalDurationSeconds reason requester { userName } }
        history { action } } }""", id=str(ticket.id))
    t = data["ticket"]
    assert t["breakGlass"] and t["breakGlassReason"] == "INC-9" and t["needsBreakGlassReview"]
    assert t["extensions"] == [{"status": "PENDING", "additionalDurationSeconds": 600, "reason": "more",
                                "requester": {"userName": "alice"}}]
    assert {"ticket.break_glass", "extension.requested"} <= {h["action"] for h in t["history"]}
    review = await api.as_(rt, "carol", """mutation($id: ID!) { reviewBreakGlass(ticketId: $id, comment: "ok") {
        __typename ... on Ticket { needsBreakGlassReview breakGlassReview { comment reviewer { userName } } } } }""",
                           id=str(ticket.id))
    assert review["reviewBreakGlass"]["needsBreakGlassReview"] is False
    assert review["reviewBreakGlass"]["breakGlassReview"] == {"comment": "ok", "reviewer": {"userName": "carol"}}


async def test_a_request_with_a_break_glass_reason_is_approved_in_the_same_call(api, demo):
    rt = demo.rt
    glass = f"""mutation($i: RequestTicketInput!) {{ requestTicket(input: $i) {{ {RESULT}
        ... on Ticket {{ id status breakGlass breakGlassReason needsBreakGlassReview }} }} }}"""
    data = await api.as_(rt, "maria", glass, i={
        "targets": [{"accountId": demo.account("payments-prod"), "permissionSet": "AdministratorAccess"}],
        "durationSeconds": 600, "justification": "payments are down", "principalId": demo.org.users["alice"],
        "breakGlassReason": "INC-12"})
    t = data["requestTicket"]
    assert (t["status"], t["breakGlass"], t["breakGlassReason"], t["needsBreakGlassReview"]) == (
        "SCHEDULED", True, "INC-12", True)
    assert await Ticket.all().count() == 1
    actions = [e.action for e in await AuditEvent.filter(ticket_id=t["id"]).order_by("id")]
    assert actions[:2] == ["ticket.requested", "ticket.break_glass"]
    assert "tickets.grant" in [j.function for j in await rt.redis.queued_jobs()]


async def test_delegations_and_inbox_through_the_api(api, demo):
    rt, now = demo.rt, demo.rt.clock.now()
    created = await api.as_(rt, "bob", DELEGATE, i={"delegateId": demo.org.users["erin"],
                                                     "endsAt": (now + timedelta(hours=4)).isoformat(), "reason": "leave"})
    assert created["createDelegation"]["state"] == "ACTIVE"
    ticket = await demo.request("alice", [("payments-prod", "ReadOnlyAccess")])
    inbox = await api.as_(rt, "erin", "{ tickets(filter: {awaitingMyDecision: true}) { edges { node { id } } } }")
    assert [e["node"]["id"] for e in inbox["tickets"]["edges"]] == [str(ticket.id)]
    for user in ("bob", "erin"):
        rows = await api.as_(rt, user, "{ delegations { delegator { userName } delegate { userName } state } }")
        assert rows["delegations"] == [{"delegator": {"userName": "bob"}, "delegate": {"userName": "erin"}, "state": "ACTIVE"}]
    await api.as_(rt, "erin", "mutation($id: ID!) { approveTicket(ticketId: $id) { __typename } }", id=str(ticket.id))
    data = await api.as_(rt, "alice",
                         "query($id: ID!) { ticket(id: $id) { status decisions { decider { userName } "
                         "onBehalfOf { userName } } } }",
                         id=str(ticket.id))
    assert data["ticket"]["status"] == "SCHEDULED"
    assert data["ticket"]["decisions"] == [{"decider": {"userName": "erin"}, "onBehalfOf": {"userName": "bob"}}]
    revoked = await api.as_(rt, "bob", "mutation($id: ID!) { revokeDelegation(id: $id) { __typename ... on Delegation { state } } }",
                            id=created["createDelegation"]["id"])
    assert revoked["revokeDelegation"]["state"] == "REVOKED"


async def test_requestable_targets_show_a_group_as_one_choice(api, demo):
    data = await api.as_(demo.rt, "alice", "{ requestableTargets { account { name } permissionSet { name } "
                                           "permissionSetGroup { name permissionSets } ruleName } }")
    groups = [t for t in data["requestableTargets"] if t["permissionSetGroup"]]
    assert {t["account"]["name"] for t in groups} >= {"payments-dev", "checkout-dev"}
    assert all(t["permissionSet"] is None and t["permissionSetGroup"]["permissionSets"] == ["ReadOnlyAccess", "DatabaseAdmin"]
               for t in groups)


@pytest.mark.parametrize("user,allowed", [("admin", True), ("alice", False)])
async def test_only_admins_manage_permission_set_groups(api, demo, user, allowed):
    data = await api.as_(demo.rt, user, """mutation {
      createPermissionSetGroup(input: {name: "Ops", permissionSets: ["ReadOnlyAccess", "PowerUserAccess"]}) {
        __typename ... on PermissionSetGroup { name permissionSets } } }""")
    assert (data["createPermissionSetGroup"]["__typename"] == "PermissionSetGroup") is allowed
