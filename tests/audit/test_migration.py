"""Migration 0007_audit chains the audit events written before it, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import sys
from urllib.parse import urlparse

import asyncpg
import pytest


async def _run(url: str) -> str:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.audit.legacy_migration", url,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), 180)
    except TimeoutError:
        proc.kill()
        raise
    assert proc.returncode == 0, err.decode()[-3000:]
    return out.decode().strip()


async def test_legacy_events_are_chained_on_sqlite(tmp_path):
    assert await _run(f"sqlite://{tmp_path / 'legacy.sqlite3'}") == "OK"


@pytest.fixture
async def scratch_postgres(postgres_test_url):
    parsed = urlparse(postgres_test_url)
    name = f"{parsed.path.lstrip('/')}_legacy"
    admin = await asyncpg.connect(parsed._replace(scheme="postgresql", path="/postgres").geturl())
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.execute(f"CREATE DATABASE {name}")
        yield parsed._replace(path=f"/{name}").geturl()
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await admin.close()


async def test_legacy_events_are_chained_on_postgres(scratch_postgres):
    assert await _run(scratch_postgres) == "OK"
