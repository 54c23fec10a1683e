"""Slack through slack-sdk: a direct message to the person, found by their email, and an
optional audit channel. Block Kit, with a button that opens the ticket."""

from __future__ import annotations

from typing import NoReturn

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from jit.config import Settings
from jit.notify.channels import Undeliverable
from jit.notify.templates import Message

# Errors that a retry cannot fix; anything else (ratelimited, fatal_error, a network
# failure) leaves the delivery pending.
PERMANENT = {"users_not_found", "channel_not_found", "not_in_channel", "is_archived", "invalid_auth",
             "account_inactive", "cannot_dm_bot", "user_disabled", "no_text", "invalid_blocks"}


def configured(settings: Settings) -> bool:
    return bool(settings.slack_token)


def client(settings: Settings) -> AsyncWebClient:
    return AsyncWebClient(token=settings.slack_token, base_url=settings.slack_base_url or AsyncWebClient.BASE_URL,
                          timeout=int(max(settings.notify_send_timeout, 1)))


async def _post(settings: Settings, channel: str, message: Message, delivery_id: int) -> None:
    # The delivery id rides in the message metadata, so a reader can spot a repeat.
    await client(settings).chat_postMessage(
        channel=channel, text=f"{message.title} {message.url}".strip(), blocks=message.slack_blocks(),
        metadata={"event_type": "jit_notification",
                  "event_payload": {"delivery": str(delivery_id), "kind": message.kind}},
    )


async def send_direct(settings: Settings, message: Message, email: str, delivery_id: int) -> None:
    if not email:
        raise Undeliverable("the user has no email address to find them in Slack by")
    try:
        found = await client(settings).users_lookupByEmail(email=email)
        await _post(settings, found["user"]["id"], message, delivery_id)
    except SlackApiError as exc:
        raise_for(exc)


async def lookup(settings: Settings, email: str) -> str:
    """The Slack user id of the person with this email."""
    if not email:
        raise Undeliverable("the user has no email address to find them in Slack by")
    try:
        found = await client(settings).users_lookupByEmail(email=email)
    except SlackApiError as exc:
        raise_for(exc)
    user_id: str = found["user"]["id"]
    return user_id


async def send_audit(settings: Settings, message: Message, channel: str, delivery_id: int) -> None:
    try:
        await _post(settings, channel, message, delivery_id)
    except SlackApiError as exc:
        raise_for(exc)


def raise_for(exc: SlackApiError) -> NoReturn:
    """Undeliverable for an error a retry cannot fix; the error itself otherwise."""
    error = exc.response.get("error") if exc.response is not None else None
    if error in PERMANENT:
        raise Undeliverable(f"Slack: {error}") from exc
    raise exc
