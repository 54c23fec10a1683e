"""`jit migrate` from every replica at once: one applies the migrations, the rest wait for
its lock and find nothing left to do."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import asyncpg

from tests.support.live import database_for

REPLICAS = 4


def _migrate_concurrently(database_url: str) -> list[subprocess.CompletedProcess]:
    env = {**os.environ, "JIT_DATABASE_URL": database_url}
    procs = [subprocess.Popen([sys.executable, "-m", "jit.cli", "migrate"], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(REPLICAS)]
    return [subprocess.CompletedProcess(p.args, p.wait(120), *p.communicate()) for p in procs]


def _migration_names() -> list[str]:
    root = Path(__file__).resolve().parents[2] / "migrations"
    return sorted(p.stem for p in root.glob("0*.py"))


async def _applied(url: str) -> list[tuple[str, int]]:
    conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        rows = await conn.fetch("SELECT name, count(*) AS n FROM tortoise_migrations GROUP BY name ORDER BY name")
        tables = await conn.fetchval("SELECT count(*) FROM pg_tables WHERE tablename = 'ticket'")
    finally:
        await conn.close()
    return [(r["name"], r["n"]) for r in rows], tables


def test_concurrent_migrations_on_a_fresh_postgres_database_all_succeed_once(tmp_path):
    url = database_for("migrate_lock", tmp_path)
    assert url.startswith("postgres"), "this test needs the suite's PostgreSQL"
    results = _migrate_concurrently(url)
    for r in results:
        assert r.returncode == 0, r.stderr[-2000:]
        assert "database migrated" in r.stdout
    applied, ticket_tables = asyncio.run(_applied(url))
    assert applied == [(name, 1) for name in _migration_names()]
    assert ticket_tables == 1


def test_concurrent_migrations_on_sqlite_all_succeed(tmp_path):
    url = f"sqlite://{tmp_path / 'jit.sqlite3'}"
    for r in _migrate_concurrently(url):
        assert r.returncode == 0, r.stderr[-2000:]
    import sqlite3

    with sqlite3.connect(tmp_path / "jit.sqlite3") as db:
        names = [row[0] for row in db.execute("SELECT name FROM tortoise_migrations ORDER BY name")]
    assert names == _migration_names()
