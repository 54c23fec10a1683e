"""What `jit sync` reads from AWS: the organization and the identity store.

Rows are never deleted by a sync; a thing that disappeared gets `removed_at`, so
tickets and rules that name it still resolve and the history stays readable.
"""

from tortoise import fields
from tortoise.models import Model


class OrganizationalUnit(Model):
    id = fields.CharField(primary_key=True, max_length=68)  # "r-xxxx" for the root, "ou-..." otherwise
    name = fields.CharField(max_length=255)
    parent_id = fields.CharField(max_length=68, null=True)
    # Ids from the root down to and including this unit: "/r-ab12/ou-ab12-1/ou-ab12-2/".
    path = fields.CharField(max_length=1024)
    synced_at = fields.DatetimeField()
    removed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "organizational_unit"


class Account(Model):
    id = fields.CharField(primary_key=True, max_length=12)
    name = fields.CharField(max_length=255)
    email = fields.CharField(max_length=255, default="")
    status = fields.CharField(max_length=32, default="ACTIVE")
    parent_id = fields.CharField(max_length=68)
    # Path of the parent unit, same shape as OrganizationalUnit.path.
    ou_path = fields.CharField(max_length=1024, db_index=True)
    tags: fields.Field[dict[str, str]] = fields.JSONField(default=dict)
    synced_at = fields.DatetimeField()
    removed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "account"


class PermissionSet(Model):
    arn = fields.CharField(primary_key=True, max_length=255)
    name = fields.CharField(max_length=64, db_index=True)
    description = fields.TextField(default="")
    session_duration = fields.CharField(max_length=32, default="PT1H")
    synced_at = fields.DatetimeField()
    removed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "permission_set"


class User(Model):
    id = fields.CharField(primary_key=True, max_length=64)  # identity store UserId
    user_name = fields.CharField(max_length=128, unique=True)
    display_name = fields.CharField(max_length=255, default="")
    email = fields.CharField(max_length=255, default="")
    synced_at = fields.DatetimeField()
    removed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "directory_user"


class Group(Model):
    id = fields.CharField(primary_key=True, max_length=64)  # identity store GroupId
    display_name = fields.CharField(max_length=255, unique=True)
    description = fields.TextField(default="")
    synced_at = fields.DatetimeField()
    removed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "directory_group"


class GroupMembership(Model):
    id = fields.IntField(primary_key=True)
    group: fields.ForeignKeyRelation[Group] = fields.ForeignKeyField(
        "models.Group", related_name="memberships", on_delete=fields.CASCADE
    )
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="memberships", on_delete=fields.CASCADE
    )

    class Meta:
        table = "group_membership"
        unique_together = (("group", "user"),)
