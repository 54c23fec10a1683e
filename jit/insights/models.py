"""Daily rollups of the insights dashboard (jit.insights.rollup writes them, jit.insights.queries
reads them). One UTC day per row; a day is written whole in one transaction, so a reader
sees either the old day or the new one."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class InsightsDay(Model):
    """The additive numbers of one closed UTC day (span 24) or hour (span 1), for every
    ticket. Hours serve the partial days at either end of a range."""

    id = fields.BigIntField(primary_key=True)
    day = fields.DatetimeField()  # midnight UTC, or the hour
    span = fields.IntField(default=24)  # hours
    active_grants = fields.IntField()  # granted tickets whose window overlaps the day (0 for hours)
    break_glass_used = fields.IntField()  # break-glass tickets requested that day
    revokes = fields.IntField()  # tickets ending that day whose revoke timing was recorded
    revokes_late = fields.IntField()
    revoke_min_early = fields.FloatField(null=True)  # the latest revoke (most negative)
    revoke_sum_early = fields.FloatField()
    # Approval times per rule and bucket (jit.insights.rollup.bucket): {rule: {bucket: count}},
    # so a range's ranks are found from its day rows alone.
    approval_counts: fields.Field[dict[str, dict[str, int]]] = fields.JSONField(default=dict)
    computed_at = fields.DatetimeField()

    class Meta:
        table = "insights_day"
        unique_together = (("day", "span"),)


class InsightsApprovalBucket(Model):
    """Approval times (request to the rule's last approval) of the tickets requested on a
    day, per rule, in fixed log-spaced buckets. Each bucket keeps its count and its sorted
    values: a range's percentiles sum the counts to find the bucket that holds the wanted
    rank and read only that bucket's values, so they are exact, not estimated."""

    id = fields.BigIntField(primary_key=True)
    day = fields.DatetimeField()
    span = fields.IntField(default=24)
    rule_name = fields.CharField(max_length=255)
    bucket = fields.IntField()
    count = fields.IntField()
    seconds: fields.Field[list[float]] = fields.JSONField(default=list)

    class Meta:
        table = "insights_approval_bucket"
        unique_together = (("day", "span", "rule_name", "bucket"),)


class InsightsTargetDay(Model):
    """Targets requested on a day, per account or per permission set."""

    id = fields.BigIntField(primary_key=True)
    day = fields.DatetimeField()
    span = fields.IntField(default=24)
    kind = fields.CharField(max_length=16)  # "account" or "permission_set"
    target_id = fields.CharField(max_length=2048)
    count = fields.IntField()

    class Meta:
        table = "insights_target_day"
        unique_together = (("day", "span", "kind", "target_id"),)


class InsightsRollup(Model):
    """One row (id=1): tickets changed at or after `watermark` may have changed closed days
    that the rollup has not recomputed yet."""

    id = fields.IntField(primary_key=True, generated=False)
    watermark = fields.DatetimeField()

    class Meta:
        table = "insights_rollup"


class InsightsTargetPage(Model):
    """PostgreSQL's faster path to the most requested targets: per target, its running total
    of requests over a page of 128 consecutive days (`cum[i]`: days 0..i of the page), so a
    range's count is two lookups per page and target however long the range. Rewritten
    whole from InsightsTargetDay, in the transaction that writes the page's days."""

    id = fields.BigIntField(primary_key=True)
    kind = fields.CharField(max_length=16)
    target_id = fields.CharField(max_length=2048)
    page = fields.IntField()  # days since 1970-01-01, divided by 128
    cum: fields.Field[list[int]] = fields.JSONField(default=list)

    class Meta:
        table = "insights_target_page"
        unique_together = (("kind", "page", "target_id"),)
