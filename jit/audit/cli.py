"""`jit audit verify | export | prune`: run against the database directly, like `jit migrate`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any

from jit.config import Settings


def _when(value: str) -> datetime:
    """An ISO date or datetime (UTC unless it says otherwise), or an age such as 30d or 12h."""
    text = value.strip()
    if text[:-1].isdigit() and text[-1:] in ("d", "h"):
        amount = int(text[:-1])
        delta = timedelta(days=amount) if text[-1] == "d" else timedelta(hours=amount)
        return datetime.now(UTC) - delta
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not like 2026-01-31, 2026-01-31T12:00:00Z, 30d or 12h") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


async def _verify(settings: Settings) -> int:
    from jit.audit.verifications import verify_and_record
    from jit.clock import SystemClock
    from jit.db import database

    async with database(settings.database_url):
        result = await verify_and_record(SystemClock())
    start = f"from checkpoint seq {result.first_seq}" if result.first_seq else "from genesis"
    if result.ok:
        print(f"audit chain OK: {result.checked} events verified {start}, head seq {result.head_seq}")
        return 0
    print(f"audit chain BROKEN at {result.broken} ({result.checked} events verified {start} before it)", file=sys.stderr)
    return 1


async def _export(settings: Settings, args: argparse.Namespace) -> int:
    from jit.audit.queries import AuditFilter, export_jsonl
    from jit.db import database

    flt = AuditFilter(since=args.since, until=args.until, actions=args.action or [])
    async with database(settings.database_url):
        if args.output == "-":
            count = await export_jsonl(flt, sys.stdout)
        else:
            with open(args.output, "w", encoding="utf-8") as out:
                count = await export_jsonl(flt, out)
    print(f"exported {count} events", file=sys.stderr)
    return 0


async def _prune(settings: Settings, args: argparse.Namespace) -> int:
    from jit.audit.retention import prune
    from jit.clock import SystemClock
    from jit.db import database

    before = args.before
    if before is None:
        if not settings.audit_retention_days:
            raise SystemExit("error: give --before, or set JIT_AUDIT_RETENTION_DAYS")
        before = datetime.now(UTC) - timedelta(days=settings.audit_retention_days)
    async with database(settings.database_url):
        result = await prune(before, SystemClock())
    print(f"pruned {result.count} events before {before.isoformat()}; checkpoint seq {result.checkpoint_seq}")
    return 0


def cmd_audit(args: argparse.Namespace) -> None:
    from jit.cli import _settings

    settings = _settings()
    commands: dict[str, Callable[[], Coroutine[Any, Any, int]]] = {
        "verify": lambda: _verify(settings), "export": lambda: _export(settings, args),
        "prune": lambda: _prune(settings, args)}
    run = commands[args.audit_command]
    sys.exit(asyncio.run(run()))


def add_audit_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("audit", help="verify, export and prune the audit log")
    asub = p.add_subparsers(dest="audit_command", required=True)
    asub.add_parser("verify", help="check the hash chain; names the first broken event").set_defaults(fn=cmd_audit)
    e = asub.add_parser("export", help="write events as JSON lines (for a SIEM)")
    e.add_argument("--since", type=_when, default=None, help="2026-01-31, 2026-01-31T12:00:00Z, or an age: 30d, 12h")
    e.add_argument("--until", type=_when, default=None)
    e.add_argument("--action", action="append", help="only these actions (repeatable)")
    e.add_argument("--format", choices=["jsonl"], default="jsonl")
    e.add_argument("--output", "-o", default="-")
    e.set_defaults(fn=cmd_audit)
    r = asub.add_parser("prune", help="delete events older than --before (or JIT_AUDIT_RETENTION_DAYS), keeping a checkpoint")
    r.add_argument("--before", type=_when, default=None)
    r.set_defaults(fn=cmd_audit)
