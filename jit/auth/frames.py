"""Websocket frame sizes: small until the connection is signed in, larger after.

uvicorn refuses frames over JIT_WS_MAX_FRAME_BYTES itself (`ws_max_size`, so it never
buffers more); this wrapper of the ASGI `receive` also holds a socket that has not been
acknowledged to JIT_WS_MAX_FRAME_BYTES_BEFORE_INIT, since an unauthenticated client has
no business sending more than a connection_init. Over the limit: close 1009.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from jit.config import Settings

LIMIT_KEY = "jit.ws_frame_limit"
TOO_BIG = 1009

Message = MutableMapping[str, Any]


def signed_in(scope: MutableMapping[str, Any], settings: Settings) -> None:
    """Raise the socket's frame limit once its connection_init is acknowledged."""
    scope[LIMIT_KEY] = settings.ws_max_frame_bytes


def _size(message: Message, limit: int) -> int:
    text = message.get("text")
    if text is not None:
        # A character is at most 4 bytes in UTF-8: encode only when it could matter.
        return len(text) if len(text) * 4 <= limit else len(text.encode())
    return len(message.get("bytes") or b"")


def limit_frames(
    scope: MutableMapping[str, Any], receive: Callable[[], Awaitable[Message]],
    send: Callable[[Message], Awaitable[None]], settings: Settings,
) -> Callable[[], Awaitable[Message]]:
    scope.setdefault(LIMIT_KEY, settings.ws_max_frame_bytes_before_init)

    async def limited() -> Message:
        message = await receive()
        if message["type"] == "websocket.receive":
            limit = scope[LIMIT_KEY]
            if _size(message, limit) > limit:
                await send({"type": "websocket.close", "code": TOO_BIG,
                            "reason": f"frames are limited to {limit} bytes here"})
                return {"type": "websocket.disconnect", "code": TOO_BIG}
        return message

    return limited


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """What `jit serve` passes to uvicorn so it never reads a frame beyond the limit."""
    return {"ws_max_size": settings.ws_max_frame_bytes}
