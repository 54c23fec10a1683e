"""The approvals inbox: pending tickets whose current step the caller may decide now."""

from __future__ import annotations

from datetime import timedelta
from importlib import resources

from jit.approvals.delegations import DelegationRequest, create_delegation
from jit.approvals.models import Outcome
from jit.approvals.service import decide
from jit.rules.groups import apply_rules_file
from jit.tickets.queries import TicketFilter, list_tickets


async def inbox(w, name: str) -> list:
    rows, _ = await list_tickets(w.rt, (await w.user(name)).id, TicketFilter(awaiting_my_decision=True), 100, None)
    return [t.id for t in rows]


async def approve(w, name: str, ticket) -> None:
    await decide(w.rt, await w.user(name), str(ticket.id), Outcome.APPROVED)


async def delegate(w, delegator: str, to: str, hours: int = 8) -> None:
    now = w.rt.clock.now()
    await create_delegation(w.rt, await w.user(delegator), DelegationRequest(
        delegate_id=(await w.user(to)).id, starts_at=now, ends_at=now + timedelta(hours=hours), reason="on leave",
    ))


async def test_only_the_current_step_is_in_the_inbox(demo):
    # prod-change: team leads, then security
    ticket = await demo.request("alice", [("payments-prod", "PowerUserAccess")])
    assert ticket.id in await inbox(demo, "bob")
    assert ticket.id not in await inbox(demo, "dave")  # security is the second step
    await approve(demo, "bob", ticket)
    assert ticket.id not in await inbox(demo, "bob")  # bob counts already; the step needs a second lead
    assert ticket.id in await inbox(demo, "carol")
    await approve(demo, "carol", ticket)
    assert await inbox(demo, "dave") == [ticket.id]
    assert ticket.id not in await inbox(demo, "carol")
    await approve(demo, "dave", ticket)
    assert await inbox(demo, "dave") == []


async def test_the_requester_and_the_principal_never_see_their_own_ticket(demo):
    ticket = await demo.request("maria", [("payments-dev", "PowerUserAccess")], principal_id=demo.org.users["alice"])
    assert ticket.id in await inbox(demo, "bob")
    assert await inbox(demo, "maria") == [] and await inbox(demo, "alice") == []


async def test_a_closed_approval_window_leaves_the_inbox(demo):
    ticket = await demo.request("alice", [("payments-prod", "PowerUserAccess")],  # 4 h window
                                start_at=demo.rt.clock.now() + timedelta(hours=5))
    demo.rt.clock.advance(seconds=14399)
    assert ticket.id in await inbox(demo, "bob")
    demo.rt.clock.advance(seconds=1)
    assert ticket.id not in await inbox(demo, "bob")


async def test_a_delegate_sees_what_the_delegator_may_decide_until_a_decision_counts_for_them(demo):
    await delegate(demo, "bob", "erin")
    await delegate(demo, "dave", "erin")
    first = await demo.request("alice", [("payments-prod", "PowerUserAccess")])  # prod-change: two leads, then security
    assert await inbox(demo, "erin") == [first.id]  # through bob
    await approve(demo, "bob", first)  # one of two leads: the step is still current, but bob counts
    assert await inbox(demo, "erin") == []
    assert await inbox(demo, "carol") == [first.id]

    second = await demo.request("alice", [("checkout-prod", "PowerUserAccess")])
    await approve(demo, "erin", second)  # for bob: counted for both of them
    assert await inbox(demo, "erin") == [] and await inbox(demo, "bob") == []
    assert set(await inbox(demo, "carol")) == {first.id, second.id}

    await approve(demo, "carol", first)  # the security step is current now: dave's, and erin's for him
    assert await inbox(demo, "erin") == [first.id]
    assert await inbox(demo, "dave") == [first.id]


async def test_no_one_is_decided_for_on_their_own_ticket(demo):
    # Engineers and managers review each other's sandbox audits; managers may ask for an engineer.
    rules = resources.files("jit.demo").joinpath("rules.yaml").read_text() + """
  - name: peer-audit
    description: Engineers and managers review each other's sandbox audits.
    requesters: {users: [], groups: [engineers, managers]}
    scope: {accounts: [], organizational_units: [/Sandbox], permission_sets: [SecurityAudit]}
    max_duration_seconds: 3600
    justification_required: false
    steps:
      - {name: Peer, users: [], groups: [engineers, managers], required: 1}
    on_behalf:
      - {requesters: {users: [], groups: [managers]}, principals: {users: [], groups: [engineers]}}
"""
    await apply_rules_file(demo.rt, rules, actor_id=None, prune=True)
    await delegate(demo, "maria", "bob")
    await delegate(demo, "erin", "dave")
    users = demo.org.users
    by_maria_for_alice = await demo.request("maria", [("sandbox-shared", "SecurityAudit")], principal_id=users["alice"])
    demo.rt.clock.advance(seconds=1)
    by_alice = await demo.request("alice", [("sandbox-shared", "SecurityAudit")])
    demo.rt.clock.advance(seconds=1)
    by_maria_for_erin = await demo.request("maria", [("sandbox-shared", "SecurityAudit")], principal_id=users["erin"])
    assert await inbox(demo, "bob") == [by_alice.id]  # not for maria on the ticket she requested
    assert await inbox(demo, "dave") == [by_alice.id, by_maria_for_alice.id]  # not for erin on hers
    assert await inbox(demo, "erin") == [by_alice.id, by_maria_for_alice.id]
    assert await inbox(demo, "maria") == [by_alice.id]
    assert await inbox(demo, "alice") == [by_maria_for_erin.id]
