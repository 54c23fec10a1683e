"""Tortoise setup: the model modules, the config, and `jit migrate`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from tortoise import Tortoise

MODEL_MODULES = [
    "jit.directory.models",
    "jit.auth.models",
    "jit.rules.models",
    "jit.authz.models",
    "jit.tickets.models",
    "jit.approvals.models",
    "jit.audit.models",
    "jit.reconcile.models",
    "jit.notify.models",
    "jit.ops.models",
    "jit.slack.models",
    "jit.insights.models",
]


def tortoise_config(database_url: str) -> dict[str, Any]:
    return {
        "connections": {"default": database_url},
        "apps": {
            "models": {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": "migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


async def init_db(database_url: str) -> None:
    # The ASGI lifespan and arq's startup hook run in their own tasks; requests and jobs
    # run in others, so the ORM context must be reachable from every task (as Tortoise's
    # own Starlette integration does).
    await Tortoise.init(config=tortoise_config(database_url), _enable_global_fallback=True)


async def close_db() -> None:
    await Tortoise.close_connections()


# pg_advisory_lock key for `jit migrate`: any constant, here "JIT_MIG" in ASCII.
MIGRATION_LOCK_KEY = 0x4A49545F4D4947


async def migrate(database_url: str) -> None:
    """Applies the migrations, holding a lock meanwhile, so every replica may run this at
    start-up: the first applies them, the others wait and then find nothing to do."""
    from tortoise.migrations.api import migrate as run_migrations

    async with _migration_lock(database_url):
        await run_migrations(config=tortoise_config(database_url))
        await Tortoise.close_connections()


def _libpq_dsn(database_url: str) -> str:
    """The URL for a plain asyncpg connection: Tortoise's pool options (maxsize=...) dropped,
    its `ssl=true` spelled as libpq's sslmode."""
    from urllib.parse import parse_qsl, urlencode, urlsplit

    parts = urlsplit("postgresql://" + database_url.split("://", 1)[1])
    query = dict(parse_qsl(parts.query))
    kept = {"sslmode": query["sslmode"]} if "sslmode" in query else {}
    if query.get("ssl", "").lower() in ("true", "1", "require"):
        kept.setdefault("sslmode", "require")
    return parts._replace(query=urlencode(kept)).geturl()


@asynccontextmanager
async def _migration_lock(database_url: str) -> AsyncIterator[None]:
    if database_url.startswith(("postgres://", "postgresql://", "asyncpg://")):
        import asyncpg

        # A session-level advisory lock on a connection of its own: released when the
        # connection closes, so a migrator that dies leaves no lock behind.
        conn = await asyncpg.connect(_libpq_dsn(database_url))
        try:
            await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
            try:
                yield
            finally:
                await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_KEY)
        finally:
            await conn.close()
    elif database_url.startswith("sqlite://") and ":memory:" not in database_url:
        import asyncio
        import fcntl

        path = database_url.split("://", 1)[1].split("?", 1)[0]
        with open(f"{path}.migrate-lock", "a") as handle:
            # flock blocks the thread, not the event loop.
            await asyncio.to_thread(fcntl.flock, handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
    else:
        yield


@asynccontextmanager
async def database(database_url: str) -> AsyncIterator[None]:
    await init_db(database_url)
    try:
        yield
    finally:
        await close_db()


# For the `tortoise` CLI (makemigrations): `tortoise -c jit.db.TORTOISE_ORM makemigrations`.
TORTOISE_ORM = tortoise_config("sqlite://jit.sqlite3")
