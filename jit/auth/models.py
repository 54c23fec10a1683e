from tortoise import fields
from tortoise.models import Model


class ApiToken(Model):
    """A bearer token. Only its SHA-256 digest is stored."""

    id = fields.IntField(primary_key=True)
    user = fields.ForeignKeyField("models.User", related_name="api_tokens", on_delete=fields.CASCADE)
    name = fields.CharField(max_length=128, default="")
    token_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField(null=True)
    last_used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "api_token"
