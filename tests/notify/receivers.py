"""Real receivers for the notification channels: an SMTP server (aiosmtpd), an HTTP
webhook receiver that verifies signatures the way docs/notifications.md tells receivers
to, and an HTTP endpoint that speaks the shape of Slack's Web API."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiohttp import web
from aiosmtpd.controller import Controller

from jit.demo.embedded import free_port


class SmtpServer:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        message = message_from_bytes(envelope.content, policy=policy.default)
        message["X-Envelope-To"] = ",".join(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 OK"

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()


def verify(secret: str, headers, body: bytes, tolerance: float = 300) -> str | None:
    """The receiver's recipe, written independently of jit.notify.channels.webhook."""
    timestamp = headers.get("X-JIT-Timestamp", "")
    signature = headers.get("X-JIT-Signature", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > tolerance:
        return "stale or missing timestamp"
    expected = "v1=" + hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        return "bad signature"
    return None


@dataclass
class HttpReceiver:
    """One aiohttp server that can go down and come back. Down, it drops every connection
    without an answer (what a client sees of a crashed or unreachable service); it keeps
    its port, so nothing else on a busy machine can take it meanwhile."""

    secret: str = "s3cret-for-tests"
    delay: float = 0.0
    port: int = field(default_factory=free_port)
    received: list[dict] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    slack_users: dict[str, str] = field(default_factory=dict)  # email -> Slack user id
    slack_posts: list[dict] = field(default_factory=list)
    is_down: bool = False
    dropped: int = 0
    _runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _drop(self, request: web.Request) -> None:
        self.dropped += 1
        if request.transport is not None:
            request.transport.abort()
        raise ConnectionResetError("the receiver is down")

    async def _hook(self, request: web.Request) -> web.Response:
        if self.is_down:
            self._drop(request)
        body = await request.read()
        problem = verify(self.secret, request.headers, body)
        if problem:
            self.rejected.append(problem)
            return web.Response(status=401, text=problem)
        self.received.append({"delivery": request.headers["X-JIT-Delivery"], "event": request.headers["X-JIT-Event"],
                              "body": json.loads(body)})
        if self.delay:
            await asyncio.sleep(self.delay)
        return web.Response(status=204)

    async def _slack(self, request: web.Request) -> web.Response:
        if self.is_down:
            self._drop(request)
        if request.headers.get("Authorization") != "Bearer xoxb-test":
            return web.json_response({"ok": False, "error": "invalid_auth"})
        method = request.match_info["method"]
        if request.content_type == "application/json":
            args = await request.json()
        else:
            args = dict(await request.post())
        args = {**dict(request.query), **args}
        if method == "users.lookupByEmail":
            user = self.slack_users.get(args.get("email", ""))
            if user is None:
                return web.json_response({"ok": False, "error": "users_not_found"})
            return web.json_response({"ok": True, "user": {"id": user}})
        if method == "chat.postMessage":
            if isinstance(args.get("blocks"), str):
                args["blocks"] = json.loads(args["blocks"])
            self.slack_posts.append(args)
            return web.json_response({"ok": True, "channel": args["channel"], "ts": f"{len(self.slack_posts)}.0"})
        return web.json_response({"ok": False, "error": "unknown_method"})

    async def up(self) -> None:
        self.is_down = False

    async def down(self) -> None:
        self.is_down = True

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook", self._hook)
        app.router.add_route("*", "/api/{method}", self._slack)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
