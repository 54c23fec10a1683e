from tortoise import fields
from tortoise.models import Model


class AuditEvent(Model):
    """Append-only. A ticket's history is its audit events."""

    id = fields.BigIntField(primary_key=True)
    at = fields.DatetimeField(db_index=True)
    actor_id = fields.CharField(max_length=64, null=True)  # a user id, or null for the system
    action = fields.CharField(max_length=64)
    ticket_id = fields.UUIDField(null=True, db_index=True)
    from_status = fields.CharField(max_length=32, null=True)
    to_status = fields.CharField(max_length=32, null=True)
    detail = fields.JSONField(default=dict)

    class Meta:
        table = "audit_event"
