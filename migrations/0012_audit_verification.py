"""Audit chain verifications: each run of `jit audit verify` or the console's "Verify now"
(the worker's `audit.verify` job) and its result, so the console can say when it last ran."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0011_credentials")]

    initial = False

    operations = [
        ops.CreateModel(
            name="AuditVerificationRun",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("trigger", fields.CharField(max_length=16)),
                ("requested_by", fields.CharField(null=True, max_length=64)),
                ("status", fields.CharField(max_length=16)),
                ("requested_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("started_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("finished_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("checked", fields.BigIntField(default=0)),
                ("first_seq", fields.BigIntField(default=0)),
                ("head_seq", fields.BigIntField(default=0)),
                ("broken_event_id", fields.BigIntField(null=True)),
                ("broken_seq", fields.BigIntField(null=True)),
                ("reason", fields.TextField(default="", unique=False)),
            ],
            options={"table": "audit_verification", "app": "models", "pk_attr": "id",
                     "table_description": "One run of the audit chain verification and its result."},
            bases=["Model"],
        ),
    ]
