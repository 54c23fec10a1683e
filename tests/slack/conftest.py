import dataclasses

import httpx
import pytest

from tests.graphql.client import in_process_app
from tests.notify.receivers import HttpReceiver
from tests.slack.driver import SlackSide

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
PEOPLE = ("alice", "bob", "carol", "dave", "audrey", "admin", "maria", "erin")


@pytest.fixture
async def receiver():
    """The Slack-shaped server (tests/notify/receivers.py)."""
    http = HttpReceiver()
    await http.start()
    yield http
    await http.stop()


@pytest.fixture
def slack_settings(settings, receiver):
    return settings.model_copy(update={
        "public_url": "https://jit.example.com", "slack_token": "xoxb-test", "slack_base_url": f"{receiver.url}/api/",
        "notify_send_timeout": 5.0, "notify_retry_base_seconds": 10.0,
        "slack_interactive": True, "slack_signing_secret": SIGNING_SECRET,
    })


@pytest.fixture
async def world(demo, slack_settings, receiver):
    demo.rt = dataclasses.replace(demo.rt, settings=slack_settings)
    for name in PEOPLE:
        receiver.slack_users[f"{name}@example.com"] = f"U{name.upper()}"
    return demo


@pytest.fixture
async def app_client(world):
    app = in_process_app(world.rt)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://jit.test") as client:
        yield client


@pytest.fixture
def slack(app_client, receiver):
    return SlackSide(app_client, SIGNING_SECRET, receiver)
