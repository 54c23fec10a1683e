"""Deciding from Slack: buttons on the messages JIT posted, signed requests posted to the
running app, and the same services and checks as the console behind them."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from jit.approvals.break_glass import break_glass
from jit.approvals.models import Decision, ExtensionDecision
from jit.audit.models import AuditEvent
from jit.tickets.extensions import request_extension
from jit.tickets.models import Extension, ExtensionStatus, Ticket
from jit.tickets.models import TicketStatus as S
from tests.slack.driver import buttons, text_of
from tests.slack.helpers import deliver, messages_to, only_message_to

NEEDED = "Your decision is needed"


async def test_an_approver_approves_from_the_message_and_every_message_then_says_who(world, slack, receiver):
    ticket = await world.request("alice", [("payments-dev", "PowerUserAccess")], justification="deploy fix")
    await deliver(world)
    bob_message = only_message_to(receiver, "UBOB", NEEDED)
    assert [b["text"]["text"] for b in buttons(bob_message)] == ["Approve", "Reject"]
    assert "pending approval" in text_of(bob_message)

    response = await slack.click_button("UBOB", bob_message, "Approve")
    assert response.status_code == 200

    assert (await Ticket.get(id=ticket.id)).status == S.SCHEDULED
    [decision] = await Decision.filter(ticket_id=ticket.id)
    assert decision.decider_id == (await world.user("bob")).id and decision.credential == "slack:UBOB"
    event = await AuditEvent.get(action="decision.approved", ticket_id=ticket.id)
    assert event.detail["credential"] == "slack:UBOB"
    assert receiver.slack_responses[-1]["response_type"] == "ephemeral"
    assert receiver.slack_responses[-1]["text"].startswith("You approved ticket")

    await deliver(world)
    for person in ("UBOB", "UCAROL"):
        message = only_message_to(receiver, person, NEEDED)  # updated in place, not posted again
        assert buttons(message) == []
        assert "Approved by Bob Smith from Slack" in text_of(message) and "scheduled" in text_of(message)
    assert len(receiver.slack_updates) == 2


async def test_reject_opens_a_modal_and_the_comment_is_the_reason(world, slack, receiver):
    ticket = await world.request("alice", [("payments-dev", "PowerUserAccess")], justification="deploy fix")
    await deliver(world)
    carol_message = only_message_to(receiver, "UCAROL", NEEDED)

    assert (await slack.click_button("UCAROL", carol_message, "Reject")).status_code == 200
    assert (await Ticket.get(id=ticket.id)).status == S.PENDING_APPROVAL  # a click alone decides nothing
    [opened] = receiver.slack_views
    view = opened["view"]
    assert view["type"] == "modal" and view["blocks"][0]["block_id"] == "comment"

    response = await slack.submit("UCAROL", view, {"comment": {"comment": {"type": "plain_text_input",
                                                                            "value": "not during the freeze"}}})
    assert response.status_code == 200 and not response.content  # an empty answer closes the modal

    ticket = await Ticket.get(id=ticket.id)
    assert ticket.status == S.REJECTED
    [decision] = await Decision.filter(ticket_id=ticket.id)
    assert decision.comment == "not during the freeze" and decision.credential == "slack:UCAROL"
    await deliver(world)
    message = only_message_to(receiver, "UBOB", NEEDED)
    assert buttons(message) == [] and "Rejected by Carol Jensen from Slack: not during the freeze" in text_of(message)


async def test_an_extension_is_approved_from_its_own_message(world, slack, receiver):
    from jit.approvals.models import Outcome
    from jit.approvals.service import decide

    ticket = await world.request("alice", [("payments-prod", "ReadOnlyAccess")], justification="incident review")
    await decide(world.rt, await world.user("bob"), str(ticket.id), Outcome.APPROVED)
    extension = await request_extension(world.rt, await world.user("alice"), str(ticket.id), 1800, "still digging")
    await deliver(world)
    message = only_message_to(receiver, "UCAROL", "asks for 30 more minutes")
    assert [b["value"] for b in buttons(message)] == [str(extension.id)] * 2

    assert (await slack.click_button("UCAROL", message, "Approve")).status_code == 200

    extension = await Extension.get(id=extension.id)
    assert extension.status == ExtensionStatus.APPROVED
    [decision] = await ExtensionDecision.filter(extension_id=extension.id)
    assert decision.credential == "slack:UCAROL"
    assert (await Ticket.get(id=ticket.id)).end_at == ticket.end_at + timedelta(seconds=1800)
    await deliver(world)
    for person in ("UBOB", "UCAROL"):
        message = only_message_to(receiver, person, "asks for 30 more minutes")
        assert buttons(message) == [] and "Extension:* approved" in text_of(message)
        assert "Approved by Carol Jensen from Slack" in text_of(message)


async def test_an_extension_rejected_from_slack_keeps_the_end(world, slack, receiver):
    from jit.approvals.models import Outcome
    from jit.approvals.service import decide

    ticket = await world.request("alice", [("payments-prod", "ReadOnlyAccess")], justification="incident review")
    await decide(world.rt, await world.user("bob"), str(ticket.id), Outcome.APPROVED)
    extension = await request_extension(world.rt, await world.user("alice"), str(ticket.id), 1800, "still digging")
    await deliver(world)
    await slack.click_button("UBOB", only_message_to(receiver, "UBOB", "more minutes"), "Reject")
    await slack.submit("UBOB", receiver.slack_views[-1]["view"],
                       {"comment": {"comment": {"type": "plain_text_input", "value": "done by now"}}})
    assert (await Extension.get(id=extension.id)).status == ExtensionStatus.REJECTED
    assert (await Ticket.get(id=ticket.id)).end_at == ticket.end_at
    await deliver(world)
    message = only_message_to(receiver, "UCAROL", "more minutes")
    assert buttons(message) == [] and "Extension:* rejected" in text_of(message)


async def test_a_break_glass_ticket_is_reviewed_from_slack(world, slack, receiver):
    ticket = await world.request("alice", [("payments-prod", "AdministratorAccess")], justification="outage")
    await break_glass(world.rt, await world.user("alice"), str(ticket.id), "payments are down")
    await deliver(world)
    message = only_message_to(receiver, "UDAVE", "Break-glass used")
    assert [b["text"]["text"] for b in buttons(message)] == ["Mark reviewed"]

    assert (await slack.click_button("UDAVE", message, "Mark reviewed")).status_code == 200

    ticket = await Ticket.get(id=ticket.id)
    assert ticket.break_glass_reviewed_by == (await world.user("dave")).id
    event = await AuditEvent.get(action="ticket.break_glass_reviewed")
    assert event.detail["credential"] == "slack:UDAVE"
    await deliver(world)
    for person in ("UBOB", "UDAVE"):
        message = only_message_to(receiver, person, "Break-glass used")
        assert buttons(message) == [] and "reviewed by Dave Kowalski" in text_of(message)


async def test_a_console_decision_updates_the_slack_messages_in_place(world, app_client, receiver):
    from tests.graphql.client import APPROVE, Api

    ticket = await world.request("alice", [("payments-dev", "PowerUserAccess")], justification="deploy fix")
    await deliver(world)
    posted = len(receiver.slack_posts)

    api = Api(app_client, {})
    data = await api.as_(world.rt, "carol", APPROVE, id=str(ticket.id), comment="ok")
    assert data["approveTicket"]["status"] == "SCHEDULED"
    await deliver(world)

    for person in ("UBOB", "UCAROL"):
        message = only_message_to(receiver, person, NEEDED)
        assert buttons(message) == []
        assert "Approved by Carol Jensen: ok" in text_of(message)  # the console: no "from Slack"
    assert {u["channel"] for u in receiver.slack_updates} == {"DBOB", "DCAROL"}
    # The approval is told to alice in a message of its own; nothing else is posted again.
    new = receiver.slack_posts[posted:]
    assert [p["channel"] for p in new] == ["UALICE"]

    # A pass with nothing new changes nothing in Slack.
    updates = len(receiver.slack_updates)
    await deliver(world)
    assert len(receiver.slack_updates) == updates


async def test_slack_down_delays_updates_and_loses_or_duplicates_nothing(world, receiver):
    from jit.approvals.models import Outcome
    from jit.approvals.service import decide

    tickets = [await world.request("alice", [("payments-dev", "PowerUserAccess")], justification=f"fix {i}")
               for i in range(3)]
    await deliver(world)
    assert len(messages_to(receiver, "UBOB")) == 3

    await receiver.down()
    for ticket in tickets[:2]:
        await decide(world.rt, await world.user("carol"), str(ticket.id), Outcome.APPROVED)
    report = await deliver(world, failures_ok=True)
    assert report.failed == 2 and report.updated == 0  # the two posts to alice; updates wait too
    world.rt.clock.advance(seconds=60)
    report = await deliver(world, failures_ok=True)
    assert report.updated == 0 and receiver.dropped > 0

    await receiver.up()
    world.rt.clock.advance(seconds=3600)
    report = await deliver(world)
    assert report.delivered == 2 and report.updated == 4  # bob's and carol's message of each decided ticket
    assert len(messages_to(receiver, "UALICE")) == 2 and len(messages_to(receiver, "UBOB")) == 3
    decided = {str(t.id) for t in tickets[:2]}
    for _, message in messages_to(receiver, "UBOB"):
        value = (buttons(message) or [{"value": None}])[0]["value"]
        is_decided = any(t[:8] in text_of(message) for t in decided)
        assert (buttons(message) == []) == is_decided, (value, text_of(message))
    world.rt.clock.advance(seconds=3600)
    report = await deliver(world)
    assert report.updated == 0 and report.delivered == 0


async def test_a_production_change_passes_its_quorum_and_steps_from_slack(world, slack, receiver):
    ticket = await world.request("alice", [("payments-prod", "PowerUserAccess")], justification="migration")
    await deliver(world)
    assert messages_to(receiver, "UDAVE") == []  # security is asked once the team leads agree
    await slack.click_button("UBOB", only_message_to(receiver, "UBOB", NEEDED), "Approve")
    await deliver(world)
    bob = only_message_to(receiver, "UBOB", NEEDED)
    assert buttons(bob) == []  # bob has decided
    carol = only_message_to(receiver, "UCAROL", NEEDED)
    assert [b["text"]["text"] for b in buttons(carol)] == ["Approve", "Reject"]  # carol has not
    await slack.click_button("UCAROL", carol, "Approve")
    await deliver(world)
    assert buttons(only_message_to(receiver, "UCAROL", NEEDED)) == []
    dave = only_message_to(receiver, "UDAVE", NEEDED)
    assert "Step: Security" in text_of(dave)
    await slack.click_button("UDAVE", dave, "Approve")
    assert (await Ticket.get(id=ticket.id)).status == S.SCHEDULED
    assert sorted(d.credential for d in await Decision.filter(ticket_id=ticket.id)) == [
        "slack:UBOB", "slack:UCAROL", "slack:UDAVE"]


async def test_the_audit_channel_messages_are_kept_true_too_but_carry_no_buttons(world, receiver):
    from jit.approvals.models import Outcome
    from jit.approvals.service import decide

    world.rt = dataclasses.replace(world.rt, settings=world.rt.settings.model_copy(
        update={"slack_audit_channel": "#jit-audit"}))
    ticket = await world.request("alice", [("payments-dev", "PowerUserAccess")], justification="deploy fix")
    await deliver(world)
    [(key, message)] = messages_to(receiver, "#jit-audit")
    assert buttons(message) == [] and "pending approval" in text_of(message)
    await decide(world.rt, await world.user("bob"), str(ticket.id), Outcome.APPROVED)
    await deliver(world)
    assert "Approved by Bob Smith" in text_of(receiver.slack_messages[key])
    assert len(messages_to(receiver, "#jit-audit")) == 2  # and the approval's own message
