"""`jit watch TICKET`: live status changes from the subscription until the ticket is final."""

from __future__ import annotations

import argparse
import json
from typing import Any

from jit.client.commands.common import connect
from jit.client.commands.tickets import get_ticket
from jit.client.errors import ExitCode
from jit.client.follow import updates
from jit.client.output import when
from jit.client.parse import parse_duration


def line(update: dict[str, Any]) -> str:
    change = f"{update['previousStatus']} → {update['status']}" if update.get("previousStatus") else update["status"]
    extra = []
    if update["ticket"].get("endReason") and update["status"] == "ENDED":
        extra.append(update["ticket"]["endReason"].lower())
    # The reason often repeats the end reason ("expired"): say it once.
    if update.get("reason") and update["reason"].lower() not in (e.lower() for e in extra):
        extra.append(update["reason"])
    failure = update["ticket"].get("failureReason")
    if update["status"] == "FAILED" and failure and failure.lower() not in (e.lower() for e in extra):
        extra.append(failure)
    return f"{when(update['at'])}  {change}" + (f"  ({'; '.join(extra)})" if extra else "")


def run(args: argparse.Namespace) -> int:
    timeout = parse_duration(args.timeout, "--timeout") if args.timeout else None
    with connect() as client:
        # A clear "not found" up front; the subscription would only say that it failed.
        ticket = get_ticket(client, args.ticket)
        for update in updates(client, ticket["id"], timeout):
            if args.output == "json":
                print(json.dumps(update), flush=True)
            else:
                print(line(update), flush=True)
    return ExitCode.OK


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], parents: list[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("watch", parents=parents,
                       help="stream a ticket's status changes until it is final",
                       description="Print the ticket's current status, then every change as it happens, "
                                   "until ENDED, REJECTED, CANCELLED, EXPIRED or FAILED. "
                                   "With --output json, one JSON object per line.")
    p.add_argument("ticket", metavar="TICKET")
    p.add_argument("--timeout", metavar="DURATION", help="give up after this long (exit 14)")
    p.set_defaults(fn=run)
