"""What Slack may not do: every refusal writes no decision, is audited, and (where Slack
can show it) tells the person why."""

from __future__ import annotations

import dataclasses
import time

import httpx
import pytest

from jit.approvals.models import Decision
from jit.audit.models import AuditEvent
from jit.slack import blocks
from jit.tickets.models import Ticket
from jit.tickets.models import TicketStatus as S
from tests.graphql.client import in_process_app
from tests.slack.driver import SlackSide, sign
from tests.slack.helpers import deliver


async def _refusals() -> list[dict]:
    return [e.detail for e in await AuditEvent.filter(action="slack.refused").order_by("seq")]


@pytest.fixture
async def pending(world):
    return await world.request("alice", [("payments-dev", "PowerUserAccess")], justification="deploy fix")


async def test_a_bad_signature_is_refused_before_anything_is_read(world, slack, receiver, pending):
    body = slack.interaction_body(slack.click_payload("UBOB", blocks.APPROVE, str(pending.id)))
    response = await slack.post("/slack/interactions", body, secret="not-the-signing-secret")
    assert response.status_code == 401
    assert await Decision.filter(ticket_id=pending.id).count() == 0
    assert receiver.slack_calls == []  # not even users.info: the payload was never read
    assert [r["reason"] for r in await _refusals()] == ["bad signature"]
    # An altered body under a signature made for the original is the same forgery.
    ts = str(int(time.time()))
    signature = sign(slack.secret, ts, body)
    altered = body.replace(b"UBOB", b"UCAROL")
    assert (await slack.post("/slack/interactions", altered, timestamp=int(ts), signature=signature)).status_code == 401
    assert (await slack.command("UALICE", "status", secret="wrong")).status_code == 401
    assert await Decision.filter(ticket_id=pending.id).count() == 0


async def test_a_stale_timestamp_is_refused_even_when_signed(world, slack, pending):
    response = await slack.interact(
        slack.click_payload("UBOB", blocks.APPROVE, str(pending.id)), timestamp=int(time.time()) - 301)
    assert response.status_code == 401
    assert await Decision.filter(ticket_id=pending.id).count() == 0
    assert [r["reason"] for r in await _refusals()] == ["stale timestamp"]


async def test_a_replayed_request_is_refused(world, slack, pending):
    body = slack.interaction_body(slack.click_payload("UCAROL", blocks.REJECT, str(pending.id)))
    ts = int(time.time())
    first = await slack.post("/slack/interactions", body, timestamp=ts)
    again = await slack.post("/slack/interactions", body, timestamp=ts)
    assert first.status_code == 200 and again.status_code == 401
    assert len(slack.receiver.slack_views) == 1
    assert [r["reason"] for r in await _refusals()] == ["replayed request"]


async def test_a_slack_user_jit_does_not_know_is_told_and_nothing_is_written(world, slack, receiver, pending):
    receiver.slack_users["mallory@elsewhere.example"] = "UMALLORY"  # an email JIT has no user for
    receiver.slack_unmapped.add("UNOMAIL")  # a Slack user who shows no email
    for who in ("UMALLORY", "UNOMAIL", "UNOBODY"):
        assert (await slack.click(who, blocks.APPROVE, str(pending.id))).status_code == 200
    assert await Decision.filter(ticket_id=pending.id).count() == 0
    texts = [r["text"] for r in receiver.slack_responses]
    assert len(texts) == 3 and all("nothing was done" in t for t in texts)
    assert "mallory@elsewhere.example" in texts[0]
    refusals = await _refusals()
    assert [(r["reason"], r["slack_user"]) for r in refusals] == [
        ("unknown Slack user", "UMALLORY"), ("unknown Slack user", "UNOMAIL"), ("unknown Slack user", "UNOBODY")]
    # users.info is cached: asking again does not call Slack.
    calls = receiver.slack_calls.count("users.info")
    await slack.click("UMALLORY", blocks.APPROVE, str(pending.id))
    assert receiver.slack_calls.count("users.info") == calls


async def test_someone_with_no_right_to_decide_is_refused_by_the_same_checks(world, slack, receiver, pending):
    assert (await slack.click("UDAVE", blocks.APPROVE, str(pending.id))).status_code == 200
    assert await Decision.filter(ticket_id=pending.id).count() == 0
    assert (await Ticket.get(id=pending.id)).status == S.PENDING_APPROVAL
    [answer] = receiver.slack_responses
    # Dave approves production changes, not dev access: he may not even read this ticket,
    # and hears what the console would tell him.
    assert answer["response_type"] == "ephemeral" and answer["text"] == f"Not done: ticket {pending.id} not found"
    [refusal] = await AuditEvent.filter(action="slack.refused")
    assert refusal.actor_id == (await world.user("dave")).id and refusal.detail["credential"] == "slack:UDAVE"


async def test_the_requester_cannot_decide_their_own_ticket_from_slack(world, slack, receiver, pending):
    await slack.click("UALICE", blocks.APPROVE, str(pending.id))
    await slack.click("UALICE", blocks.REJECT, str(pending.id))
    await slack.submit("UALICE", receiver.slack_views[-1]["view"], {"comment": {"comment": {"value": "mine"}}})
    assert await Decision.filter(ticket_id=pending.id).count() == 0
    assert receiver.slack_responses[0]["text"] == "Not done: you cannot decide your own ticket"
    assert [r["reason"] for r in await _refusals()] == ["you cannot decide your own ticket"] * 2


async def test_a_double_click_counts_once(world, slack, receiver):
    # Two team leads must approve a production change: a second click by the same one must not count.
    ticket = await world.request("alice", [("payments-prod", "PowerUserAccess")], justification="migration")
    first = await slack.click("UBOB", blocks.APPROVE, str(ticket.id))
    second = await slack.click("UBOB", blocks.APPROVE, str(ticket.id))
    assert first.status_code == second.status_code == 200
    assert await Decision.filter(ticket_id=ticket.id).count() == 1
    assert (await Ticket.get(id=ticket.id)).status == S.PENDING_APPROVAL
    texts = [r["text"] for r in receiver.slack_responses]
    assert texts[0].startswith("You approved") and texts[1].startswith("Not done: you have already decided")
    assert [r["reason"] for r in await _refusals()] == ["you have already decided this ticket; one person counts once"]


@pytest.mark.parametrize("change", [
    {"slack_interactive": False},
    {"slack_signing_secret": None},
    {"slack_signing_secret": None, "mode": "production"},
    {"slack_token": None},
])
async def test_the_endpoints_do_not_exist_unless_interactive_slack_is_fully_set_up(world, receiver, change, pending):
    rt = dataclasses.replace(world.rt, settings=world.rt.settings.model_copy(update=change))
    app = in_process_app(rt)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://jit.test") as client:
        slack = SlackSide(client, "any-secret", receiver)
        assert (await slack.click("UBOB", blocks.APPROVE, str(pending.id))).status_code == 404
        assert (await slack.command("UALICE", "status")).status_code == 404
    assert await Decision.filter(ticket_id=pending.id).count() == 0
    assert receiver.slack_calls == []


async def test_off_by_default(settings):
    assert settings.slack_interactive is False and settings.slack_interactive_enabled is False


async def test_in_production_answers_go_only_to_slacks_own_hooks(world, receiver, pending):
    """A response_url in a signed body is still never a reason to call anywhere but Slack:
    in production the answer goes through chat.postEphemeral instead."""
    rt = dataclasses.replace(world.rt, settings=world.rt.settings.model_copy(update={"mode": "production"}))
    app = in_process_app(rt)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://jit.test") as client:
        slack = SlackSide(client, world.rt.settings.slack_signing_secret, receiver)
        assert (await slack.click("UDAVE", blocks.APPROVE, str(pending.id))).status_code == 200
    assert receiver.slack_responses == []
    [ephemeral] = receiver.slack_ephemerals
    assert ephemeral["user"] == "UDAVE" and ephemeral["text"].startswith("Not done")


async def test_messages_without_interactive_slack_keep_their_link_only(world, receiver, pending):
    world.rt = dataclasses.replace(world.rt, settings=world.rt.settings.model_copy(update={"slack_interactive": False}))
    await deliver(world)
    [post] = [p for p in receiver.slack_posts if p["channel"] == "UBOB"]
    [actions] = [b for b in post["blocks"] if b["type"] == "actions"]
    assert [e["action_id"] for e in actions["elements"]] == ["open_ticket"]
