"""One template per kind of notification, rendered for each channel.

A template says what happened in a title and a few lines of facts; each channel renders
the same message in its own form (plain text and HTML email, Slack Block Kit, JSON), and
every message links back to the console.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from jit.config import Settings
from jit.notify.models import Notification, NotificationKind

K = NotificationKind


@dataclass(frozen=True)
class Message:
    kind: str
    title: str
    lines: list[str] = field(default_factory=list)
    url: str = ""
    button: str = "Open in JIT"

    def text(self) -> str:
        body = "\n".join([self.title, "", *self.lines])
        return f"{body}\n\n{self.button}: {self.url}\n" if self.url else body + "\n"

    def html(self) -> str:
        items = "".join(f"<li>{html.escape(line)}</li>" for line in self.lines)
        link = (f'<p><a href="{html.escape(self.url, quote=True)}">{html.escape(self.button)}</a></p>'
                if self.url else "")
        return (f"<html><body><h2>{html.escape(self.title)}</h2><ul>{items}</ul>{link}"
                f"</body></html>")

    def slack_blocks(self) -> list[dict[str, Any]]:
        blocks: list[dict[str, Any]] = [
            {"type": "header", "text": {"type": "plain_text", "text": self.title[:150]}},
        ]
        if self.lines:
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(
                _slack_escape(line) for line in self.lines)[:3000]}})
        if self.url:
            blocks.append({"type": "actions", "elements": [{
                "type": "button", "text": {"type": "plain_text", "text": self.button},
                "url": self.url, "action_id": "open_ticket",
            }]})
        return blocks


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _ticket_lines(t: dict[str, Any]) -> list[str]:
    lines = [f"Ticket {t['id'][:8]} for {t['principal']}"
             + (f", requested by {t['requester']}" if t["requester"] != t["principal"] else "")]
    for target in t.get("targets", []):
        name = f" ({target['account_name']})" if target.get("account_name") else ""
        lines.append(f"{target['permission_set']} on {target['account']}{name}")
    lines.append(f"From {t['start_at']} until {t['end_at']}")
    if t.get("justification"):
        lines.append(f"Justification: {t['justification']}")
    return lines


def _by(p: dict[str, Any]) -> str:
    return f" by {p['actor']}" if p.get("actor") else ""


def _reason(p: dict[str, Any]) -> list[str]:
    reason = (p.get("detail") or {}).get("reason")
    return [f"Reason: {reason}"] if reason else []


Template = Callable[[dict[str, Any]], tuple[str, list[str]]]

TEMPLATES: dict[NotificationKind, Template] = {
    K.REQUESTED_FOR_YOU: lambda p: (f"{p['ticket']['requester']} requested access for you", _ticket_lines(p["ticket"])),
    K.DECISION_NEEDED: lambda p: (
        f"Your decision is needed: {p['ticket']['principal']} requests access",
        [*_ticket_lines(p["ticket"]), f"Step: {p['detail']['step']} of rule {p['detail']['rule']}"
         f" ({p['detail']['required']} approval(s) needed)",
         *([f"Decide before {p['ticket']['approval_expires_at']}"] if p["ticket"].get("approval_expires_at") else [])],
    ),
    K.APPROVAL_REMINDER: lambda p: (
        f"Reminder: a ticket awaits your decision until {p['detail']['approval_expires_at']}",
        [*_ticket_lines(p["ticket"]), f"Step: {p['detail']['step']} of rule {p['detail']['rule']}"],
    ),
    K.APPROVED: lambda p: (f"Ticket approved{_by(p)}", [*_ticket_lines(p["ticket"]), *_reason(p)]),
    K.REJECTED: lambda p: (f"Ticket rejected{_by(p)}", [*_ticket_lines(p["ticket"]), *_reason(p)]),
    K.APPROVAL_EXPIRED: lambda p: ("Ticket expired: its approval window closed", _ticket_lines(p["ticket"])),
    K.GRANTED: lambda p: ("Access granted", _ticket_lines(p["ticket"])),
    K.FAILED: lambda p: ("Granting access failed", [*_ticket_lines(p["ticket"]), *_reason(p)]),
    K.EXPIRING_SOON: lambda p: (f"Access ends soon, at {p['ticket']['end_at']}",
                                [*_ticket_lines(p["ticket"]), "Request an extension if you still need it."]),
    K.EXTENDED: lambda p: (f"Ticket extended until {p['detail'].get('end_at', p['ticket']['end_at'])}",
                           [*_ticket_lines(p["ticket"]), *_reason(p)]),
    K.REVOKED: lambda p: (f"Access revoked{_by(p)}", [*_ticket_lines(p["ticket"]), *_reason(p)]),
    K.ENDED: lambda p: ("Access ended", [*_ticket_lines(p["ticket"]), *_reason(p)]),
    K.BREAK_GLASS: lambda p: (f"Break-glass used{_by(p)}: review needed",
                              [*_ticket_lines(p["ticket"]), *_reason(p)]),
    K.DRIFT_FOUND: lambda p: (
        "Drift found: an assignment no ticket explains",
        [f"{p['detail'].get('principal_type', 'principal')} {p['detail'].get('principal')}"
         f" has {p['detail'].get('permission_set')} on {p['detail'].get('account')}"],
    ),
    K.DELEGATION_CREATED: lambda p: (
        f"{p['detail'].get('delegator_name') or 'An approver'} delegated their approvals to you",
        [f"From {p['detail'].get('starts_at')} until {p['detail'].get('ends_at')}",
         *([f"Reason: {p['detail']['reason']}"] if p["detail"].get("reason") else [])],
    ),
    K.EXTENSION_DECISION_NEEDED: lambda p: (
        f"Your decision is needed: {p['ticket']['principal']} asks for "
        f"{int(p['detail'].get('additional_seconds', 0)) // 60} more minutes",
        [*_ticket_lines(p["ticket"]), *_reason(p)],
    ),
    K.REQUEST_RECEIVED: lambda p: ("Your request was received", _ticket_lines(p["ticket"])),
}


def render(settings: Settings, notification: Notification) -> Message:
    kind = NotificationKind(notification.kind)
    title, lines = TEMPLATES[kind](notification.payload)
    if notification.ticket_id is not None:
        url = settings.console_url(f"tickets/{notification.ticket_id}")
    elif kind == K.DRIFT_FOUND:
        url = settings.console_url()
    elif kind == K.DELEGATION_CREATED:
        url = settings.console_url("approvals")
    else:
        url = settings.console_url()
    return Message(kind=kind.value, title=title, lines=lines, url=url)
