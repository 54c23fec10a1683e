import httpx
import pytest

from tests.graphql.client import Api, in_process_app


@pytest.fixture
async def api(demo):
    app = in_process_app(demo.rt)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://jit.test") as client:
        yield Api(client, {})
