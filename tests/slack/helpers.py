"""Reading what Slack shows, and running the outbox."""

from __future__ import annotations

from jit.notify import delivery
from tests.notify.receivers import HttpReceiver


async def deliver(world, *, failures_ok: bool = False) -> delivery.PassReport:
    report = await delivery.deliver_due(world.rt)
    if not failures_ok:
        assert report.failed == 0 and report.dead == 0, report.errors
    return report


def messages_to(receiver: HttpReceiver, slack_user: str) -> list[tuple[tuple[str, str], dict]]:
    """Every message Slack holds for a person, oldest first, as it shows now."""
    return [(key, m) for key, m in receiver.slack_messages.items() if m["to"] == slack_user]


def only_message_to(receiver: HttpReceiver, slack_user: str, title: str) -> dict:
    found = [m for _, m in messages_to(receiver, slack_user) if title in m["blocks"][0]["text"]["text"]]
    assert len(found) == 1, [m["blocks"][0]["text"]["text"] for _, m in messages_to(receiver, slack_user)]
    return found[0]
