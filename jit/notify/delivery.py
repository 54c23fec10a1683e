"""Delivering the outbox, at least once.

A pass (the `notify.deliver` cron) first fans out new notifications into deliveries, one
per person and channel they chose plus one per event-wide sink, then claims due
deliveries with a lease (a conditional UPDATE, so two workers never send the same one at
once), sends them and records the outcome. A failure is retried with exponential backoff
for as long as it takes; only an answer that a retry cannot change (no address, a 4xx)
makes a delivery DEAD. A worker killed between sending and recording leaves its lease
to lapse, and the delivery is sent again: a duplicate, never a loss. Deliveries touch no
ticket rows.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from jit.backoff import exponential
from jit.config import Settings
from jit.directory.models import GroupMembership, User
from jit.notify import templates
from jit.notify.channels import Undeliverable
from jit.notify.channels import email as email_channel
from jit.notify.channels import slack as slack_channel
from jit.notify.channels import webhook as webhook_channel
from jit.notify.models import (
    Channel,
    DeliveryStatus,
    Notification,
    NotificationDelivery,
    NotificationKind,
    NotificationStatus,
)
from jit.notify.outbox import ROLE_ADMINS, ROLE_AUDITORS
from jit.notify.preferences import channels_for
from jit.runtime import Runtime
from jit.slack import messages as slack_messages

log = logging.getLogger(__name__)
D = DeliveryStatus
BATCH = 100


@dataclass
class PassReport:
    fanned_out: int = 0
    delivered: int = 0
    failed: int = 0
    dead: int = 0
    updated: int = 0  # Slack messages brought up to date (chat.update)
    errors: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {"fanned_out": self.fanned_out, "delivered": self.delivered, "failed": self.failed, "dead": self.dead,
                "updated": self.updated}


def configured_personal(settings: Settings) -> set[Channel]:
    out = set()
    if email_channel.configured(settings):
        out.add(Channel.EMAIL)
    if slack_channel.configured(settings):
        out.add(Channel.SLACK)
    return out


def sinks(settings: Settings) -> list[tuple[Channel, str]]:
    """The event-wide targets: every webhook, and the Slack audit channel."""
    out = [(Channel.WEBHOOK, name) for name in webhook_channel.targets(settings)]
    if slack_channel.configured(settings) and settings.slack_audit_channel:
        out.append((Channel.SLACK_AUDIT, settings.slack_audit_channel))
    return out


async def resolve(settings: Settings, recipients: list[str]) -> set[str]:
    users: set[str] = set()
    groups: list[str] = []
    for recipient in recipients:
        kind, _, value = recipient.partition(":")
        if kind == "user":
            users.add(value)
        elif recipient == ROLE_ADMINS:
            groups += settings.admin_groups
        elif recipient == ROLE_AUDITORS:
            groups += settings.auditor_groups
    if groups:
        # Tortoise types a flat values_list as tuples; these are single user ids.
        users |= set(cast(list[str], await GroupMembership.filter(group__display_name__in=groups)
                          .values_list("user_id", flat=True)))
    return users


async def fan_out(rt: Runtime) -> int:
    """Turns new notifications into deliveries. Settings are read here, not when the
    notification is written, so that the writer needs nothing but the database."""
    count = 0
    personal = configured_personal(rt.settings)
    for row in await Notification.filter(status=NotificationStatus.PENDING).order_by("id").limit(BATCH):
        now = rt.clock.now()
        kind = NotificationKind(row.kind)
        rows = [NotificationDelivery(notification_id=row.id, channel=channel, target=target,
                                     next_attempt_at=now, created_at=now)
                for channel, target in sinks(rt.settings)]
        users = await resolve(rt.settings, row.recipients)
        chosen = await channels_for(sorted(users), kind)
        for user_id in sorted(users):
            for channel in chosen[user_id]:
                if channel in personal:
                    rows.append(NotificationDelivery(notification_id=row.id, channel=channel, target=user_id,
                                                     next_attempt_at=now, created_at=now))
        async with in_transaction():
            claimed = await Notification.filter(id=row.id, status=NotificationStatus.PENDING).update(
                status=NotificationStatus.FANNED_OUT, fanned_out_at=now)
            if claimed == 1 and rows:
                # Two workers racing here is harmless: the unique key drops the second set.
                await NotificationDelivery.bulk_create(rows, ignore_conflicts=True)
        count += claimed
    return count


def backoff(settings: Settings, attempts: int) -> float:
    return exponential(settings.notify_retry_base_seconds, attempts, settings.notify_retry_max_seconds)


async def claim(rt: Runtime, owner: str, limit: int = BATCH) -> list[NotificationDelivery]:
    now = rt.clock.now()
    free = Q(leased_until=None) | Q(leased_until__lt=now)
    due = await NotificationDelivery.filter(Q(status=D.PENDING), Q(next_attempt_at__lte=now), free) \
        .order_by("next_attempt_at", "id").limit(limit).values_list("id", flat=True)
    until = now + timedelta(seconds=rt.settings.notify_lease_seconds)
    mine = []
    for delivery_id in due:
        won = await NotificationDelivery.filter(Q(id=delivery_id), Q(status=D.PENDING), free).update(
            lease_owner=owner, leased_until=until, attempts=F("attempts") + 1)
        if won == 1:
            mine.append(delivery_id)
    if not mine:
        return []
    return await NotificationDelivery.filter(id__in=mine).prefetch_related("notification").order_by("id")


async def send(settings: Settings, delivery: NotificationDelivery, now: datetime | None = None) -> None:
    notification = delivery.notification
    now = now or datetime.now(UTC)
    message = templates.render(settings, notification)
    channel = Channel(delivery.channel)
    if channel == Channel.WEBHOOK:
        await webhook_channel.send(settings, message, delivery.target, delivery.id, {
            "notification": notification.id, "ticket_id": str(notification.ticket_id) if notification.ticket_id else None,
            "payload": notification.payload, "created_at": notification.created_at.isoformat(),
        })
        return
    # Interactive Slack: ticket messages rendered as the ticket stands, recorded, kept true.
    live = settings.slack_interactive_enabled and notification.ticket_id is not None
    if channel == Channel.SLACK_AUDIT:
        if live:
            await slack_messages.post(settings, delivery, delivery.target, None, now)
        else:
            await slack_channel.send_audit(settings, message, delivery.target, delivery.id)
        return
    person = await User.get_or_none(id=delivery.target)
    if person is None:
        raise Undeliverable(f"user {delivery.target} is not in the directory")
    if channel == Channel.EMAIL:
        await email_channel.send(settings, message, person.display_name or person.user_name, person.email, delivery.id)
    elif live:
        await slack_messages.post(settings, delivery, await slack_channel.lookup(settings, person.email),
                                  person.id, now)
    else:
        await slack_channel.send_direct(settings, message, person.email, delivery.id)


async def _record(rt: Runtime, delivery: NotificationDelivery, owner: str, error: BaseException | None) -> str:
    now = rt.clock.now()
    mine = NotificationDelivery.filter(id=delivery.id, lease_owner=owner)
    if error is None:
        await mine.update(status=D.DELIVERED, delivered_at=now, last_error="", lease_owner=None, leased_until=None)
        return "delivered"
    text = f"{type(error).__name__}: {error}"[:2000]
    if isinstance(error, Undeliverable):
        await mine.update(status=D.DEAD, last_error=text, lease_owner=None, leased_until=None)
        return "dead"
    await mine.update(last_error=text, lease_owner=None, leased_until=None,
                      next_attempt_at=now + timedelta(seconds=backoff(rt.settings, delivery.attempts)))
    return "failed"


async def deliver_due(rt: Runtime, owner: str | None = None, concurrency: int = 10) -> PassReport:
    report = PassReport()
    report.fanned_out = await fan_out(rt)
    owner = owner or uuid.uuid4().hex
    gate = asyncio.Semaphore(concurrency)

    async def one(delivery: NotificationDelivery) -> None:
        async with gate:
            try:
                await asyncio.wait_for(send(rt.settings, delivery, rt.clock.now()),
                                       rt.settings.notify_send_timeout * 2)
                error: BaseException | None = None
            except Exception as exc:  # noqa: BLE001 - a channel's failure is recorded, never raised
                error = exc
            outcome = await _record(rt, delivery, owner, error)
            if outcome == "delivered":
                report.delivered += 1
            else:
                report.dead += outcome == "dead"
                report.failed += outcome == "failed"
                report.errors.append(f"{delivery.channel} {delivery.target}: {error}")
                log.warning("notification delivery %s (%s to %s) %s: %s", delivery.id, delivery.channel,
                            delivery.target, outcome, error)

    # Claim no more than can be sent before the leases lapse, even if every send hangs
    # until its timeout; otherwise another pass would take them over and send them twice.
    rounds = int(rt.settings.notify_lease_seconds // (2 * rt.settings.notify_send_timeout))
    limit = min(BATCH, concurrency * max(rounds, 1))
    await asyncio.gather(*(one(d) for d in await claim(rt, owner, limit)))
    if rt.settings.slack_interactive_enabled:
        report.updated = await slack_messages.refresh_dirty(rt)
    return report
