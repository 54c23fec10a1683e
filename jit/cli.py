"""`jit`: server commands (serve, worker, demo, migrate, sync, token, rules, audit, export-schema)
and client commands (login, request, tickets, ...; see jit/client/).

Each command imports what it needs inside its function, on purpose: `jit --help` or
`jit tickets` would otherwise load the API, the worker, the ORM and the AWS SDK first
(0.3 s to start instead of 2.2 s). These are the only function-local imports kept for
that reason; elsewhere imports sit at the top of the module."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from jit.config import Settings
from jit.durations import typed_seconds

if TYPE_CHECKING:
    from jit.directory.offboarding import OffboardingReport
    from jit.directory.service import SyncReport
    from jit.rules.plan import RulesPlan


def _settings() -> Settings:
    """The settings, or a start-up error that names each wrong JIT_ variable and why."""
    from pydantic import ValidationError

    from jit.config import unknown_variable_warnings

    for warning in unknown_variable_warnings(dict(os.environ)):
        print(warning, file=sys.stderr)
    try:
        return Settings()
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            where = "JIT_" + "_".join(str(part) for part in error["loc"]).upper() if error["loc"] else "settings"
            lines.append(f"{where}: {error['msg'].removeprefix('Value error, ')}")
        raise SystemExit("error: invalid configuration: " + "; ".join(lines)) from None


def cmd_serve(args: argparse.Namespace) -> None:
    import uvicorn

    from jit.app import create_app
    from jit.auth import frames
    from jit.ops import heap
    from jit.ops.logs import configure_logging

    settings = _settings()
    configure_logging(settings)
    # log_config=None: uvicorn's loggers go through ours (JSON or text, with request ids).
    # On SIGTERM uvicorn stops accepting, lets open requests finish for the grace period,
    # then closes; websockets are told to reconnect (to another replica).
    # No permessage-deflate: live events are a few hundred bytes, and compressing each one
    # for each socket cost more CPU than anything else in sending it, plus a zlib context
    # per open socket (docs/performance.md, section 5). uvicorn's sans-I/O websockets
    # implementation: ~8% less CPU per delivered event than the legacy one, 7 MB less RSS
    # with 1,000 sockets (section 5b).
    app = create_app(settings)
    # Freeze the code and schema, collect young objects in larger batches (jit/ops/heap.py).
    heap.settle()
    uvicorn.run(app, host=args.host or settings.host, port=args.port or settings.port,
                log_level="info", ws="websockets-sansio", ws_per_message_deflate=False, log_config=None,
                timeout_graceful_shutdown=settings.shutdown_grace_seconds, **frames.uvicorn_options(settings),
                # No `server: uvicorn` banner: it names the stack to whoever probes it.
                server_header=False)


def cmd_worker(args: argparse.Namespace) -> None:
    from jit.jobs.worker import run_worker
    from jit.ops.deployment import SharedRedisDatabase
    from jit.ops.logs import configure_logging

    settings = _settings()
    configure_logging(settings)
    try:
        run_worker(settings)
    except SharedRedisDatabase as exc:
        raise SystemExit(f"error: jit worker: {exc}") from None


def cmd_migrate(args: argparse.Namespace) -> None:
    from jit.db import migrate

    settings = _settings()
    asyncio.run(migrate(settings.database_url))
    print(f"database migrated: {_redact(settings.database_url)}")


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


async def _sync(settings: Settings) -> tuple[SyncReport, OffboardingReport]:
    from dataclasses import replace

    from arq.connections import RedisSettings, create_pool

    from jit.authz.service import Authorizer
    from jit.aws.clients import AwsClients
    from jit.clock import SystemClock
    from jit.db import database
    from jit.directory.offboarding import offboard
    from jit.directory.service import sync_directory
    from jit.runtime import Runtime

    async with database(settings.database_url), AwsClients(settings) as aws:
        report = await sync_directory(Runtime.offline(settings, SystemClock(), aws))
        try:
            redis = await create_pool(replace(RedisSettings.from_dsn(settings.redis_url), conn_retries=0))
        except Exception as exc:  # noqa: BLE001 - the reconciler enqueues the revokes; sockets recheck
            print(f"warning: Redis unreachable ({type(exc).__name__}): revokes wait for the reconciler",
                  file=sys.stderr)
            redis = None
        rt = (Runtime(settings=settings, clock=SystemClock(), aws=aws, authz=Authorizer(settings), redis=redis)
              if redis is not None else Runtime.offline(settings, SystemClock(), aws))
        try:
            return report, await offboard(rt)
        finally:
            if redis is not None:
                await redis.aclose()


def cmd_sync(args: argparse.Namespace) -> None:
    report, offboarded = asyncio.run(_sync(_settings()))
    if args.output == "json":
        print(json.dumps({**report.summary(), "ended_tickets": offboarded.tickets,
                          "ended_tokens": len(offboarded.tokens), "ended_sessions": len(offboarded.sessions)},
                         indent=2))
        return
    print(report.table_text())
    for ticket_id, why in offboarded.tickets.items():
        print(f"ended ticket {ticket_id}: {why}")
    if offboarded.tokens or offboarded.sessions:
        print(f"ended {len(offboarded.tokens)} token(s) and {len(offboarded.sessions)} session(s) of removed users")


def _parse_expiry(value: str | None, days: int | None, now: datetime) -> datetime | None:
    """'90d', '12h', an ISO date or datetime, or 'never'; the default is 90 days."""
    if days is not None:
        return now + timedelta(days=days)
    value = (value or "90d").strip().lower()
    if value == "never":
        return None
    if set(value) <= set("0123456789smhdw") and not value.isdigit():  # 90d, 12h, 2w, 1d12h
        try:
            return now + timedelta(seconds=typed_seconds(value))
        except ValueError as error:
            raise SystemExit(f"error: --expires: {error}") from None
    try:
        parsed = datetime.fromisoformat(value.upper() if "t" in value else value)
    except ValueError:
        raise SystemExit(f"error: --expires: {value!r} is not like 90d, 12h, 2027-01-31 or never") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _when(d: datetime | None) -> str:
    return d.strftime("%Y-%m-%d %H:%M") if d else "-"


async def _token(settings: Settings, args: argparse.Namespace) -> str:
    from jit.auth import service
    from jit.auth.scopes import parse_scopes
    from jit.clock import SystemClock
    from jit.db import database
    from jit.directory.models import User

    clock = SystemClock()
    async with database(settings.database_url):
        if args.token_command == "create":
            try:
                scopes = parse_scopes(args.scopes.split(",")) if args.scopes else None
            except ValueError as exc:
                raise SystemExit(f"error: --scopes: {exc}") from None
            expires = _parse_expiry(args.expires, args.expires_in_days, clock.now())
            token, _ = await service.create_token(clock, args.user_name, args.name, expires, scopes,
                                                  minted_by=args.minted_by)
            return token
        if args.token_command == "revoke":
            row, ended = await service.revoke_token(clock, args.id)
            await _announce_ended(settings, ended)
            more = f" and {len(ended) - 1} token(s) minted from it" if len(ended) > 1 else ""
            return f"revoked token {row.id} ({row.name}) of {row.user.user_name}{more}"
        user_id = None
        if args.user:
            user = await User.get_or_none(user_name=args.user)
            if user is None:
                raise SystemExit(f"error: unknown user {args.user!r}")
            user_id = user.id
        lines = [f"{'ID':>5}  {'USER':<16} {'NAME':<20} {'SCOPES':<28} {'EXPIRES':<20} {'LAST USED':<20} STATE"]
        now = clock.now()
        for r in await service.list_tokens(user_id):
            state = service.token_state(r, now)
            scope_names = ",".join(s.value for s in sorted(service.token_scopes(r), key=lambda s: s.value))
            lines.append(f"{r.id:>5}  {r.user.user_name:<16} {r.name[:20]:<20} {scope_names:<28} {_when(r.expires_at):<20} "
                         f"{_when(r.last_used_at):<20} {state}")
        return "\n".join(lines)


async def _announce_ended(settings: Settings, tokens: list[int]) -> None:
    """Tell the API replicas to close these tokens' websockets now (they recheck anyway)."""
    from redis.asyncio import Redis

    from jit.auth.live import announce

    try:
        async with Redis.from_url(settings.redis_url, socket_connect_timeout=2) as redis:
            await announce(redis, tokens)
    except Exception as exc:  # noqa: BLE001 - the revocation stands; sockets notice within JIT_WS_RECHECK_INTERVAL
        print(f"warning: could not tell the API over Redis ({type(exc).__name__}); open websockets close within "
              f"{settings.ws_recheck_interval:g} s", file=sys.stderr)


def cmd_token(args: argparse.Namespace) -> None:
    print(asyncio.run(_token(_settings(), args)))


def _plan_text(plan: RulesPlan) -> str:
    def names(items: list[str]) -> str:
        return ", ".join(items) if items else "-"

    lines = [f"permission set groups: create {names(plan.groups['create'])}; update {names(plan.groups['update'])}; "
             f"delete {names(plan.groups['delete'])}",
             f"rules: create {names(plan.rules['create'])}; update {names(plan.rules['update'])}; "
             f"delete {names(plan.rules['delete'])}; unchanged {len(plan.rules['unchanged'])}"]
    lines.append("who gains the right to request (for themself):" if plan.gains else "nobody gains a right to request")
    lines += [f"  + {line}" for line in plan.gains]
    lines.append("who loses the right to request:" if plan.losses else "nobody loses a right to request")
    lines += [f"  - {line}" for line in plan.losses]
    lines += [f"warning: {w}" for w in plan.warnings]
    lines.append("nothing was written (`jit rules apply` applies it)")
    return "\n".join(lines)


async def _rules(settings: Settings, args: argparse.Namespace) -> str:
    from jit.clock import SystemClock
    from jit.db import database
    from jit.rules.groups import apply_rules_file, dump_groups_yaml, list_groups
    from jit.rules.plan import file_warnings, plan_rules_file
    from jit.rules.service import dump_rules_yaml, list_rules
    from jit.runtime import Runtime

    async with database(settings.database_url):
        if args.action == "export":
            return dump_groups_yaml(await list_groups()) + dump_rules_yaml(await list_rules())
        text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text()
        if args.action == "plan":
            plan = await plan_rules_file(Runtime.offline(settings, SystemClock()), text, prune=args.prune)
            return json.dumps(plan.as_dict(), indent=2) if args.output == "json" else _plan_text(plan)
        result = await apply_rules_file(Runtime.offline(settings, SystemClock()), text, actor_id=None,
                                        prune=args.prune)
        for warning in await file_warnings(text):
            print(f"warning: {warning}", file=sys.stderr)
        g, report = result.groups, result.rules
        return (f"permission set groups: created {g.created}, updated {g.updated}, deleted {g.deleted}\n"
                f"created: {report.created}\nupdated: {report.updated}\n"
                f"unchanged: {report.unchanged}\ndeleted: {report.deleted}")


def cmd_rules(args: argparse.Namespace) -> None:
    print(asyncio.run(_rules(_settings(), args)))


def rules_schema_text() -> str:
    from jit.rules.schemas import rules_file_schema

    return json.dumps(rules_file_schema(), indent=2) + "\n"


def cmd_export_schema(args: argparse.Namespace) -> None:
    if args.rules:
        text = rules_schema_text()
    else:
        from jit.graphql.schema import schema

        text = schema.as_str() + "\n"
    if args.output == "-":
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text)
        print(f"wrote {args.output}")


def cmd_demo(args: argparse.Namespace) -> None:
    from jit.demo.run import run_demo

    run_demo(reset=not args.keep)


def _epilog(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> str:
    from jit.client.cli import CLIENT_COMMANDS
    from jit.client.errors import EXIT_CODES_HELP

    helps = {action.dest: action.help for action in sub._choices_actions}
    width = max(map(len, helps)) + 2

    def group(title: str, names: tuple[str, ...]) -> str:
        return title + "\n" + "\n".join(f"  {name:<{width}}{helps.get(name, '')}" for name in names)

    return "\n\n".join([
        group("client commands (talk to a JIT server over its GraphQL API; start with `jit login`):", CLIENT_COMMANDS),
        # Every other command runs or administers JIT itself, in the order it was added.
        group("server commands (run and administer JIT itself):",
              tuple(name for name in helps if name not in CLIENT_COMMANDS)),
        "`jit COMMAND --help` describes each command.",
        EXIT_CODES_HELP,
    ])


def build_parser() -> argparse.ArgumentParser:
    from jit.audit.cli import add_audit_commands
    from jit.client.cli import add_client_commands

    parser = argparse.ArgumentParser(prog="jit", usage="jit [-h] COMMAND [ARGS ...]",
                                     description="Just-in-time access for AWS Organizations",
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--traceback", action="store_true",
                        help="on an unexpected error, print the Python traceback instead of one line")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", prog="jit")
    p = sub.add_parser("serve", help="run the GraphQL API")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.set_defaults(fn=cmd_serve)
    sub.add_parser("worker", help="run the arq worker (grants, revokes, sync, reconcile)").set_defaults(fn=cmd_worker)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(fn=cmd_migrate)
    p = sub.add_parser("sync", help="read the organization and identity store into the database")
    p.add_argument("--output", "-o", choices=("table", "json"), default="table",
                   help="a table of what was added, changed and removed (default), or JSON for scripts")
    p.set_defaults(fn=cmd_sync)
    p = sub.add_parser("token", help="API tokens")
    tsub = p.add_subparsers(dest="token_command", required=True)
    c = tsub.add_parser("create", help="print a new bearer token for USERNAME (shown once, stored hashed)")
    c.add_argument("user_name", metavar="USERNAME")
    c.add_argument("--name", default="cli")
    c.add_argument("--scopes", default=None, help="comma-separated: read,request,decide,admin (default: all)")
    c.add_argument("--expires", default=None, help="90d (default), 12h, 2027-01-31, or never")
    c.add_argument("--expires-in-days", type=int, default=None, help=argparse.SUPPRESS)
    c.add_argument("--minted-by", default=None, metavar="NAME",
                   help="who is minting it (recorded); a token minted for someone else never approves anything")
    c.set_defaults(fn=cmd_token)
    c = tsub.add_parser("list", help="list tokens (never their secrets)")
    c.add_argument("--user", default=None, help="only this user's tokens")
    c.set_defaults(fn=cmd_token)
    c = tsub.add_parser("revoke", help="revoke a token by its id")
    c.add_argument("id", type=int)
    c.set_defaults(fn=cmd_token)
    p = sub.add_parser("rules", help="approval rules as code")
    rsub = p.add_subparsers(dest="action", required=True)
    a = rsub.add_parser("apply", help="create and update rules from a YAML file ('-' for stdin)")
    a.add_argument("file")
    a.add_argument("--prune", action="store_true", help="also delete rules the file does not name")
    a.set_defaults(fn=cmd_rules)
    a = rsub.add_parser("plan", help="show what apply would create, change and delete, and who gains or loses the "
                                     "right to request what, without writing anything",
                        description="Applies the file inside a transaction and rolls it back: the same checks as "
                                    "`jit rules apply`, nothing written. Also warns of approval steps that need more "
                                    "approvals than their groups and users hold people.")
    a.add_argument("file", help="the rules file ('-' for stdin); its format: docs/rules.md")
    a.add_argument("--prune", action="store_true", help="as apply --prune: rules the file does not name are deleted")
    a.add_argument("--output", "-o", choices=("table", "json"), default="table")
    a.set_defaults(fn=cmd_rules)
    rsub.add_parser("export", help="print every rule as YAML").set_defaults(fn=cmd_rules)
    add_audit_commands(sub)
    p = sub.add_parser("export-schema", help="print or write the GraphQL schema (or, with --rules, the rules "
                                             "file's JSON Schema)")
    p.add_argument("--output", "-o", default="-")
    p.add_argument("--rules", action="store_true", help="the JSON Schema of a rules file (docs/rules.schema.json)")
    p.set_defaults(fn=cmd_export_schema)
    p = sub.add_parser("demo", help="run everything on embedded defaults with a demo organization")
    p.add_argument("--keep", action="store_true", help="keep the demo database from the last run")
    p.set_defaults(fn=cmd_demo)
    add_client_commands(sub)
    parser.epilog = _epilog(sub)
    # The epilog lists the commands in groups; argparse's own flat list would repeat them.
    sub._choices_actions.clear()
    sub.help = argparse.SUPPRESS
    return parser


def error_line(exc: BaseException) -> tuple[str, int]:
    """One line for stderr and the exit code `jit --help` lists for this failure."""
    from jit.client.errors import ExitCode
    from jit.errors import DomainError, NotAllowed, NotFound, Unauthenticated, WrongState

    if isinstance(exc, DomainError):
        code = (ExitCode.WRONG_STATE if isinstance(exc, WrongState) else ExitCode.NOT_FOUND
                if isinstance(exc, NotFound) else ExitCode.NOT_ALLOWED
                if isinstance(exc, (NotAllowed, Unauthenticated)) else ExitCode.INVALID)
        message = f"{exc.field}: {exc.message}" if exc.field else exc.message
        return f"error: {message}", int(code)
    if isinstance(exc, OSError) and exc.filename is not None:
        # A file named on the command line that cannot be read or written: a bad argument.
        return f"error: {exc.filename}: {exc.strerror or exc}", int(ExitCode.USAGE)
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if type(exc).__name__ == "OperationalError" and ("no such table" in detail or "does not exist" in detail):
        return f"error: the database has no tables yet ({detail}): run `jit migrate`", int(ExitCode.ERROR)
    return (f"error: unexpected {type(exc).__name__}{': ' + detail if detail else ''} "
            "(`jit --traceback ...` shows where)", int(ExitCode.ERROR))


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    try:
        args.fn(args)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - every failure is one line with its exit code
        if args.traceback:
            raise
        message, code = error_line(exc)
        print(message, file=sys.stderr)
        sys.exit(code)


if __name__ == "__main__":
    main()
