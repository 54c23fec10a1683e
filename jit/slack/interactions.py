"""What a signed Slack interaction does: buttons on ticket messages and the modals they
open. Each one maps the Slack user to a JIT user and calls the same service the console's
mutation calls, as that user, with a "slack:<user id>" credential; a refusal writes nothing
but a `slack.refused` audit event and tells the person why, where only they can see it."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from slack_sdk.errors import SlackApiError

from jit.approvals import break_glass as break_glass_service
from jit.approvals.models import Outcome
from jit.approvals.service import decide
from jit.auth.acting import acting_as
from jit.directory.models import User
from jit.errors import DomainError
from jit.notify.channels import slack as slack_channel
from jit.runtime import Runtime
from jit.slack import blocks as b
from jit.slack import commands
from jit.slack.replies import identity, refused, tell, unmapped_text
from jit.slack.users import jit_user
from jit.tickets.extensions import decide_extension


async def handle(rt: Runtime, payload: dict[str, Any]) -> dict[str, Any] | None:
    kind = payload.get("type")
    if kind == "block_actions":
        await _button(rt, payload)
        return None
    if kind == "view_submission":
        return await _submission(rt, payload)
    if kind == "block_suggestion":
        return await commands.target_options(rt, payload)
    return None


def _decision(action_id: str, rt: Runtime, user: User, subject: str, comment: str) -> Callable[[], Awaitable[Any]]:
    ops = {
        b.APPROVE: lambda: decide(rt, user, subject, Outcome.APPROVED, comment),
        b.REJECT: lambda: decide(rt, user, subject, Outcome.REJECTED, comment),
        b.APPROVE_EXTENSION: lambda: decide_extension(rt, user, subject, Outcome.APPROVED, comment),
        b.REJECT_EXTENSION: lambda: decide_extension(rt, user, subject, Outcome.REJECTED, comment),
        b.REVIEW: lambda: break_glass_service.review_break_glass(rt, user, subject, comment),
    }
    return ops[action_id]


DONE = {b.APPROVE: "You approved ticket", b.REJECT: "You rejected ticket",
        b.APPROVE_EXTENSION: "You approved extension", b.REJECT_EXTENSION: "You rejected extension",
        b.REVIEW: "You reviewed break-glass ticket"}


async def _button(rt: Runtime, payload: dict[str, Any]) -> None:
    actions = payload.get("actions") or []
    if not actions:
        return
    action_id, subject = actions[0].get("action_id", ""), str(actions[0].get("value") or "")
    if action_id not in DONE:
        return  # "Open in JIT" is a link; Slack reports its click too
    slack_user = (payload.get("user") or {}).get("id", "")
    user, email = await jit_user(rt, slack_user)
    if user is None:
        await refused(rt, "unknown Slack user", slack_user=slack_user, action=action_id, subject=subject)
        await tell(rt, payload, unmapped_text(email))
        return
    if action_id in (b.REJECT, b.REJECT_EXTENSION):
        channel = (payload.get("channel") or {}).get("id")
        try:
            await slack_channel.client(rt.settings).views_open(
                trigger_id=payload.get("trigger_id", ""), view=b.reject_modal(action_id, subject, channel))
        except SlackApiError as exc:
            await tell(rt, payload, f"Slack would not open the form: {exc.response.get('error')}. Nothing was done.")
        return
    problem = await _run(rt, user, slack_user, action_id, subject, "")
    await tell(rt, payload, f"Not done: {problem}" if problem else f"{DONE[action_id]} {subject[:8]}.")


async def _run(rt: Runtime, user: User, slack_user: str, action_id: str, subject: str, comment: str) -> str | None:
    """The decision through its service, as `user`; the refusal's message, or None."""
    try:
        with acting_as(identity(user, slack_user)):
            await _decision(action_id, rt, user, subject, comment)()
    except DomainError as exc:
        await refused(rt, exc.message, actor_id=user.id, slack_user=slack_user, action=action_id, subject=subject)
        return exc.message
    return None


async def _submission(rt: Runtime, payload: dict[str, Any]) -> dict[str, Any] | None:
    view = payload.get("view") or {}
    callback = view.get("callback_id", "")
    slack_user = (payload.get("user") or {}).get("id", "")
    if callback == b.REQUEST:
        return await commands.submit_request(rt, payload)
    if callback not in (b.REJECT, b.REJECT_EXTENSION):
        return None
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        meta = {}
    subject = str(meta.get("id") or "")
    values = (view.get("state") or {}).get("values") or {}
    comment = ((values.get(b.COMMENT) or {}).get(b.COMMENT) or {}).get("value") or ""
    user, email = await jit_user(rt, slack_user)
    if user is None:
        await refused(rt, "unknown Slack user", slack_user=slack_user, action=callback, subject=subject)
        return {"response_action": "errors", "errors": {b.COMMENT: unmapped_text(email)}}
    problem = await _run(rt, user, slack_user, callback, subject, comment)
    if problem:
        return {"response_action": "errors", "errors": {b.COMMENT: problem[:150]}}
    return None
