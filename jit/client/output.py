"""Rendering: rich tables for people, JSON for scripts (`--output json`)."""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.table import Table

from jit.client.parse import format_duration


def console(stderr: bool = False) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    # Piped output is read by other programs; rich's 80-column default would fold ids.
    width = None if stream.isatty() or os.environ.get("COLUMNS") else 200
    return Console(file=stream, width=width, soft_wrap=False, highlight=False)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False) + "\n")


def info(message: str) -> None:
    """A line for the person, kept off stdout so that `--output json` stays parseable."""
    print(message, file=sys.stderr, flush=True)


def when(value: str | None) -> str:
    if not value:
        return "-"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    return moment.astimezone().strftime("%Y-%m-%d %H:%M %Z")


def _user(user: dict[str, Any] | None) -> str:
    return user["userName"] if user else "-"


def target_label(target: dict[str, Any]) -> str:
    account = (target.get("account") or {}).get("name") or target["accountId"]
    permission_set = (target.get("permissionSet") or {}).get("name") or target["permissionSetArn"].rsplit("/", 1)[-1]
    return f"{account} ({target['accountId']}) / {permission_set}"


def status_text(ticket: dict[str, Any]) -> str:
    status: str = ticket["status"]
    if ticket.get("endReason"):
        status += f" ({ticket['endReason'].lower()})"
    return status


def tickets_table(tickets: list[dict[str, Any]]) -> Table:
    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("ID", no_wrap=True, min_width=36)
    table.add_column("STATUS", no_wrap=True)
    table.add_column("REQUESTER", no_wrap=True)
    table.add_column("FOR", no_wrap=True)
    table.add_column("TARGETS")
    table.add_column("START", no_wrap=True)
    table.add_column("DURATION", no_wrap=True)
    for t in tickets:
        table.add_row(t["id"], status_text(t), _user(t.get("requester")), _user(t.get("principal")),
                      "\n".join(target_label(x) for x in t["targets"]), when(t["startAt"]),
                      format_duration(t["durationSeconds"]))
    return table


def print_tickets(tickets: list[dict[str, Any]]) -> None:
    out = console()
    if not tickets:
        out.print("no tickets")
        return
    out.print(tickets_table(tickets))


def stack_table(t: dict[str, Any]) -> Table:
    """The resource stack: each account assignment the grant recorded, in the order it was
    made (revocation unwinds it last first), with how the grant and the unwind went."""
    accounts = {x["accountId"]: (x.get("account") or {}).get("name") for x in t.get("targets", [])}
    sets = {x["permissionSetArn"]: (x.get("permissionSet") or {}).get("name") for x in t.get("targets", [])}
    table = Table(title="resource stack", title_justify="left", box=None, header_style="bold", pad_edge=False)
    for name in ("#", "ACCOUNT", "PERMISSION SET", "GRANT", "UNWIND", "FAILURE"):
        table.add_column(name)
    for e in t["resourceStack"]:
        account = f"{accounts.get(e['accountId']) or e['accountId']} ({e['accountId']})"
        permission_set = sets.get(e["permissionSetArn"]) or e["permissionSetArn"].rsplit("/", 1)[-1]
        table.add_row(str(e["position"]), account, permission_set, e["status"], e.get("unwindStatus") or "-",
                      e.get("failureReason") or "")
    return table


def print_ticket(t: dict[str, Any]) -> None:
    """The one-ticket view of `jit show` (and of a mutation's result)."""
    out = console()
    head = Table.grid(padding=(0, 2))
    head.add_column(style="bold", no_wrap=True)
    head.add_column()
    head.add_row("ticket", t["id"])
    head.add_row("status", status_text(t) + (f": {t['failureReason']}" if t.get("failureReason") else ""))
    head.add_row("requester", _user(t.get("requester")))
    head.add_row("for", _user(t.get("principal")))
    head.add_row("window", f"{when(t['startAt'])} → {when(t['endAt'])} ({format_duration(t['durationSeconds'])})")
    head.add_row("justification", t.get("justification") or "-")
    if t.get("externalRef"):
        head.add_row("reference", t["externalRef"])
    for target in t["targets"]:
        head.add_row("target", f"{target_label(target)}  [rule {target['ruleName']}]")
    out.print(head)
    if t.get("steps"):
        steps = Table(title="approval steps", title_justify="left", box=None, header_style="bold", pad_edge=False)
        for name in ("#", "STEP", "RULE", "APPROVALS", "STATUS", "APPROVERS"):
            steps.add_column(name)
        for s in t["steps"]:
            approvers = ", ".join(s["approverUsers"] + [f"group:{g}" for g in s["approverGroups"]])
            steps.add_row(str(s["position"]), s["name"], s["ruleName"], f"{s['approvals']}/{s['required']}",
                          s["status"], approvers)
        out.print()
        out.print(steps)
    if t.get("decisions"):
        decisions = Table(title="decisions", title_justify="left", box=None, header_style="bold", pad_edge=False)
        for name in ("AT", "BY", "OUTCOME", "COMMENT"):
            decisions.add_column(name)
        for d in t["decisions"]:
            decisions.add_row(when(d["createdAt"]), _user(d.get("decider")), d["outcome"], d["comment"])
        out.print()
        out.print(decisions)
    if t.get("resourceStack"):
        out.print()
        out.print(stack_table(t))
    if t.get("history"):
        history = Table(title="history", title_justify="left", box=None, header_style="bold", pad_edge=False)
        for name in ("AT", "ACTION", "CHANGE", "BY"):
            history.add_column(name)
        for h in t["history"]:
            change = h.get("toStatus") or ""
            if change and h.get("fromStatus"):
                change = f"{h['fromStatus']} → {change}"
            history.add_row(when(h["at"]), h["action"], change, _user(h.get("actor")) if h.get("actor") else "jit")
        out.print()
        out.print(history)
