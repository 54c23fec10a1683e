"""Directory sync at scale: wall time and database statements for N accounts, on SQLite.

    .venv/bin/python bench/bench_sync.py                    # 500 and 5000 accounts
    .venv/bin/python bench/bench_sync.py --accounts 5000

For each size a fresh moto server is seeded with the demo organization plus enough
generated accounts, and a fresh SQLite database is synced twice: a first sync that
creates every row, then a sync of the unchanged organization. Time reading AWS (moto
here, so mostly moto's own cost) is reported apart from time writing the database.
Compare per-account times between sizes rather than absolute numbers: a ratio near 1
means the sync scales linearly. Results go to bench/results/sync.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# The migrations package lives at the repository root, beside jit/.
sys.path.insert(0, str(ROOT))

from tortoise.context import TortoiseContext  # noqa: E402

from jit.aws.clients import AwsClients  # noqa: E402
from jit.clock import SystemClock  # noqa: E402
from jit.config import Settings  # noqa: E402
from jit.db import close_db, init_db, migrate  # noqa: E402
from jit.demo.embedded import free_port, start_moto  # noqa: E402
from jit.demo.seed import add_accounts, seed_demo_organization  # noqa: E402
from jit.directory.service import SyncReport, sync_directory  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "sync.json"
_SQL_VERBS = ("SELECT", "INSERT", "UPDATE", "DELETE")


class _StatementCounter(logging.Handler):
    """Tortoise logs every statement it sends to "tortoise.db_client" at DEBUG."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        statement = str(record.args[0] if record.args else record.msg).lstrip()
        if statement.upper().startswith(_SQL_VERBS):
            self.count += 1


async def _counted_sync(settings: Settings) -> tuple[SyncReport, int]:
    logger = logging.getLogger("tortoise.db_client")
    counter = _StatementCounter()
    logger.setLevel(logging.DEBUG)
    logger.addHandler(counter)
    try:
        async with AwsClients(settings) as aws:
            report = await sync_directory(settings, aws, SystemClock())
    finally:
        logger.removeHandler(counter)
        logger.setLevel(logging.NOTSET)
    return report, counter.count


def _sync_row(report: SyncReport, statements: int, accounts: int) -> dict[str, Any]:
    return {
        "wall_seconds": round(report.elapsed_seconds, 3),
        "aws_seconds": round(report.aws_seconds, 3),
        "database_seconds": round(report.database_seconds, 3),
        "statements": statements,
        "wall_ms_per_account": round(1000 * report.elapsed_seconds / accounts, 3),
        "database_ms_per_account": round(1000 * report.database_seconds / accounts, 4),
        "accounts_created": report.accounts.created,
        "rows_changed": report.changed,
    }


async def _measure(accounts: int, workdir: Path) -> dict[str, Any]:
    moto = start_moto(free_port())
    try:
        started = time.monotonic()
        demo = await seed_demo_organization(moto.url)
        # The management account sits at the root beside the seeded ones.
        extra = max(0, accounts - len(demo.accounts) - 1)
        await add_accounts(moto.url, list(demo.organizational_units.values()), extra, concurrency=32)
        seed_seconds = time.monotonic() - started

        url = f"sqlite://{workdir / f'sync-{accounts}.sqlite3'}"
        settings = Settings(mode="test", database_url=url, aws_endpoint_url=moto.url, aws_region="us-east-1")
        async with TortoiseContext():
            await migrate(url)
        async with TortoiseContext():
            await init_db(url)
            try:
                first, first_statements = await _counted_sync(settings)
                second, second_statements = await _counted_sync(settings)
            finally:
                await close_db()
    finally:
        moto.stop()
    total = first.accounts.seen
    return {
        "accounts": total,
        "seed_seconds": round(seed_seconds, 2),
        "first_sync": _sync_row(first, first_statements, total),
        "unchanged_sync": _sync_row(second, second_statements, total),
    }


def _print_table(results: list[dict[str, Any]]) -> None:
    header = f"{'accounts':>8}  {'sync':<9} {'wall s':>8} {'aws s':>8} {'db s':>8} {'stmts':>6} {'wall ms/acct':>13} {'db ms/acct':>11}"
    print(header)
    print("-" * len(header))
    for result in results:
        for label, key in (("first", "first_sync"), ("unchanged", "unchanged_sync")):
            row = result[key]
            print(
                f"{result['accounts']:>8}  {label:<9} {row['wall_seconds']:>8.2f} {row['aws_seconds']:>8.2f} "
                f"{row['database_seconds']:>8.3f} {row['statements']:>6} {row['wall_ms_per_account']:>13.3f} "
                f"{row['database_ms_per_account']:>11.4f}"
            )


def _ratios(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Per-account time at the largest size over the smallest: 1.0 is linear scaling."""
    if len(results) < 2:
        return {}
    small, large = results[0], results[-1]
    ratios: dict[str, Any] = {"between": [small["accounts"], large["accounts"]]}
    for key in ("first_sync", "unchanged_sync"):
        ratios[key] = {
            metric: round(large[key][metric] / small[key][metric], 2) if small[key][metric] else None
            for metric in ("wall_ms_per_account", "database_ms_per_account")
        }
        ratios[key]["statements"] = f"{small[key]['statements']} -> {large[key]['statements']}"
    return ratios


async def main(sizes: list[int]) -> None:
    os.environ["AWS_ACCESS_KEY_ID"] = "testing"
    os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"
    results = []
    with tempfile.TemporaryDirectory(prefix="jit-bench-") as workdir:
        for size in sorted(sizes):
            print(f"seeding and syncing {size} accounts ...", flush=True)
            results.append(await _measure(size, Path(workdir)))
    print()
    _print_table(results)
    ratios = _ratios(results)
    if ratios:
        print(f"\nper-account time, {ratios['between'][1]} vs {ratios['between'][0]} accounts:")
        for key in ("first_sync", "unchanged_sync"):
            r = ratios[key]
            print(
                f"  {key:<15} wall x{r['wall_ms_per_account']}, database x{r['database_ms_per_account']}, "
                f"statements {r['statements']}"
            )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "python": platform.python_version(),
                "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
                "database": "sqlite",
                "results": results,
                "per_account_ratios": ratios,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"\nwrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--accounts", type=int, nargs="+", default=[500, 5000], help="organization sizes to measure (default: 500 5000)"
    )
    asyncio.run(main(parser.parse_args().accounts))
