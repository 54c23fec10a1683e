"""Refuses malformed requests before anything parses them: control characters in the path,
and JSON bodies nested deeper than JIT_MAX_JSON_DEPTH.

Without it, `GET /%00` reached the console's file lookup ("embedded null byte", a 500) and
variables nested 1,000 deep overflowed the JSON parser's recursion (a 500 from outside
every middleware, so without the security headers, and a traceback in the log). Each
refusal here is a 400 with a short JSON body and one log line.
"""

from __future__ import annotations

import json
import logging
import re
from itertools import accumulate
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

# C0 controls and DEL, as the path arrives percent-decoded in the ASGI scope.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# A JSON string, escapes included: brackets inside one do not nest anything.
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(rb"[^\[\]{}]")


def json_depth(body: bytes) -> int:
    """How deep the arrays and objects of a JSON text nest (0 for a scalar), without parsing
    it; malformed text gets some number, and the JSON parser refuses it after."""
    if body.count(b"{") + body.count(b"[") == 0:
        return 0
    brackets = _NOT_BRACKET.sub(b"", _JSON_STRING.sub(b"", body))
    return max(accumulate(1 if c in b"[{" else -1 for c in brackets), default=0)


def _refusal(message: str) -> tuple[dict[str, Any], dict[str, Any]]:
    body = json.dumps({"errors": [{"message": message, "extensions": {"code": "BAD_REQUEST"}}]}).encode()
    start = {"type": "http.response.start", "status": 400,
             "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]}
    return start, {"type": "http.response.body", "body": body}


class InputGuard:
    def __init__(self, app: ASGIApp, max_json_depth: int) -> None:
        self.app = app
        self.max_json_depth = max_json_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        if _CONTROL.search(path):
            log.info("refused a request: control characters in the path %r", path[:200])
            if scope["type"] == "websocket":
                return await send({"type": "websocket.close", "code": 1008})
            return await self._send(send, "the path contains control characters")
        if scope["type"] != "http" or scope.get("method") not in ("POST", "PUT", "PATCH"):
            return await self.app(scope, receive, send)
        content_type = dict(scope.get("headers") or []).get(b"content-type", b"")
        if b"json" not in content_type.lower():
            return await self.app(scope, receive, send)
        # The body limit (outside this middleware) has already capped how much is read here.
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        depth = json_depth(body)
        if depth > self.max_json_depth:
            log.info("refused a request: JSON nested %d deep (at most %d) on %s", depth, self.max_json_depth, path)
            return await self._send(send, f"the JSON body nests deeper than {self.max_json_depth} levels")
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    @staticmethod
    async def _send(send: Send, message: str) -> None:
        start, body = _refusal(message)
        await send(start)
        await send(body)
