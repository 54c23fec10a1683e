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
    outcome = fields.CharEnumField(Outcome, max_length=16)
    comment = fields.TextField(default="")
    created_at = fields.DatetimeField()

    class Meta:
        table = "decision"
        # One person counts once per ticket, whatever the step.
        unique_together = (("ticket", "decider"),)
