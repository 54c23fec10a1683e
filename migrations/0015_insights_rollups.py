"""Issue 19: the insights dashboard's daily rollups (jit/insights/models.py), and the indexes
its cron and queries read by: tickets and steps changed since the last run, break-glass
tickets not yet reviewed (a partial index that stays small), a range of days of targets."""

import functools
from json import dumps, loads

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

_INDEXES = {
    "idx_ticket_updated_at": '"ticket" ("updated_at")',
    "idx_ticket_step_completed_at": '"ticket_step" ("completed_at")',
    "idx_ticket_break_glass_unreviewed": '"ticket" ("created_at") WHERE "break_glass" AND "break_glass_reviewed_at" IS NULL',
    "idx_insights_target_day_kind_day": '"insights_target_day" ("kind", "span", "day", "target_id", "count")',
    "idx_insights_approval_bucket_day": '"insights_approval_bucket" ("span", "day")',
    "idx_insights_approval_bucket_rule": '"insights_approval_bucket" ("rule_name", "bucket", "span", "day")',
}


class Migration(migrations.Migration):
    dependencies = [('models', '0014_start_when_approved_bundle_only')]

    initial = False

    operations = [
        ops.CreateModel(
            name='InsightsApprovalBucket',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('day', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('span', fields.IntField(default=24)),
                ('rule_name', fields.CharField(max_length=255)),
                ('bucket', fields.IntField()),
                ('count', fields.IntField()),
                ('seconds', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
            ],
            options={'table': 'insights_approval_bucket', 'app': 'models', 'unique_together': (('day', 'span', 'rule_name', 'bucket'),), 'pk_attr': 'id', 'table_description': "Approval times (request to the rule's last approval) of the tickets requested on a"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='InsightsDay',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('day', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('span', fields.IntField(default=24)),
                ('active_grants', fields.IntField()),
                ('break_glass_used', fields.IntField()),
                ('revokes', fields.IntField()),
                ('revokes_late', fields.IntField()),
                ('revoke_min_early', fields.FloatField(null=True)),
                ('revoke_sum_early', fields.FloatField()),
                ('approval_counts', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('computed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'insights_day', 'app': 'models', 'unique_together': (('day', 'span'),), 'pk_attr': 'id', 'table_description': 'The additive numbers of one closed UTC day (span 24) or hour (span 1), for every'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='InsightsRollup',
            fields=[
                ('id', fields.IntField(primary_key=True, unique=True, db_index=True)),
                ('watermark', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'insights_rollup', 'app': 'models', 'pk_attr': 'id', 'table_description': 'One row (id=1): tickets changed at or after `watermark` may have changed closed days'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='InsightsTargetDay',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('day', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('span', fields.IntField(default=24)),
                ('kind', fields.CharField(max_length=16)),
                ('target_id', fields.CharField(max_length=2048)),
                ('count', fields.IntField()),
            ],
            options={'table': 'insights_target_day', 'app': 'models', 'unique_together': (('day', 'span', 'kind', 'target_id'),), 'pk_attr': 'id', 'table_description': 'Targets requested on a day, per account or per permission set.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='InsightsTargetPage',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kind', fields.CharField(max_length=16)),
                ('target_id', fields.CharField(max_length=2048)),
                ('page', fields.IntField()),
                ('cum', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
            ],
            options={'table': 'insights_target_page', 'app': 'models', 'unique_together': (('kind', 'page', 'target_id'),), 'pk_attr': 'id', 'table_description': "PostgreSQL's faster path to the most requested targets: per target, its running total"},
            bases=['Model'],
        ),
        ops.RunSQL(
            [f"CREATE INDEX IF NOT EXISTS {name} ON {target}" for name, target in _INDEXES.items()],
            reverse_sql=[f"DROP INDEX IF EXISTS {name}" for name in _INDEXES],
        ),
    ]
