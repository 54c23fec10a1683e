from tortoise import migrations
from tortoise.migrations import operations as ops
from uuid import uuid4
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0002_approval_engine')]

    initial = False

    operations = [
        ops.CreateModel(
            name='DriftFinding',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account_id', fields.CharField(max_length=12)),
                ('permission_set_arn', fields.CharField(max_length=255)),
                ('principal_type', fields.CharField(max_length=8)),
                ('principal_id', fields.CharField(max_length=64)),
                ('first_seen_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('last_seen_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('resolved_at', fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False)),
                ('resolution', fields.CharField(null=True, max_length=16)),
                ('detail', fields.TextField(default='', unique=False)),
            ],
            options={'table': 'drift_finding', 'app': 'models', 'pk_attr': 'id', 'table_description': 'An assignment in AWS that no live ticket and no declared standing assignment explains.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Lease',
            fields=[
                ('key', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=255)),
                ('holder', fields.CharField(max_length=64)),
                ('expires_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'job_lease', 'app': 'models', 'pk_attr': 'key', 'table_description': 'A lease on a ticket or an assignment, kept alive by the heartbeat of its holder.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ReliabilityCounter',
            fields=[
                ('name', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('value', fields.BigIntField(default=0)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'reliability_counter', 'app': 'models', 'pk_attr': 'name', 'table_description': 'Monotonic counters (a metric that survives restarts and Redis flushes).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RevokeRetry',
            fields=[
                ('ticket_id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('attempts', fields.IntField(default=0)),
                ('last_error', fields.TextField(default='', unique=False)),
                ('next_attempt_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('alerted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'revoke_retry', 'app': 'models', 'pk_attr': 'ticket_id', 'table_description': 'A revoke that did not finish: how often it failed, when to try next, and whether an'},
            bases=['Model'],
        ),
    ]
