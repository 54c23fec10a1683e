"""The /jit slash command and its request modal.

`/jit` (or `/jit request`) opens the modal; its account and permission set list is an
external select whose options this server searches among what the person may request.
`/jit status` lists their latest tickets, `/jit revoke <id>` ends one (cancelled before it
is granted, revoked after). Everything goes through the ticket and approval services as
the mapped user; the requester's Slack message about the ticket follows it (outbox)."""

from __future__ import annotations

import uuid
from typing import Any

from slack_sdk.errors import SlackApiError
from tortoise.expressions import Q

from jit.auth.acting import acting_as
from jit.directory.models import Account, PermissionSet, User
from jit.errors import DomainError, ValidationFailed
from jit.notify import outbox
from jit.notify.channels import slack as slack_channel
from jit.notify.models import NotificationKind
from jit.rules import eligibility
from jit.runtime import Runtime
from jit.slack import blocks as b
from jit.slack.replies import identity, refused, unmapped_text
from jit.slack.users import jit_user
from jit.tickets import service as tickets
from jit.tickets.models import Target, Ticket, TicketStatus

S = TicketStatus
USAGE = ("Usage: `/jit` opens a request, `/jit status` lists your tickets, `/jit revoke <ticket id>` ends one.")


def ephemeral(text: str) -> dict[str, Any]:
    return {"response_type": "ephemeral", "text": text}


async def command(rt: Runtime, form: dict[str, str]) -> dict[str, Any] | None:
    slack_user = form.get("user_id", "")
    words = (form.get("text") or "").split()
    verb = words[0].lower() if words else "request"
    user, email = await jit_user(rt, slack_user)
    if user is None:
        await refused(rt, "unknown Slack user", slack_user=slack_user, action=f"/jit {verb}")
        return ephemeral(unmapped_text(email))
    if verb == "request":
        try:
            await slack_channel.client(rt.settings).views_open(
                trigger_id=form.get("trigger_id", ""), view=b.request_modal(form.get("channel_id")))
        except SlackApiError as exc:
            return ephemeral(f"Slack would not open the request form: {exc.response.get('error')}")
        return None
    if verb == "status":
        return ephemeral(await status(user))
    if verb == "revoke" and len(words) == 2:
        return ephemeral(await revoke(rt, user, slack_user, words[1]))
    return ephemeral(USAGE)


async def status(user: User) -> str:
    rows = await Ticket.filter(Q(requester_id=user.id) | Q(principal_id=user.id)).order_by("-created_at").limit(10)
    targets = await Target.filter(ticket_id__in=[t.id for t in rows])
    accounts = {a.id: a.name for a in await Account.filter(id__in={t.account_id for t in targets})}
    sets = {p.arn: p.name for p in await PermissionSet.filter(arn__in={t.permission_set_arn for t in targets})}
    by_ticket: dict[uuid.UUID, list[str]] = {}
    for t in targets:
        by_ticket.setdefault(t.ticket_id, []).append(
            f"{sets.get(t.permission_set_arn, t.permission_set_arn)} on {accounts.get(t.account_id) or t.account_id}")
    return b.status_text([(t, by_ticket.get(t.id, [])) for t in rows])


async def revoke(rt: Runtime, user: User, slack_user: str, wanted: str) -> str:
    """Ends a ticket: a full id (any ticket the person may end), or the first characters of
    the id of one of their own, as messages show it."""
    wanted = wanted.strip().lower()
    if len(wanted) == 36:
        ticket = await Ticket.get_or_none(id=wanted) if _uuid(wanted) else None
    else:
        own = await Ticket.filter(Q(requester_id=user.id) | Q(principal_id=user.id)).order_by("-created_at")
        matches = [t for t in own if str(t.id).startswith(wanted)] if len(wanted) >= 4 else []
        if len(matches) > 1:
            return f"More than one of your tickets starts with {wanted}; give more of the id."
        ticket = matches[0] if matches else None
    if ticket is None:
        return f"No ticket {wanted} of yours."
    try:
        with acting_as(identity(user, slack_user)):
            if ticket.status == S.ACTIVE:
                await tickets.revoke_ticket(rt, user, str(ticket.id), "revoked from Slack")
                return f"Ticket {str(ticket.id)[:8]} is being revoked."
            await tickets.cancel_ticket(rt, user, str(ticket.id), "cancelled from Slack")
            return f"Ticket {str(ticket.id)[:8]} is cancelled."
    except DomainError as exc:
        await refused(rt, exc.message, actor_id=user.id, slack_user=slack_user, action="/jit revoke",
                      subject=str(ticket.id))
        return f"Not done: {exc.message}"


def _uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


async def target_options(rt: Runtime, payload: dict[str, Any]) -> dict[str, Any]:
    """The request modal's options: what the person may request, matching what they typed
    (an account's name or id, or a permission set's name)."""
    slack_user = (payload.get("user") or {}).get("id", "")
    user, _ = await jit_user(rt, slack_user)
    if user is None:
        return {"options": []}
    query = (payload.get("value") or "").strip()
    page = await eligibility.requestable_accounts(rt.authz, user.id, search=query or None, first=20)
    by_set = False
    if not page.accounts and query:
        page, by_set = await eligibility.requestable_accounts(rt.authz, user.id, first=eligibility.MAX_PAGE), True
    choices = await eligibility.requestable_targets(rt.authz, user.id, [a.id for a in page.accounts[:eligibility.MAX_ACCOUNTS]])
    options = []
    for choice in choices:
        if choice.permission_set is None:
            continue
        if by_set and query.lower() not in choice.permission_set.name.lower():
            continue
        options.append(b.target_option(choice.account.id, choice.account.name, choice.permission_set.name,
                                       choice.permission_set.arn))
    return {"options": options[:b.MAX_OPTIONS]}


def _field_block(field: str | None) -> str:
    field = (field or "").lower()
    if "justification" in field or "reason" in field:
        return b.JUSTIFICATION
    if "duration" in field or "start" in field:
        return b.DURATION
    return b.TARGET


async def submit_request(rt: Runtime, payload: dict[str, Any]) -> dict[str, Any] | None:
    slack_user = (payload.get("user") or {}).get("id", "")
    view = payload.get("view") or {}
    values = (view.get("state") or {}).get("values") or {}

    def value(block: str) -> dict[str, Any]:
        return (values.get(block) or {}).get(block) or {}

    user, email = await jit_user(rt, slack_user)
    if user is None:
        await refused(rt, "unknown Slack user", slack_user=slack_user, action=b.REQUEST)
        return {"response_action": "errors", "errors": {b.TARGET: unmapped_text(email)[:150]}}
    account_id, _, arn = ((value(b.TARGET).get("selected_option") or {}).get("value") or "").partition("|")
    try:
        duration = int((value(b.DURATION).get("selected_option") or {}).get("value") or 0)
        justification = value(b.JUSTIFICATION).get("value") or ""
        use_break_glass = bool(value(b.BREAK_GLASS).get("selected_options"))
        if not account_id or not arn:
            raise ValidationFailed("choose an account and permission set", field="targets")
        if use_break_glass and not justification.strip():
            raise ValidationFailed("break-glass needs a justification, its reason", field="justification")
        with acting_as(identity(user, slack_user)):
            ticket = await tickets.request_ticket(rt, user, tickets.TicketRequest(
                targets=[tickets.TargetRequest(account_id, arn)], duration_seconds=duration,
                justification=justification, break_glass_reason=justification if use_break_glass else None))
    except DomainError as exc:
        await refused(rt, exc.message, actor_id=user.id, slack_user=slack_user, action=b.REQUEST)
        field = b.BREAK_GLASS if exc.field in ("breakGlassReason", "reason") else _field_block(exc.field)
        return {"response_action": "errors", "errors": {field: exc.message[:150]}}
    # The requester's message about this ticket, which the outbox keeps up to date.
    await outbox.write(NotificationKind.REQUEST_RECEIVED, f"slack-request:{ticket.id}", rt.clock.now(),
                       [outbox.user(user.id)], ticket=ticket, actor_id=user.id)
    return None
