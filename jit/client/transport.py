"""GraphQL over HTTP (httpx) and graphql-transport-ws (websockets), with the retry policy.

Queries and subscriptions only read, so a network failure is retried with backoff.
A mutation is retried only when the connection could not be opened at all, because then
the server never saw it; once a request may have arrived, sending it again could act
twice, so the failure is reported instead.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from typing import Any

import httpx

from jit.client.config import ClientConfig
from jit.client.errors import ClientError, ExitCode

USER_AGENT = "jit-cli"
TIMEOUT = httpx.Timeout(30.0, connect=5.0)
# Seconds between attempts; the number of entries is the number of retries.
DEFAULT_BACKOFF = (0.5, 1.0, 2.0, 4.0)
RETRIED_STATUS = {502, 503, 504}


def _backoff() -> tuple[float, ...]:
    """JIT_CLIENT_RETRY_DELAYS="0.1,0.1" overrides the delays (tests, impatient scripts)."""
    raw = os.environ.get("JIT_CLIENT_RETRY_DELAYS")
    if raw is None:
        return DEFAULT_BACKOFF
    return tuple(float(part) for part in raw.split(",") if part.strip())


class _Retryable(Exception):
    def __init__(self, message: str, sent: bool) -> None:
        super().__init__(message)
        self.sent = sent


class GraphQLClient:
    def __init__(self, config: ClientConfig, backoff: tuple[float, ...] | None = None) -> None:
        self.config = config
        self.backoff = _backoff() if backoff is None else backoff
        self._http = httpx.Client(
            timeout=TIMEOUT,
            headers={"Authorization": f"Bearer {config.token}", "User-Agent": USER_AGENT},
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> GraphQLClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- HTTP ---------------------------------------------------------------------------

    def query(self, document: str, **variables: Any) -> dict[str, Any]:
        return self._execute(document, variables, safe=True)

    def mutate(self, document: str, **variables: Any) -> dict[str, Any]:
        return self._execute(document, variables, safe=False)

    def _execute(self, document: str, variables: dict[str, Any], safe: bool) -> dict[str, Any]:
        delays = list(self.backoff)
        while True:
            try:
                return self._post(document, variables)
            except _Retryable as exc:
                if not delays or (exc.sent and not safe):
                    hint = "" if safe or not exc.sent else "; it may or may not have been applied, check before retrying"
                    raise ClientError(f"cannot reach {self.config.server}: {exc}{hint}", ExitCode.UNREACHABLE) from None
                time.sleep(delays.pop(0))

    def _post(self, document: str, variables: dict[str, Any]) -> dict[str, Any]:
        try:
            response = self._http.post(self.config.graphql_url, json={"query": document, "variables": variables})
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise _Retryable(str(exc) or type(exc).__name__, sent=False) from None
        except httpx.TransportError as exc:
            raise _Retryable(str(exc) or type(exc).__name__, sent=True) from None
        if response.status_code in RETRIED_STATUS:
            raise _Retryable(f"HTTP {response.status_code}", sent=True)
        try:
            body = response.json()
        except ValueError:
            raise ClientError(f"{self.config.graphql_url} answered HTTP {response.status_code} without JSON; "
                              "is --server a JIT server?", ExitCode.ERROR) from None
        if response.status_code == 401:
            raise ClientError(f"the server refused the token: {_first_message(body)} (run `jit login` again)",
                              ExitCode.NOT_LOGGED_IN)
        if body.get("errors"):
            raise graphql_error(body["errors"])
        if response.status_code != 200 or not isinstance(body.get("data"), dict):
            raise ClientError(f"unexpected answer from the server: HTTP {response.status_code}", ExitCode.ERROR)
        data: dict[str, Any] = body["data"]
        return data

    # --- websocket ----------------------------------------------------------------------

    def subscribe(self, document: str, variables: dict[str, Any], deadline: float | None = None) -> Iterator[dict[str, Any]]:
        """Yields each result's `data` until the server completes, or `deadline` (monotonic)
        passes. A dropped connection is reopened: the subscriptions of this API start with
        the current state, so nothing is lost by reconnecting."""
        delays = list(self.backoff)
        while True:
            try:
                for data in self._subscribe_once(document, variables, deadline):
                    delays = list(self.backoff)
                    yield data
                return
            except _Retryable as exc:
                if not delays:
                    raise ClientError(f"cannot reach {self.config.server}: {exc}", ExitCode.UNREACHABLE) from None
                time.sleep(delays.pop(0))

    def _subscribe_once(self, document: str, variables: dict[str, Any], deadline: float | None) -> Iterator[dict[str, Any]]:
        from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
        from websockets.sync.client import connect
        from websockets.typing import Subprotocol

        try:
            ws = connect(self.config.websocket_url, subprotocols=[Subprotocol("graphql-transport-ws")], open_timeout=10,
                         user_agent_header=USER_AGENT)
        except InvalidStatus as exc:
            if exc.response.status_code in RETRIED_STATUS:
                raise _Retryable(f"HTTP {exc.response.status_code}", sent=True) from None
            raise ClientError(f"websocket refused: HTTP {exc.response.status_code}", ExitCode.ERROR) from None
        except (OSError, TimeoutError, InvalidHandshake) as exc:
            raise _Retryable(str(exc) or type(exc).__name__, sent=False) from None
        with ws:
            try:
                ws.send(json.dumps({"type": "connection_init",
                                    "payload": {"Authorization": f"Bearer {self.config.token}"}}))
                ack = json.loads(ws.recv(timeout=15))
                if ack.get("type") != "connection_ack":
                    raise ClientError(f"unexpected websocket message {ack.get('type')!r}", ExitCode.ERROR)
                ws.send(json.dumps({"id": "1", "type": "subscribe",
                                    "payload": {"query": document, "variables": variables}}))
                while True:
                    message = json.loads(self._recv(ws, deadline))
                    kind = message.get("type")
                    if kind == "ping":
                        ws.send(json.dumps({"type": "pong"}))
                    elif kind == "next":
                        payload = message.get("payload") or {}
                        if payload.get("errors"):
                            raise graphql_error(payload["errors"])
                        yield payload.get("data") or {}
                    elif kind == "error":
                        raise graphql_error(message.get("payload") or [])
                    elif kind == "complete":
                        return
            except ConnectionClosed as exc:
                closed = exc.rcvd
                if closed is not None and closed.code == 4403:
                    raise ClientError(f"the server refused the token: {closed.reason} (run `jit login` again)",
                                      ExitCode.NOT_LOGGED_IN) from None
                if closed is not None and 4000 <= closed.code < 5000:
                    raise ClientError(f"the server closed the subscription: {closed.reason or closed.code}",
                                      ExitCode.ERROR) from None
                raise _Retryable("the connection was lost", sent=True) from None
            except (OSError, TimeoutError) as exc:
                raise _Retryable(str(exc) or type(exc).__name__, sent=True) from None

    @staticmethod
    def _recv(ws: Any, deadline: float | None) -> str:
        # The server sends text frames only (graphql-transport-ws).
        if deadline is None:
            text: str = ws.recv()
            return text
        remaining = deadline - time.monotonic()
        try:
            if remaining <= 0:
                raise TimeoutError
            text = ws.recv(timeout=remaining)
            return text
        except TimeoutError:
            raise ClientError("--timeout passed before the ticket got there", ExitCode.TIMEOUT) from None


def _first_message(body: Any) -> str:
    if isinstance(body, dict) and body.get("errors"):
        return str(body["errors"][0].get("message", ""))
    return ""


def graphql_error(errors: list[dict[str, Any]]) -> ClientError:
    """Top-level GraphQL errors: an operation this server lacks, or a message worth showing."""
    message = str(errors[0].get("message", "unknown error")) if errors else "unknown error"
    if message.startswith(("Cannot query field", "Unknown type")):
        # What an older server says about an operation it does not have.
        return ClientError(f"the server does not support this operation ({message})", ExitCode.UNSUPPORTED)
    return ClientError(message, ExitCode.ERROR)
