"""`jit request`: ask for access, optionally wait until it is ACTIVE and run a command."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
from datetime import UTC, datetime
from typing import Any

from jit.client import documents
from jit.client.commands.common import connect, resolve_account, resolve_user, ticket_of
from jit.client.errors import ClientError, ExitCode
from jit.client.follow import wait_until_active
from jit.client.output import info, print_json, target_label, when
from jit.client.parse import parse_duration, parse_time
from jit.client.transport import GraphQLClient

# Granted's `granted sso generate` names profiles "<account name>/<role name>"; matching it
# by default means AWS_PROFILE from --exec works for Granted users as it is.
DEFAULT_PROFILE_FORMAT = "{account_name}/{permission_set}"


def access_of(ticket: dict[str, Any], profile_format: str) -> list[dict[str, str]]:
    out = []
    for target in ticket["targets"]:
        account_name = (target.get("account") or {}).get("name") or target["accountId"]
        permission_set = (target.get("permissionSet") or {}).get("name") or target["permissionSetArn"].rsplit("/", 1)[-1]
        out.append({
            "accountId": target["accountId"], "accountName": account_name, "permissionSet": permission_set,
            "profile": profile_format.format(account_id=target["accountId"], account_name=account_name,
                                             permission_set=permission_set),
        })
    return out


def aws_hint(ticket: dict[str, Any], access: list[dict[str, str]]) -> str:
    lines = [f"ticket {ticket['id']} is ACTIVE until {when(ticket['endAt'])}"]
    for a in access:
        lines += [
            f"  {a['accountName']} ({a['accountId']}) / {a['permissionSet']}; an AWS CLI profile for it (~/.aws/config):",
            f"    [profile {a['profile']}]",
            "    sso_session = <your IAM Identity Center session>",
            f"    sso_account_id = {a['accountId']}",
            f"    sso_role_name = {a['permissionSet']}",
            f"  then: export AWS_PROFILE='{a['profile']}'   (Granted: assume '{a['profile']}')",
        ]
    return "\n".join(lines)


def _exec(command: str, ticket: dict[str, Any], access: list[dict[str, str]]) -> int:
    first = access[0]
    env = dict(os.environ)
    env.update({
        "JIT_TICKET_ID": ticket["id"], "JIT_TICKET_END_AT": ticket["endAt"], "JIT_ACCOUNT_ID": first["accountId"],
        "JIT_ACCOUNT_NAME": first["accountName"], "JIT_PERMISSION_SET": first["permissionSet"],
        "AWS_PROFILE": first["profile"],
    })
    info(f"running: {command}  (AWS_PROFILE={first['profile']})")
    return subprocess.run(command, shell=True, env=env).returncode


def _check_targets(args: argparse.Namespace) -> None:
    if not (args.account or args.ou):
        raise ClientError("name at least one --account or --ou", ExitCode.USAGE)
    if not (args.permission_set or args.permission_set_group):
        raise ClientError("name at least one --permission-set or --permission-set-group", ExitCode.USAGE)
    if args.start_when_approved and args.start and args.start.strip().lower() != "now":
        raise ClientError("--start and --start-when-approved: give one", ExitCode.USAGE)


def _targets(client: GraphQLClient, args: argparse.Namespace) -> list[dict[str, str]]:
    """Every account and OU with every permission set and permission set group named: the
    same target twice is named once."""
    places = [("accountId", resolve_account(client, a)["id"]) for a in args.account or []]
    places += [("organizationalUnitId", ou.strip()) for ou in args.ou or []]
    what = [("permissionSet", p) for p in args.permission_set or []]
    what += [("permissionSetGroup", g) for g in args.permission_set_group or []]
    out: list[dict[str, str]] = []
    for place in dict.fromkeys(places):
        for kind in dict.fromkeys(what):
            out.append(dict([place, kind]))
    return out


def _input(client: GraphQLClient, args: argparse.Namespace) -> dict[str, Any]:
    duration = parse_duration(args.duration)
    value: dict[str, Any] = {
        "targets": _targets(client, args), "durationSeconds": duration, "justification": args.reason or "",
    }
    if args.start_when_approved:
        value["startWhenApproved"] = True
    elif args.start and args.start.strip().lower() != "now":
        value["startAt"] = parse_time(args.start, datetime.now(UTC)).isoformat()
    if args.for_user:
        value["principalId"] = resolve_user(client, args.for_user, "--principal (--for)")["id"]
    if args.ref:
        value["externalRef"] = args.ref
    if args.break_glass is not None:
        value["breakGlassReason"] = args.break_glass
    return value


def run(args: argparse.Namespace) -> int:
    wait = args.wait or bool(args.exec)
    timeout = parse_duration(args.timeout, "--timeout") if args.timeout else None
    parse_duration(args.duration)  # a typo should fail before anything is looked up
    _check_targets(args)
    try:
        args.profile_format.format(account_id="1", account_name="a", permission_set="p")
    except (KeyError, IndexError, ValueError):
        raise ClientError("--profile-format may use only {account_name}, {account_id} and {permission_set}",
                          ExitCode.USAGE) from None
    with connect() as client:
        ticket = ticket_of(client.mutate(documents.REQUEST, input=_input(client, args))["requestTicket"])
        if not wait:
            if args.output == "json":
                print_json(ticket)
            else:
                print(f"requested ticket {ticket['id']}: {ticket['status']}")
                for target in ticket["targets"]:
                    print(f"  {target_label(target)}  [rule {target['ruleName']}]")
            return ExitCode.OK
        info(f"requested ticket {ticket['id']}: {ticket['status']}; waiting until it is ACTIVE ...")
        shown = [ticket["status"]]

        def progress(update: dict[str, Any]) -> None:
            if update["status"] != shown[-1]:
                shown.append(update["status"])
                info(f"  {update['status']}")

        try:
            status, code = wait_until_active(client, ticket["id"], timeout, on_update=progress)
        except ClientError as exc:
            if exc.code == ExitCode.TIMEOUT:
                raise ClientError(f"ticket {ticket['id']} is still {shown[-1]} after --timeout "
                                  "(it stays requested; `jit cancel` withdraws it)", exc.code) from None
            raise
        if code != ExitCode.OK:
            raise ClientError(f"ticket {ticket['id']} is {status}: not granted", code)
        ticket.update({k: v for k, v in client.query(documents.TICKET, id=ticket["id"])["ticket"].items()
                       if k in ticket})
    access = access_of(ticket, args.profile_format)
    if args.output == "json":
        # With --exec, stdout belongs to the command.
        (info if args.exec else print)(json.dumps({**ticket, "access": access}, indent=2))
    elif not args.exec:
        print(aws_hint(ticket, access))
    else:
        info(aws_hint(ticket, access))
    return _exec(args.exec, ticket, access) if args.exec else ExitCode.OK


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], parents: list[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "request", parents=parents, help="ask for access to accounts or OUs with permission sets or groups",
        description="Request a ticket. With --wait, block until it is ACTIVE (exit 0) or rejected, failed, "
                    "expired or ended (exits 10-13). With --exec CMD, then run CMD with AWS_PROFILE, "
                    "JIT_TICKET_ID, JIT_TICKET_END_AT, JIT_ACCOUNT_ID, JIT_ACCOUNT_NAME and "
                    "JIT_PERMISSION_SET set, and exit with its exit code.",
    )
    where = p.add_argument_group("targets (every account and OU named, with every permission set and group named)")
    where.add_argument("--account", action="append", metavar="ID|NAME",
                       help="account id, or its name if unique (repeat for several)")
    where.add_argument("--ou", action="append", metavar="PATH|ID",
                       help="an organizational unit by name path (/Workloads/NonProd) or id: its accounts now, "
                            "nested OUs included (repeatable)")
    where.add_argument("--permission-set", action="append", metavar="NAME",
                       help="permission set name (or ARN) (repeatable)")
    where.add_argument("--permission-set-group", action="append", metavar="NAME",
                       help="a permission set group: one target per permission set in it (repeatable)")
    p.add_argument("--duration", required=True, metavar="DURATION", help="how long: 90m, 2h, 1d, 1h30m")
    p.add_argument("--reason", default="", help="the justification (required by most rules)")
    p.add_argument("--principal", "--for", dest="for_user", metavar="USER",
                   help="who receives the access, if not you (user name or id)")
    p.add_argument("--start", metavar="WHEN", help="now (default), +30m, or an ISO 8601 time")
    p.add_argument("--start-when-approved", action="store_true",
                   help="the window starts at the final approval, so waiting for approvers does not shorten it")
    p.add_argument("--ref", metavar="REF", help="a change or incident number to record")
    p.add_argument("--break-glass", metavar="REASON",
                   help="approve it yourself at once, where every governing rule allows break-glass; an approver "
                        "reviews it afterwards. Refused means no ticket is made")
    p.add_argument("--wait", action="store_true", help="block until the ticket is ACTIVE; the exit code says otherwise")
    p.add_argument("--timeout", metavar="DURATION", help="with --wait: give up after this long (exit 14)")
    p.add_argument("--exec", metavar="CMD", help="implies --wait; then run CMD (a shell command) with the access")
    p.add_argument("--profile-format", default=DEFAULT_PROFILE_FORMAT,
                   help="AWS profile name for --exec and hints; {account_name}, {account_id}, {permission_set} "
                        f"(default {DEFAULT_PROFILE_FORMAT!r}, as `granted sso generate` names them)")
    p.set_defaults(fn=run)
