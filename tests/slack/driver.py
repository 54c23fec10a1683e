"""Slack's side of an interaction: builds the payloads Slack sends for a button click, a
modal submission, a select's options and a slash command, signs them with Slack's
algorithm (written here from Slack's documentation, independently of slack-sdk), and
posts them to the running app."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from urllib.parse import urlencode

import httpx

from tests.notify.receivers import HttpReceiver


def sign(secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


class SlackSide:
    def __init__(self, client: httpx.AsyncClient, secret: str, receiver: HttpReceiver) -> None:
        self.client = client
        self.secret = secret
        self.receiver = receiver
        self.sent = 0

    async def post(self, path: str, body: bytes, *, timestamp: int | None = None, secret: str | None = None,
                   signature: str | None = None) -> httpx.Response:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature or sign(secret or self.secret, ts, body),
        }
        self.sent += 1
        return await self.client.post(path, content=body, headers=headers)

    def interaction_body(self, payload: dict) -> bytes:
        return urlencode({"payload": json.dumps(payload)}).encode()

    async def interact(self, payload: dict, **kw) -> httpx.Response:
        return await self.post("/slack/interactions", self.interaction_body(payload), **kw)

    def click_payload(self, slack_user: str, action_id: str, value: str, channel: str = "C0", ts: str = "1.0") -> dict:
        return {
            "type": "block_actions", "user": {"id": slack_user}, "trigger_id": f"trigger-{uuid.uuid4().hex}",
            "response_url": f"{self.receiver.url}/respond/{slack_user}",
            "channel": {"id": channel}, "container": {"type": "message", "channel_id": channel, "message_ts": ts},
            # action_ts differs between two clicks, so two clicks are two signed bodies.
            "actions": [{"action_id": action_id, "value": value, "type": "button",
                         "action_ts": f"{time.time():.6f}-{uuid.uuid4().hex[:6]}"}],
        }

    async def click(self, slack_user: str, action_id: str, value: str, **kw) -> httpx.Response:
        return await self.interact(self.click_payload(slack_user, action_id, value))

    async def click_button(self, slack_user: str, message: dict, text: str) -> httpx.Response:
        """Clicks the button labelled `text` on a message as Slack shows it."""
        [button] = [e for e in buttons(message) if e["text"]["text"] == text]
        return await self.click(slack_user, button["action_id"], button["value"])

    async def submit(self, slack_user: str, view: dict, values: dict) -> httpx.Response:
        """Submits a modal JIT opened (as views.open received it) with the given input values,
        {block_id: {action_id: value-object}}."""
        return await self.interact({
            "type": "view_submission", "user": {"id": slack_user}, "trigger_id": f"trigger-{uuid.uuid4().hex}",
            "view": {**view, "id": "V1", "state": {"values": values}},
        })

    async def suggest(self, slack_user: str, action_id: str, query: str) -> httpx.Response:
        return await self.interact({"type": "block_suggestion", "user": {"id": slack_user},
                                    "action_id": action_id, "block_id": action_id, "value": query})

    async def command(self, slack_user: str, text: str = "", **kw) -> httpx.Response:
        body = urlencode({
            "command": "/jit", "text": text, "user_id": slack_user, "channel_id": "C0",
            "trigger_id": f"trigger-{uuid.uuid4().hex}", "response_url": f"{self.receiver.url}/respond/{slack_user}",
        }).encode()
        return await self.post("/slack/commands", body, **kw)


def buttons(message: dict) -> list[dict]:
    return [e for b in message.get("blocks") or [] if b["type"] == "actions" for e in b["elements"]
            if "action_id" in e and "url" not in e]


def text_of(message: dict) -> str:
    parts = []
    for block in message.get("blocks") or []:
        if "text" in block and isinstance(block["text"], dict):
            parts.append(block["text"]["text"])
        for element in block.get("elements", []):
            if isinstance(element, dict) and element.get("type") == "mrkdwn":
                parts.append(element["text"])
    return "\n".join(parts)
