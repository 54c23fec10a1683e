"""Slack's request signing, checked before anything in a request is read: the signature
(v0 HMAC-SHA256 of "v0:<timestamp>:<body>" under the app's signing secret, through
slack-sdk's SignatureVerifier), a timestamp within five minutes, and no signature seen
before (remembered in Redis for longer than a timestamp stays acceptable)."""

from __future__ import annotations

import time
from collections.abc import Mapping

from slack_sdk.signature import SignatureVerifier

from jit.runtime import Runtime

TOLERANCE = 300  # seconds, as Slack recommends
SEEN = "jit:slack:seen:"


class Refused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


async def verify(rt: Runtime, headers: Mapping[str, str], body: bytes) -> None:
    secret = rt.settings.slack_signing_secret
    if not secret:  # never served without one (jit.slack.routes), checked again here
        raise Refused("no signing secret is configured")
    timestamp = headers.get("x-slack-request-timestamp", "")
    signature = headers.get("x-slack-signature", "")
    if not timestamp.isdigit() or not signature:
        raise Refused("unsigned request")
    if abs(time.time() - int(timestamp)) > TOLERANCE:
        raise Refused("stale timestamp")
    if not SignatureVerifier(secret).is_valid(body, timestamp, signature):
        raise Refused("bad signature")
    # Only a valid signature is remembered, so forgeries cannot fill Redis.
    if not await rt.redis.set(SEEN + signature, timestamp, ex=2 * TOLERANCE + 60, nx=True):
        raise Refused("replayed request")
