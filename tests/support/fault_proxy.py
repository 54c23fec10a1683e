"""A small fault-injecting HTTP proxy in front of moto, for the AWS behaviour moto cannot
produce: throttling, requests that stay IN_PROGRESS, and requests that end FAILED.

The AWS client under test talks to this proxy as its endpoint; everything not matched by
a fault is forwarded to moto unchanged.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
import uuid
from dataclasses import dataclass, field

import httpx
import uvicorn
from starlette.requests import Request
from starlette.responses import Response

from jit.demo.embedded import free_port


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
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.faults = Faults()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._client: httpx.AsyncClient | None = None

    def reset(self) -> None:
        self.faults = Faults()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        body = await request.body()
        target = request.headers.get("x-amz-target", "")
        operation = target.rsplit(".", 1)[-1]
        self.faults.seen.append(operation)
        if self.faults.latency:
            await asyncio.sleep(self.faults.latency)
        if self.faults.status_latency and operation.endswith(("CreationStatus", "DeletionStatus")):
            await asyncio.sleep(self.faults.status_latency)
        if self.faults.deletion_latency and operation.endswith("DeletionStatus"):
            await asyncio.sleep(self.faults.deletion_latency)
        response = self._fault(operation, body) or await self._forward(request, body)
        await response(scope, receive, send)

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
                    **({"FailureReason": "Received a 404 status error: Not supported account"} if status == "FAILED" else {})}})
        return None

    async def _forward(self, request: Request, body: bytes) -> Response:
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
        if self._client is None:  # one pooled client, on the proxy's own event loop
            self._client = httpx.AsyncClient(base_url=self.upstream, timeout=30,
                                             limits=httpx.Limits(max_connections=50))
        upstream = await self._client.request(request.method, request.url.path, params=request.query_params,
                                              content=body, headers=headers)
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
        config = uvicorn.Config(self, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=lambda: asyncio.run(self._server.serve()), daemon=True)
        self._thread.start()
        import time

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


def _json(data: dict, status: int = 200) -> Response:
    return Response(json.dumps(data), status_code=status, media_type="application/x-amz-json-1.1")
