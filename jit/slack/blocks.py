"""Block Kit for interactive Slack: ticket messages rendered from the ticket as it is now
(so every re-render tells the truth), and the reject and request modals.

Buttons carry the ticket's or extension's id only; what a click may do is decided again
by the services when it arrives."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from jit.approvals.models import Decision, ExtensionDecision, Outcome, StepStatus, TicketStep
from jit.config import Settings
from jit.directory.models import User
from jit.notify import templates
from jit.notify.models import Notification, NotificationKind
from jit.tickets.models import Extension, ExtensionStatus, Ticket, TicketStatus

K = NotificationKind
APPROVE, REJECT = "jit_approve", "jit_reject"
APPROVE_EXTENSION, REJECT_EXTENSION = "jit_approve_extension", "jit_reject_extension"
REVIEW = "jit_review_break_glass"
REQUEST = "jit_request"  # the request modal's callback id
TARGET, DURATION, JUSTIFICATION, BREAK_GLASS, COMMENT = "target", "duration", "justification", "break_glass", "comment"
DURATIONS = [(1800, "30 minutes"), (3600, "1 hour"), (7200, "2 hours"), (14400, "4 hours"), (28800, "8 hours")]
MAX_OPTIONS = 100  # Slack shows at most 100 options


def digest(blocks: list[dict[str, Any]]) -> str:
    return hashlib.sha256(json.dumps(blocks, sort_keys=True).encode()).hexdigest()


def _button(text: str, action_id: str, value: str, style: str | None = None) -> dict[str, Any]:
    button = {"type": "button", "text": {"type": "plain_text", "text": text}, "action_id": action_id, "value": value}
    if style:
        button["style"] = style
    return button


async def _names(user_ids: set[str]) -> dict[str, str]:
    return {u.id: u.display_name or u.user_name for u in await User.filter(id__in=list(user_ids))} if user_ids else {}


def _decided(rows: list[Decision] | list[ExtensionDecision], names: dict[str, str]) -> list[str]:
    out = []
    for row in rows:
        verb = "approved" if row.outcome == Outcome.APPROVED else "rejected"
        via = " from Slack" if (row.credential or "").startswith("slack:") else ""
        behalf = f" for {names.get(row.on_behalf_of_id, row.on_behalf_of_id)}" if row.on_behalf_of_id else ""
        comment = f": {row.comment}" if row.comment else ""
        out.append(f"{verb.capitalize()} by {names.get(row.decider_id, row.decider_id)}{behalf}{via}{comment}")
    return out


async def ticket_message(settings: Settings, notification: Notification, recipient_id: str | None,
                         extension_id: str | None) -> tuple[str, list[dict[str, Any]]]:
    """The message for one notification about a ticket, as the ticket stands now: its
    facts, its status and who decided, and the buttons that still mean something to
    `recipient_id` (none in a channel, none once nothing is left to decide)."""
    message = templates.render(settings, notification)
    blocks = [b for b in message.slack_blocks() if b["type"] != "actions"]
    ticket = await Ticket.get_or_none(id=notification.ticket_id)
    if ticket is None:
        return message.title, blocks
    kind = NotificationKind(notification.kind)
    decisions = await Decision.filter(ticket_id=ticket.id).order_by("id")
    extension = await Extension.get_or_none(id=extension_id) if extension_id else None
    ext_decisions = await ExtensionDecision.filter(extension_id=extension.id).order_by("id") if extension else []
    decided: list[Decision | ExtensionDecision] = [*decisions, *ext_decisions]
    names = await _names({d.decider_id for d in decided}
                         | {d.on_behalf_of_id for d in decided if d.on_behalf_of_id}
                         | ({ticket.break_glass_reviewed_by} if ticket.break_glass_reviewed_by else set()))
    status = ticket.status.value.replace("_", " ").lower()
    facts = [f"*Status:* {status}"]
    if extension is not None:
        facts.append(f"*Extension:* {extension.status.value.lower()}")
        facts += _decided(ext_decisions, names)
    else:
        facts += _decided(decisions, names)
    if ticket.break_glass:
        reviewer = ticket.break_glass_reviewed_by
        reviewed = (f"reviewed by {names.get(reviewer or '', reviewer)}"
                    if ticket.break_glass_reviewed_at else "not yet reviewed")
        facts.append(f"*Break-glass:* {reviewed}")
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": "\n".join(facts)[:3000]}]})
    step = (notification.payload.get("detail") or {}).get("step")
    buttons = await _open_buttons(kind, ticket, extension, recipient_id, step) if recipient_id else []
    buttons.append({"type": "button", "text": {"type": "plain_text", "text": message.button}, "url": message.url,
                    "action_id": "open_ticket"})
    blocks.append({"type": "actions", "block_id": "jit_decide", "elements": buttons})
    return f"{message.title} ({status})", blocks


async def _open_buttons(kind: NotificationKind, ticket: Ticket, extension: Extension | None,
                        recipient_id: str, step_name: str | None) -> list[dict[str, Any]]:
    value = str(ticket.id)
    if kind in (K.DECISION_NEEDED, K.APPROVAL_REMINDER):
        if ticket.status != TicketStatus.PENDING_APPROVAL:
            return []
        if await Decision.filter(ticket_id=ticket.id, decider_id=recipient_id).exists():
            return []
        current = await TicketStep.filter(ticket_id=ticket.id, status=StepStatus.PENDING).order_by("position").first()
        # A message about an earlier step says nothing more once the ticket moved on.
        if current is None or (step_name is not None and current.name != step_name):
            return []
        return [_button("Approve", APPROVE, value, "primary"), _button("Reject", REJECT, value, "danger")]
    if kind == K.EXTENSION_DECISION_NEEDED and extension is not None:
        if extension.status != ExtensionStatus.PENDING:
            return []
        if await ExtensionDecision.filter(extension_id=extension.id, decider_id=recipient_id).exists():
            return []
        value = str(extension.id)
        return [_button("Approve", APPROVE_EXTENSION, value, "primary"),
                _button("Reject", REJECT_EXTENSION, value, "danger")]
    if kind == K.BREAK_GLASS and ticket.break_glass and ticket.break_glass_reviewed_at is None:
        return [_button("Mark reviewed", REVIEW, value, "primary")]
    return []


def reject_modal(action_id: str, subject_id: str, channel: str | None) -> dict[str, Any]:
    what = "extension" if action_id == REJECT_EXTENSION else "ticket"
    return {
        "type": "modal", "callback_id": action_id,
        "private_metadata": json.dumps({"id": subject_id, "channel": channel}),
        "title": {"type": "plain_text", "text": f"Reject {what}"},
        "submit": {"type": "plain_text", "text": "Reject"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [{
            "type": "input", "block_id": COMMENT, "optional": True,
            "label": {"type": "plain_text", "text": "Why (the requester sees this)"},
            "element": {"type": "plain_text_input", "action_id": COMMENT, "multiline": True, "max_length": 3000},
        }],
    }


def request_modal(channel: str | None) -> dict[str, Any]:
    return {
        "type": "modal", "callback_id": REQUEST, "private_metadata": json.dumps({"channel": channel}),
        "title": {"type": "plain_text", "text": "Request access"},
        "submit": {"type": "plain_text", "text": "Request"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {"type": "input", "block_id": TARGET, "label": {"type": "plain_text", "text": "Account and permission set"},
             "element": {"type": "external_select", "action_id": TARGET, "min_query_length": 0,
                         "placeholder": {"type": "plain_text", "text": "Search accounts"}}},
            {"type": "input", "block_id": DURATION, "label": {"type": "plain_text", "text": "For how long"},
             "element": {"type": "static_select", "action_id": DURATION,
                         "initial_option": _duration_option(*DURATIONS[1]),
                         "options": [_duration_option(s, t) for s, t in DURATIONS]}},
            {"type": "input", "block_id": JUSTIFICATION, "optional": True,
             "label": {"type": "plain_text", "text": "Justification"},
             "element": {"type": "plain_text_input", "action_id": JUSTIFICATION, "multiline": True, "max_length": 3000}},
            {"type": "input", "block_id": BREAK_GLASS, "optional": True,
             "label": {"type": "plain_text", "text": "Break-glass"},
             "hint": {"type": "plain_text", "text": "Only where your rules allow it: granted at once with the "
                                                    "justification as its reason, and reviewed afterwards."},
             "element": {"type": "checkboxes", "action_id": BREAK_GLASS, "options": [
                 {"text": {"type": "plain_text", "text": "Approve it myself now (break-glass)"}, "value": "yes"}]}},
        ],
    }


def _duration_option(seconds: int, text: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": text}, "value": str(seconds)}


def target_value(account_id: str, permission_set_arn: str) -> str:
    return f"{account_id}|{permission_set_arn}"


def target_option(account_id: str, account_name: str, permission_set: str, permission_set_arn: str) -> dict[str, Any]:
    label = f"{account_name or account_id} · {permission_set}"[:75]
    return {"text": {"type": "plain_text", "text": label}, "value": target_value(account_id, permission_set_arn)}


def status_text(rows: list[tuple[Ticket, list[str]]]) -> str:
    if not rows:
        return "You have no tickets."
    lines = ["Your latest tickets:"]
    for ticket, targets in rows:
        lines.append(f"• `{str(ticket.id)[:8]}` {ticket.status.value.lower()}: {', '.join(targets)} "
                     f"(until {ticket.end_at:%Y-%m-%d %H:%M} UTC)")
    return "\n".join(lines)
