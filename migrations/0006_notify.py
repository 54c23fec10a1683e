from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from jit.notify.models import Channel, DeliveryStatus, NotificationKind, NotificationStatus
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0005_bench_indexes')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Notification',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kind', fields.CharEnumField(description='REQUESTED_FOR_YOU: REQUESTED_FOR_YOU\nDECISION_NEEDED: DECISION_NEEDED\nAPPROVAL_REMINDER: APPROVAL_REMINDER\nAPPROVED: APPROVED\nREJECTED: REJECTED\nAPPROVAL_EXPIRED: APPROVAL_EXPIRED\nGRANTED: GRANTED\nFAILED: FAILED\nEXPIRING_SOON: EXPIRING_SOON\nEXTENDED: EXTENDED\nREVOKED: REVOKED\nENDED: ENDED\nBREAK_GLASS: BREAK_GLASS\nDRIFT_FOUND: DRIFT_FOUND\nDELEGATION_CREATED: DELEGATION_CREATED', enum_type=NotificationKind, max_length=32)),
                ('dedupe_key', fields.CharField(unique=True, max_length=200)),
                ('ticket_id', fields.UUIDField(null=True, db_index=True)),
                ('actor_id', fields.CharField(null=True, max_length=64)),
                ('recipients', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('payload', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('status', fields.CharEnumField(default=NotificationStatus.PENDING, db_index=True, description='PENDING: PENDING\nFANNED_OUT: FANNED_OUT', enum_type=NotificationStatus, max_length=16)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('fanned_out_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'notification', 'app': 'models', 'pk_attr': 'id', 'table_description': 'The outbox: one row per event worth telling someone about, written in the same'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='NotificationDelivery',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('notification', fields.ForeignKeyField('models.Notification', source_field='notification_id', db_constraint=True, to_field='id', related_name='deliveries', on_delete=OnDelete.CASCADE)),
                ('channel', fields.CharEnumField(description='EMAIL: EMAIL\nSLACK: SLACK\nWEBHOOK: WEBHOOK\nSLACK_AUDIT: SLACK_AUDIT', enum_type=Channel, max_length=16)),
                ('target', fields.CharField(max_length=255)),
                ('status', fields.CharEnumField(default=DeliveryStatus.PENDING, description='PENDING: PENDING\nDELIVERED: DELIVERED\nDEAD: DEAD\nSKIPPED: SKIPPED', enum_type=DeliveryStatus, max_length=16)),
                ('attempts', fields.IntField(default=0)),
                ('next_attempt_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('lease_owner', fields.CharField(null=True, max_length=64)),
                ('leased_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_error', fields.TextField(default='', unique=False)),
                ('delivered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'notification_delivery', 'app': 'models', 'unique_together': (('notification', 'channel', 'target'),), 'pk_attr': 'id', 'table_description': 'One notification to one target over one channel, delivered at least once.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='NotificationPreference',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='notification_preferences', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(description='REQUESTED_FOR_YOU: REQUESTED_FOR_YOU\nDECISION_NEEDED: DECISION_NEEDED\nAPPROVAL_REMINDER: APPROVAL_REMINDER\nAPPROVED: APPROVED\nREJECTED: REJECTED\nAPPROVAL_EXPIRED: APPROVAL_EXPIRED\nGRANTED: GRANTED\nFAILED: FAILED\nEXPIRING_SOON: EXPIRING_SOON\nEXTENDED: EXTENDED\nREVOKED: REVOKED\nENDED: ENDED\nBREAK_GLASS: BREAK_GLASS\nDRIFT_FOUND: DRIFT_FOUND\nDELEGATION_CREATED: DELEGATION_CREATED', enum_type=NotificationKind, max_length=32)),
                ('channels', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'notification_preference', 'app': 'models', 'unique_together': (('user', 'kind'),), 'pk_attr': 'id', 'table_description': "The channels a person chose for one kind of notification (no row: the default)."},
            bases=['Model'],
        ),
    ]
