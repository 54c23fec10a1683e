"""`jit serve | worker | demo | migrate | sync | token | rules | export-schema`."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from datetime import timedelta
from pathlib import Path

from jit.config import Settings


def _settings() -> Settings:
    return Settings()


def cmd_serve(args: argparse.Namespace) -> None:
    import uvicorn

    from jit.app import create_app

    settings = _settings()
    uvicorn.run(create_app(settings), host=args.host or settings.host, port=args.port or settings.port,
                log_level="info", ws="websockets")


def cmd_worker(args: argparse.Namespace) -> None:
    from jit.jobs.worker import run_worker

    run_worker(_settings())


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


async def _sync(settings: Settings):
    from jit.aws.clients import AwsClients
    from jit.clock import SystemClock
    from jit.db import database
    from jit.directory.service import sync_directory

    async with database(settings.database_url):
        return await sync_directory(settings, AwsClients(settings), SystemClock())


def cmd_sync(args: argparse.Namespace) -> None:
    report = asyncio.run(_sync(_settings()))
    print(report)


async def _create_token(settings: Settings, user_name: str, name: str, expires_in: int | None) -> str:
    from jit.auth.service import create_token
    from jit.clock import SystemClock
    from jit.db import database

    clock = SystemClock()
    expires = clock.now() + timedelta(days=expires_in) if expires_in else None
    async with database(settings.database_url):
        token, _ = await create_token(clock, user_name, name, expires)
    return token


def cmd_token(args: argparse.Namespace) -> None:
    from jit.errors import DomainError

    try:
        print(asyncio.run(_create_token(_settings(), args.user_name, args.name, args.expires_in_days)))
    except DomainError as exc:
        sys.exit(f"error: {exc.message}")


async def _rules(settings: Settings, action: str, path: str | None, prune: bool) -> str:
    from jit.clock import SystemClock
    from jit.db import database
    from jit.rules.service import RuleService, dump_rules_yaml, list_rules, load_rules_yaml

    async with database(settings.database_url):
        if action == "export":
            return dump_rules_yaml(await list_rules())
        text = sys.stdin.read() if path == "-" else Path(path).read_text()
        report = await RuleService(settings, SystemClock()).apply(load_rules_yaml(text), actor_id=None, prune=prune)
        return (f"created: {report.created}\nupdated: {report.updated}\n"
                f"unchanged: {report.unchanged}\ndeleted: {report.deleted}")


def cmd_rules(args: argparse.Namespace) -> None:
    from jit.errors import DomainError

    try:
        print(asyncio.run(_rules(_settings(), args.action, getattr(args, "file", None), getattr(args, "prune", False))))
    except DomainError as exc:
        sys.exit(f"error: {exc.field}: {exc.message}" if exc.field else f"error: {exc.message}")


def cmd_export_schema(args: argparse.Namespace) -> None:
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="jit", description="Just-in-time access for AWS Organizations")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("serve", help="run the GraphQL API")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.set_defaults(fn=cmd_serve)
    sub.add_parser("worker", help="run the arq worker (grants, revokes, sync, reconcile)").set_defaults(fn=cmd_worker)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(fn=cmd_migrate)
    sub.add_parser("sync", help="read the organization and identity store into the database").set_defaults(fn=cmd_sync)
    p = sub.add_parser("token", help="API tokens")
    tsub = p.add_subparsers(dest="token_command", required=True)
    c = tsub.add_parser("create", help="print a new bearer token for USERNAME")
    c.add_argument("user_name", metavar="USERNAME")
    c.add_argument("--name", default="cli")
    c.add_argument("--expires-in-days", type=int, default=None)
    c.set_defaults(fn=cmd_token)
    p = sub.add_parser("rules", help="approval rules as code")
    rsub = p.add_subparsers(dest="action", required=True)
    a = rsub.add_parser("apply", help="create and update rules from a YAML file ('-' for stdin)")
    a.add_argument("file")
    a.add_argument("--prune", action="store_true", help="also delete rules the file does not name")
    a.set_defaults(fn=cmd_rules)
    rsub.add_parser("export", help="print every rule as YAML").set_defaults(fn=cmd_rules)
    p = sub.add_parser("export-schema", help="print or write the GraphQL schema")
    p.add_argument("--output", "-o", default="-")
    p.set_defaults(fn=cmd_export_schema)
    p = sub.add_parser("demo", help="run everything on embedded defaults with a demo organization")
    p.add_argument("--keep", action="store_true", help="keep the demo database from the last run")
    p.set_defaults(fn=cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    args.fn(args)


if __name__ == "__main__":
    main()
