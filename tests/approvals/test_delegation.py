"""Delegation: X decides on behalf of Y, counted as Y, checked at decision time."""

from __future__ import annotations

from datetime import timedelta

import pytest

from jit.approvals.delegations import DelegationRequest, create_delegation, list_delegations, revoke_delegation
from jit.approvals.models import Decision, Delegation, Outcome
from jit.approvals.service import decide
from jit.audit.models import AuditEvent
from jit.errors import NotAllowed, NotFound, ValidationFailed
from jit.tickets.models import Ticket
from jit.tickets.models import TicketStatus as S
from jit.tickets.queries import TicketFilter, list_tickets


async def inbox(rt, user_id: str) -> list:
    rows, _ = await list_tickets(rt, user_id, TicketFilter(awaiting_my_decision=True), 100, None)
    return [t.id for t in rows]


async def delegate(w, delegator: str, to: str, *, start=None, hours=8, rules=None, reason="on leave"):
    now = w.rt.clock.now()
    return await create_delegation(w.rt, await w.user(delegator), DelegationRequest(
        delegate_id=(await w.user(to)).id, starts_at=start or now, ends_at=(start or now) + timedelta(hours=hours),
        reason=reason, rule_ids=rules,
    ))


async def test_a_delegate_decides_on_behalf_and_counts_as_the_delegator(demo):
    await delegate(demo, "bob", "erin")
    ticket = await demo.request("alice", [("payments-prod", "PowerUserAccess")])
    erin, carol, dave = [await demo.user(n) for n in ("erin", "carol", "dave")]
    assert ticket.id in await inbox(demo.rt, erin.id)  # the delegate's inbox

    await decide(demo.rt, erin, str(ticket.id), Outcome.APPROVED, "for bob")
    decision = await Decision.get(ticket_id=ticket.id)
    assert decision.decider_id == erin.id and decision.on_behalf_of_id == (await demo.user("bob")).id
    # bob is counted now: he cannot add a second approval of his own.
    with pytest.raises(NotAllowed):
        await decide(demo.rt, await demo.user("bob"), str(ticket.id), Outcome.APPROVED)
    await decide(demo.rt, carol, str(ticket.id), Outcome.APPROVED)  # the second of two team leads
    await decide(demo.rt, dave, str(ticket.id), Outcome.APPROVED)
    assert (await Ticket.get(id=ticket.id)).status == S.SCHEDULED
    event = await AuditEvent.get(ticket_id=ticket.id, actor_id=erin.id, action="decision.approved")
    assert event.detail["on_behalf_of"] == (await demo.user("bob")).id


async def test_delegation_is_not_transitive(demo):
    await delegate(demo, "bob", "erin")
    # erin approves nothing in her own right, so she has nothing to pass on.
    with pytest.raises(NotAllowed):
        await delegate(demo, "erin", "maria")
    assert await Delegation.all().count() == 1


async def test_validity_is_checked_when_deciding(demo):
    clock = demo.rt.clock
    # It starts later: a ticket whose window passed unapproved can no longer be decided.
    ticket = await demo.request("alice", [("payments-prod", "ReadOnlyAccess")],
                                start_at=clock.now() + timedelta(hours=2))
    erin = await demo.user("erin")
    await delegate(demo, "bob", "erin", start=clock.now() + timedelta(hours=1), hours=1)
    with pytest.raises(NotFound):  # not started: she cannot even read it
        await decide(demo.rt, erin, str(ticket.id), Outcome.APPROVED)
    clock.advance(hours=1, seconds=1)
    # Active now, although the ticket was created before the delegation started.
    await decide(demo.rt, erin, str(ticket.id), Outcome.APPROVED)
    assert (await Ticket.get(id=ticket.id)).status == S.SCHEDULED
    other = await demo.request("alice", [("payments-prod", "ReadOnlyAccess")], justification="again")
    clock.advance(hours=1)
    with pytest.raises(NotFound):  # expired
        await decide(demo.rt, erin, str(other.id), Outcome.APPROVED)
    assert await Decision.filter(ticket_id=other.id).count() == 0


async def test_a_revoked_delegation_does_not_count(demo):
    row = await delegate(demo, "bob", "erin")
    ticket = await demo.request("alice", [("payments-prod", "ReadOnlyAccess")])
    await revoke_delegation(demo.rt, await demo.user("bob"), str(row.id))
    with pytest.raises(NotFound):
        await decide(demo.rt, await demo.user("erin"), str(ticket.id), Outcome.APPROVED)
    assert await AuditEvent.filter(action="delegation.revoked").count() == 1


async def test_nobody_decides_their_own_ticket_through_a_delegation(demo):
    await delegate(demo, "bob", "alice")
    ticket = await demo.request("alice", [("payments-prod", "ReadOnlyAccess")])
    with pytest.raises(NotAllowed):
        await decide(demo.rt, await demo.user("alice"), str(ticket.id), Outcome.APPROVED)
    assert ticket.id not in await inbox(demo.rt, (await demo.user("alice")).id)


async def test_scope_limits_the_delegation_to_named_rules(demo):
    from jit.rules.models import ApprovalRule

    dev = await ApprovalRule.get(name="dev-access")
    await delegate(demo, "bob", "erin", rules=[str(dev.id)])
    prod = await demo.request("alice", [("payments-prod", "ReadOnlyAccess")])
    with pytest.raises(NotFound):
        await decide(demo.rt, await demo.user("erin"), str(prod.id), Outcome.APPROVED)
    dev_ticket = await demo.request("alice", [("payments-dev", "PowerUserAccess")])
    await decide(demo.rt, await demo.user("erin"), str(dev_ticket.id), Outcome.APPROVED)
    assert (await Ticket.get(id=dev_ticket.id)).status == S.SCHEDULED


async def test_both_sides_see_the_delegation_and_others_do_not(demo):
    row = await delegate(demo, "bob", "erin")
    for name, sees in (("bob", True), ("erin", True), ("alice", False), ("audrey", True)):
        rows = await list_delegations(demo.rt, await demo.user(name))
        assert (row.id in [r.id for r in rows]) is sees, name


@pytest.mark.parametrize("case,field", [
    ("to oneself", "delegateId"),
    ("ends before it starts", "endsAt"),
    ("no reason", "reason"),
    ("unknown rule", "ruleIds[0]"),
])
async def test_bad_delegations_write_nothing(demo, case, field):
    now = demo.rt.clock.now()
    bob = await demo.user("bob")
    req = DelegationRequest(delegate_id=(await demo.user("erin")).id, starts_at=now, ends_at=now + timedelta(hours=1),
                            reason="leave")
    if case == "to oneself":
        req.delegate_id = bob.id
    elif case == "ends before it starts":
        req.ends_at = now - timedelta(minutes=1)
    elif case == "no reason":
        req.reason = "  "
    else:
        req.rule_ids = ["00000000-0000-0000-0000-000000000000"]
    before = await AuditEvent.all().count()
    with pytest.raises(ValidationFailed) as info:
        await create_delegation(demo.rt, bob, req)
    assert info.value.field == field
    assert await Delegation.all().count() == 0 and await AuditEvent.all().count() == before
