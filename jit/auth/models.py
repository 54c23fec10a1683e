from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from jit.directory.models import User


class ApiToken(Model):
    """A bearer token. Only its SHA-256 digest is stored."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField("models.User", related_name="api_tokens", on_delete=fields.CASCADE)
    name = fields.CharField(max_length=128, default="")
    token_hash = fields.CharField(max_length=64, unique=True)
    # Scope names (jit.auth.scopes.Scope); a token can do at most what its owner can and
    # nothing beyond these. NULL: a token made before scopes existed, which keeps every scope.
    scopes: fields.Field[list[str] | None] = fields.JSONField(null=True)
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField(null=True)
    last_used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)
    # Why it ended early: "revoked", "parent revoked", "session ended", "user removed".
    revoked_reason = fields.CharField(max_length=32, null=True)
    # Lineage (jit/auth/lineage.py): the credential that minted it through the API, which
    # it may not outlive nor exceed, and whose revocation revokes it. Both null: made by an
    # operator with `jit token create`.
    parent_token_id = fields.IntField(null=True, db_index=True)
    parent_session_id = fields.IntField(null=True, db_index=True)
    # Who minted it: "user:<id>" through the API, "operator:<name>" at the command line.
    minted_by = fields.CharField(max_length=160, null=True)
    # Minted by someone other than its owner: such a token never decides anything.
    minted_for_other = fields.BooleanField(default=False)

    class Meta:
        table = "api_token"


class SignInSession(Model):
    """A console session behind an HttpOnly cookie. Only digests of its secrets are stored."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField("models.User", related_name="sessions", on_delete=fields.CASCADE)
    session_hash = fields.CharField(max_length=64, unique=True)
    csrf_hash = fields.CharField(max_length=64)
    method = fields.CharField(max_length=16)  # oidc | demo
    # Group names from the ID token, used only when JIT_OIDC_GROUPS_FROM_TOKEN is set.
    token_groups: fields.Field[list[str] | None] = fields.JSONField(null=True)
    created_at = fields.DatetimeField()
    last_seen_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    ended_at = fields.DatetimeField(null=True)

    class Meta:
        table = "sign_in_session"
