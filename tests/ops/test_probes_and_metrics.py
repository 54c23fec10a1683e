"""/healthz, /readyz and /metrics on the real app, against the test's PostgreSQL or SQLite,
Redis and moto."""

from __future__ import annotations

import json
import logging

import pytest
from arq.connections import ArqRedis
from botocore.exceptions import ClientError

from jit.aws.clients import AwsClients
from jit.demo.embedded import free_port
from jit.jobs.worker import _observed, grant_ticket
from jit.ops import metrics
from jit.ops.logs import JsonFormatter
from jit.runtime import Runtime
from jit.tickets import stack
from tests.security.conftest import client_for, runtime_with


def _sample(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample in Prometheus text format."""
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    head = f"{name}{{{want}}}" if labels else name
    for line in text.splitlines():
        if line.startswith(head + " "):
            return float(line.rsplit(" ", 1)[1])
    return None


def _unreachable_aws(rt: Runtime) -> Runtime:
    other = runtime_with(rt, aws_endpoint_url=f"http://127.0.0.1:{free_port()}")
    other.aws = AwsClients(other.settings)
    return other


async def test_healthz_and_readyz_when_everything_answers(demo):
    async with client_for(demo.rt) as client:
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "checks": {"database": "ok", "redis": "ok", "aws": "ok"},
                            "aws_budget": {"mode": "shared", "rate": 18.0, "max_outstanding": 14}}


async def test_readyz_fails_without_aws_and_names_no_host(demo, caplog):
    caplog.handler.setFormatter(JsonFormatter())
    async with client_for(_unreachable_aws(demo.rt)) as client:
        response = await client.get("/readyz", headers={"X-Request-Id": "probe-42"})
        assert (await client.get("/healthz")).status_code == 200  # alive all the same
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "redis": "ok", "aws": "unreachable"}
    assert "127.0.0.1" not in response.text
    assert response.headers["x-request-id"] == "probe-42"
    # The log says why, on a line carrying the request's id.
    lines = [json.loads(line) for line in caplog.text.splitlines() if line.startswith("{")]
    assert any(line.get("request_id") == "probe-42" and "aws unreachable" in line["message"] for line in lines)


async def test_readyz_fails_without_redis(demo):
    rt = demo.rt
    dead = ArqRedis(host="127.0.0.1", port=free_port(), socket_connect_timeout=1)
    other = Runtime(settings=rt.settings, clock=rt.clock, aws=rt.aws, authz=rt.authz, redis=dead)
    async with client_for(other) as client:
        response = await client.get("/readyz")
    await dead.aclose()
    assert response.status_code == 503
    assert response.json()["checks"]["redis"] == "unreachable"
    # The AWS budget then holds each process to its own share, and says so.
    assert response.json()["aws_budget"]["mode"] == "local"
    assert response.json()["checks"]["database"] == "ok"


async def test_request_id_is_made_when_missing_or_unsafe(demo):
    async with client_for(demo.rt) as client:
        made = (await client.get("/healthz")).headers["x-request-id"]
        unsafe = (await client.get("/healthz", headers={"X-Request-Id": "a b\"<script>"})).headers["x-request-id"]
    assert len(made) == 32 and made != unsafe and "<" not in unsafe


async def test_metrics_report_tickets_queue_latency_and_aws_errors(demo):
    rt = demo.rt
    ticket = await demo.request("alice", [("sandbox-alice", "ReadOnlyAccess")])
    async with client_for(rt) as client:
        before = (await client.get("/metrics")).text
        rt.clock.advance(seconds=3)
        await _observed("tickets.grant", grant_ticket)({"runtime": rt, "job_id": "grant:test"}, str(ticket.id))
        async with rt.aws.client("sso-admin") as sso:
            with pytest.raises(ClientError):
                await sso.describe_permission_set(InstanceArn="arn:aws:sso:::instance/ssoins-0000000000000000",
                                                  PermissionSetArn="arn:aws:sso:::permissionSet/x/ps-0")
        await rt.redis.enqueue_job("tickets.grant", "nothing", _job_id="metrics-test")
        after = (await client.get("/metrics")).text

    assert _sample(after, "jit_tickets", status="ACTIVE") == 1
    assert _sample(after, "jit_tickets", status="PENDING_APPROVAL") == 0
    grants = _sample(after, "jit_grant_latency_seconds_count")
    assert grants == (_sample(before, "jit_grant_latency_seconds_count") or 0) + 1
    # The frozen clock moved 3 s past the start before the grant ran.
    assert _sample(after, "jit_grant_latency_seconds_bucket", le="2.0") == \
        (_sample(before, "jit_grant_latency_seconds_bucket", le="2.0") or 0)
    assert _sample(after, "jit_job_queue_depth", state="due") >= 1
    assert _sample(after, "jit_job_queue_oldest_due_age_seconds") >= 0
    assert _sample(after, "jit_reconciler_drift") == 0
    # The grant wrote a "granted" notification in its transaction; no worker delivered it.
    assert _sample(after, "jit_notification_backlog", stage="outbox") >= 1
    assert _sample(after, "jit_notification_backlog", stage="delivery") == 0
    assert _sample(after, "jit_notification_oldest_pending_age_seconds") == 0
    assert _sample(after, "jit_jobs_total", job="tickets.grant", outcome="complete") >= 1
    errors = [line for line in after.splitlines() if line.startswith("jit_aws_api_errors_total{")
              and 'operation="DescribePermissionSet"' in line]
    assert errors and 'service="sso-admin"' in errors[0]
    assert "process_resident_memory_bytes" in after
    # Volumes only: no ticket ids, users or accounts.
    assert str(ticket.id) not in after and "alice" not in after and demo.account("sandbox-alice") not in after


async def test_revoke_latency_is_observed_at_the_end(demo):
    rt = demo.rt
    ticket = await demo.request("alice", [("sandbox-alice", "ReadOnlyAccess")])
    await stack.grant(rt, str(ticket.id))
    before = metrics.REVOKE_LATENCY.labels(reason="expired")._sum.get()
    rt.clock.advance(hours=2)
    assert (await stack.revoke(rt, str(ticket.id))).result == "revoked"
    assert metrics.REVOKE_LATENCY.labels(reason="expired")._sum.get() > before


async def test_metrics_token_is_required_when_set(demo):
    rt = runtime_with(demo.rt, metrics_token="scrape-secret")
    async with client_for(rt) as client:
        assert (await client.get("/metrics")).status_code == 401
        assert (await client.get("/metrics", headers={"Authorization": "Bearer wrong"})).status_code == 401
        ok = await client.get("/metrics", headers={"Authorization": "Bearer scrape-secret"})
    assert ok.status_code == 200 and "jit_tickets" in ok.text


async def test_job_log_lines_carry_job_and_ticket_ids(demo, caplog):
    caplog.set_level(logging.INFO)
    caplog.handler.setFormatter(JsonFormatter())
    ticket = await demo.request("alice", [("sandbox-alice", "ReadOnlyAccess")])
    await _observed("tickets.grant", grant_ticket)({"runtime": demo.rt, "job_id": "grant:x:1"}, str(ticket.id))
    lines = [json.loads(line) for line in caplog.text.splitlines() if line.startswith("{")]
    done = [line for line in lines if line["message"] == "job tickets.grant complete"]
    assert done and done[0]["ticket_id"] == str(ticket.id) and done[0]["job_id"] == "grant:x:1"
    assert done[0]["result"] == "granted" and isinstance(done[0]["pid"], int)


def test_json_lines_redact_structured_fields_too():
    from jit.auth.redact import install_log_redaction

    install_log_redaction()
    record = logging.getLogger("jit.test").makeRecord(
        "jit.test", logging.INFO, __file__, 1, "sent %s", ("Bearer jit_" + "A" * 30,), None,
        extra={"header": "Authorization: Bearer abc.def", "attempt": 2})
    line = json.loads(JsonFormatter().format(record))
    assert "AAAA" not in line["message"] and "abc.def" not in line["header"]
    assert line["attempt"] == 2
