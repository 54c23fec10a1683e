"""Issue 17: a ticket whose window begins at its final approval ("start when approved"), and
rules whose permission set groups are requestable only as the whole bundle."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0013_slack_messages")]

    initial = False

    operations = [
        ops.AddField(model_name="Ticket", name="starts_on_approval", field=fields.BooleanField(default=False)),
        ops.AddField(model_name="ApprovalRule", name="permission_set_groups_bundle_only",
                     field=fields.BooleanField(default=False)),
    ]
