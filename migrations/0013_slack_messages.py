"""Interactive Slack (docs/notifications.md): the messages JIT posted about each ticket, so
the outbox can keep them true with chat.update."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

from jit.notify.models import NotificationKind

# Frozen here, as the kinds stood when this migration was written.
KINDS = "\n".join(f"{k}: {k}" for k in (
    "REQUESTED_FOR_YOU", "DECISION_NEEDED", "APPROVAL_REMINDER", "APPROVED",
    "REJECTED", "APPROVAL_EXPIRED", "GRANTED", "FAILED",
    "EXPIRING_SOON", "EXTENDED", "REVOKED", "ENDED",
    "BREAK_GLASS", "DRIFT_FOUND", "DELEGATION_CREATED", "EXTENSION_DECISION_NEEDED",
    "REQUEST_RECEIVED"))


class Migration(migrations.Migration):
    dependencies = [("models", "0012_audit_verification")]

    initial = False

    operations = [
        ops.CreateModel(
            name="SlackMessage",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("ticket_id", fields.UUIDField(db_index=True)),
                ("notification_id", fields.BigIntField()),
                ("delivery_id", fields.BigIntField(unique=True)),
                ("extension_id", fields.UUIDField(null=True)),
                ("recipient_id", fields.CharField(null=True, max_length=64)),
                ("channel", fields.CharField(max_length=64)),
                ("ts", fields.CharField(max_length=32)),
                ("version", fields.IntField(default=1)),
                ("dirty", fields.BooleanField(default=True, db_index=True)),
                ("rendered_hash", fields.CharField(default="", max_length=64)),
                ("attempts", fields.IntField(default=0)),
                ("next_attempt_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("last_error", fields.TextField(default="", unique=False)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("updated_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={"table": "slack_message", "app": "models", "unique_together": (("channel", "ts"),),
                     "pk_attr": "id", "table_description": "A Slack message JIT posted about a ticket, kept true by the outbox: every audit event"},
            bases=["Model"],
        ),
        # Two new kinds (EXTENSION_DECISION_NEEDED, REQUEST_RECEIVED): the columns are wide enough.
        ops.AlterField(model_name="Notification", name="kind",
                       field=fields.CharEnumField(description=KINDS, enum_type=NotificationKind, max_length=32)),
        ops.AlterField(model_name="NotificationPreference", name="kind",
                       field=fields.CharEnumField(description=KINDS, enum_type=NotificationKind, max_length=32)),
    ]
