"""The quorum rules hold alike for a ticket's steps and for an extension's: never your own
ticket, a delegate counts as the delegator, one person counts once, `required` distinct
people pass a step, and the comment limit."""

from __future__ import annotations

from datetime import timedelta

import pytest

from jit.approvals import quorum
from jit.approvals.delegations import DelegationRequest, create_delegation
from jit.approvals.models import Decision, ExtensionDecision, Outcome
from jit.approvals.service import decide
from jit.authz.service import parties
from jit.errors import NotAllowed, ValidationFailed
from jit.tickets import stack
from jit.tickets.extensions import decide_extension, request_extension
from jit.tickets.models import Extension, ExtensionStatus, Ticket, TicketStatus, TicketStep


def test_a_comment_loses_its_surrounding_spaces_and_may_be_4000_characters():
    assert quorum.checked_comment(None) == ""
    assert quorum.checked_comment("  fine \n") == "fine"
    assert quorum.checked_comment(" " + "x" * 4000 + " ") == "x" * 4000
    with pytest.raises(ValidationFailed) as refused:
        quorum.checked_comment("x" * 4001)
    assert refused.value.field == "comment"


def test_a_decision_counts_for_the_person_acted_for_and_a_step_needs_distinct_people():
    casts = [("erin", "bob"), ("carol", None)]
    assert quorum.counted(casts) == {"bob", "carol"}
    step = TicketStep(required=2)
    assert quorum.step_passed(step, casts)
    assert not quorum.step_passed(step, [("erin", "bob")])
    # Two decisions that count for the same person are one approval.
    assert not quorum.step_passed(step, [("erin", "bob"), ("bob", None)])


@pytest.mark.parametrize("ballot", [quorum.TICKET, quorum.EXTENSION])
def test_neither_the_requester_nor_the_principal_decides(ballot):
    who = parties("alice", "frank", set())
    for person in ("alice", "frank"):
        with pytest.raises(NotAllowed) as refused:
            quorum.refuse_own_ticket(person, who, ballot)
        assert refused.value.field == ballot.field and refused.value.message == ballot.own
    quorum.refuse_own_ticket("bob", who, ballot)


async def _delegate_bob_to_erin(demo):
    now = demo.rt.clock.now()
    await create_delegation(demo.rt, await demo.user("bob"), DelegationRequest(
        delegate_id=(await demo.user("erin")).id, starts_at=now, ends_at=now + timedelta(hours=8),
        reason="on leave", rule_ids=None,
    ))


async def _refused(call, message: str) -> None:
    with pytest.raises(NotAllowed) as refused:
        await call
    assert refused.value.message == message


async def test_a_ticket_step_counts_each_person_once(demo):
    # prod-change: two team leads (approvers: bob, carol), then security (dave).
    ticket = await demo.request("alice", [("payments-prod", "PowerUserAccess")])
    await _delegate_bob_to_erin(demo)
    alice, bob, carol, dave, erin = [await demo.user(n) for n in ("alice", "bob", "carol", "dave", "erin")]
    tid = str(ticket.id)

    await _refused(decide(demo.rt, alice, tid, Outcome.APPROVED), quorum.TICKET.own)
    await _refused(decide(demo.rt, dave, tid, Outcome.APPROVED),
                   "you are not an approver of step 'Team leads' (prod-change)")
    with pytest.raises(ValidationFailed):
        await decide(demo.rt, carol, tid, Outcome.APPROVED, "x" * 4001)

    await decide(demo.rt, erin, tid, Outcome.APPROVED, "for bob")
    assert (await Decision.get(ticket_id=ticket.id)).on_behalf_of_id == bob.id
    await _refused(decide(demo.rt, erin, tid, Outcome.APPROVED), quorum.TICKET.decided_twice)
    await _refused(decide(demo.rt, bob, tid, Outcome.APPROVED), quorum.TICKET.counted)
    assert (await Ticket.get(id=ticket.id)).status == TicketStatus.PENDING_APPROVAL  # one of two

    await decide(demo.rt, carol, tid, Outcome.APPROVED)  # the second distinct team lead
    steps = await TicketStep.filter(ticket_id=ticket.id).order_by("position")
    assert [s.status.value for s in steps] == ["APPROVED", "PENDING"]
    await decide(demo.rt, dave, tid, Outcome.APPROVED)
    assert (await Ticket.get(id=ticket.id)).status == TicketStatus.SCHEDULED


async def test_an_extension_step_counts_each_person_once(demo):
    ticket = await demo.request("alice", [("payments-prod", "PowerUserAccess")])
    for name in ("bob", "carol", "dave"):
        await decide(demo.rt, await demo.user(name), str(ticket.id), Outcome.APPROVED)
    assert (await stack.grant(demo.rt, str(ticket.id))).result == "granted"
    await _delegate_bob_to_erin(demo)
    alice, bob, carol, dave, erin = [await demo.user(n) for n in ("alice", "bob", "carol", "dave", "erin")]
    # prod-change's extensions pass its first step again: two team leads.
    ext = await request_extension(demo.rt, alice, str(ticket.id), 600, "the migration runs long")
    assert ext.steps_required == 1
    eid = str(ext.id)

    await _refused(decide_extension(demo.rt, alice, eid, Outcome.APPROVED), quorum.EXTENSION.own)
    await _refused(decide_extension(demo.rt, dave, eid, Outcome.APPROVED),
                   "you are not an approver of step 'Team leads' (prod-change)")
    with pytest.raises(ValidationFailed):
        await decide_extension(demo.rt, carol, eid, Outcome.APPROVED, "x" * 4001)

    await decide_extension(demo.rt, erin, eid, Outcome.APPROVED, "for bob")
    assert (await ExtensionDecision.get(extension_id=ext.id)).on_behalf_of_id == bob.id
    await _refused(decide_extension(demo.rt, erin, eid, Outcome.APPROVED), quorum.EXTENSION.decided_twice)
    await _refused(decide_extension(demo.rt, bob, eid, Outcome.APPROVED), quorum.EXTENSION.counted)
    assert (await Extension.get(id=ext.id)).status == ExtensionStatus.PENDING  # one of two

    await decide_extension(demo.rt, carol, eid, Outcome.APPROVED)
    assert (await Extension.get(id=ext.id)).status == ExtensionStatus.APPROVED
