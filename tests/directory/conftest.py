"""Fixtures for the directory sync: its own moto server and its own databases.

The databases are dedicated to these tests (a temporary SQLite file, and the PostgreSQL
database `jit_test_directory`), and each test opens them in a Tortoise context of its
own, so whatever the shared fixtures have initialised is left exactly as it was.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

import asyncpg
import pytest
from tortoise import Tortoise
from tortoise.context import TortoiseContext
from tortoise.migrations.api import migrate

from jit.aws.clients import AwsClients
from jit.clock import FrozenClock
from jit.config import Settings
from jit.db import close_db, tortoise_config
from jit.demo.embedded import EmbeddedProcess, free_port, reset_moto, start_moto
from jit.directory.models import Account, Group, GroupMembership, OrganizationalUnit, PermissionSet, User

PG_DATABASE = os.environ.get("JIT_TEST_PG_DATABASE", "jit_test") + "_directory"
_SQL_VERBS = ("SELECT", "INSERT", "UPDATE", "DELETE")


@pytest.fixture(scope="session")
def moto_server() -> Iterator[EmbeddedProcess]:
    server = start_moto(free_port())
    yield server
    server.stop()


@pytest.fixture
def moto(moto_server: EmbeddedProcess, monkeypatch: pytest.MonkeyPatch) -> EmbeddedProcess:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    reset_moto(moto_server.url)
    return moto_server


async def _fresh_postgres_database(server_url: str) -> str:
    """A database of our own on the server the suite found or started (tests/services.py)."""
    admin = await asyncpg.connect(server_url.replace("postgres://", "postgresql://", 1), timeout=10)
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")
        await admin.execute(f"CREATE DATABASE {PG_DATABASE}")
    finally:
        await admin.close()
    return urlparse(server_url)._replace(path=f"/{PG_DATABASE}").geturl()


def _config(url: str, backend: str) -> dict[str, Any]:
    # jit.db's config under a connection name per backend: Tortoise caches each model's
    # INSERT statement per connection name and table for the life of the process, so
    # SQLite and PostgreSQL both called "default" would share SQLite's placeholders.
    config = tortoise_config(url)
    name = f"directory_{backend}"
    config["connections"] = {name: url}
    config["apps"]["models"]["default_connection"] = name
    return config


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
async def directory_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, postgres_test_url: str
) -> tuple[str, dict]:
    if request.param == "sqlite":
        url = f"sqlite://{tmp_path_factory.mktemp('directory') / 'jit.sqlite3'}"
    else:
        url = await _fresh_postgres_database(postgres_test_url)
    config = _config(url, request.param)
    async with TortoiseContext():
        await migrate(config=config)
    return url, config


@pytest.fixture
async def database(directory_database: tuple[str, dict]):
    """The migrated database, with empty directory tables, in a Tortoise context of its own."""
    url, config = directory_database
    async with TortoiseContext():
        await Tortoise.init(config=config)
        await clear_directory()
        yield url
        await close_db()


async def clear_directory() -> None:
    for model in (GroupMembership, User, Group, Account, OrganizationalUnit, PermissionSet):
        await model.all().delete()


@pytest.fixture
def settings(database: str, moto: EmbeddedProcess) -> Settings:
    return Settings(mode="test", database_url=database, aws_endpoint_url=moto.url, aws_region="us-east-1")


@pytest.fixture
async def aws(settings: Settings) -> AsyncIterator[AwsClients]:
    async with AwsClients(settings) as clients:
        yield clients


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2025, 3, 1, 9, 0, tzinfo=UTC))


class QueryCounter(logging.Handler):
    """Counts the SQL statements Tortoise logs, which it does for every one it sends."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.statements: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        # The statement is the first argument ("%s: %s", query, values) or the whole message;
        # formatting the values of a thousand-row INSERT just to count it would be waste.
        statement = str(record.args[0] if record.args else record.msg).lstrip()
        if statement.upper().startswith(_SQL_VERBS):
            self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)


@contextmanager
def count_queries() -> Iterator[QueryCounter]:
    logger = logging.getLogger("tortoise.db_client")
    counter = QueryCounter()
    previous_level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(counter)
    try:
        yield counter
    finally:
        logger.removeHandler(counter)
        logger.setLevel(previous_level)
