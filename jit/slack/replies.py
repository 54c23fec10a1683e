"""How the Slack endpoints act and answer: as whom (a "slack:<user id>" credential), where
a refusal is recorded (`slack.refused`), and how the person is told (ephemeral)."""

from __future__ import annotations

import logging
from typing import Any

import httpx
from slack_sdk.errors import SlackApiError

from jit.audit.service import record
from jit.auth.scopes import Scope
from jit.auth.service import Identity
from jit.directory.models import User
from jit.notify.channels import slack as slack_channel
from jit.runtime import Runtime

log = logging.getLogger(__name__)
SLACK_HOOKS = "https://hooks.slack.com/"


def identity(user: User, slack_user_id: str) -> Identity:
    return Identity(user=user, scopes=frozenset({Scope.READ, Scope.REQUEST, Scope.DECIDE}), method="slack",
                    slack_user_id=slack_user_id)


async def refused(rt: Runtime, reason: str, *, actor_id: str | None = None, slack_user: str = "",
                  action: str = "", subject: str = "") -> None:
    """The audit trail of a refusal; the refused act itself wrote nothing."""
    detail = {"reason": reason[:500], "slack_user": slack_user, "action": action, "subject": subject}
    if actor_id is not None and slack_user:
        detail["credential"] = f"slack:{slack_user}"[:32]
    await record(rt.clock.now(), actor_id, "slack.refused", subject_type="slack", subject_id=slack_user or None,
                 detail=detail)


async def tell(rt: Runtime, payload: dict[str, Any], text: str) -> None:
    """An ephemeral answer: through the interaction's response_url, else chat.postEphemeral."""
    url = payload.get("response_url") or ""
    # Only Slack's own hooks in production: the URL is in a signed body, but never a
    # reason to make this server call anywhere else.
    if url and (url.startswith(SLACK_HOOKS) or rt.settings.mode != "production"):
        try:
            async with httpx.AsyncClient(timeout=rt.settings.notify_send_timeout) as http:
                await http.post(url, json={"response_type": "ephemeral", "replace_original": False, "text": text})
            return
        except httpx.HTTPError as exc:
            log.warning("Slack response_url failed: %s", exc)
    channel = (payload.get("channel") or {}).get("id") or payload.get("channel_id")
    user = (payload.get("user") or {}).get("id") or payload.get("user_id")
    if channel and user:
        try:
            await slack_channel.client(rt.settings).chat_postEphemeral(channel=channel, user=user, text=text)
        except SlackApiError as exc:
            log.warning("chat.postEphemeral failed: %s", exc)


def unmapped_text(email: str) -> str:
    who = f"your Slack email ({email})" if email else "your Slack account (it shows no email)"
    return f"JIT does not know {who}, so nothing was done. Use the JIT console, or ask an admin to sync the directory."
