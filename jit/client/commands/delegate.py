"""`jit delegate --to USER --from WHEN --until WHEN`: let someone decide in your name."""

from __future__ import annotations

import argparse
from datetime import datetime, timezone

from jit.client import documents
from jit.client.commands.common import connect, require_operation, resolve_user
from jit.client.errors import ClientError, ExitCode, from_union
from jit.client.output import print_json, when
from jit.client.parse import parse_time


def run(args: argparse.Namespace) -> int:
    now = datetime.now(timezone.utc)
    starts = parse_time(args.start, now, "--from") if args.start else now
    ends = parse_time(args.until, now, "--until")
    if ends <= starts:
        raise ClientError("--until must be after --from", ExitCode.USAGE)
    with connect() as client:
        require_operation(client, "Mutation", documents.DELEGATE_FIELD)
        delegate = resolve_user(client, args.to, "--to")
        value = {"delegateId": delegate["id"], "startsAt": starts.isoformat(), "endsAt": ends.isoformat(),
                 "reason": args.reason}
        result = client.mutate(documents.DELEGATE, input=value)[documents.DELEGATE_FIELD]
    if result.get("__typename") != "Delegation":
        raise from_union(result)
    if args.output == "json":
        print_json(result)
    else:
        print(f"delegation {result['id']}: {delegate['userName']} decides in your name "
              f"from {when(result['startsAt'])} until {when(result['endsAt'])}")
    return ExitCode.OK


def register(sub: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("delegate", parents=parents, help="let someone approve in your name for a while")
    p.add_argument("--to", required=True, metavar="USER", help="who decides in your name (user name or id)")
    p.add_argument("--from", dest="start", metavar="WHEN", help="now (default), +1d, or an ISO 8601 time")
    p.add_argument("--until", required=True, metavar="WHEN", help="+7d, or an ISO 8601 time")
    p.add_argument("--reason", default="", help="why, recorded with the delegation")
    p.set_defaults(fn=run)
