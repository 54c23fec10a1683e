import pytest

from tests.security.conftest import api, make_api  # noqa: F401 - the same app fixtures
from tests.support.cloudtrail import FakeCloudTrail


@pytest.fixture(scope="session")
def cloudtrail_server(moto_url):
    server = FakeCloudTrail(sts_endpoint=moto_url).start()
    yield server
    server.stop()


@pytest.fixture
def cloudtrail(cloudtrail_server):
    cloudtrail_server.reset()
    return cloudtrail_server
