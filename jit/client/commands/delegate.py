"""`jit delegate --to USER --until WHEN`: let someone decide in your name for a while;
`--list` shows delegations you gave or received, `--revoke ID` ends one now."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from rich.table import Table

from jit.client import documents
from jit.client.commands.common import connect, require_operation, resolve_user
from jit.client.errors import ClientError, ExitCode, from_union
from jit.client.output import console, print_json, when
from jit.client.parse import parse_time, ticket_id
from jit.client.transport import GraphQLClient


def delegation_of(result: dict[str, Any]) -> dict[str, Any]:
    if result.get("__typename") != "Delegation":
        raise from_union(result)
    return result


def _rule_ids(client: GraphQLClient, names: list[str]) -> list[str] | None:
    if not names:
        return None
    rules = {r["name"]: r["id"] for r in client.query(documents.APPROVAL_RULES)["approvalRules"]}
    unknown = [n for n in names if n not in rules]
    if unknown:
        raise ClientError(f"--rule: no approval rule named {', '.join(map(repr, unknown))}", ExitCode.INVALID)
    return [rules[n] for n in names]


def _create(client: GraphQLClient, args: argparse.Namespace) -> dict[str, Any]:
    if not args.to or not args.until:
        raise ClientError("--to USER and --until WHEN are required (or use --list or --revoke ID)", ExitCode.USAGE)
    if not args.reason.strip():
        raise ClientError("--reason is required: say why someone else decides for you", ExitCode.USAGE)
    now = datetime.now(UTC)
    starts = parse_time(args.start, now, "--from") if args.start else None
    ends = parse_time(args.until, now, "--until")
    if ends <= (starts or now):
        raise ClientError("--until must be after --from (or now)", ExitCode.USAGE)
    require_operation(client, "Mutation", documents.DELEGATE_FIELD)
    value = {"delegateId": resolve_user(client, args.to, "--to")["id"], "endsAt": ends.isoformat(),
             "reason": args.reason, "startsAt": starts.isoformat() if starts else None,
             "ruleIds": _rule_ids(client, args.rule or [])}
    return delegation_of(client.mutate(documents.DELEGATE, input=value)[documents.DELEGATE_FIELD])


def _table(delegations: list[dict[str, Any]]) -> Table:
    table = Table(box=None, header_style="bold", pad_edge=False)
    for name in ("ID", "FROM", "TO", "STATE", "STARTS", "ENDS", "RULES", "REASON"):
        table.add_column(name, no_wrap=name != "REASON")
    for d in delegations:
        table.add_row(d["id"], (d.get("delegator") or {}).get("userName", "-"),
                      (d.get("delegate") or {}).get("userName", "-"), d["state"], when(d["startsAt"]),
                      when(d["endsAt"]), ", ".join(d["ruleNames"]) or "all", d["reason"])
    return table


def run(args: argparse.Namespace) -> int:
    with connect() as client:
        if args.list:
            require_operation(client, "Query", documents.DELEGATIONS_FIELD)
            rows = client.query(documents.DELEGATIONS, all=args.all)[documents.DELEGATIONS_FIELD]
            if args.output == "json":
                print_json(rows)
            else:
                console().print(_table(rows) if rows else "no delegations")
            return ExitCode.OK
        if args.revoke:
            require_operation(client, "Mutation", documents.REVOKE_DELEGATION_FIELD)
            result = client.mutate(documents.REVOKE_DELEGATION, id=ticket_id(args.revoke, "delegation"))
            delegation = delegation_of(result[documents.REVOKE_DELEGATION_FIELD])
            verb = "revoked"
        else:
            delegation = _create(client, args)
            verb = "created"
    if args.output == "json":
        print_json(delegation)
    else:
        print(f"{verb} delegation {delegation['id']}: {delegation['delegate']['userName']} decides in the name of "
              f"{delegation['delegator']['userName']} from {when(delegation['startsAt'])} until "
              f"{when(delegation['endsAt'])} ({delegation['state']})")
    return ExitCode.OK


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], parents: list[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("delegate", parents=parents, help="let someone approve in your name for a while",
                       description="Approvers only: let USER decide in your name from --from (default now) "
                                   "until --until, for every rule you approve for or only --rule NAME ones. "
                                   "Not transitive. --list shows delegations you gave or received; "
                                   "--revoke ID ends one now.")
    p.add_argument("--to", metavar="USER", help="who decides in your name (user name or id)")
    p.add_argument("--from", dest="start", metavar="WHEN", help="now (default), +1d, or an ISO 8601 time")
    p.add_argument("--until", metavar="WHEN", help="+7d, or an ISO 8601 time")
    p.add_argument("--reason", default="", help="why; required to create one")
    p.add_argument("--rule", action="append", metavar="NAME", help="only this approval rule (repeatable)")
    action = p.add_mutually_exclusive_group()
    action.add_argument("--list", action="store_true", help="delegations you gave or received")
    action.add_argument("--revoke", metavar="ID", help="end this delegation now")
    p.add_argument("--all", action="store_true", help="with --list: also ended and revoked ones")
    p.set_defaults(fn=run)
