"""Decisions and delegations: the approvals domain's tables (jit.approvals.quorum writes
decisions, jit.approvals.delegations delegations). Steps belong to the ticket."""

from __future__ import annotations

import uuid
from enum import Enum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

# Re-exported for the readers in other domains that still import them from here; new code
# imports them from jit.tickets.models, which owns ticket steps.
from jit.tickets.models import StepStatus as StepStatus
from jit.tickets.models import TicketStep as TicketStep

if TYPE_CHECKING:
    from jit.directory.models import User
    from jit.tickets.models import Extension, Ticket


class Outcome(str, Enum):
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


class Decision(Model):
    id = fields.IntField(primary_key=True)
    ticket: fields.ForeignKeyRelation[Ticket] = fields.ForeignKeyField(
        "models.Ticket", related_name="decisions", on_delete=fields.CASCADE)
    ticket_id: uuid.UUID
    step: fields.ForeignKeyRelation[TicketStep] = fields.ForeignKeyField(
        "models.TicketStep", related_name="decisions", on_delete=fields.CASCADE)
    step_id: int
    decider: fields.ForeignKeyRelation[User] = fields.ForeignKeyField("models.User", related_name="decisions")
    decider_id: str
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
    delegator: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="delegations_given")
    delegator_id: str
    delegate: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="delegations_received")
    delegate_id: str
    starts_at = fields.DatetimeField()
    ends_at = fields.DatetimeField()
    # Approval rule ids; empty means every rule the delegator approves for.
    rule_ids: fields.Field[list[str]] = fields.JSONField(default=list)
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
    extension: fields.ForeignKeyRelation[Extension] = fields.ForeignKeyField(
        "models.Extension", related_name="decisions", on_delete=fields.CASCADE)
    extension_id: uuid.UUID
    step_position = fields.IntField()
    decider: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="extension_decisions")
    decider_id: str
    on_behalf_of_id = fields.CharField(max_length=64, null=True)
    outcome = fields.CharEnumField(Outcome, max_length=16)
    comment = fields.TextField(default="")
    created_at = fields.DatetimeField()
    credential = fields.CharField(max_length=32, null=True)

    class Meta:
        table = "extension_decision"
        unique_together = (("extension", "decider"),)
