"""`jit tickets`, `jit show`, and the one-call decisions: approve, reject, cancel, revoke."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from jit.client import documents
from jit.client.commands.common import connect, require_operation, resolve_account, ticket_of
from jit.client.commands.extend import describe, extension_of
from jit.client.errors import ClientError, ExitCode
from jit.client.output import print_json, print_ticket, print_tickets
from jit.client.parse import ticket_id
from jit.client.transport import GraphQLClient

STATUSES = ("PENDING_APPROVAL", "SCHEDULED", "GRANTING", "ACTIVE", "REVOKING", "ENDED", "REJECTED",
            "CANCELLED", "EXPIRED", "FAILED")
PAGE_SIZE = 100  # the API's largest page


def fetch_tickets(client: GraphQLClient, flt: dict[str, Any], limit: int | None) -> list[dict[str, Any]]:
    """Follows the connection's cursors until `limit` tickets (or all of them, for None)."""
    out: list[dict[str, Any]] = []
    after = None
    while limit is None or len(out) < limit:
        first = PAGE_SIZE if limit is None else min(PAGE_SIZE, limit - len(out))
        page = client.query(documents.TICKETS, filter=flt, first=first, after=after)["tickets"]
        out.extend(edge["node"] for edge in page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    return out


def list_tickets(args: argparse.Namespace) -> int:
    statuses = [s.strip().upper() for value in args.status or [] for s in value.split(",") if s.strip()]
    unknown = [s for s in statuses if s not in STATUSES]
    if unknown:
        raise ClientError(f"--status: unknown status {', '.join(unknown)}; one of {', '.join(STATUSES)}",
                          ExitCode.USAGE)
    limit = None if args.all else args.limit
    with connect() as client:
        flt: dict[str, Any] = {"status": statuses or None, "awaitingMyDecision": args.to_decide}
        if args.account:
            flt["accountId"] = resolve_account(client, args.account)["id"]
        if args.mine:
            me = client.query(documents.ME)["me"]["user"]["id"]
            # "Mine" is what I asked for and what gives me access; the filter ANDs, so ask twice.
            merged = {t["id"]: t for key in ("requesterId", "principalId")
                      for t in fetch_tickets(client, {**flt, key: me}, limit)}
            rows = sorted(merged.values(), key=lambda t: (t["createdAt"], t["id"]), reverse=True)
            rows = rows if limit is None else rows[:limit]
        else:
            rows = fetch_tickets(client, flt, limit)
    if args.output == "json":
        print_json(rows)
    else:
        print_tickets(rows)
    return ExitCode.OK


def get_ticket(client: GraphQLClient, text: str) -> dict[str, Any]:
    ticket: dict[str, Any] | None = client.query(documents.TICKET, id=ticket_id(text))["ticket"]
    if ticket is None:
        raise ClientError(f"ticket {text} not found (or not yours to read)", ExitCode.NOT_FOUND)
    return ticket


def show(args: argparse.Namespace) -> int:
    with connect() as client:
        ticket = get_ticket(client, args.ticket)
    if args.output == "json":
        print_json(ticket)
    else:
        print_ticket(ticket)
    return ExitCode.OK


def _decide_extension(args: argparse.Namespace, approve: bool) -> int:

    field, document = (("approveExtension", documents.APPROVE_EXTENSION) if approve
                       else ("rejectExtension", documents.REJECT_EXTENSION))
    with connect() as client:
        require_operation(client, "Mutation", field)
        result = client.mutate(document, id=ticket_id(args.ticket, "extension"), comment=args.comment or "")
    extension = extension_of(result[field])
    if args.output == "json":
        print_json(extension)
    else:
        print(describe(extension))
    return ExitCode.OK


def _mutation(document: str, field: str, text_arg: str, verb: str) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        if getattr(args, "extension", False):
            return _decide_extension(args, approve=field == "approveTicket")
        with connect() as client:
            result = client.mutate(document, **{"id": ticket_id(args.ticket), text_arg: getattr(args, text_arg) or ""})
        ticket = ticket_of(result[field])
        if args.output == "json":
            print_json(ticket)
        else:
            print(f"{verb} ticket {ticket['id']}: now {ticket['status']}")
        return ExitCode.OK

    return run


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], parents: list[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("tickets", parents=parents, help="list tickets you may read, newest first")
    p.add_argument("--status", action="append", metavar="STATUS",
                   help="only these statuses (repeat or comma-separate): " + ", ".join(STATUSES))
    who = p.add_mutually_exclusive_group()
    who.add_argument("--mine", action="store_true", help="tickets you requested or that give you access")
    who.add_argument("--to-decide", action="store_true", help="tickets awaiting your decision")
    p.add_argument("--account", metavar="ID|NAME", help="only tickets for this account")
    p.add_argument("--limit", type=int, default=20, help="at most this many (default 20)")
    p.add_argument("--all", action="store_true", help="every matching ticket, page after page")
    p.set_defaults(fn=list_tickets)

    p = sub.add_parser("show", parents=parents, help="one ticket: targets, steps, decisions, history")
    p.add_argument("ticket", metavar="TICKET")
    p.set_defaults(fn=show)

    for name, document, field, text_arg, verb, help_text in (
        ("approve", documents.APPROVE, "approveTicket", "comment", "approved", "approve a ticket awaiting you"),
        ("reject", documents.REJECT, "rejectTicket", "comment", "rejected", "reject a ticket awaiting you"),
        ("cancel", documents.CANCEL, "cancelTicket", "reason", "cancelled", "withdraw a ticket before it is granted"),
        ("revoke", documents.REVOKE, "revokeTicket", "reason", "revoked", "end an active ticket now"),
    ):
        p = sub.add_parser(name, parents=parents, help=help_text)
        p.add_argument("ticket", metavar="TICKET")
        p.add_argument(f"--{text_arg}", "-m", default="", help=f"a {text_arg} recorded with the ticket")
        if text_arg == "comment":
            p.add_argument("--extension", action="store_true",
                           help=f"TICKET is an extension id (from `jit extend`): {name} the extension")
        p.set_defaults(fn=_mutation(document, field, text_arg, verb))

