from enum import Enum

from tortoise import fields
from tortoise.models import Model


class StepStatus(str, Enum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


class Outcome(str, Enum):
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


class TicketStep(Model):
    """An approval step a ticket must pass, copied from its rule at request time."""

    id = fields.IntField(primary_key=True)
    ticket = fields.ForeignKeyField("models.Ticket", related_name="steps", on_delete=fields.CASCADE)
    position = fields.IntField()
    rule_id = fields.UUIDField()
    rule_name = fields.CharField(max_length=128)
    step_index = fields.IntField()  # index of the step within its rule
    name = fields.CharField(max_length=128)
    required = fields.IntField()
    approver_users = fields.JSONField(default=list)
    approver_groups = fields.JSONField(default=list)
    status = fields.CharEnumField(StepStatus, max_length=16, default=StepStatus.PENDING)
    completed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "ticket_step"
        unique_together = (("ticket", "position"),)


class Decision(Model):
    id = fields.IntField(primary_key=True)
    ticket = fields.ForeignKeyField("models.Ticket", related_name="decisions", on_delete=fields.CASCADE)
    step = fields.ForeignKeyField("models.TicketStep", related_name="decisions", on_delete=fields.CASCADE)
    decider = fields.ForeignKeyField("models.User", related_name="decisions")
    # Set when the decider acted through a delegation: the decision counts as this person's.
    on_behalf_of_id = fields.CharField(max_length=64, null=True)
    outcome = fields.CharEnumField(Outcome, max_length=16)
    comment = fields.TextField(default="")
    created_at = fields.DatetimeField()
    # The credential that acted: "token:<id>", "session:<id>" or "slack:<Slack user id>" (null: before 0011, or a job).
    credential = fields.CharField(max_length=32, null=True)

    class Meta:
        table = "decision"
        # One person counts once per ticket, whatever the step.
        unique_together = (("ticket", "decider"),)


class Delegation(Model):
    """An approver lets someone else decide in their name for a window.

    Not transitive: the delegate acts only with the delegator's own approver rights, never
    with rights the delegator holds through another delegation."""

    id = fields.UUIDField(primary_key=True)
    delegator = fields.ForeignKeyField("models.User", related_name="delegations_given")
    delegate = fields.ForeignKeyField("models.User", related_name="delegations_received")
    starts_at = fields.DatetimeField()
    ends_at = fields.DatetimeField()
    # Approval rule ids; empty means every rule the delegator approves for.
    rule_ids = fields.JSONField(default=list)
    reason = fields.TextField(default="")
    created_by = fields.CharField(max_length=64)
    created_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)
    revoked_by = fields.CharField(max_length=64, null=True)

    class Meta:
        table = "delegation"


class ExtensionDecision(Model):
    """One decision on an extension request. An extension passes a prefix of the steps
    of its ticket."""

    id = fields.IntField(primary_key=True)
    extension = fields.ForeignKeyField("models.Extension", related_name="decisions", on_delete=fields.CASCADE)
    step_position = fields.IntField()
    decider = fields.ForeignKeyField("models.User", related_name="extension_decisions")
    on_behalf_of_id = fields.CharField(max_length=64, null=True)
    outcome = fields.CharEnumField(Outcome, max_length=16)
    comment = fields.TextField(default="")
    created_at = fields.DatetimeField()
    credential = fields.CharField(max_length=32, null=True)

    class Meta:
        table = "extension_decision"
        unique_together = (("extension", "decider"),)
