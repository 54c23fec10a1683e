"""The deployment's identity (jit.ops.deployment owns this table)."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class Deployment(Model):
    """One row (id=1): the id this database's deployment was given at its first migrate,
    never changed afterwards. `jit serve` and `jit worker` claim their Redis database with
    it, so that two deployments cannot take each other's jobs."""

    id = fields.IntField(primary_key=True, generated=False)
    deployment_id = fields.UUIDField()

    class Meta:
        table = "deployment"
