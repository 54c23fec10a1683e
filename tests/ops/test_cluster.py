"""Scale-out, over `make cluster`'s topology (jit/demo/cluster.py): two API replicas behind a
round-robin proxy, two workers, the suite's PostgreSQL and Redis, moto with the demo org.

1. A subscription on API 1 receives the changes made through API 2 and by either worker.
2. An approval rule changed through API 1 is enforced by API 2 from the first request
   after the change commits (bound: 0 s, docs/deploy.md): every authorization check
   compares the policy version in the database with the one its enforcer was built from.
3. Killing one worker (SIGKILL) loses nothing: every ticket is still granted and revoked.
4. Two workers never both grant the same ticket, even when each is handed its grant job.
5. SIGTERM lets a running job finish before the worker exits.

AWS is checked with boto3 straight against moto, apart from JIT; the database is read only
for audit events.
"""

from __future__ import annotations

import asyncio
import collections
import json
import signal
import time
from datetime import UTC, datetime, timedelta

import asyncpg
import boto3
import httpx
import pytest
import websockets
from arq.connections import RedisSettings, create_pool

from jit.demo.cluster import LocalCluster
from tests import services
from tests.support.fault_proxy import FaultProxy
from tests.support.live import database_for

pytestmark = pytest.mark.slow

SUBSCRIBE = """subscription($id: ID!) { ticketUpdated(id: $id) { status previousStatus version } }"""
REQUEST = """mutation($input: RequestTicketInput!) { requestTicket(input: $input) {
  __typename ... on Ticket { id status } ... on Error { message field } } }"""
REVOKE = """mutation($id: ID!) { revokeTicket(ticketId: $id, reason: "cluster test") {
  __typename ... on Ticket { status } ... on Error { message } } }"""
CREATE_RULE = """mutation($input: ApprovalRuleInput!) { createApprovalRule(input: $input) {
  __typename ... on ApprovalRule { id } ... on Error { message field } } }"""
DELETE_RULE = """mutation($id: ID!) { deleteApprovalRule(id: $id) { __typename } }"""
TERMINAL = {"ENDED", "FAILED", "CANCELLED", "REJECTED", "EXPIRED"}
SANDBOX = ["sandbox-alice", "sandbox-erin", "sandbox-shared", "sandbox-ml", "sandbox-training"]
SETS = ["ReadOnlyAccess", "PowerUserAccess"]
GRACE = 30  # JIT_SHUTDOWN_GRACE_SECONDS


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    root = tmp_path_factory.mktemp("cluster")
    database_url = database_for("cluster", root)
    assert database_url.startswith("postgres"), "the cluster runs on the suite's PostgreSQL"
    redis_url, embedded = services.find_redis()
    proxies: list[FaultProxy] = []

    def front_aws(moto_url: str) -> str:
        proxies.append(FaultProxy(moto_url).start())
        return proxies[0].url

    c = LocalCluster(root, front_aws=front_aws, env_overrides={
        "JIT_DATABASE_URL": database_url, "JIT_REDIS_URL": redis_url, "JIT_MODE": "test",
        "JIT_MIN_DURATION_SECONDS": "1", "JIT_ASSIGNMENT_POLL_INTERVAL": "0.1", "JIT_ASSIGNMENT_FIRST_POLL": "0.1",
        "JIT_RECONCILE_INTERVAL": "2",
        "JIT_JOB_LEASE_SECONDS": "3", "JIT_JOB_TIMEOUT": "30", "JIT_SHUTDOWN_GRACE_SECONDS": str(GRACE),
        "JIT_DRIFT_INTERVAL": "100000", "JIT_SYNC_INTERVAL": "100000",
    })
    try:
        c.start()
        c.fault_proxy = proxies[0]
        yield c
    finally:
        c.stop()
        for proxy in proxies:
            proxy.stop()
        import redis

        redis.Redis.from_url(redis_url).flushdb()
        if embedded:
            embedded.stop()


def gql(url: str, token: str, query: str, **variables) -> dict:
    response = httpx.post(f"{url}/graphql", json={"query": query, "variables": variables},
                          headers={"Authorization": f"Bearer {token}"}, timeout=30)
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    return body["data"]


def request(url: str, token: str, account_id: str, permission_set: str, *, start_in: float, duration: int) -> dict:
    start = datetime.now(UTC) + timedelta(seconds=start_in)
    return gql(url, token, REQUEST, input={
        "targets": [{"accountId": account_id, "permissionSet": permission_set}],
        "durationSeconds": duration, "justification": "cluster test", "startAt": start.isoformat()})["requestTicket"]


def job_lines(cluster: LocalCluster, worker: int) -> list[dict]:
    """The JSON lines a worker logged when each job ended (jit.jobs.worker._observed)."""
    lines = []
    for raw in (cluster.root / f"worker-{worker + 1}.log").read_text(errors="replace").splitlines():
        if raw.startswith("{"):
            line = json.loads(raw)
            if line.get("job") and line.get("outcome"):
                lines.append(line)
    return lines


def metric(text: str, sample: str) -> float:
    values = [float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(sample + " ")]
    return values[0] if values else 0.0


def sso(cluster: LocalCluster):
    return boto3.client("sso-admin", endpoint_url=cluster.moto.url, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def assignments(cluster: LocalCluster, account: str, permission_set: str, user: str) -> int:
    seeded = cluster.seeded
    items = sso(cluster).list_account_assignments(
        InstanceArn=seeded["instance_arn"], AccountId=seeded["accounts"][account],
        PermissionSetArn=seeded["permission_sets"][permission_set])["AccountAssignments"]
    return sum(1 for i in items if i["PrincipalId"] == seeded["users"][user])


async def statuses(cluster: LocalCluster, ids: list[str]) -> dict[str, str]:
    conn = await asyncpg.connect(cluster.database_url.replace("postgres://", "postgresql://", 1))
    try:
        rows = await conn.fetch("SELECT id::text AS id, status FROM ticket WHERE id::text = ANY($1::text[])", ids)
    finally:
        await conn.close()
    return {r["id"]: r["status"] for r in rows}


async def audit_counts(cluster: LocalCluster, ids: list[str], action: str) -> collections.Counter:
    conn = await asyncpg.connect(cluster.database_url.replace("postgres://", "postgresql://", 1))
    try:
        rows = await conn.fetch("SELECT ticket_id::text AS t FROM audit_event WHERE action = $1 "
                                "AND ticket_id::text = ANY($2::text[])", action, ids)
    finally:
        await conn.close()
    return collections.Counter(r["t"] for r in rows)


async def wait_terminal(cluster: LocalCluster, ids: list[str], timeout: float) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    while True:
        found = await statuses(cluster, ids)
        if all(s in TERMINAL for s in found.values()) or time.monotonic() > deadline:
            return found
        await asyncio.sleep(1)


async def test_a_subscription_on_api_1_sees_changes_through_api_2_and_by_both_workers(cluster):
    alice = cluster.tokens["alice"]
    account = cluster.seeded["accounts"]["sandbox-alice"]
    api1, api2 = cluster.api_url(0), cluster.api_url(1)
    # Worker 2 paused: worker 1 must grant. Then the other way round for the revoke.
    cluster.signal_worker(1, signal.SIGSTOP)
    try:
        ticket = request(api2, alice, account, "ReadOnlyAccess", start_in=3, duration=3600)
        assert ticket["__typename"] == "Ticket", ticket
        seen = []
        async with websockets.connect(api1.replace("http", "ws") + "/graphql",
                                      subprotocols=["graphql-transport-ws"]) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {alice}"}}))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            await ws.send(json.dumps({"id": "1", "type": "subscribe",
                                      "payload": {"query": SUBSCRIBE, "variables": {"id": ticket["id"]}}}))

            async def until(status: str) -> None:
                while not seen or seen[-1] != status:
                    message = json.loads(await asyncio.wait_for(ws.recv(), 60))
                    assert message["type"] == "next", message
                    seen.append(message["payload"]["data"]["ticketUpdated"]["status"])

            await until("ACTIVE")
            assert assignments(cluster, "sandbox-alice", "ReadOnlyAccess", "alice") == 1
            cluster.signal_worker(1, signal.SIGCONT)
            cluster.signal_worker(0, signal.SIGSTOP)
            assert gql(api2, alice, REVOKE, id=ticket["id"])["revokeTicket"]["status"] == "REVOKING"
            await until("ENDED")
    finally:
        cluster.signal_worker(0, signal.SIGCONT)
        cluster.signal_worker(1, signal.SIGCONT)
    assert seen == ["SCHEDULED", "GRANTING", "ACTIVE", "REVOKING", "ENDED"]
    assert assignments(cluster, "sandbox-alice", "ReadOnlyAccess", "alice") == 0
    granted_by = {i for i in (0, 1) for line in job_lines(cluster, i)
                  if line.get("ticket_id") == ticket["id"] and line["job"] == "tickets.grant"
                  and line["result"] == "granted"}
    revoked_by = {i for i in (0, 1) for line in job_lines(cluster, i)
                  if line.get("ticket_id") == ticket["id"] and line["job"] == "tickets.revoke"
                  and line["result"] == "revoked"}
    assert (granted_by, revoked_by) == ({0}, {1})


async def test_a_rule_changed_through_api_1_is_enforced_by_api_2_at_once(cluster):
    erin, admin = cluster.tokens["erin"], cluster.tokens["admin"]
    account = cluster.seeded["accounts"]["sandbox-erin"]
    api1, api2 = cluster.api_url(0), cluster.api_url(1)
    # Nothing lets erin take DatabaseAdmin on a sandbox yet; asking also builds API 2's enforcer.
    refused = request(api2, erin, account, "DatabaseAdmin", start_in=3600, duration=600)
    assert refused["__typename"] != "Ticket", refused
    created = gql(api1, admin, CREATE_RULE, input={
        "name": "cluster-test-dba", "requesters": {"users": ["erin"], "groups": []},
        "scope": {"accounts": [account], "organizationalUnits": [], "permissionSets": ["DatabaseAdmin"],
                  "permissionSetGroups": []},
        "maxDurationSeconds": 3600, "justificationRequired": False, "steps": []})["createApprovalRule"]
    assert created["__typename"] == "ApprovalRule", created
    # The first request API 2 sees after API 1 answered.
    allowed = request(api2, erin, account, "DatabaseAdmin", start_in=3600, duration=600)
    assert allowed["__typename"] == "Ticket", allowed
    gql(api1, admin, DELETE_RULE, id=created["id"])
    again = request(api2, erin, account, "DatabaseAdmin", start_in=3600, duration=600)
    assert again["__typename"] != "Ticket", again


def _plans(users: list[str], count: int) -> list[tuple[str, str, str]]:
    keys = [(u, a, p) for u in users for a in SANDBOX for p in SETS]
    return keys[:count]


async def test_killing_a_worker_loses_nothing(cluster):
    plans = _plans(["maria", "erin"], 12)
    tickets = []
    for n, (user, account, ps) in enumerate(plans):
        t = request(cluster.url, cluster.tokens[user], cluster.seeded["accounts"][account], ps,
                    start_in=3 + n * 0.5, duration=6)
        assert t["__typename"] == "Ticket", t
        tickets.append(t["id"])
    await asyncio.sleep(4.5)  # some grants done, others due or running
    cluster.signal_worker(0, signal.SIGKILL)
    try:
        found = await wait_terminal(cluster, tickets, timeout=150)
        assert collections.Counter(found.values()) == {"ENDED": len(tickets)}
        activated = await audit_counts(cluster, tickets, "ticket.active")
        assert all(activated[t] == 1 for t in tickets), activated
        assert [assignments(cluster, a, p, u) for u, a, p in plans] == [0] * len(plans)
    finally:
        cluster.start_worker(0)


async def test_two_workers_never_both_grant_a_ticket(cluster):
    plans = _plans(["alice", "maria"], 10)
    tickets = []
    for user, account, ps in plans:
        t = request(cluster.url, cluster.tokens[user], cluster.seeded["accounts"][account], ps,
                    start_in=4, duration=3600)
        assert t["__typename"] == "Ticket", t
        tickets.append(t["id"])
    # Hand each ticket's grant to the queue three more times, under other job ids: both
    # workers now hold grant jobs for the same tickets, due at the same moment.
    pool = await create_pool(RedisSettings.from_dsn(cluster.redis_url))
    due = datetime.now(UTC) + timedelta(seconds=4)
    for ticket_id in tickets:
        for copy in range(3):
            await pool.enqueue_job("tickets.grant", ticket_id, _job_id=f"dup:{ticket_id}:{copy}", _defer_until=due)
    await pool.aclose()
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        found = await statuses(cluster, tickets)
        if all(s == "ACTIVE" for s in found.values()):
            break
        await asyncio.sleep(1)
    assert all(s == "ACTIVE" for s in found.values()), found
    await asyncio.sleep(2)  # let the duplicate jobs finish
    granted = collections.Counter(line["ticket_id"] for i in (0, 1) for line in job_lines(cluster, i)
                                  if line["job"] == "tickets.grant" and line.get("result") == "granted"
                                  and line.get("ticket_id") in tickets)
    ran = {i: sum(1 for line in job_lines(cluster, i) if line["job"] == "tickets.grant"
                  and line.get("ticket_id") in tickets) for i in (0, 1)}
    assert granted == {t: 1 for t in tickets}
    assert all(ran.values()), f"both workers took grant jobs: {ran}"
    assert await audit_counts(cluster, tickets, "assignment.requested") == {t: 1 for t in tickets}
    assert await audit_counts(cluster, tickets, "ticket.active") == {t: 1 for t in tickets}
    assert [assignments(cluster, a, p, u) for u, a, p in plans] == [1] * len(plans)
    # The same story in the metrics: the API's gauges and the workers' own endpoints.
    api = httpx.get(f"{cluster.api_url(1)}/metrics", timeout=10).text
    assert metric(api, 'jit_tickets{status="ACTIVE"}') >= len(tickets)
    grants = sum(metric(httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text,
                        "jit_grant_latency_seconds_count") for port in cluster.metrics_ports)
    assert grants >= len(tickets)
    for (user, _, _), ticket_id in zip(plans, tickets, strict=True):
        assert gql(cluster.url, cluster.tokens[user], REVOKE, id=ticket_id)["revokeTicket"]["status"] == "REVOKING"


async def test_sigterm_lets_a_running_grant_finish(cluster):
    """Both workers get SIGTERM while one is inside a grant that AWS is slow to settle."""
    proxy: FaultProxy = cluster.fault_proxy
    proxy.faults.status_latency = 5.0  # every creation-status poll takes 5 s
    try:
        ticket = request(cluster.url, cluster.tokens["erin"], cluster.seeded["accounts"]["sandbox-ml"],
                         "ReadOnlyAccess", start_in=2, duration=3600)
        assert ticket["__typename"] == "Ticket", ticket
        deadline = time.monotonic() + 30
        while (await statuses(cluster, [ticket["id"]]))[ticket["id"]] != "GRANTING":
            assert time.monotonic() < deadline, "the grant never started"
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)  # the job is now waiting on AWS
        signalled = time.monotonic()
        for i in (0, 1):
            cluster.signal_worker(i, signal.SIGTERM)
        for proc in cluster.worker_procs:
            await asyncio.to_thread(proc.wait, GRACE + 15)
        stopped_after = time.monotonic() - signalled
        assert (await statuses(cluster, [ticket["id"]]))[ticket["id"]] == "ACTIVE"
        assert assignments(cluster, "sandbox-ml", "ReadOnlyAccess", "erin") == 1
        ends = [line for i in (0, 1) for line in job_lines(cluster, i)
                if line.get("ticket_id") == ticket["id"] and line["job"] == "tickets.grant"]
        # One grant ran to the end; a copy the reconciler queued meanwhile found the ticket
        # leased and deferred itself (outcome retry). Nothing was cut short.
        assert [e["outcome"] for e in ends if e["result"] == "granted"] == ["complete"]
        assert {e["outcome"] for e in ends} <= {"complete", "retry"}, ends
        # It waited for the job (AWS's 5 s), not for the whole grace period.
        assert stopped_after < GRACE, stopped_after
    finally:
        proxy.faults.status_latency = 0.0
        for i in (0, 1):
            cluster.start_worker(i)
