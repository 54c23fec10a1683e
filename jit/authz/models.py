from tortoise import fields
from tortoise.models import Model


class PolicyVersion(Model):
    """One row. Bumped in the same transaction as any change that alters policy, so
    every process notices a stale enforcer with one cheap read and rebuilds it."""

    id = fields.IntField(primary_key=True)
    version = fields.BigIntField(default=0)

    class Meta:
        table = "authz_policy_version"
