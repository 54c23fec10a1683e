"""`jit extend TICKET --by 1h --reason ...`: ask for a ticket's end to move later."""

from __future__ import annotations

import argparse
from typing import Any

from jit.client import documents
from jit.client.commands.common import connect, require_operation
from jit.client.errors import ExitCode, from_union
from jit.client.output import print_json, when
from jit.client.parse import format_duration, parse_duration, ticket_id


def extension_of(result: dict[str, Any]) -> dict[str, Any]:
    if result.get("__typename") != "Extension":
        raise from_union(result)
    return result


def describe(extension: dict[str, Any]) -> str:
    by = format_duration(extension["additionalDurationSeconds"])
    text = f"extension {extension['id']} of ticket {extension['ticketId']} by {by}: {extension['status']}"
    if extension["status"] == "APPROVED" and extension.get("newEndAt"):
        return text + f"; the ticket now ends {when(extension['newEndAt'])}"
    if extension["status"] == "PENDING":
        return text + f"; awaiting approval until {when(extension['expiresAt'])}"
    return text


def run(args: argparse.Namespace) -> int:
    seconds = parse_duration(args.by, "--by")
    with connect() as client:
        require_operation(client, "Mutation", documents.EXTEND_FIELD)
        result = client.mutate(documents.EXTEND, ticketId=ticket_id(args.ticket), seconds=seconds, reason=args.reason)
    extension = extension_of(result[documents.EXTEND_FIELD])
    if args.output == "json":
        print_json(extension)
    else:
        print(describe(extension))
    return ExitCode.OK


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], parents: list[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("extend", parents=parents, help="ask for more time on a scheduled or active ticket",
                       description="Ask to move a SCHEDULED or ACTIVE ticket's end later. Where the rule lets "
                                   "extensions through without approval it is APPROVED at once; otherwise it is "
                                   "PENDING until approvers run `jit approve --extension EXTENSION`.")
    p.add_argument("ticket", metavar="TICKET")
    p.add_argument("--by", required=True, metavar="DURATION", help="how much longer: 30m, 1h, 1d")
    p.add_argument("--reason", required=True, help="why the extra time is needed")
    p.set_defaults(fn=run)
