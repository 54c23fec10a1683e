import dataclasses

import pytest

from tests.notify.receivers import HttpReceiver, SmtpServer
from tests.security.conftest import make_api  # noqa: F401 - the API with settings per test


@pytest.fixture
def smtp():
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def receiver():
    http = HttpReceiver()
    await http.start()
    yield http
    await http.stop()


@pytest.fixture
def notify_settings(settings, smtp, receiver):
    return settings.model_copy(update={
        "public_url": "https://jit.example.com",
        "smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_tls": "none", "smtp_from": "jit@example.com",
        "slack_token": "xoxb-test", "slack_base_url": f"{receiver.url}/api/", "slack_audit_channel": "#jit-audit",
        "notify_webhook_urls": [f"{receiver.url}/hook"], "notify_webhook_secret": receiver.secret,
        "notify_send_timeout": 5.0, "notify_retry_base_seconds": 10.0,
    })


@pytest.fixture
async def world(demo, notify_settings, receiver):
    """The demo world with every channel configured against the local receivers."""
    demo.rt = dataclasses.replace(demo.rt, settings=notify_settings)
    for name in ("alice", "bob", "carol", "dave", "audrey", "admin", "maria", "erin"):
        receiver.slack_users[f"{name}@example.com"] = f"U{name.upper()}"
    return demo
