from enum import Enum

from tortoise import fields
from tortoise.models import Model


class Lease(Model):
    """A lease on a ticket or an assignment, kept alive by the heartbeat of its holder."""

    # The database row, not a Redis lock, keeps two workers apart: Redis may be flushed
    # mid-job, and a SIGKILLed worker's lease simply runs out. Keys are ticket:<id> and
    # assignment:<account>:<permission set>:<principal>.
    key = fields.CharField(primary_key=True, max_length=255)
    holder = fields.CharField(max_length=64)
    expires_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "job_lease"


class RevokeRetry(Model):
    """A revoke that did not finish: how often it failed, when to try next, and whether an
    alert was raised. Deleted when the ticket ends."""

    ticket_id = fields.UUIDField(primary_key=True)
    attempts = fields.IntField(default=0)
    last_error = fields.TextField(default="")
    next_attempt_at = fields.DatetimeField(db_index=True)
    alerted_at = fields.DatetimeField(null=True)
    updated_at = fields.DatetimeField()

    class Meta:
        table = "revoke_retry"


class DriftFinding(Model):
    """An assignment in AWS that no live ticket and no declared standing assignment explains."""

    id = fields.IntField(primary_key=True)
    account_id = fields.CharField(max_length=12)
    permission_set_arn = fields.CharField(max_length=255)
    principal_type = fields.CharField(max_length=8)
    principal_id = fields.CharField(max_length=64)
    first_seen_at = fields.DatetimeField()
    last_seen_at = fields.DatetimeField()
    resolved_at = fields.DatetimeField(null=True, db_index=True)
    resolution = fields.CharField(max_length=16, null=True)  # GONE | REMOVED | EXPLAINED
    detail = fields.TextField(default="")

    class Meta:
        table = "drift_finding"


class DriftScanStatus(str, Enum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    FINISHED = "FINISHED"
    FAILED = "FAILED"


class DriftScanRun(Model):
    """One drift scan: who or what asked for it, how far it got, what it cost and found."""

    id = fields.IntField(primary_key=True)
    trigger = fields.CharField(max_length=16)  # MANUAL | SCHEDULED
    requested_by = fields.CharField(max_length=64, null=True)
    status = fields.CharEnumField(DriftScanStatus, max_length=16)
    # "active" while queued or running, NULL after: the unique index lets one scan be
    # active at a time across every replica, so a second click finds the first.
    active = fields.CharField(max_length=8, null=True, unique=True)
    requested_at = fields.DatetimeField()
    started_at = fields.DatetimeField(null=True)
    finished_at = fields.DatetimeField(null=True)
    # Bumped with every progress write; a scan that stops moving is abandoned.
    updated_at = fields.DatetimeField()
    pairs_total = fields.IntField(default=0)
    pairs_done = fields.IntField(default=0)
    calls = fields.IntField(default=0)
    findings = fields.IntField(default=0)
    new = fields.IntField(default=0)
    resolved = fields.IntField(default=0)
    removed = fields.IntField(default=0)
    error = fields.TextField(default="")

    class Meta:
        table = "drift_scan"


class ReliabilityCounter(Model):
    """Monotonic counters (a metric that survives restarts and Redis flushes)."""

    name = fields.CharField(primary_key=True, max_length=64)
    value = fields.BigIntField(default=0)
    updated_at = fields.DatetimeField()

    class Meta:
        table = "reliability_counter"
