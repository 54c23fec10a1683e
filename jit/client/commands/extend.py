"""`jit extend TICKET --by 1h --reason ...`: ask for a ticket's end to move later."""

from __future__ import annotations

import argparse

from jit.client import documents
from jit.client.commands.common import connect, require_operation
from jit.client.errors import ExitCode, from_union
from jit.client.output import print_json, when
from jit.client.parse import format_duration, parse_duration, ticket_id


def run(args: argparse.Namespace) -> int:
    seconds = parse_duration(args.by, "--by")
    with connect() as client:
        require_operation(client, "Mutation", documents.EXTEND_FIELD)
        result = client.mutate(documents.EXTEND, input={
            "ticketId": ticket_id(args.ticket), "additionalSeconds": seconds, "reason": args.reason})
    extension = result[documents.EXTEND_FIELD]
    if extension.get("__typename") != "Extension":
        raise from_union(extension)
    if args.output == "json":
        print_json(extension)
    else:
        end = f"; the ticket now ends {when(extension['newEndAt'])}" if extension.get("newEndAt") else ""
        print(f"extension {extension['id']} by {format_duration(seconds)}: {extension['status']}{end}")
    return ExitCode.OK


def register(sub: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("extend", parents=parents, help="ask for more time on a scheduled or active ticket")
    p.add_argument("ticket", metavar="TICKET")
    p.add_argument("--by", required=True, metavar="DURATION", help="how much longer: 30m, 1h, 1d")
    p.add_argument("--reason", required=True, help="why the extra time is needed")
    p.set_defaults(fn=run)
