from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from jit.approvals.models import Outcome
from jit.tickets.models import ExtensionStatus, UnwindStatus
from json import dumps, loads
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Delegation',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('delegator', fields.ForeignKeyField('models.User', source_field='delegator_id', db_constraint=True, to_field='id', related_name='delegations_given', on_delete=OnDelete.CASCADE)),
                ('delegate', fields.ForeignKeyField('models.User', source_field='delegate_id', db_constraint=True, to_field='id', related_name='delegations_received', on_delete=OnDelete.CASCADE)),
                ('starts_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('ends_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('rule_ids', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('reason', fields.TextField(default='', unique=False)),
                ('created_by', fields.CharField(max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('revoked_by', fields.CharField(null=True, max_length=64)),
            ],
            options={'table': 'delegation', 'app': 'models', 'pk_attr': 'id', 'table_description': 'An approver lets someone else decide in their name for a window.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Extension',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('ticket', fields.ForeignKeyField('models.Ticket', source_field='ticket_id', db_constraint=True, to_field='id', related_name='extensions', on_delete=OnDelete.CASCADE)),
                ('requester', fields.ForeignKeyField('models.User', source_field='requester_id', db_constraint=True, to_field='id', related_name='extensions', on_delete=OnDelete.CASCADE)),
                ('additional_seconds', fields.IntField()),
                ('reason', fields.TextField(unique=False)),
                ('status', fields.CharEnumField(db_index=True, description='PENDING: PENDING\nAPPROVED: APPROVED\nREJECTED: REJECTED\nEXPIRED: EXPIRED', enum_type=ExtensionStatus, max_length=16)),
                ('steps_required', fields.IntField(default=0)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('previous_end_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('new_end_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'ticket_extension', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A request to move the end of a SCHEDULED or ACTIVE ticket later.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ExtensionDecision',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('extension', fields.ForeignKeyField('models.Extension', source_field='extension_id', db_constraint=True, to_field='id', related_name='decisions', on_delete=OnDelete.CASCADE)),
                ('step_position', fields.IntField()),
                ('decider', fields.ForeignKeyField('models.User', source_field='decider_id', db_constraint=True, to_field='id', related_name='extension_decisions', on_delete=OnDelete.CASCADE)),
                ('on_behalf_of_id', fields.CharField(null=True, max_length=64)),
                ('outcome', fields.CharEnumField(description='APPROVED: APPROVED\nREJECTED: REJECTED', enum_type=Outcome, max_length=16)),
                ('comment', fields.TextField(default='', unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'extension_decision', 'app': 'models', 'unique_together': (('extension', 'decider'),), 'pk_attr': 'id', 'table_description': 'One decision on an extension request. An extension passes a prefix of the steps'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PermissionSetGroup',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('name', fields.CharField(unique=True, max_length=128)),
                ('description', fields.TextField(default='', unique=False)),
                ('permission_sets', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'permission_set_group', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A named bundle of permission sets ("DBA" = ReadOnlyAccess + DatabaseAdmin).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RuleChange',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('action', fields.CharField(max_length=16)),
                ('rule_id', fields.UUIDField(null=True)),
                ('rule_name', fields.CharField(max_length=128)),
                ('before', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('after', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('status', fields.CharField(default='PENDING', db_index=True, max_length=16)),
                ('proposed_by', fields.CharField(null=True, max_length=64)),
                ('proposed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('decided_by', fields.CharField(null=True, max_length=64)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('comment', fields.TextField(default='', unique=False)),
            ],
            options={'table': 'rule_change', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A change to a rule scoped to a guarded OU, waiting for a second admin.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='ApprovalRule',
            name='approval_window_seconds',
            field=fields.IntField(default=86400),
        ),
        ops.AddField(
            model_name='ApprovalRule',
            name='break_glass',
            field=fields.BooleanField(default=False),
        ),
        ops.AddField(
            model_name='ApprovalRule',
            name='extension',
            field=fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
        ops.AddField(
            model_name='ApprovalRule',
            name='on_behalf',
            field=fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
        ops.AddField(
            model_name='ApprovalRule',
            name='permission_set_groups',
            field=fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
        ops.AddField(
            model_name='Decision',
            name='on_behalf_of_id',
            field=fields.CharField(null=True, max_length=64),
        ),
        ops.AddField(
            model_name='Target',
            name='permission_set_group',
            field=fields.CharField(null=True, max_length=128),
        ),
        ops.AddField(
            model_name='Ticket',
            name='approval_expires_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Ticket',
            name='break_glass',
            field=fields.BooleanField(default=False),
        ),
        ops.AddField(
            model_name='Ticket',
            name='break_glass_reason',
            field=fields.TextField(null=True, unique=False),
        ),
        ops.AddField(
            model_name='Ticket',
            name='break_glass_review_comment',
            field=fields.TextField(null=True, unique=False),
        ),
        ops.AddField(
            model_name='Ticket',
            name='break_glass_reviewed_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Ticket',
            name='break_glass_reviewed_by',
            field=fields.CharField(null=True, max_length=64),
        ),
    ]
