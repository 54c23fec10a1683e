"""The deployment id (jit.ops.deployment): made here, once per database, and never changed."""

import uuid

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


async def make_deployment_id(apps, schema_editor) -> None:
    Deployment = apps.get_model("models.Deployment")
    await Deployment.create(id=1, deployment_id=uuid.uuid4(), using_db=schema_editor.client)


class Migration(migrations.Migration):
    dependencies = [("models", "0007_audit")]

    initial = False

    operations = [
        ops.CreateModel(
            name="Deployment",
            fields=[
                ("id", fields.IntField(primary_key=True, generated=False, unique=True, db_index=True)),
                ("deployment_id", fields.UUIDField()),
            ],
            options={"table": "deployment", "app": "models", "pk_attr": "id",
                     "table_description": "One row (id=1): the id this database's deployment was given at its "
                                          "first migrate."},
            bases=["Model"],
        ),
        ops.RunPython(make_deployment_id),
    ]
