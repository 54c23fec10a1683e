from typing import Any

from tortoise import fields
from tortoise.models import Model


class AuditEvent(Model):
    """Append-only, hash-chained (jit/audit/chain.py). A ticket's history is its audit events.

    `seq` orders the chain without gaps; `hash` is sha256 over the canonical JSON of the
    event's fields and `prev_hash`, so editing, inserting or deleting a row breaks it."""

    id = fields.BigIntField(primary_key=True)
    seq = fields.BigIntField(null=True, db_index=True)  # null only before migration 0005 chained it
    at = fields.DatetimeField(db_index=True)
    actor_id = fields.CharField(max_length=64, null=True)  # a user id, or null for the system
    # The person the actor acted for: the delegator of a decision, the principal of a ticket
    # requested for someone else.
    on_behalf_of = fields.CharField(max_length=64, null=True)
    action = fields.CharField(max_length=64, db_index=True)
    subject_type = fields.CharField(max_length=32, null=True)
    subject_id = fields.CharField(max_length=255, null=True)
    ticket_id = fields.UUIDField(null=True, db_index=True)
    from_status = fields.CharField(max_length=32, null=True)
    to_status = fields.CharField(max_length=32, null=True)
    detail: fields.Field[dict[str, Any]] = fields.JSONField(default=dict)
    # Any JSON value (usually an object), or null.
    before: fields.Field[Any] = fields.JSONField(null=True)
    after: fields.Field[Any] = fields.JSONField(null=True)
    prev_hash = fields.CharField(null=True, max_length=64)
    hash = fields.CharField(null=True, max_length=64)

    class Meta:
        table = "audit_event"


class AuditChain(Model):
    """One row (id=1): the head of the chain, and the checkpoint pruning left behind.

    Appenders lock this row FOR UPDATE inside their own transaction, so concurrent writers
    on PostgreSQL take turns and cannot fork the chain. The checkpoint is the seq and hash
    of the last pruned event: verification starts from it."""

    id = fields.IntField(primary_key=True, generated=False)
    head_seq = fields.BigIntField(default=0)
    head_hash = fields.CharField(max_length=64)
    checkpoint_seq = fields.BigIntField(default=0)
    checkpoint_hash = fields.CharField(max_length=64)
    checkpoint_at = fields.DatetimeField(null=True)
    pruned_total = fields.BigIntField(default=0)

    class Meta:
        table = "audit_chain"


class AuditVerificationRun(Model):
    """One run of the chain verification (`jit audit verify`, or "Verify now" in the console
    through the worker's `audit.verify` job) and its result."""

    id = fields.IntField(primary_key=True)
    trigger = fields.CharField(max_length=16)  # MANUAL (the console) | CLI
    requested_by = fields.CharField(max_length=64, null=True)
    status = fields.CharField(max_length=16)  # QUEUED | RUNNING | OK | BROKEN | FAILED
    requested_at = fields.DatetimeField()
    started_at = fields.DatetimeField(null=True)
    finished_at = fields.DatetimeField(null=True)
    checked = fields.BigIntField(default=0)
    first_seq = fields.BigIntField(default=0)
    head_seq = fields.BigIntField(default=0)
    broken_event_id = fields.BigIntField(null=True)
    broken_seq = fields.BigIntField(null=True)
    reason = fields.TextField(default="")

    class Meta:
        table = "audit_verification"
