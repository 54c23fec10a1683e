"""A small fault-injecting HTTP proxy in front of moto, for the AWS behaviour moto cannot
produce: throttling, requests that stay IN_PROGRESS, and requests that end FAILED.

The AWS client under test talks to this proxy as its endpoint; everything not matched by
a fault is forwarded to moto unchanged.

Quota mode (`proxy.quota(...)`, off by default) makes the proxy behave like IAM Identity
Center's documented limits rather than like moto (see tests/support/quota.py):

- one token bucket of `rate` calls/s (`burst` deep) over every sso-admin operation (every
  x-amz-target `SWBExternalService.*`), shared by all callers; an empty bucket answers
  HTTP 400 ThrottlingException "Rate exceeded" and the call never reaches moto;
- CreateAccountAssignment/DeleteAccountAssignment are refused the same way while
  `max_outstanding` of them are still IN_PROGRESS;
- creates and deletes are answered IN_PROGRESS at once with a proxy-made RequestId and
  forwarded to moto only when they settle, `uniform(*settle)` seconds later (seeded):
  until then ListAccountAssignments shows the old state, as in AWS. Writes to one
  assignment settle in the order they were asked for. Settling happens on the proxy's
  loop whether or not anyone polls, and every request first waits for writes that are due,
  so nothing is seen half-settled. Describe...Status for a proxy request id answers
  IN_PROGRESS, then SUCCEEDED, or FAILED with moto's error as the FailureReason.
- Deleting an assignment that does not exist: moto answers ResourceNotFoundException
  with no message; AWS's behaviour is not documented (it may accept the request and fail
  it later, or succeed). We answer IN_PROGRESS like any delete and settle it FAILED with
  "the account assignment does not exist", so a caller that treats such a FAILED as
  "already gone" is exercised.

`proxy.stats()` / `proxy.reset_stats()` count calls and throttles and list every settle;
`GET /_proxy/stats`, `POST /_proxy/stats/reset` and `POST /_proxy/quota` (JSON quota
settings, or {"off": true}) do the same for other processes. `python -m tests.support.fault_proxy --upstream URL
--quota` runs one standalone.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import threading
import time
import uuid
from dataclasses import dataclass, field

import httpx
import uvicorn
from starlette.requests import Request
from starlette.responses import Response

from jit.demo.embedded import free_port
from tests.support.quota import WRITES, PendingWrite, QuotaSettings, QuotaState

SSO_ADMIN_TARGET = "SWBExternalService."  # botocore's targetPrefix for sso-admin


@dataclass
class Faults:
    throttle: dict[str, int] = field(default_factory=dict)  # operation -> times left
    in_progress_polls: int = 0  # status polls answered IN_PROGRESS before the real answer
    fail_accounts: set[str] = field(default_factory=set)  # CreateAccountAssignment here ends FAILED
    fail_deletes: set[str] = field(default_factory=set)  # DeleteAccountAssignment here ends FAILED
    # Rates (0..1) applied to sso-admin calls, for the fault-injection suite.
    throttle_rate: float = 0.0
    conflict_rate: float = 0.0
    error_rate: float = 0.0  # 500 InternalServerException / 503 ServiceUnavailable
    latency: float = 0.0  # seconds added to every request
    status_latency: float = 0.0  # seconds added to every status poll (a slow AWS)
    deletion_latency: float = 0.0  # seconds added to every deletion status poll
    deletion_in_progress_polls: int = 0  # each deletion answers IN_PROGRESS this many times first
    # operation -> (error code, message, HTTP status[, text the request body must contain]),
    # e.g. ResourceNotFoundException for a permission set deleted in AWS.
    error_code: dict[str, tuple] = field(default_factory=dict)
    seen: list[str] = field(default_factory=list)
    _failed_requests: dict[str, int] = field(default_factory=dict)  # request id -> polls so far
    _failed_deletes: dict[str, int] = field(default_factory=dict)
    _slow_deletes: dict[str, int] = field(default_factory=dict)
    _random: random.Random = field(default_factory=random.Random)

    def seed(self, value: int) -> None:
        self._random.seed(value)


class FaultProxy:
    def __init__(self, upstream: str, port: int | None = None, host: str = "127.0.0.1") -> None:
        self.upstream = upstream
        self.faults = Faults()
        self.host = host
        self.port = port or free_port(host)
        self.url = f"http://{host}:{self.port}"
        self._quota = QuotaState()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._client: httpx.AsyncClient | None = None

    def reset(self) -> None:
        """No faults, quota mode off, stats cleared; writes not yet settled never will be."""
        self.faults = Faults()
        old, self._quota = self._quota, QuotaState()
        if self._loop is not None:
            for write in old.writes.values():
                if write.task is not None:
                    self._loop.call_soon_threadsafe(write.task.cancel)

    def quota(self, rate: float | None = 20.0, burst: int = 20, max_outstanding: int = 15,
              settle: tuple[float, float] = (1.0, 3.0), seed: int | None = 0) -> None:
        """Quota mode on with these limits, or off with `quota(None)`. Writes already
        accepted still settle when quota mode goes off."""
        if rate is None:
            self._quota.configure(None)
        else:
            self._quota.configure(QuotaSettings(rate=rate, burst=burst, max_outstanding=max_outstanding,
                                                settle=(float(settle[0]), float(settle[1])), seed=seed))

    def stats(self) -> dict:
        """{"quota": settings or None, "calls": {op: n}, "throttled": {op: {"rate": n,
        "outstanding": n}}, "outstanding": n, "max_outstanding_seen": n, "settles": [...]}"""
        return self._quota.stats()

    def reset_stats(self) -> None:
        self._quota.reset_stats()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        self._loop = asyncio.get_running_loop()
        request = Request(scope, receive)
        body = await request.body()
        if request.url.path.startswith("/_proxy/"):
            response = self._control(request, body)
            await response(scope, receive, send)
            return
        target = request.headers.get("x-amz-target", "")
        operation = target.rsplit(".", 1)[-1]
        self.faults.seen.append(operation)
        if self.faults.latency:
            await asyncio.sleep(self.faults.latency)
        if self.faults.status_latency and operation.endswith(("CreationStatus", "DeletionStatus")):
            await asyncio.sleep(self.faults.status_latency)
        if self.faults.deletion_latency and operation.endswith("DeletionStatus"):
            await asyncio.sleep(self.faults.deletion_latency)
        await self._catch_up()
        response = None
        if target.startswith(SSO_ADMIN_TARGET):
            reason = self._quota.admit(operation)
            if reason is not None:
                response = _json({"__type": "ThrottlingException", "message": "Rate exceeded"}, 400)
        response = (response or self._fault(operation, body) or await self._quota_answer(request, operation, body)
                    or await self._forward(request, body))
        await response(scope, receive, send)

    # --- quota mode ----------------------------------------------------------------------

    def _control(self, request: Request, body: bytes) -> Response:
        path = request.url.path
        if path == "/_proxy/stats" and request.method == "GET":
            return _json(self.stats())
        if path == "/_proxy/stats/reset" and request.method == "POST":
            self.reset_stats()
            return _json(self.stats())
        if path == "/_proxy/quota" and request.method == "POST":
            try:
                data = json.loads(body or b"{}")
                if data.get("off"):
                    self._quota.configure(None)
                else:
                    self._quota.configure(QuotaSettings.from_dict(data))
            except (ValueError, TypeError, AttributeError) as exc:
                return _json({"error": str(exc)}, 400)
            return _json(self.stats())
        return _json({"error": f"no {request.method} {path}"}, 404)

    async def _quota_answer(self, request: Request, operation: str, body: bytes) -> Response | None:
        """A write deferred to its settle moment, or the status of one; None otherwise."""
        q = self._quota
        if operation in WRITES and q.settings is not None:
            params = json.loads(body)
            headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
            write, before = q.defer({"request_id": str(uuid.uuid4()), "operation": operation, "params": params,
                                     "body": body, "path": request.url.path, "headers": headers,
                                     "requested_at": time.time()})
            write.task = asyncio.get_running_loop().create_task(self._settle(q, write, before))
            return _json({_status_key(operation): write.status_document()})
        if operation in ("DescribeAccountAssignmentCreationStatus", "DescribeAccountAssignmentDeletionStatus"):
            params = json.loads(body)
            request_id = (params.get("AccountAssignmentCreationRequestId")
                          or params.get("AccountAssignmentDeletionRequestId"))
            write = q.writes.get(request_id)
            if write is None:
                return None
            return _json({_status_key(write.operation): write.status_document()})
        return None

    async def _settle(self, q: QuotaState, write: PendingWrite, before: PendingWrite | None) -> None:
        if before is not None and before.task is not None:
            await asyncio.gather(asyncio.shield(before.task), return_exceptions=True)
        await asyncio.sleep(max(0.0, write.settle_at - time.monotonic()))
        try:
            upstream = await self._upstream("POST", write.path, None, write.body, write.headers)
        except httpx.HTTPError as exc:
            q.settled(write, "FAILED", f"Internal failure: {exc!r}")
            return
        if upstream.status_code == 200:
            q.settled(write, "SUCCEEDED", None)
            return
        try:
            error = json.loads(upstream.content)
        except ValueError:
            error = {}
        code = str(error.get("__type", f"HTTP {upstream.status_code}")).rsplit("#", 1)[-1]
        if write.operation == "DeleteAccountAssignment" and code == "ResourceNotFoundException":
            reason = "The account assignment does not exist"
        else:
            reason = f"{code}: {error.get('message') or error.get('Message') or ''}".rstrip(": ")
        q.settled(write, "FAILED", reason)

    async def _catch_up(self) -> None:
        """Wait for writes whose settle moment has passed, so no answer sees them half done."""
        due = [w.task for w in self._quota.due() if w.task is not None]
        if due:
            await asyncio.gather(*(asyncio.shield(t) for t in due), return_exceptions=True)

    def _fault(self, operation: str, body: bytes) -> Response | None:
        f = self.faults
        if operation in f.error_code:
            code, message, status, *match = f.error_code[operation]
            if not match or match[0].encode() in body:
                return _json({"__type": code, "message": message}, status)
        if operation and target_is_sso(operation):
            roll = f._random.random()
            if roll < f.throttle_rate:
                return _json({"__type": "ThrottlingException", "message": "Rate exceeded"}, 400)
            roll -= f.throttle_rate
            if roll < f.error_rate:
                if f._random.random() < 0.5:
                    return _json({"__type": "InternalServerException", "message": "internal error"}, 500)
                return _json({"__type": "ServiceUnavailableException", "message": "unavailable"}, 503)
            roll -= f.error_rate
            if roll < f.conflict_rate and operation in ("CreateAccountAssignment", "DeleteAccountAssignment"):
                return _json({"__type": "ConflictException",
                              "message": "An operation on this permission set is in progress"}, 409)
        if operation == "DeleteAccountAssignment" and json.loads(body).get("TargetId") in f.fail_deletes:
            request_id = str(uuid.uuid4())
            f._failed_deletes[request_id] = 0
            params = json.loads(body)
            return _json({"AccountAssignmentDeletionStatus": {
                "Status": "IN_PROGRESS", "RequestId": request_id, "TargetId": params["TargetId"],
                "TargetType": "AWS_ACCOUNT", "PermissionSetArn": params["PermissionSetArn"],
                "PrincipalType": params["PrincipalType"], "PrincipalId": params["PrincipalId"]}})
        if operation == "DescribeAccountAssignmentDeletionStatus":
            request_id = json.loads(body)["AccountAssignmentDeletionRequestId"]
            if request_id in f._failed_deletes:
                f._failed_deletes[request_id] += 1
                status = "IN_PROGRESS" if f._failed_deletes[request_id] < 2 else "FAILED"
                return _json({"AccountAssignmentDeletionStatus": {
                    "Status": status, "RequestId": request_id,
                    **({"FailureReason": "Internal failure deleting the assignment"} if status == "FAILED" else {})}})
        if operation == "DescribeAccountAssignmentDeletionStatus" and f.deletion_in_progress_polls:
            request_id = json.loads(body)["AccountAssignmentDeletionRequestId"]
            polls = f._slow_deletes[request_id] = f._slow_deletes.get(request_id, 0) + 1
            if polls <= f.deletion_in_progress_polls:
                return _json({"AccountAssignmentDeletionStatus": {"Status": "IN_PROGRESS", "RequestId": request_id}})
        if f.throttle.get(operation, 0) > 0:
            f.throttle[operation] -= 1
            return _json({"__type": "ThrottlingException", "message": "Rate exceeded"}, 400)
        if operation == "CreateAccountAssignment" and json.loads(body).get("TargetId") in f.fail_accounts:
            request_id = str(uuid.uuid4())
            f._failed_requests[request_id] = 0
            params = json.loads(body)
            return _json({"AccountAssignmentCreationStatus": {
                "Status": "IN_PROGRESS", "RequestId": request_id, "TargetId": params["TargetId"],
                "TargetType": "AWS_ACCOUNT", "PermissionSetArn": params["PermissionSetArn"],
                "PrincipalType": params["PrincipalType"], "PrincipalId": params["PrincipalId"]}})
        if operation == "DescribeAccountAssignmentCreationStatus":
            request_id = json.loads(body)["AccountAssignmentCreationRequestId"]
            if request_id in f._failed_requests:
                f._failed_requests[request_id] += 1
                status = "IN_PROGRESS" if f._failed_requests[request_id] < 2 else "FAILED"
                return _json({"AccountAssignmentCreationStatus": {
                    "Status": status, "RequestId": request_id,
                    **({"FailureReason": "Received a 404 status error: Not supported account"}
                       if status == "FAILED" else {})}})
        return None

    async def _upstream(self, method: str, path: str, params, body: bytes, headers: dict) -> httpx.Response:
        if self._client is None:  # one pooled client, on the proxy's own event loop
            self._client = httpx.AsyncClient(base_url=self.upstream, timeout=30,
                                             limits=httpx.Limits(max_connections=50))
        return await self._client.request(method, path, params=params, content=body, headers=headers)

    async def _forward(self, request: Request, body: bytes) -> Response:
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
        upstream = await self._upstream(request.method, request.url.path, request.query_params, body, headers)
        content = upstream.content
        target = request.headers.get("x-amz-target", "")
        if self.faults.in_progress_polls > 0 and target.endswith(("CreationStatus", "DeletionStatus")):
            self.faults.in_progress_polls -= 1
            data = json.loads(content)
            for key in data:
                data[key]["Status"] = "IN_PROGRESS"
            content = json.dumps(data).encode()
        return Response(content, status_code=upstream.status_code,
                        headers={k: v for k, v in upstream.headers.items()
                                 if k.lower() not in ("content-length", "content-encoding", "transfer-encoding")})

    def start(self) -> FaultProxy:
        config = uvicorn.Config(self, host=self.host, port=self.port, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=lambda: asyncio.run(self._server.serve()), daemon=True)
        self._thread.start()
        for _ in range(100):
            if self._server.started:
                return self
            time.sleep(0.05)
        raise RuntimeError("fault proxy did not start")

    def stop(self) -> None:
        if self._server:
            self._server.should_exit = True
        if self._thread:
            self._thread.join(5)


_SSO_OPERATIONS = (
    "CreateAccountAssignment", "DeleteAccountAssignment", "ListAccountAssignments",
    "DescribeAccountAssignmentCreationStatus", "DescribeAccountAssignmentDeletionStatus",
)


def target_is_sso(operation: str) -> bool:
    return operation in _SSO_OPERATIONS


def _status_key(operation: str) -> str:
    return "AccountAssignmentCreationStatus" if "Create" in operation else "AccountAssignmentDeletionStatus"


def _json(data: dict, status: int = 200) -> Response:
    return Response(json.dumps(data), status_code=status, media_type="application/x-amz-json-1.1")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="The fault proxy in front of moto, standalone.")
    parser.add_argument("--upstream", required=True, help="moto's URL, e.g. http://127.0.0.1:5000")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=None, help="default: a free port")
    parser.add_argument("--quota", action="store_true", help="quota mode on from the start")
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--burst", type=int, default=None, help="default: the rate, rounded")
    parser.add_argument("--max-outstanding", type=int, default=15)
    parser.add_argument("--settle", default="1,3", help="low,high seconds")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    proxy = FaultProxy(args.upstream, port=args.port, host=args.host)
    if args.quota:
        low, high = (float(x) for x in args.settle.split(","))
        proxy.quota(rate=args.rate, burst=args.burst if args.burst is not None else max(1, round(args.rate)),
                    max_outstanding=args.max_outstanding, settle=(low, high), seed=args.seed)
    proxy.start()
    print(proxy.url, flush=True)
    try:
        while proxy._thread is not None and proxy._thread.is_alive():
            proxy._thread.join(1.0)
    except KeyboardInterrupt:
        proxy.stop()


if __name__ == "__main__":
    main()
