"""The app wired to the test's runtime, with settings overridden per test."""

from __future__ import annotations

import contextlib

import httpx
import pytest

from jit.runtime import Runtime
from tests.graphql.client import Api, in_process_app


def runtime_with(rt: Runtime, **overrides) -> Runtime:
    return Runtime(settings=rt.settings.model_copy(update=overrides), clock=rt.clock, aws=rt.aws, authz=rt.authz,
                   redis=rt.redis)


@contextlib.asynccontextmanager
async def client_for(rt: Runtime, base_url: str = "http://jit.test"):
    app = in_process_app(rt)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url) as client:
        yield client


@pytest.fixture
async def api(demo):
    async with client_for(demo.rt) as client:
        yield Api(client, {})


@pytest.fixture
def make_api(demo):
    """make_api(**settings) -> an Api on an app whose settings differ from the test's."""
    stack = contextlib.AsyncExitStack()

    async def make(**overrides) -> Api:
        rt = runtime_with(demo.rt, **overrides)
        client = await stack.enter_async_context(client_for(rt, overrides.get("public_url") or "http://jit.test"))
        return Api(client, {})

    yield make


@pytest.fixture
async def _close_make_api(make_api):
    yield
