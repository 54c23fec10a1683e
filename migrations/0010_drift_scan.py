"""One row per drift scan: its progress, cost and findings (jit.reconcile.drift_scans)."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

from jit.reconcile.models import DriftScanStatus


class Migration(migrations.Migration):
    dependencies = [("models", "0009_revoke_plan")]

    initial = False

    operations = [
        ops.CreateModel(
            name="DriftScanRun",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("trigger", fields.CharField(max_length=16)),
                ("requested_by", fields.CharField(null=True, max_length=64)),
                ("status", fields.CharEnumField(description="QUEUED: QUEUED\nRUNNING: RUNNING\nFINISHED: FINISHED\nFAILED: FAILED",
                                                enum_type=DriftScanStatus, max_length=16)),
                ("active", fields.CharField(null=True, unique=True, max_length=8)),
                ("requested_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("started_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("finished_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("updated_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("pairs_total", fields.IntField(default=0)),
                ("pairs_done", fields.IntField(default=0)),
                ("calls", fields.IntField(default=0)),
                ("findings", fields.IntField(default=0)),
                ("new", fields.IntField(default=0)),
                ("resolved", fields.IntField(default=0)),
                ("removed", fields.IntField(default=0)),
                ("error", fields.TextField(default="", unique=False)),
            ],
            options={"table": "drift_scan", "app": "models", "pk_attr": "id",
                     "table_description": "One drift scan: who or what asked for it, how far it got, what it cost and found."},
            bases=["Model"],
        ),
    ]
