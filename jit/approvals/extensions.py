"""Decisions on extension requests: the only code that writes extension decisions.

An extension passes the first `steps_required` steps of its ticket, with the same
approvers, quorum and delegation rules as the ticket itself.
"""

from __future__ import annotations

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F

from jit.approvals.models import ExtensionDecision, Outcome, TicketStep
from jit.audit.service import record
from jit.auth.acting import require_own_credential
from jit.directory.models import User
from jit.errors import NotAllowed, ValidationFailed, WrongState
from jit.runtime import Runtime
from jit.tickets.extensions import apply_extension, close_extension, get_extension
from jit.tickets.models import Extension, ExtensionStatus
from jit.tickets.service import get_readable_ticket, ticket_parties

E = ExtensionStatus


async def _counted(extension_id, position: int | None = None) -> set[str]:
    qs = ExtensionDecision.filter(extension_id=extension_id)
    if position is not None:
        qs = qs.filter(step_position=position, outcome=Outcome.APPROVED)
    return {b or a for a, b in await qs.values_list("decider_id", "on_behalf_of_id")}


async def current_extension_step(extension: Extension) -> TicketStep | None:
    steps = await TicketStep.filter(ticket_id=extension.ticket_id, position__lt=extension.steps_required).order_by(
        "position"
    )
    for step in steps:
        if len(await _counted(extension.id, step.position)) < step.required:
            return step
    return None


async def decide_extension(rt: Runtime, actor: User, extension_id: str, outcome: Outcome, comment: str = "") -> Extension:
    extension = await get_extension(extension_id)
    ticket = await get_readable_ticket(rt, actor.id, str(extension.ticket_id))
    credential = require_own_credential("decide an extension", field="extensionId")
    comment = (comment or "").strip()
    if len(comment) > 4000:
        raise ValidationFailed("comment is longer than 4000 characters", field="comment")
    who = await ticket_parties(ticket)
    if actor.id in (who.requester_id, who.principal_id):
        raise NotAllowed("you cannot decide an extension of your own ticket", field="extensionId")
    async with rt.unit_of_work() as effects:
        # The row lock that serializes decisions on one extension.
        await Extension.filter(id=extension.id).update(created_at=F("created_at"))
        extension = await Extension.get(id=extension.id)
        now = rt.clock.now()
        if extension.status != E.PENDING:
            raise WrongState(f"this extension is {extension.status.value}", current=extension.status.value,
                             field="extensionId")
        if now >= extension.expires_at:
            raise WrongState("this extension was not approved in time", current=extension.status.value,
                             field="extensionId")
        step = await current_extension_step(extension)
        if step is None:  # pragma: no cover - a pending extension always has a step to pass
            raise WrongState("the extension has no step awaiting a decision", current=extension.status.value)
        identities = await rt.authz.deciding_as(actor.id, who, str(step.rule_id), step.step_index, now)
        if not identities:
            raise NotAllowed(f"you are not an approver of step {step.name!r} ({step.rule_name})",
                             field="extensionId")
        counted = await _counted(extension.id)
        if actor.id in {d for d in await ExtensionDecision.filter(extension_id=extension.id).values_list(
                "decider_id", flat=True)}:
            raise NotAllowed("you have already decided this extension", field="extensionId")
        remaining = [p for p in identities if p not in counted]
        if not remaining:
            raise NotAllowed("a decision already counts for you on this extension", field="extensionId")
        on_behalf_of = None if remaining[0] == actor.id else remaining[0]
        try:
            await ExtensionDecision.create(
                extension_id=extension.id, step_position=step.position, decider_id=actor.id,
                on_behalf_of_id=on_behalf_of, outcome=outcome, comment=comment, created_at=now,
                credential=credential,
            )
        except IntegrityError:
            raise NotAllowed("you have already decided this extension", field="extensionId") from None
        await record(
            now, actor.id, f"extension.decision.{outcome.value.lower()}", ticket_id=extension.ticket_id,
            detail={"extension": str(extension.id), "step": step.name, "comment": comment,
                    **({"on_behalf_of": on_behalf_of} if on_behalf_of else {})},
        )
        if outcome == Outcome.REJECTED:
            await close_extension(rt, extension, E.REJECTED, actor.id, comment or f"rejected at step {step.name!r}")
        elif await current_extension_step(extension) is None:
            await apply_extension(rt, effects, extension, actor.id, "all extension steps approved")
    return extension
