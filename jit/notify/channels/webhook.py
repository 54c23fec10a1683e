"""Generic webhooks (Teams, PagerDuty, a SIEM): JSON, signed so a receiver can verify it.

Headers: X-JIT-Timestamp (unix seconds), X-JIT-Signature ("v1=" + hex HMAC-SHA256 of
"<timestamp>.<body>" under notify_webhook_secret), X-JIT-Delivery (stable across retries,
for receivers that drop repeats) and X-JIT-Event. A receiver rejects a signature that
does not match and a timestamp older than its tolerance (replays)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlsplit

import httpx

from jit.config import Settings
from jit.notify.channels import Undeliverable
from jit.notify.templates import Message


def configured(settings: Settings) -> bool:
    return bool(settings.notify_webhook_urls)


def target_name(url: str) -> str:
    """A stable name for a webhook that does not reveal its URL (which often holds a token)."""
    host = urlsplit(url).hostname or "webhook"
    return f"{host}#{hashlib.sha256(url.encode()).hexdigest()[:12]}"


def targets(settings: Settings) -> dict[str, str]:
    return {target_name(url): url for url in settings.notify_webhook_urls}


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"v1={digest}"


def verify(secret: str, timestamp: str, body: bytes, signature: str, *, now: float | None = None,
           tolerance: float = 300.0) -> bool:
    """What a receiver does (docs/notifications.md has the same recipe to copy)."""
    try:
        age = abs((time.time() if now is None else now) - int(timestamp))
    except ValueError:
        return False
    return age <= tolerance and hmac.compare_digest(sign(secret, timestamp, body), signature)


def body(message: Message, delivery_id: int, notification: dict[str, Any]) -> bytes:
    return json.dumps({
        "delivery": delivery_id, "kind": message.kind, "title": message.title, "text": message.text(),
        "lines": message.lines, "url": message.url, **notification,
    }, separators=(",", ":"), sort_keys=True).encode()


async def send(settings: Settings, message: Message, target: str, delivery_id: int, notification: dict[str, Any]) -> None:
    url = targets(settings).get(target)
    if url is None:
        raise Undeliverable("this webhook is no longer configured")
    payload = body(message, delivery_id, notification)
    timestamp = str(int(time.time()))
    headers = {"Content-Type": "application/json", "X-JIT-Timestamp": timestamp,
               "X-JIT-Delivery": str(delivery_id), "X-JIT-Event": message.kind}
    if settings.notify_webhook_secret:
        headers["X-JIT-Signature"] = sign(settings.notify_webhook_secret, timestamp, payload)
    async with httpx.AsyncClient(timeout=settings.notify_send_timeout) as http:
        response = await http.post(url, content=payload, headers=headers)
    if response.status_code < 300:
        return
    if 400 <= response.status_code < 500 and response.status_code not in (408, 409, 425, 429):
        raise Undeliverable(f"the webhook answered {response.status_code}")
    raise RuntimeError(f"the webhook answered {response.status_code}")
