"""Requesting from Slack: /jit opens a modal whose choices the server searches, the ticket
goes through the same services to ACTIVE against moto, and the requester's message about it
follows it; /jit status and /jit revoke."""

from __future__ import annotations

from jit.audit.models import AuditEvent
from jit.tickets import stack
from jit.tickets.models import Ticket
from jit.tickets.models import TicketStatus as S
from tests.slack.driver import text_of
from tests.slack.helpers import deliver, only_message_to


def _values(option: dict | None, seconds: int, justification: str, break_glass: bool = False) -> dict:
    return {
        "target": {"target": {"type": "external_select", "selected_option": option}},
        "duration": {"duration": {"type": "static_select", "selected_option": {"value": str(seconds)}}},
        "justification": {"justification": {"type": "plain_text_input", "value": justification}},
        "break_glass": {"break_glass": {"type": "checkboxes",
                                        "selected_options": [{"value": "yes"}] if break_glass else []}},
    }


async def _open_modal(slack, receiver, who: str) -> dict:
    response = await slack.command(who)
    assert response.status_code == 200 and not response.content
    view = receiver.slack_views[-1]["view"]
    assert view["callback_id"] == "jit_request"
    return view


async def _option(slack, who: str, query: str, label: str) -> dict:
    response = await slack.suggest(who, "target", query)
    assert response.status_code == 200
    [option] = [o for o in response.json()["options"] if o["text"]["text"] == label]
    return option


async def test_a_request_from_slack_reaches_active_and_the_requesters_message_follows_it(world, slack, receiver):
    view = await _open_modal(slack, receiver, "UALICE")
    kinds = [b["element"]["type"] for b in view["blocks"]]
    assert kinds == ["external_select", "static_select", "plain_text_input", "checkboxes"]
    option = await _option(slack, "UALICE", "payments-d", "payments-dev · PowerUserAccess")

    response = await slack.submit("UALICE", view, _values(option, 3600, "deploy the fix"))
    assert response.status_code == 200 and not response.content
    [ticket] = await Ticket.all()
    assert ticket.status == S.PENDING_APPROVAL and ticket.justification == "deploy the fix"
    assert ticket.requester_id == (await world.user("alice")).id
    requested = await AuditEvent.get(action="ticket.requested")
    assert requested.detail["credential"] == "slack:UALICE"

    await deliver(world)
    mine = only_message_to(receiver, "UALICE", "Your request was received")
    assert "pending approval" in text_of(mine)
    await slack.click_button("UBOB", only_message_to(receiver, "UBOB", "decision is needed"), "Approve")
    assert (await Ticket.get(id=ticket.id)).status == S.SCHEDULED

    assert (await stack.grant(world.rt, str(ticket.id))).result == "granted"
    assert (await Ticket.get(id=ticket.id)).status == S.ACTIVE
    assert len(world.assignments("payments-dev", "PowerUserAccess", "alice")) == 1

    await deliver(world)
    mine = only_message_to(receiver, "UALICE", "Your request was received")  # the same message, updated
    assert "*Status:* active" in text_of(mine) and "Approved by Bob Smith from Slack" in text_of(mine)


async def test_the_choices_are_what_the_person_may_request(world, slack):
    alice = [o["text"]["text"] for o in (await slack.suggest("UALICE", "target", "sandbox-alice")).json()["options"]]
    assert alice == ["sandbox-alice · PowerUserAccess", "sandbox-alice · ReadOnlyAccess"]
    by_set = [o["text"]["text"] for o in (await slack.suggest("UALICE", "target", "administrator")).json()["options"]]
    assert by_set and all(label.endswith("AdministratorAccess") and "-prod" in label for label in by_set)
    # Bob approves; he may request nothing.
    assert (await slack.suggest("UBOB", "target", "")).json() == {"options": []}
    assert (await slack.suggest("UNOBODY", "target", "")).json() == {"options": []}


async def test_a_refused_request_keeps_the_modal_open_with_the_reason(world, slack, receiver):
    view = await _open_modal(slack, receiver, "UALICE")
    option = await _option(slack, "UALICE", "payments-dev", "payments-dev · PowerUserAccess")
    response = await slack.submit("UALICE", view, _values(option, 3600, ""))  # the rule needs a justification
    body = response.json()
    assert body["response_action"] == "errors" and "justification" in body["errors"]
    assert await Ticket.all().count() == 0


async def test_break_glass_from_the_modal_where_the_rules_allow_it(world, slack, receiver):
    view = await _open_modal(slack, receiver, "UALICE")
    option = await _option(slack, "UALICE", "payments-prod", "payments-prod · AdministratorAccess")
    assert (await slack.submit("UALICE", view, _values(option, 3600, "payments are down", True))).status_code == 200
    [ticket] = await Ticket.all()
    assert ticket.break_glass and ticket.status == S.SCHEDULED and ticket.break_glass_reason == "payments are down"

    # Where a rule does not allow it, the modal stays open with the reason on the break-glass
    # choice, and no ticket is made: the request and the break-glass are one transaction.
    option = await _option(slack, "UALICE", "payments-dev", "payments-dev · PowerUserAccess")
    body = (await slack.submit("UALICE", view, _values(option, 3600, "hurry", True))).json()
    assert body["response_action"] == "errors" and "break-glass is not allowed" in body["errors"]["break_glass"]
    assert await Ticket.all().count() == 1
    assert receiver.slack_ephemerals == []


async def test_status_lists_the_persons_tickets_and_revoke_ends_one(world, slack, receiver):
    active = await world.request("alice", [("sandbox-alice", "ReadOnlyAccess")], justification="")
    await stack.grant(world.rt, str(active.id))
    pending = await world.request("alice", [("payments-dev", "PowerUserAccess")], justification="fix")
    await world.request("erin", [("sandbox-erin", "ReadOnlyAccess")], justification="")

    text = (await slack.command("UALICE", "status")).json()["text"]
    assert str(active.id)[:8] in text and str(pending.id)[:8] in text and text.count("•") == 2
    assert "active: ReadOnlyAccess on sandbox-alice" in text

    answer = (await slack.command("UALICE", f"revoke {str(active.id)[:8]}")).json()
    assert answer["response_type"] == "ephemeral" and "being revoked" in answer["text"]
    assert (await Ticket.get(id=active.id)).status == S.REVOKING
    event = await AuditEvent.get(action="ticket.revoking", ticket_id=active.id)
    assert event.detail["credential"] == "slack:UALICE"
    assert "cancelled" in (await slack.command("UALICE", f"revoke {pending.id}")).json()["text"]
    assert (await Ticket.get(id=pending.id)).status == S.CANCELLED

    # Someone else's ticket by its short id is not found; by its full id, the services refuse.
    erin = await Ticket.get(requester_id=(await world.user("erin")).id)
    assert "No ticket" in (await slack.command("UALICE", f"revoke {str(erin.id)[:8]}")).json()["text"]
    assert (await slack.command("UALICE", f"revoke {erin.id}")).json()["text"].startswith("Not done")
    assert (await Ticket.get(id=erin.id)).status == S.SCHEDULED


async def test_an_unknown_person_and_an_unknown_subcommand(world, slack, receiver):
    assert "nothing was done" in (await slack.command("UNOBODY", "status")).json()["text"]
    assert receiver.slack_views == []
    assert (await slack.command("UALICE", "dance")).json()["text"].startswith("Usage")
