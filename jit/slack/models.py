from tortoise import fields
from tortoise.models import Model


class SlackMessage(Model):
    """A Slack message JIT posted about a ticket, kept true by the outbox: every audit event
    on the ticket marks it dirty in the event's own transaction, and the delivery pass
    re-renders it and calls chat.update until what Slack shows is current."""

    id = fields.BigIntField(primary_key=True)
    ticket_id = fields.UUIDField(db_index=True)
    # The notification it rendered (its kind and facts) and the delivery that posted it.
    notification_id = fields.BigIntField()
    delivery_id = fields.BigIntField(unique=True)
    extension_id = fields.UUIDField(null=True)
    # The JIT user a direct message went to; null for the audit channel.
    recipient_id = fields.CharField(max_length=64, null=True)
    channel = fields.CharField(max_length=64)
    ts = fields.CharField(max_length=32)
    version = fields.IntField(default=1)
    # Set with every bump of `version`, cleared once Slack shows what that version renders.
    dirty = fields.BooleanField(default=True, db_index=True)
    rendered_hash = fields.CharField(max_length=64, default="")
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField()
    last_error = fields.TextField(default="")
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField(null=True)

    class Meta:
        table = "slack_message"
        unique_together = (("channel", "ts"),)
