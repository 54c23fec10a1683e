"""Log lines as JSON (JIT_LOG_FORMAT=json) or text, each carrying the request id and the
ticket id of the work it belongs to.

The ids live in context variables: set once where a request or a job starts (or where a
ticket is first known), they reach every log line of that task and of the tasks it starts.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jit.auth.redact import install_log_redaction, redact
from jit.config import Settings

request_id: ContextVar[str | None] = ContextVar("jit_request_id", default=None)
ticket_id: ContextVar[str | None] = ContextVar("jit_ticket_id", default=None)
job_id: ContextVar[str | None] = ContextVar("jit_job_id", default=None)

REQUEST_ID_HEADER = "x-request-id"
# A caller's id is kept only if it is short and plain, and not something the log redaction
# would hide (an API token): it is echoed and logged verbatim, outside that redaction.
_ACCEPTABLE_ID = re.compile(r"[A-Za-z0-9._\-]{1,64}")

# LogRecord attributes that are not a caller's `extra` (uvicorn adds an ANSI-coloured copy
# of its message as color_message).
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "color_message"}


def set_ticket(value: object) -> None:
    """Marks the rest of this task's log lines as being about this ticket."""
    ticket_id.set(str(value) if value is not None else None)


def incoming_request_id(raw: bytes | str | None) -> str:
    text = raw.decode("latin-1") if isinstance(raw, bytes) else raw
    if text and _ACCEPTABLE_ID.fullmatch(text) and redact(text) == text:
        return text
    return uuid.uuid4().hex


def _context() -> dict[str, str]:
    found = {"request_id": request_id.get(), "ticket_id": ticket_id.get(), "job_id": job_id.get()}
    return {k: v for k, v in found.items() if v}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the context ids, any `extra`."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        line.update(_context())
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_") and key not in line:
                # The redaction factory cleans the message and its arguments, not `extra`.
                line[key] = value if isinstance(value, (int, float, bool)) or value is None else redact(str(value))
        if record.exc_info and record.exc_info[0] is not None:
            # The redaction factory has already cleaned exc_text.
            line["exception"] = record.exc_text or self.formatException(record.exc_info)
        return json.dumps(line, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        ids = " ".join(f"{k}={v}" for k, v in _context().items())
        return f"{text} [{ids}]" if ids else text


def configure_logging(settings: Settings) -> None:
    """Root logging for `jit serve` and `jit worker`: one handler on stderr, redaction on,
    in settings.log_format at settings.log_level."""
    install_log_redaction()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if settings.log_format == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    # uvicorn and arq configure their own loggers when left alone; send them through ours.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "arq", "arq.worker", "arq.jobs"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True


class RequestIdMiddleware:
    """Takes the request id from X-Request-Id (or makes one), keeps it for the request's log
    lines and echoes it in the response, so a user's report can be matched to the logs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        raw = dict(scope.get("headers") or []).get(REQUEST_ID_HEADER.encode())
        rid = incoming_request_id(raw)
        token_r, token_t = request_id.set(rid), ticket_id.set(None)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != REQUEST_ID_HEADER.encode()]
                headers.append((REQUEST_ID_HEADER.encode(), rid.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id.reset(token_r)
            ticket_id.reset(token_t)
