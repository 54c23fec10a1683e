from typing import Any

from tortoise import fields
from tortoise.models import Model

from jit.rules.schemas import RuleSpec


class ApprovalRule(Model):
    """Who may request what, and which approval steps a ticket must pass.

    Principals and scope are stored by their human names (user names, group display
    names, permission set names) and ids (accounts, OUs) so rules read well as code;
    the authz compiler resolves them against the directory.
    """

    id = fields.UUIDField(primary_key=True)
    name = fields.CharField(max_length=128, unique=True)
    description = fields.TextField(default="")
    requester_users: fields.Field[list[str]] = fields.JSONField(default=list)
    requester_groups: fields.Field[list[str]] = fields.JSONField(default=list)
    accounts: fields.Field[list[str]] = fields.JSONField(default=list)
    organizational_units: fields.Field[list[str]] = fields.JSONField(default=list)
    permission_sets: fields.Field[list[str]] = fields.JSONField(default=list)
    max_duration_seconds = fields.IntField()
    justification_required = fields.BooleanField(default=True)
    # [{"name": str, "users": [user_name], "groups": [display_name], "required": int}]; read
    # them typed, defaults filled in, as `spec.steps`.
    steps: fields.Field[list[dict[str, Any]]] = fields.JSONField(default=list)
    # Permission set group names in scope; each expands to its permission sets.
    permission_set_groups: fields.Field[list[str]] = fields.JSONField(default=list)
    # True: the groups' permission sets are requestable only as the whole group, never
    # one by one (unless permission_sets names them too).
    permission_set_groups_bundle_only = fields.BooleanField(default=False)
    # [{"requesters": {"users": [...], "groups": [...]}, "principals": {"users": [...], "groups": [...]}}]
    on_behalf: fields.Field[list[dict[str, Any]]] = fields.JSONField(default=list)
    break_glass = fields.BooleanField(default=False)
    approval_window_seconds = fields.IntField(default=86400)
    # {"requires_approval": bool, "steps": int | None, "max_total_duration_seconds": int,
    #  "max_extensions": int}; null means tickets under this rule cannot be extended. Read it
    # typed, defaults filled in, as `spec.extension`.
    extension: fields.Field[dict[str, Any] | None] = fields.JSONField(null=True)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "approval_rule"

    @property
    def spec(self) -> RuleSpec:
        """The rule as written, validated, with every default filled in: read steps and the
        extension policy from here, never from the stored dicts."""
        return RuleSpec.model_validate({
            "name": self.name,
            "description": self.description,
            "requesters": {"users": self.requester_users, "groups": self.requester_groups},
            "scope": {
                "accounts": self.accounts,
                "organizational_units": self.organizational_units,
                "permission_sets": self.permission_sets,
                "permission_set_groups": self.permission_set_groups or [],
                "permission_set_groups_bundle_only": self.permission_set_groups_bundle_only,
            },
            "max_duration_seconds": self.max_duration_seconds,
            "justification_required": self.justification_required,
            "steps": self.steps,
            "on_behalf": self.on_behalf or [],
            "break_glass": self.break_glass,
            "approval_window_seconds": self.approval_window_seconds,
            "extension": self.extension,
        })


class PermissionSetGroup(Model):
    """A named bundle of permission sets ("DBA" = ReadOnlyAccess + DatabaseAdmin)."""

    id = fields.UUIDField(primary_key=True)
    name = fields.CharField(max_length=128, unique=True)
    description = fields.TextField(default="")
    permission_sets: fields.Field[list[str]] = fields.JSONField(default=list)  # permission set names
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "permission_set_group"


class RuleChange(Model):
    """A change to a rule scoped to a guarded OU, waiting for a second admin."""

    id = fields.UUIDField(primary_key=True)
    action = fields.CharField(max_length=16)  # create | update | delete
    rule_id = fields.UUIDField(null=True)
    rule_name = fields.CharField(max_length=128)
    before: fields.Field[dict[str, Any] | None] = fields.JSONField(null=True)
    after: fields.Field[dict[str, Any] | None] = fields.JSONField(null=True)
    status = fields.CharField(max_length=16, default="PENDING", db_index=True)  # PENDING | APPLIED | REJECTED
    proposed_by = fields.CharField(max_length=64, null=True)
    proposed_at = fields.DatetimeField()
    decided_by = fields.CharField(max_length=64, null=True)
    decided_at = fields.DatetimeField(null=True)
    comment = fields.TextField(default="")
    # The credentials that proposed and decided it: "token:<id>" or "session:<id>".
    proposed_credential = fields.CharField(max_length=32, null=True)
    decided_credential = fields.CharField(max_length=32, null=True)

    class Meta:
        table = "rule_change"


def allows_alone(rule: ApprovalRule, permission_set: str, group: str | None) -> bool:
    """Whether `rule` lets this permission set (a name) be requested as asked: alone
    (group None) or as part of `group`. A rule scoped by a permission set group lets each
    of its permission sets be requested alone too, unless it is bundle-only."""
    if not getattr(rule, "permission_set_groups_bundle_only", False) or permission_set in rule.permission_sets:
        return True
    return group is not None and group in (rule.permission_set_groups or [])
