"""The outbox's promise, with real processes: Slack and the webhook are down while
notifications pile up, then recover; the `jit worker` delivering them is killed (SIGKILL)
mid-delivery and another takes over. Every notification is delivered, none is lost, and
the duplicates (at least once, not exactly once) are counted and reported.

Run by `make test-notify` (and `make test-all`)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest

from jit.notify.models import Channel, DeliveryStatus, NotificationDelivery
from jit.tickets.models import Ticket

TICKETS = 20
LEASE = 6


def _start_worker(world, smtp, receiver, log_path: str) -> subprocess.Popen:
    s = world.rt.settings
    env = {
        **os.environ, "JIT_MODE": "test", "JIT_DATABASE_URL": s.database_url, "JIT_REDIS_URL": s.redis_url,
        "JIT_AWS_ENDPOINT_URL": s.aws_endpoint_url, "JIT_AWS_REGION": s.aws_region,
        "JIT_PUBLIC_URL": "https://jit.example.com", "JIT_RECONCILE_INTERVAL": "60", "JIT_SYNC_INTERVAL": "86400",
        "JIT_NOTIFY_INTERVAL": "1", "JIT_NOTIFY_LEASE_SECONDS": str(LEASE),
        "JIT_NOTIFY_RETRY_BASE_SECONDS": "0.5", "JIT_NOTIFY_RETRY_MAX_SECONDS": "2", "JIT_NOTIFY_SEND_TIMEOUT": "2",
        "JIT_SMTP_HOST": "127.0.0.1", "JIT_SMTP_PORT": str(smtp.port), "JIT_SMTP_TLS": "none",
        "JIT_SMTP_FROM": "jit@example.com", "JIT_SLACK_TOKEN": "xoxb-test",
        "JIT_SLACK_BASE_URL": f"{receiver.url}/api/", "JIT_SLACK_AUDIT_CHANNEL": "#jit-audit",
        "JIT_NOTIFY_WEBHOOK_URLS": f"{receiver.url}/hook", "JIT_NOTIFY_WEBHOOK_SECRET": receiver.secret,
    }
    log = open(log_path, "ab")
    return subprocess.Popen([sys.executable, "-m", "jit.cli", "worker"], env=env, stdout=log, stderr=log)


async def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await predicate():
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_a_channel_outage_and_a_killed_worker_lose_no_notification(world, smtp, receiver, tmp_path):
    await receiver.down()  # Slack and the webhook are down from the start
    receiver.delay = 0.5  # a slow receiver, so the kill lands while deliveries are in flight
    for i in range(TICKETS):
        await world.request("alice" if i % 2 else "erin", [("payments-dev", "PowerUserAccess")],
                            justification=f"change {i}")
    assert await Ticket.all().count() == TICKETS
    log = str(tmp_path / "workers.log")
    first = _start_worker(world, smtp, receiver, log)
    second = None
    try:
        # Email is up: it is delivered; Slack and the webhook keep failing and backing off.
        async def emails_done_and_others_retried() -> bool:
            if len(smtp.messages) < 2 * TICKETS:
                return False
            others = await NotificationDelivery.exclude(channel=Channel.EMAIL)
            return bool(others) and all(d.attempts >= 2 and d.status == DeliveryStatus.PENDING for d in others)

        await _wait(emails_done_and_others_retried, 90, "emails delivered and the rest retried")
        assert first.poll() is None
        outage_attempts = sum(d.attempts for d in await NotificationDelivery.exclude(channel=Channel.EMAIL))

        await receiver.up()

        async def some_in_flight() -> bool:
            return len(receiver.received) >= 3

        await _wait(some_in_flight, 60, "webhook deliveries after recovery")
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        held = await NotificationDelivery.filter(status=DeliveryStatus.PENDING).exclude(leased_until=None).count()

        second = _start_worker(world, smtp, receiver, log)

        async def all_delivered() -> bool:
            return not await NotificationDelivery.exclude(status=DeliveryStatus.DELIVERED).exists()

        await _wait(all_delivered, 120, "every delivery")
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()

    rows = await NotificationDelivery.all()
    expected = {str(r.id) for r in rows}
    seen = Counter(
        [m["X-JIT-Delivery"] for m in smtp.messages]
        + [r["delivery"] for r in receiver.received]
        + [p["metadata"]["event_payload"]["delivery"] for p in receiver.slack_posts]
    )
    lost = expected - set(seen)
    duplicates = sum(n - 1 for n in seen.values())
    print(f"\noutbox promise: {len(rows)} deliveries for {TICKETS} tickets; "
          f"{outage_attempts} attempts during the outage; {held} leased by the killed worker; "
          f"{sum(seen.values())} received, {len(lost)} lost, {duplicates} duplicates "
          f"({Counter(r.channel.value for r in rows if seen[str(r.id)] > 1)})")
    assert len(rows) == TICKETS * 6  # two approvers x (email + Slack) + the webhook + the Slack audit channel
    assert not lost
    assert set(seen) == expected  # nothing delivered that the outbox does not hold
    assert receiver.rejected == []  # every webhook carried a valid signature
    # At least once: a delivery is repeated only if the killed worker held it when it died.
    assert duplicates <= held
    assert all(r.status == DeliveryStatus.DELIVERED and r.delivered_at for r in rows)
