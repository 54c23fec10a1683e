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


async def migrate(database_url: str) -> None:
    from tortoise.migrations.api import migrate as run_migrations

    await run_migrations(config=tortoise_config(database_url))
    await Tortoise.close_connections()


@asynccontextmanager
async def database(database_url: str) -> AsyncIterator[None]:
    await init_db(database_url)
    try:
        yield
    finally:
        await close_db()


# For the `tortoise` CLI (makemigrations): `tortoise -c jit.db.TORTOISE_ORM makemigrations`.
TORTOISE_ORM = tortoise_config("sqlite://jit.sqlite3")
