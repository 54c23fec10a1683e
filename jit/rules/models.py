from tortoise import fields
from tortoise.models import Model


class ApprovalRule(Model):
    """Who may request what, and which approval steps a ticket must pass.

    Principals and scope are stored by their human names (user names, group display
    names, permission set names) and ids (accounts, OUs) so rules read well as code;
    the authz compiler resolves them against the directory.
    """

    id = fields.UUIDField(primary_key=True)
    name = fields.CharField(max_length=128, unique=True)
    description = fields.TextField(default="")
    requester_users = fields.JSONField(default=list)
    requester_groups = fields.JSONField(default=list)
    accounts = fields.JSONField(default=list)
    organizational_units = fields.JSONField(default=list)
    permission_sets = fields.JSONField(default=list)
    max_duration_seconds = fields.IntField()
    justification_required = fields.BooleanField(default=True)
    # [{"name": str, "users": [user_name], "groups": [display_name], "required": int}]
    steps = fields.JSONField(default=list)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "approval_rule"
