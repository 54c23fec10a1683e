"""Posting ticket messages that stay true, and keeping them so.

With interactive Slack on, the outbox's Slack deliveries post through here: the message is
rendered from the ticket as it is now, and its (channel, ts) recorded. Every audit event on
the ticket marks its messages dirty in the event's transaction (jit.slack.service); each
delivery pass re-renders the dirty ones and calls chat.update where what Slack shows
differs. chat.update never adds a message, so a retry or a second worker duplicates
nothing, and a Slack outage only delays the updates."""

from __future__ import annotations

import logging
from datetime import datetime

from slack_sdk.errors import SlackApiError

from jit.backoff import exponential
from jit.config import Settings
from jit.notify.channels import slack as slack_channel
from jit.notify.models import Notification, NotificationDelivery
from jit.runtime import Runtime
from jit.slack import blocks, service

log = logging.getLogger(__name__)
BATCH = 100


def _extension_of(notification: Notification) -> str | None:
    extension = (notification.payload.get("detail") or {}).get("extension")
    return str(extension) if extension else None


async def post(settings: Settings, delivery: NotificationDelivery, channel: str, recipient_id: str | None,
               now: datetime) -> None:
    notification = delivery.notification
    extension = _extension_of(notification)
    text, rendered = await blocks.ticket_message(settings, notification, recipient_id, extension)
    try:
        sent = await slack_channel.client(settings).chat_postMessage(
            channel=channel, text=text, blocks=rendered,
            metadata={"event_type": "jit_notification",
                      "event_payload": {"delivery": str(delivery.id), "kind": notification.kind}},
        )
    except SlackApiError as exc:
        slack_channel.raise_for(exc)
    await service.record_posted(
        ticket_id=notification.ticket_id, notification_id=notification.id, delivery_id=delivery.id,
        extension_id=extension, recipient_id=recipient_id, channel=sent["channel"], ts=sent["ts"],
        rendered_hash=blocks.digest(rendered), now=now,
    )


async def refresh_dirty(rt: Runtime, limit: int = BATCH) -> int:
    """One pass over the dirty messages; returns how many Slack was asked to update."""
    now = rt.clock.now()
    updated = 0
    for row in await service.due(now, limit):
        notification = await Notification.get_or_none(id=row.notification_id)
        if notification is None:
            await service.failed(row, "its notification is gone", now, None)
            continue
        text, rendered = await blocks.ticket_message(
            rt.settings, notification, row.recipient_id, str(row.extension_id) if row.extension_id else None)
        rendered_hash = blocks.digest(rendered)
        if rendered_hash != row.rendered_hash:
            try:
                await slack_channel.client(rt.settings).chat_update(
                    channel=row.channel, ts=row.ts, text=text, blocks=rendered)
            except SlackApiError as exc:
                error = (exc.response.get("error") if exc.response is not None else None) or str(exc)
                retry = None if error in service.GONE else _backoff(rt.settings, row.attempts + 1)
                await service.failed(row, f"Slack: {error}", now, retry)
                continue
            except Exception as exc:  # noqa: BLE001 - Slack unreachable: retried with backoff
                await service.failed(row, f"{type(exc).__name__}: {exc}", now, _backoff(rt.settings, row.attempts + 1))
                log.warning("updating Slack message %s failed: %s", row.id, exc)
                continue
            updated += 1
        await service.refreshed(row, rendered_hash, now)
    return updated


def _backoff(settings: Settings, attempts: int) -> float:
    return exponential(settings.notify_retry_base_seconds, attempts, settings.notify_retry_max_seconds)
