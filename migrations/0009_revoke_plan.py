"""When each ticket's revoke is planned to start (jit.tickets.plan), and how early it did."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0008_deployment")]

    operations = [
        ops.AddField(model_name="Ticket", name="revoke_at", field=fields.DatetimeField(null=True)),
        ops.AddField(model_name="Ticket", name="revoke_started_early", field=fields.FloatField(null=True)),
    ]
