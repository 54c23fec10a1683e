from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from jit.directory.models import User


class NotificationKind(str, Enum):
    REQUESTED_FOR_YOU = "REQUESTED_FOR_YOU"
    DECISION_NEEDED = "DECISION_NEEDED"
    APPROVAL_REMINDER = "APPROVAL_REMINDER"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    APPROVAL_EXPIRED = "APPROVAL_EXPIRED"
    GRANTED = "GRANTED"
    FAILED = "FAILED"
    EXPIRING_SOON = "EXPIRING_SOON"
    EXTENDED = "EXTENDED"
    REVOKED = "REVOKED"
    ENDED = "ENDED"
    BREAK_GLASS = "BREAK_GLASS"
    DRIFT_FOUND = "DRIFT_FOUND"
    DELEGATION_CREATED = "DELEGATION_CREATED"
    EXTENSION_DECISION_NEEDED = "EXTENSION_DECISION_NEEDED"
    # To the requester of a ticket asked for from Slack: the message that follows it.
    REQUEST_RECEIVED = "REQUEST_RECEIVED"


class Channel(str, Enum):
    """EMAIL and SLACK reach a person and follow their preferences; WEBHOOK and
    SLACK_AUDIT are the admin's event-wide sinks and receive every notification once."""

    EMAIL = "EMAIL"
    SLACK = "SLACK"
    WEBHOOK = "WEBHOOK"
    SLACK_AUDIT = "SLACK_AUDIT"


PERSONAL_CHANNELS = (Channel.EMAIL, Channel.SLACK)


class NotificationStatus(str, Enum):
    PENDING = "PENDING"  # written with its event; recipients not yet resolved
    FANNED_OUT = "FANNED_OUT"  # its deliveries exist


class DeliveryStatus(str, Enum):
    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    DEAD = "DEAD"  # the channel refused it for good (no address, 4xx): retrying cannot help
    SKIPPED = "SKIPPED"  # the channel is not configured


class Notification(Model):
    """The outbox: one row per event worth telling someone about, written in the same
    transaction as the event. Recipients are resolved later, by the worker, so that
    writing it needs nothing but the database."""

    id = fields.BigIntField(primary_key=True)
    kind = fields.CharEnumField(NotificationKind, max_length=32)
    # The same event never produces two rows: audit-driven rows use the audit event id,
    # time-driven ones the ticket and the instant they are about.
    dedupe_key = fields.CharField(max_length=200, unique=True)
    ticket_id = fields.UUIDField(null=True, db_index=True)
    actor_id = fields.CharField(max_length=64, null=True)
    # "user:<id>" for a person, "role:admins" / "role:auditors" for the configured groups.
    recipients: fields.Field[list[str]] = fields.JSONField(default=list)
    payload: fields.Field[dict[str, Any]] = fields.JSONField(default=dict)
    status = fields.CharEnumField(NotificationStatus, max_length=16, default=NotificationStatus.PENDING, db_index=True)
    created_at = fields.DatetimeField()
    fanned_out_at = fields.DatetimeField(null=True)

    class Meta:
        table = "notification"


class NotificationDelivery(Model):
    """One notification to one target over one channel, delivered at least once."""

    id = fields.BigIntField(primary_key=True)
    notification: fields.ForeignKeyRelation[Notification] = fields.ForeignKeyField(
        "models.Notification", related_name="deliveries", on_delete=fields.CASCADE)
    notification_id: int
    channel = fields.CharEnumField(Channel, max_length=16)
    target = fields.CharField(max_length=255)  # a user id, a webhook name, a Slack channel
    status = fields.CharEnumField(DeliveryStatus, max_length=16, default=DeliveryStatus.PENDING)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(db_index=True)
    # A worker owns a delivery until its lease lapses; a killed worker's lease lapses too.
    lease_owner = fields.CharField(max_length=64, null=True)
    leased_until = fields.DatetimeField(null=True)
    last_error = fields.TextField(default="")
    delivered_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "notification_delivery"
        unique_together = (("notification", "channel", "target"),)


class NotificationPreference(Model):
    """The channels a person chose for one kind of notification (no row: the default)."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="notification_preferences", on_delete=fields.CASCADE)
    user_id: str
    kind = fields.CharEnumField(NotificationKind, max_length=32)
    channels: fields.Field[list[str]] = fields.JSONField(default=list)  # Channel values
    updated_at = fields.DatetimeField()

    class Meta:
        table = "notification_preference"
        unique_together = (("user", "kind"),)
