"""Real receivers for the notification channels: an SMTP server (aiosmtpd), an HTTP
webhook receiver that verifies signatures the way docs/notifications.md tells receivers
to, and an HTTP endpoint that speaks the shape of Slack's Web API: the methods JIT calls
(users.lookupByEmail, users.info, chat.postMessage, chat.update, chat.postEphemeral,
views.open) and the response_url an interaction answers through. It keeps every message
by (channel, ts) as Slack shows it now."""

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
    # What Slack shows now, by (channel, ts), and every call that changed or added to it.
    slack_messages: dict[tuple[str, str], dict] = field(default_factory=dict)
    slack_updates: list[dict] = field(default_factory=list)
    slack_ephemerals: list[dict] = field(default_factory=list)
    slack_views: list[dict] = field(default_factory=list)
    slack_responses: list[dict] = field(default_factory=list)  # posted to a response_url
    slack_calls: list[str] = field(default_factory=list)
    slack_unmapped: set[str] = field(default_factory=set)  # Slack users with no email
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
        for key in ("blocks", "view"):
            if isinstance(args.get(key), str):
                args[key] = json.loads(args[key])
        self.slack_calls.append(method)
        if method == "users.info":
            email = next((e for e, u in self.slack_users.items() if u == args.get("user")), None)
            if email is None and args.get("user") not in self.slack_unmapped:
                return web.json_response({"ok": False, "error": "user_not_found"})
            profile = {"email": email} if email else {}
            return web.json_response({"ok": True, "user": {"id": args["user"], "deleted": False, "profile": profile}})
        if method == "chat.update":
            key = (args.get("channel", ""), args.get("ts", ""))
            if key not in self.slack_messages:
                return web.json_response({"ok": False, "error": "message_not_found"})
            self.slack_messages[key] = {**self.slack_messages[key], "text": args.get("text"), "blocks": args.get("blocks")}
            self.slack_updates.append(args)
            return web.json_response({"ok": True, "channel": key[0], "ts": key[1]})
        if method == "chat.postEphemeral":
            self.slack_ephemerals.append(args)
            return web.json_response({"ok": True, "message_ts": "1.1"})
        if method == "views.open":
            if not args.get("trigger_id"):
                return web.json_response({"ok": False, "error": "invalid_trigger_id"})
            self.slack_views.append(args)
            return web.json_response({"ok": True, "view": {"id": f"V{len(self.slack_views)}", **args["view"]}})
        if method == "users.lookupByEmail":
            user = self.slack_users.get(args.get("email", ""))
            if user is None:
                return web.json_response({"ok": False, "error": "users_not_found"})
            return web.json_response({"ok": True, "user": {"id": user}})
        if method == "chat.postMessage":
            self.slack_posts.append(args)
            # Like Slack, a message to a person lands in the direct-message channel with them.
            channel = "D" + args["channel"][1:] if args["channel"].startswith("U") else args["channel"]
            ts = f"{len(self.slack_posts)}.0"
            self.slack_messages[(channel, ts)] = {"text": args.get("text"), "blocks": args.get("blocks"),
                                                  "to": args["channel"]}
            return web.json_response({"ok": True, "channel": channel, "ts": ts})
        return web.json_response({"ok": False, "error": "unknown_method"})

    async def _respond(self, request: web.Request) -> web.Response:
        if self.is_down:
            self._drop(request)
        self.slack_responses.append({"to": request.match_info["who"], **(await request.json())})
        return web.json_response({"ok": True})

    async def up(self) -> None:
        self.is_down = False

    async def down(self) -> None:
        self.is_down = True

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook", self._hook)
        app.router.add_route("*", "/api/{method}", self._slack)
        app.router.add_post("/respond/{who}", self._respond)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
