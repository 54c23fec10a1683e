"""Directory sync at scale: wall time, moto's share and database statements, on
PostgreSQL and SQLite.

    .venv/bin/python bench/bench_sync.py        # 500 and 5,000 accounts, on PostgreSQL and SQLite
    .venv/bin/python bench/bench_sync.py --accounts 500 --permission-sets 50 --users 2000 --groups 20
    .venv/bin/python bench/bench_sync.py --databases postgres

The largest size is the issue's directory: 5,000 accounts, 500 permission sets, 20,000
users in 200 groups (each user in 2 groups: 40,000 memberships). Smaller sizes scale every
count by the same factor, so per-account times compare like with like.

For each size a fresh moto server is seeded with the demo organization plus the generated
accounts, permission sets, users, groups and memberships (concurrently, 32 calls at a time;
the seeding time is reported apart). Then, for each database, a fresh database is synced
twice: a first sync that creates every row, then a sync of the unchanged directory. The
sync's report splits the time reading AWS (moto here) from the time writing the database;
moto's own CPU time during the sync is measured too. PostgreSQL is a fresh database
<JIT_BENCH_PG_DATABASE>_sync (jit_bench_run_sync by default). Compare per-account times
between sizes rather than absolute numbers: a ratio near 1 means the sync scales linearly.
Results go to bench/results/sync.json.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import tempfile
import time
from pathlib import Path
from typing import Any

import common  # noqa: F401  (first: it points the test services at the benchmark's database)
from common import cpu_seconds, machine, write_result
from tortoise import Tortoise
from tortoise.context import TortoiseContext
from tortoise.migrations.api import migrate

from jit.aws.clients import AwsClients
from jit.clock import SystemClock
from jit.config import Settings
from jit.db import close_db, tortoise_config
from jit.demo.embedded import free_port, start_moto
from jit.demo.seed import add_accounts, add_people, add_permission_sets, seed_demo_organization
from jit.directory.service import SyncReport, sync_directory
from jit.runtime import Runtime
from tests import services
from tests.support.live import fresh_postgres

_SQL_VERBS = ("SELECT", "INSERT", "UPDATE", "DELETE")
_SEED_CONCURRENCY = 32


class _StatementCounter(logging.Handler):
    """Tortoise logs every statement it sends to "tortoise.db_client" at DEBUG."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        statement = str(record.args[0] if record.args else record.msg).lstrip()
        if statement.upper().startswith(_SQL_VERBS):
            self.count += 1


async def _counted_sync(settings: Settings, moto_pid: int) -> tuple[SyncReport, int, float]:
    logger = logging.getLogger("tortoise.db_client")
    counter = _StatementCounter()
    logger.setLevel(logging.DEBUG)
    logger.addHandler(counter)
    moto_cpu = cpu_seconds(moto_pid)
    try:
        async with AwsClients(settings) as aws:
            report = await sync_directory(Runtime.offline(settings, SystemClock(), aws))
    finally:
        logger.removeHandler(counter)
        logger.setLevel(logging.NOTSET)
    return report, counter.count, cpu_seconds(moto_pid) - moto_cpu


def _sync_row(report: SyncReport, statements: int, moto_cpu: float, accounts: int) -> dict[str, Any]:
    wall = report.elapsed_seconds
    return {
        "wall_seconds": round(wall, 3),
        "aws_seconds": round(report.aws_seconds, 3),
        "database_seconds": round(report.database_seconds, 3),
        "aws_share": round(report.aws_seconds / wall, 3) if wall else None,
        "database_share": round(report.database_seconds / wall, 3) if wall else None,
        # moto's own CPU time while the sync ran: what the moto server itself cost.
        "moto_cpu_seconds": round(moto_cpu, 3),
        "statements": statements,
        "wall_ms_per_account": round(1000 * wall / accounts, 3),
        "database_ms_per_account": round(1000 * report.database_seconds / accounts, 4),
        "seen": {name: t.seen for name, t in report.tables.items()},
        "rows_changed": report.changed,
    }


async def _database_url(backend: str, workdir: Path, accounts: int) -> str:
    if backend == "sqlite":
        return f"sqlite://{workdir / f'sync-{accounts}.sqlite3'}"
    # A fresh PostgreSQL database of the benchmark's own, as the live benchmarks get theirs.
    url = await fresh_postgres(f"{services.PG_DATABASE}_sync")
    if url is None:
        raise RuntimeError(f"PostgreSQL is not reachable at {services.PG_ADMIN_URL}; run with --databases sqlite")
    return url


def _config(url: str, backend: str) -> dict[str, Any]:
    # A connection name per backend: Tortoise caches each model's INSERT statement per
    # connection name for the life of the process, so SQLite and PostgreSQL both called
    # "default" would share one backend's placeholders (as in tests/directory/conftest.py).
    config = tortoise_config(url)
    config["connections"] = {f"sync_{backend}": url}
    config["apps"]["models"]["default_connection"] = f"sync_{backend}"
    return config


async def _seed(moto_url: str, size: dict[str, int]) -> dict[str, float]:
    started = time.monotonic()
    demo = await seed_demo_organization(moto_url)
    # The management account sits at the root beside the seeded ones.
    extra_accounts = max(0, size["accounts"] - len(demo.accounts) - 1)
    accounts_started = time.monotonic()
    await add_accounts(moto_url, list(demo.organizational_units.values()), extra_accounts, concurrency=_SEED_CONCURRENCY)
    accounts_done = time.monotonic()
    extra_sets = max(0, size["permission_sets"] - len(demo.permission_sets))
    await add_permission_sets(moto_url, demo.instance_arn, extra_sets, concurrency=_SEED_CONCURRENCY)
    sets_done = time.monotonic()
    extra_users = max(0, size["users"] - len(demo.users))
    extra_groups = max(0, size["groups"] - len(demo.groups))
    _, _, memberships = await add_people(
        moto_url, demo.identity_store_id, extra_users, extra_groups,
        groups_per_user=size["groups_per_user"], concurrency=_SEED_CONCURRENCY,
    )
    done = time.monotonic()
    return {
        "seed_seconds": round(done - started, 2),
        "seed_accounts_seconds": round(accounts_done - accounts_started, 2),
        "seed_permission_sets_seconds": round(sets_done - accounts_done, 2),
        "seed_people_seconds": round(done - sets_done, 2),
        "generated_memberships": memberships,
    }


async def _measure(size: dict[str, int], databases: list[str], workdir: Path) -> dict[str, Any]:
    moto = start_moto(free_port())
    try:
        print(f"  seeding moto: {size} ...", flush=True)
        seeding = await _seed(moto.url, size)
        print(f"  seeded in {seeding['seed_seconds']} s", flush=True)
        settings_of = {}
        syncs: dict[str, Any] = {}
        for backend in databases:
            url = await _database_url(backend, workdir, size["accounts"])
            config = _config(url, backend)
            settings_of[backend] = Settings(mode="test", database_url=url, aws_endpoint_url=moto.url, aws_region="us-east-1")
            async with TortoiseContext():
                await migrate(config=config)
                await close_db()
            async with TortoiseContext():
                await Tortoise.init(config=config)
                try:
                    first, first_statements, first_moto = await _counted_sync(settings_of[backend], moto.pid)
                    second, second_statements, second_moto = await _counted_sync(settings_of[backend], moto.pid)
                finally:
                    await close_db()
            accounts = first.accounts.seen
            syncs[backend] = {
                "first_sync": _sync_row(first, first_statements, first_moto, accounts),
                "unchanged_sync": _sync_row(second, second_statements, second_moto, accounts),
            }
            print(f"  {backend}: first {first.elapsed_seconds:.2f} s, unchanged {second.elapsed_seconds:.2f} s", flush=True)
    finally:
        moto.stop()
    return {"size": size, "accounts": size["accounts"], **seeding, "syncs": syncs}


def _print_table(results: list[dict[str, Any]]) -> None:
    header = (
        f"{'accounts':>8} {'users':>6} {'database':<9} {'sync':<9} {'wall s':>8} {'aws s':>8} {'moto cpu':>8} "
        f"{'db s':>8} {'db %':>6} {'stmts':>6} {'wall ms/acct':>13} {'db ms/acct':>11}"
    )
    print(header)
    print("-" * len(header))
    for result in results:
        for backend, syncs in result["syncs"].items():
            for label, key in (("first", "first_sync"), ("unchanged", "unchanged_sync")):
                row = syncs[key]
                print(
                    f"{result['accounts']:>8} {result['size']['users']:>6} {backend:<9} {label:<9} "
                    f"{row['wall_seconds']:>8.2f} {row['aws_seconds']:>8.2f} {row['moto_cpu_seconds']:>8.2f} "
                    f"{row['database_seconds']:>8.3f} {100 * (row['database_share'] or 0):>5.1f}% {row['statements']:>6} "
                    f"{row['wall_ms_per_account']:>13.3f} {row['database_ms_per_account']:>11.4f}"
                )
    for result in results:
        print(
            f"seeding {result['accounts']} accounts: {result['seed_seconds']} s (accounts {result['seed_accounts_seconds']}, "
            f"permission sets {result['seed_permission_sets_seconds']}, users/groups/memberships {result['seed_people_seconds']})"
        )


def _ratios(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Per-account time at the largest size over the smallest: 1.0 is linear scaling."""
    if len(results) < 2:
        return {}
    small, large = results[0], results[-1]
    ratios: dict[str, Any] = {"between": [small["accounts"], large["accounts"]]}
    for backend in large["syncs"]:
        if backend not in small["syncs"]:
            continue
        for key in ("first_sync", "unchanged_sync"):
            s, big = small["syncs"][backend][key], large["syncs"][backend][key]
            entry = {
                metric: round(big[metric] / s[metric], 2) if s[metric] else None
                for metric in ("wall_ms_per_account", "database_ms_per_account")
            }
            entry["statements"] = f"{s['statements']} -> {big['statements']}"
            ratios[f"{backend} {key}"] = entry
    return ratios


async def main(args: argparse.Namespace) -> None:
    sizes = sorted(args.accounts)
    largest = sizes[-1]
    results = []
    load_before = machine()["load_average_1m"]
    with tempfile.TemporaryDirectory(prefix="jit-bench-") as workdir:
        for accounts in sizes:
            scale = accounts / largest
            size = {
                "accounts": accounts,
                "permission_sets": round(args.permission_sets * scale),
                "users": round(args.users * scale),
                "groups": max(1, round(args.groups * scale)),
                "groups_per_user": args.groups_per_user,
            }
            print(f"{accounts} accounts:", flush=True)
            results.append(await _measure(size, args.databases, Path(workdir)))
    print()
    _print_table(results)
    ratios = _ratios(results)
    if ratios:
        print(f"\nper-account time, {ratios['between'][1]} vs {ratios['between'][0]} accounts:")
        for key, r in ratios.items():
            if key != "between":
                print(f"  {key:<24} wall x{r['wall_ms_per_account']}, database x{r['database_ms_per_account']}, "
                      f"statements {r['statements']}")
    write_result("sync", {"load_average_1m_at_start": load_before, "target": "full sync <= 60 s",
                          "results": results, "per_account_ratios": ratios})


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, nargs="+", default=[500, 5000],
                        help="organization sizes to measure (default: 500 5000)")
    parser.add_argument("--permission-sets", type=int, default=500, help="permission sets at the largest size (default 500)")
    parser.add_argument("--users", type=int, default=20000, help="users at the largest size (default 20000)")
    parser.add_argument("--groups", type=int, default=200, help="groups at the largest size (default 200)")
    parser.add_argument("--groups-per-user", type=int, default=2, help="groups each generated user joins (default 2)")
    parser.add_argument("--databases", nargs="+", choices=["postgres", "sqlite"], default=["postgres", "sqlite"],
                        help="databases to sync into (default: postgres sqlite)")
    asyncio.run(main(parser.parse_args()))
