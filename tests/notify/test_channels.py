"""Each channel against a real receiver: SMTP (aiosmtpd), Slack's Web API shape, and a
webhook receiver that verifies the signature."""

from __future__ import annotations

import time

from jit.approvals.break_glass import break_glass
from jit.notify import delivery
from jit.notify.channels import webhook
from jit.notify.models import Channel, DeliveryStatus, NotificationDelivery
from jit.notify.models import NotificationKind as K
from jit.tickets.models import Ticket


async def _deliver(world) -> delivery.PassReport:
    return await delivery.deliver_due(world.rt)


async def test_a_request_reaches_the_approvers_by_email_with_text_html_and_a_console_link(world, smtp):
    ticket = await world.request("alice", [("payments-dev", "PowerUserAccess")], justification="deploy fix")
    report = await _deliver(world)
    assert report.failed == 0 and report.dead == 0, report.errors
    to = sorted(m["To"].addresses[0].addr_spec for m in smtp.messages)
    assert to == ["bob@example.com", "carol@example.com"]
    mail = smtp.messages[0]
    assert mail["From"] == "jit@example.com"
    assert "decision is needed" in mail["Subject"]
    assert mail.get_content_type() == "multipart/alternative"
    text = mail.get_body(preferencelist=("plain",)).get_content()
    html = mail.get_body(preferencelist=("html",)).get_content()
    link = f"https://jit.example.com/tickets/{ticket.id}"
    assert link in text and f'href="{link}"' in html
    assert "PowerUserAccess" in text and "deploy fix" in text and "<li>" in html
    rows = await NotificationDelivery.filter(channel=Channel.EMAIL)
    assert {r.status for r in rows} == {DeliveryStatus.DELIVERED} and all(r.attempts == 1 for r in rows)
    assert {m["X-JIT-Delivery"] for m in smtp.messages} == {str(r.id) for r in rows}


async def test_slack_direct_messages_find_the_person_by_email_and_link_to_the_ticket(world, receiver):
    ticket = await world.request("alice", [("payments-dev", "PowerUserAccess")])
    await _deliver(world)
    direct = [p for p in receiver.slack_posts if p["channel"].startswith("U")]
    assert sorted(p["channel"] for p in direct) == ["UBOB", "UCAROL"]
    [button] = [b for b in direct[0]["blocks"] if b["type"] == "actions"][0]["elements"]
    assert button["type"] == "button" and button["url"] == f"https://jit.example.com/tickets/{ticket.id}"
    assert direct[0]["blocks"][0]["type"] == "header"
    audit = [p for p in receiver.slack_posts if p["channel"] == "#jit-audit"]
    assert len(audit) == 1  # the audit channel gets each notification once, not once per person


async def test_a_person_slack_does_not_know_is_dead_not_retried(world, receiver):
    del receiver.slack_users["bob@example.com"]
    await world.request("alice", [("payments-dev", "PowerUserAccess")])
    report = await _deliver(world)
    bob = await world.user("bob")
    row = await NotificationDelivery.get(channel=Channel.SLACK, target=bob.id)
    assert row.status == DeliveryStatus.DEAD and "users_not_found" in row.last_error
    assert report.dead == 1


async def test_webhooks_are_signed_and_the_receiver_verifies_them(world, receiver):
    ticket = await world.request("alice", [("payments-prod", "AdministratorAccess")])
    await break_glass(world.rt, await world.user("alice"), str(ticket.id), "payments are down")
    report = await _deliver(world)
    assert report.failed == 0, report.errors
    assert receiver.rejected == []
    kinds = sorted(r["event"] for r in receiver.received)
    assert kinds == sorted([K.DECISION_NEEDED.value, K.BREAK_GLASS.value, K.APPROVED.value])
    body = next(r["body"] for r in receiver.received if r["event"] == "BREAK_GLASS")
    assert body["ticket_id"] == str(ticket.id) and body["url"].endswith(f"/tickets/{ticket.id}")
    assert body["payload"]["detail"]["reason"] == "payments are down"


async def test_a_receiver_rejects_a_replay_a_forgery_and_a_wrong_secret():
    body = b'{"kind":"GRANTED"}'
    now = int(time.time())
    good = webhook.sign("k", str(now), body)
    assert webhook.verify("k", str(now), body, good)
    assert not webhook.verify("k", str(now - 3600), body, webhook.sign("k", str(now - 3600), body))  # replayed
    assert not webhook.verify("k", str(now), body + b" ", good)  # altered
    assert not webhook.verify("other", str(now), body, good)
    assert not webhook.verify("k", "not-a-time", body, good)


async def test_a_channel_that_is_down_delays_but_loses_nothing_and_never_touches_the_ticket(world, receiver, smtp):
    await receiver.down()
    ticket = await world.request("alice", [("payments-dev", "PowerUserAccess")])
    version = (await Ticket.get(id=ticket.id)).version
    report = await _deliver(world)
    assert report.failed > 0 and len(smtp.messages) == 2  # email was up
    pending = await NotificationDelivery.filter(status=DeliveryStatus.PENDING)
    assert {p.channel for p in pending} == {Channel.SLACK, Channel.SLACK_AUDIT, Channel.WEBHOOK}
    assert receiver.dropped >= len(pending)  # each was really tried and refused
    assert all(p.attempts == 1 and p.last_error and p.lease_owner is None for p in pending)
    assert all(p.next_attempt_at > world.rt.clock.now() for p in pending)
    assert (await _deliver(world)).delivered == 0  # backing off: nothing is due yet
    world.rt.clock.advance(seconds=11)
    again = await _deliver(world)  # still down: the backoff doubles
    assert again.failed == len(pending)
    first = pending[0]
    second = await NotificationDelivery.get(id=first.id)
    assert second.attempts == 2
    assert (second.next_attempt_at - world.rt.clock.now()).total_seconds() == 20
    await receiver.up()
    world.rt.clock.advance(seconds=21)
    recovered = await _deliver(world)
    assert recovered.delivered == len(pending), recovered.errors
    assert await NotificationDelivery.filter(status=DeliveryStatus.PENDING).count() == 0
    assert len(smtp.messages) == 2 and len(receiver.received) == 1
    assert (await Ticket.get(id=ticket.id)).version == version


async def test_two_workers_never_claim_the_same_delivery(world):
    await world.request("alice", [("payments-dev", "PowerUserAccess")])
    await delivery.fan_out(world.rt)
    first = await delivery.claim(world.rt, "worker-a")
    second = await delivery.claim(world.rt, "worker-b")
    assert first and second == []
    world.rt.clock.advance(seconds=world.rt.settings.notify_lease_seconds + 1)  # worker-a died
    taken_over = await delivery.claim(world.rt, "worker-b")
    assert sorted(d.id for d in taken_over) == sorted(d.id for d in first)
    assert all(d.attempts == 2 for d in taken_over)
