from __future__ import annotations

import uuid
from enum import Enum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from jit.directory.models import User


class TicketStatus(str, Enum):
    PENDING_APPROVAL = "PENDING_APPROVAL"
    SCHEDULED = "SCHEDULED"
    GRANTING = "GRANTING"
    ACTIVE = "ACTIVE"
    REVOKING = "REVOKING"
    ENDED = "ENDED"
    REJECTED = "REJECTED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"
    FAILED = "FAILED"


class EndReason(str, Enum):
    EXPIRED = "EXPIRED"
    REVOKED = "REVOKED"


class Ticket(Model):
    id = fields.UUIDField(primary_key=True)
    requester: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="requested_tickets")
    requester_id: str
    principal: fields.ForeignKeyRelation[User] = fields.ForeignKeyField("models.User", related_name="tickets")
    principal_id: str
    status = fields.CharEnumField(TicketStatus, max_length=32, db_index=True)
    end_reason = fields.CharEnumField(EndReason, max_length=16, null=True)
    failure_reason = fields.TextField(null=True)
    start_at = fields.DatetimeField(db_index=True)
    end_at = fields.DatetimeField(db_index=True)
    justification = fields.TextField(default="")
    external_ref = fields.CharField(max_length=255, null=True)
    created_at = fields.DatetimeField(db_index=True)
    updated_at = fields.DatetimeField()
    # Bumped by every write; the row lock that serializes concurrent decisions.
    version = fields.IntField(default=0)
    # Past this moment a ticket still awaiting approval becomes EXPIRED. It is never later
    # than end_at: a window that has passed cannot be granted any more.
    approval_expires_at = fields.DatetimeField(null=True)
    # "Start when approved": the window (end_at - start_at long) begins at the final
    # approval, so time spent waiting for approvers does not eat it.
    starts_on_approval = fields.BooleanField(default=False)
    # When the worker starts this ticket's revoke: early enough that AWS has settled the
    # delete by end_at, earlier still when a burst of ends needs more of the AWS budget
    # than there is (jit.tickets.plan). Null until the ticket is ACTIVE.
    revoke_at = fields.DatetimeField(null=True)
    # Seconds before end_at its revoke started (negative: after), once it has.
    revoke_started_early = fields.FloatField(null=True)
    # Break-glass: the requester approved their own ticket; flagged until reviewed.
    break_glass = fields.BooleanField(default=False)
    break_glass_reason = fields.TextField(null=True)
    break_glass_reviewed_at = fields.DatetimeField(null=True)
    break_glass_reviewed_by = fields.CharField(max_length=64, null=True)
    break_glass_review_comment = fields.TextField(null=True)

    targets: fields.ReverseRelation[Target]

    class Meta:
        table = "ticket"


class Target(Model):
    id = fields.IntField(primary_key=True)
    ticket: fields.ForeignKeyRelation[Ticket] = fields.ForeignKeyField(
        "models.Ticket", related_name="targets", on_delete=fields.CASCADE)
    ticket_id: uuid.UUID
    account_id = fields.CharField(max_length=12, db_index=True)
    permission_set_arn = fields.CharField(max_length=255)
    # The strictest rule covering this target when the ticket was requested.
    rule_id = fields.UUIDField()
    rule_name = fields.CharField(max_length=128)
    # The permission set group this target came from, if it was requested as one.
    permission_set_group = fields.CharField(max_length=128, null=True)

    class Meta:
        table = "ticket_target"
        unique_together = (("ticket", "account_id", "permission_set_arn"),)


class StepStatus(str, Enum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


class TicketStep(Model):
    """An approval step a ticket must pass, copied from its rule at request time. Part of the
    ticket: jit.tickets.approval completes it when jit.approvals counts a quorum."""

    id = fields.IntField(primary_key=True)
    ticket: fields.ForeignKeyRelation[Ticket] = fields.ForeignKeyField(
        "models.Ticket", related_name="steps", on_delete=fields.CASCADE)
    ticket_id: uuid.UUID
    position = fields.IntField()
    rule_id = fields.UUIDField()
    rule_name = fields.CharField(max_length=128)
    step_index = fields.IntField()  # index of the step within its rule
    name = fields.CharField(max_length=128)
    required = fields.IntField()
    approver_users: fields.Field[list[str]] = fields.JSONField(default=list)
    approver_groups: fields.Field[list[str]] = fields.JSONField(default=list)
    status = fields.CharEnumField(StepStatus, max_length=16, default=StepStatus.PENDING)
    completed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "ticket_step"
        unique_together = (("ticket", "position"),)


class EntryStatus(str, Enum):
    INTENDED = "INTENDED"  # written before the AWS call
    IN_PROGRESS = "IN_PROGRESS"  # AWS accepted the request; polling
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


class EntryOrigin(str, Enum):
    CREATED = "CREATED"  # this ticket's grant created the assignment
    SHARED = "SHARED"  # it already existed because another ticket granted it
    STANDING = "STANDING"  # it existed before JIT touched it; never deleted by JIT


class UnwindStatus(str, Enum):
    INTENDED = "INTENDED"
    IN_PROGRESS = "IN_PROGRESS"
    DELETED = "DELETED"
    RETAINED = "RETAINED"  # another live ticket, or standing access, still needs it
    SKIPPED = "SKIPPED"  # the grant never created it, so there is nothing to delete
    FAILED = "FAILED"


class StackEntry(Model):
    """One account assignment on a ticket's resource stack."""

    id = fields.IntField(primary_key=True)
    ticket: fields.ForeignKeyRelation[Ticket] = fields.ForeignKeyField(
        "models.Ticket", related_name="stack_entries", on_delete=fields.CASCADE
    )
    ticket_id: uuid.UUID
    position = fields.IntField()
    account_id = fields.CharField(max_length=12)
    permission_set_arn = fields.CharField(max_length=255)
    principal_type = fields.CharField(max_length=8, default="USER")
    principal_id = fields.CharField(max_length=64)
    # Did AWS already hold this assignment when the intent was written?
    pre_existing = fields.BooleanField(default=False)
    origin = fields.CharEnumField(EntryOrigin, max_length=16, null=True)
    status = fields.CharEnumField(EntryStatus, max_length=16)
    request_id: fields.Field[str | None] = fields.CharField(max_length=64, null=True)
    failure_reason = fields.TextField(null=True)
    unwind_status = fields.CharEnumField(UnwindStatus, max_length=16, null=True)
    unwind_request_id: fields.Field[str | None] = fields.CharField(max_length=64, null=True)
    unwind_reason = fields.TextField(null=True)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "resource_stack_entry"
        unique_together = (("ticket", "account_id", "permission_set_arn"),)


class ExtensionStatus(str, Enum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"


class Extension(Model):
    """A request to move the end of a SCHEDULED or ACTIVE ticket later."""

    id = fields.UUIDField(primary_key=True)
    ticket: fields.ForeignKeyRelation[Ticket] = fields.ForeignKeyField(
        "models.Ticket", related_name="extensions", on_delete=fields.CASCADE)
    ticket_id: uuid.UUID
    requester: fields.ForeignKeyRelation[User] = fields.ForeignKeyField("models.User", related_name="extensions")
    requester_id: str
    additional_seconds = fields.IntField()
    reason = fields.TextField()
    status = fields.CharEnumField(ExtensionStatus, max_length=16, db_index=True)
    # How many of the ticket's steps (by position) must approve; 0 means none.
    steps_required = fields.IntField(default=0)
    expires_at = fields.DatetimeField()
    previous_end_at = fields.DatetimeField()
    new_end_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()
    decided_at = fields.DatetimeField(null=True)

    class Meta:
        table = "ticket_extension"
