"""The whole path against a running `jit serve` and `jit worker` (subprocesses, moto, the
Slack-shaped server): the worker posts the decision message, a signed click reaches the
server over HTTP, the worker grants the ticket, and the message is updated in place."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import httpx

from tests import services
from tests.notify.receivers import HttpReceiver
from tests.slack.conftest import PEOPLE, SIGNING_SECRET
from tests.slack.driver import SlackSide, buttons, text_of
from tests.support.live import LiveJit, fresh_postgres

REQUEST = """mutation($input: RequestTicketInput!) { requestTicket(input: $input) {
  __typename ... on Ticket { id status } ... on Error { message } } }"""
TICKET = "query($id: ID!) { ticket(id: $id) { status } }"


@dataclass
class SlackLiveJit(LiveJit):
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        return {**super().env, **self.extra}


async def _until(what, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while True:
        found = await what()
        if found:
            return found
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.3)


async def test_a_signed_click_on_a_live_server_approves_and_the_worker_keeps_the_message_true(
        redis_url, moto_url, tmp_path):
    receiver = HttpReceiver()
    await receiver.start()
    for name in PEOPLE:
        receiver.slack_users[f"{name}@example.com"] = f"U{name.upper()}"
    database_url = await fresh_postgres(f"{services.PG_DATABASE}_slack") or f"sqlite://{tmp_path / 'jit.sqlite3'}"
    live = SlackLiveJit(database_url, redis_url, moto_url, extra={
        "JIT_SLACK_TOKEN": "xoxb-test", "JIT_SLACK_BASE_URL": f"{receiver.url}/api/",
        "JIT_SLACK_INTERACTIVE": "true", "JIT_SLACK_SIGNING_SECRET": SIGNING_SECRET, "JIT_NOTIFY_INTERVAL": "1",
    })
    # Seeding and starting block; the Slack-shaped server must keep answering meanwhile.
    await asyncio.to_thread(live.start)
    try:
        async with httpx.AsyncClient(base_url=live.url, timeout=30) as http:
            async def gql(user: str, query: str, **variables) -> dict:
                response = await http.post("/graphql", json={"query": query, "variables": variables},
                                           headers={"Authorization": f"Bearer {live.tokens[user]}"})
                return response.json()["data"]

            data = await gql("alice", REQUEST, input={
                "targets": [{"accountId": live.accounts["payments-dev"], "permissionSet": "PowerUserAccess"}],
                "durationSeconds": 3600, "justification": "deploy the fix"})
            ticket_id = data["requestTicket"]["id"]

            async def bobs_message():
                found = [m for m in receiver.slack_messages.values() if m["to"] == "UBOB"]
                return found[0] if found else None

            message = await _until(bobs_message)
            assert [b["text"]["text"] for b in buttons(message)] == ["Approve", "Reject"]

            slack = SlackSide(http, SIGNING_SECRET, receiver)
            assert (await slack.click_button("UBOB", message, "Approve")).status_code == 200
            assert receiver.slack_responses[-1]["text"].startswith("You approved ticket")

            async def active():
                return (await gql("alice", TICKET, id=ticket_id))["ticket"]["status"] == "ACTIVE"

            await _until(active)
            assert len(live.assignments("payments-dev", "PowerUserAccess", "alice")) == 1

            async def updated():
                shown = next(m for m in receiver.slack_messages.values() if m["to"] == "UBOB")
                return "*Status:* active" in text_of(shown) and shown

            shown = await _until(updated)
            assert buttons(shown) == [] and "Approved by Bob Smith from Slack" in text_of(shown)
            assert len([m for m in receiver.slack_messages.values() if m["to"] == "UBOB"]) == 1
    finally:
        live.stop()
        await receiver.stop()
