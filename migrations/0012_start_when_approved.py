"""Start when approved (issue 17): a ticket whose window begins at its final approval."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0011_credentials")]

    initial = False

    operations = [
        ops.AddField(model_name="Ticket", name="starts_on_approval", field=fields.BooleanField(default=False)),
    ]
