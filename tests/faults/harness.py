"""The fault-injection harness: real processes (the API, two `jit worker`s, a private
Redis and PostgreSQL, moto behind the fault proxy), tickets requested over GraphQL, and
an independent boto3 client, talking straight to moto, that watches what AWS holds.

Nothing here reads JIT's view of AWS: leftovers, duplicates and revoke lag come from the
watcher alone. The database is read only for each ticket's window and final status.
"""

from __future__ import annotations

import asyncio
import collections
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import boto3
import httpx

from jit.demo.embedded import EmbeddedProcess, free_port, start_moto
from jit.demo.seed import DemoOrganization, seed_demo_organization
from jit.demo.stack import jit_command, on_exit, spawn, wait_ready
from tests.faults.services import PrivatePostgres, PrivateRedis, _pg_bin
from tests.support.fault_proxy import FaultProxy

SANDBOX = ["sandbox-alice", "sandbox-erin", "sandbox-shared", "sandbox-ml", "sandbox-training"]
SETS = ["ReadOnlyAccess", "PowerUserAccess"]
EXTRA_USERS = [f"fault{i:02d}" for i in range(1, 13)]
REQUESTERS = ["alice", "erin", "maria", *EXTRA_USERS]
RECONCILE_INTERVAL = 2
LEASE_SECONDS = 3
# Allowance for AWS latency (asynchronous deletion, retries under throttling) in the
# bound, and for a small machine: the suite runs on 2 shared cores.
AWS_ALLOWANCE = 15.0

REQUEST = """mutation($input: RequestTicketInput!) { requestTicket(input: $input) {
  __typename ... on Ticket { id startAt endAt } ... on Error { message field } } }"""

Key = tuple[str, str, str]  # account id, permission set arn, user id


@dataclass
class TicketPlan:
    user: str
    account: str
    permission_set: str
    start_in: float
    duration: int


@dataclass
class Requested:
    id: str
    key: Key
    start_at: datetime
    end_at: datetime


class Watcher(threading.Thread):
    """Polls moto directly (not through the proxy) and records what it saw and when."""

    def __init__(self, moto_url: str, org: DemoOrganization, accounts: list[str], sets: list[str]) -> None:
        super().__init__(daemon=True)
        self.sso = boto3.client("sso-admin", endpoint_url=moto_url, region_name="us-east-1",
                                aws_access_key_id="testing", aws_secret_access_key="testing")
        self.org = org
        self.pairs = [(org.accounts[a], org.permission_sets[p]) for a in accounts for p in sets]
        self.snapshots: list[tuple[datetime, collections.Counter]] = []
        self._halt = threading.Event()

    def snapshot(self) -> collections.Counter:
        seen: collections.Counter = collections.Counter()
        paginator = self.sso.get_paginator("list_account_assignments")
        for account, arn in self.pairs:
            for page in paginator.paginate(InstanceArn=self.org.instance_arn, AccountId=account, PermissionSetArn=arn):
                for item in page["AccountAssignments"]:
                    seen[(account, arn, item["PrincipalId"])] += 1
        return seen

    def run(self) -> None:
        while not self._halt.is_set():
            at = datetime.now(UTC)
            try:
                self.snapshots.append((at, self.snapshot()))
            except Exception:  # noqa: BLE001 - moto busy; the next round counts
                pass
            self._halt.wait(0.3)

    def stop(self) -> None:
        self._halt.set()
        self.join(30)


@dataclass
class Result:
    scenario: str
    tickets: int
    granted: int
    failed: int
    leftover: int
    missed: int
    duplicates: int
    max_lag: float
    bound: float
    faults: str
    seconds: float
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.leftover == 0 and self.missed == 0 and self.duplicates == 0 and self.max_lag <= self.bound


def measure(requested: list[Requested], snapshots, final: collections.Counter, keys_in_scope: set[Key],
            bound: float) -> dict:
    """Leftovers, missed revocations, duplicates and the largest revoke lag, from the
    watcher's snapshots. Tickets on the same key whose windows overlap count as one span:
    the assignment is meant to stay until the last of them ends."""
    by_key: dict[Key, list[Requested]] = collections.defaultdict(list)
    for r in requested:
        by_key[r.key].append(r)
    spans: list[tuple[Key, datetime, datetime]] = []
    for key, items in by_key.items():
        items.sort(key=lambda r: r.start_at)
        start, end = items[0].start_at, items[0].end_at
        for r in items[1:]:
            if r.start_at <= end:
                end = max(end, r.end_at)
            else:
                spans.append((key, start, end))
                start, end = r.start_at, r.end_at
        spans.append((key, start, end))
    starts = collections.defaultdict(list)
    for key, start, _ in spans:
        starts[key].append(start)

    granted = missed = 0
    max_lag = 0.0
    worst: tuple[float, Key | None, datetime | None] = (0.0, None, None)
    for key, start, end in spans:
        later = [s for s in starts[key] if s > end]
        horizon = min(later) if later else None
        present = [(t, c[key]) for t, c in snapshots if start <= t]
        if not any(n > 0 and t <= end + timedelta(seconds=bound) for t, n in present):
            continue  # never granted (a FAILED ticket): nothing to revoke
        granted += 1
        gone = next((t for t, n in present if t >= end and n == 0 and (horizon is None or t < horizon)), None)
        if gone is None:
            missed += 1
            continue
        lag = (gone - end).total_seconds()
        if lag > max_lag:
            max_lag, worst = lag, (lag, key, end)
    peak: collections.Counter = collections.Counter()
    for _, counts in snapshots:
        for key, n in counts.items():
            if key in keys_in_scope:
                peak[key] = max(peak[key], n)
    return {
        "granted_spans": granted,
        "missed": missed,
        "max_lag": round(max_lag, 2),
        "worst": worst,
        "duplicates": sum(n - 1 for n in peak.values() if n > 1),
        "leftover": sum(n for key, n in final.items() if key in keys_in_scope),
    }


class Cluster:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.pg = PrivatePostgres(root)
        self.redis = PrivateRedis()
        self.moto: EmbeddedProcess | None = None
        self.proxy: FaultProxy | None = None
        self.org: DemoOrganization | None = None
        self.tokens: dict[str, str] = {}
        self.users: dict[str, str] = {}
        self.api: subprocess.Popen | None = None
        self.workers: list[subprocess.Popen] = []
        self.spawned: dict[int, float] = {}  # pid -> when it was started
        self.kills = 0
        self.notes: list[str] = []  # what a fault wants reported
        self.port = free_port()
        self.env: dict[str, str] = {}
        self._supervise = False
        self._supervisor: threading.Thread | None = None
        self.restarts = 0

    # --- set up ------------------------------------------------------------------------
    def start(self) -> None:
        self.moto = start_moto(free_port())
        self.proxy = FaultProxy(self.moto.url).start()
        self.redis.start()
        # pg_ctl's postgres leaves our process tree: a watchdog stops it if pytest dies without
        # cleaning up (SIGKILL), as the kernel does for moto, Redis and jit (jit/demo/stack.py).
        stop_pg = [_pg_bin("pg_ctl"), "-D", str(self.pg.dir), "-m", "immediate", "-w", "stop"]
        on_exit(["runuser", "-u", "postgres", "--", *stop_pg] if os.geteuid() == 0 else stop_pg)
        self.pg.init()
        self.org = asyncio.run(seed_demo_organization(self.moto.url, "us-east-1"))
        self._add_users()
        env = self.base_env({})
        out = subprocess.run([sys.executable, "-m", "tests.faults.setup_db", self.pg.url, *REQUESTERS],
                             env=env, check=True, capture_output=True, text=True, timeout=300)
        self.tokens = json.loads(out.stdout.strip().splitlines()[-1])

    def _add_users(self) -> None:
        store = boto3.client("identitystore", endpoint_url=self.moto.url, region_name="us-east-1",
                             aws_access_key_id="testing", aws_secret_access_key="testing")
        self.users = dict(self.org.users)
        for name in EXTRA_USERS:
            user_id = store.create_user(
                IdentityStoreId=self.org.identity_store_id, UserName=name, DisplayName=name,
                Name={"GivenName": name, "FamilyName": "Fault"},
                Emails=[{"Value": f"{name}@example.com", "Type": "work", "Primary": True}],
            )["UserId"]
            store.create_group_membership(IdentityStoreId=self.org.identity_store_id,
                                          GroupId=self.org.groups["engineers"], MemberId={"UserId": user_id})
            self.users[name] = user_id

    def base_env(self, overrides: dict[str, str]) -> dict[str, str]:
        env = os.environ.copy()
        env.update({
            "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
            "JIT_MODE": "test", "JIT_DATABASE_URL": self.pg.url, "JIT_REDIS_URL": self.redis.url,
            "JIT_AWS_ENDPOINT_URL": self.proxy.url, "JIT_AWS_REGION": "us-east-1", "JIT_PORT": str(self.port),
            "JIT_MIN_DURATION_SECONDS": "1", "JIT_ASSIGNMENT_POLL_INTERVAL": "0.2", "JIT_ASSIGNMENT_FIRST_POLL": "0.2",
            "JIT_ASSIGNMENT_POLL_TIMEOUT": "30", "JIT_RECONCILE_INTERVAL": str(RECONCILE_INTERVAL),
            "JIT_JOB_LEASE_SECONDS": str(LEASE_SECONDS), "JIT_JOB_TIMEOUT": "60",
            "JIT_REVOKE_RETRY_BASE_SECONDS": "1", "JIT_REVOKE_RETRY_MAX_SECONDS": "4",
            "JIT_DRIFT_INTERVAL": "100000", "JIT_SYNC_INTERVAL": "100000", "PYTHONUNBUFFERED": "1",
        })
        env.update(overrides)
        return env

    # --- processes ---------------------------------------------------------------------
    def _spawn(self, command: str) -> subprocess.Popen:
        # Its own process group, killed by the kernel if pytest dies (jit/demo/stack.py).
        proc = spawn(jit_command(command), self.env, self.root / f"{command}.log")
        self.spawned[proc.pid] = time.monotonic()
        return proc

    def start_app(self, overrides: dict[str, str]) -> None:
        self.env = self.base_env(overrides)
        self.api = self._spawn("serve")
        self.workers = [self._spawn("worker"), self._spawn("worker")]
        # No exit check: a process that dies now is the supervisor's to restart, as later.
        try:
            wait_ready(f"http://127.0.0.1:{self.port}", [], "/healthz", timeout=60)
        except RuntimeError:
            raise RuntimeError("the API did not start; see " + str(self.root / "serve.log")) from None
        self._supervise = True
        self._supervisor = threading.Thread(target=self._watch_processes, daemon=True)
        self._supervisor.start()

    def _watch_processes(self) -> None:
        """What systemd or Kubernetes would do: restart a process that exited."""
        while self._supervise:
            for i, worker in enumerate(self.workers):
                if worker.poll() is not None:
                    self.workers[i] = self._spawn("worker")
                    self.restarts += 1
            if self.api and self.api.poll() is not None:
                self.api = self._spawn("serve")
                self.restarts += 1
            time.sleep(0.5)

    def kill_worker(self, boot_seconds: float = 8.0) -> bool:
        """SIGKILLs a random worker, but only while the other one has been up long enough
        to have started: the bound assumes at least one worker runs."""
        now = time.monotonic()
        up = [w for w in self.workers if w.poll() is None and now - self.spawned.get(w.pid, now) > boot_seconds]
        if len(up) < len(self.workers):
            return False
        try:
            os.killpg(random.choice(up).pid, signal.SIGKILL)
        except ProcessLookupError:
            return False
        self.kills += 1
        return True

    def stop_app(self) -> None:
        self._supervise = False
        if self._supervisor:
            self._supervisor.join(5)
        for proc in [self.api, *self.workers]:
            if proc and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in [self.api, *self.workers]:
            if proc:
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(5)

    def stop(self) -> None:
        self.stop_app()
        if self.proxy:
            self.proxy.stop()
        self.redis.stop()
        self.pg.stop("immediate")
        if self.moto:
            self.moto.stop()

    # --- driving -----------------------------------------------------------------------
    def key(self, plan: TicketPlan) -> Key:
        return (self.org.accounts[plan.account], self.org.permission_sets[plan.permission_set], self.users[plan.user])

    async def request(self, plans: list[TicketPlan]) -> list[Requested]:
        base = f"http://127.0.0.1:{self.port}"
        out: list[Requested] = []
        gate = asyncio.Semaphore(6)

        async def one(client: httpx.AsyncClient, plan: TicketPlan) -> None:
            start = datetime.now(UTC) + timedelta(seconds=plan.start_in)
            variables = {"input": {
                "targets": [{"accountId": self.org.accounts[plan.account], "permissionSet": plan.permission_set}],
                "durationSeconds": plan.duration, "justification": "fault suite", "startAt": start.isoformat()}}
            async with gate:
                for _ in range(60):  # the API may be restarting with its database
                    try:
                        response = await client.post("/graphql", json={"query": REQUEST, "variables": variables},
                                                     headers={"Authorization": f"Bearer {self.tokens[plan.user]}"})
                        data = response.json()["data"]["requestTicket"]
                        break
                    except (httpx.HTTPError, KeyError, TypeError, ValueError):
                        await asyncio.sleep(0.5)
                else:
                    raise RuntimeError("could not request a ticket")
            assert data["__typename"] == "Ticket", data
            out.append(Requested(data["id"], self.key(plan), datetime.fromisoformat(data["startAt"]),
                                 datetime.fromisoformat(data["endAt"])))

        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            await asyncio.gather(*(one(client, p) for p in plans))
        return out

    async def statuses(self, ids: list[str]) -> dict[str, str]:
        rows = await self.pg.fetch("SELECT id::text AS id, status FROM ticket WHERE id::text = ANY($1::text[])", ids)
        return {r["id"]: r["status"] for r in rows}


def distinct_plans(count: int, rng: random.Random, spread: float = 15.0) -> list[TicketPlan]:
    """`count` tickets on distinct (user, account, permission set) keys, starting over
    `spread` seconds, each a few seconds long: short enough for a quick suite, long
    enough for two workers on a small machine to grant them before they end."""
    keys = [(u, a, p) for u in REQUESTERS for a in SANDBOX for p in SETS]
    rng.shuffle(keys)
    return [TicketPlan(u, a, p, start_in=rng.uniform(2.0, spread), duration=rng.randint(8, 14))
            for u, a, p in keys[:count]]


def overlapping_plans(keys: int, per_key: int, rng: random.Random) -> list[TicketPlan]:
    """`per_key` tickets on each of `keys` keys whose windows overlap one another."""
    chosen = [(u, a, p) for u in REQUESTERS for a in SANDBOX for p in SETS]
    rng.shuffle(chosen)
    plans = []
    for u, a, p in chosen[:keys]:
        first = rng.uniform(1.0, 4.0)
        for i in range(per_key):
            plans.append(TicketPlan(u, a, p, start_in=first + i * 1.5 + rng.uniform(0, 0.5),
                                    duration=rng.randint(8, 12)))
    return plans


TERMINAL = {"ENDED", "FAILED", "CANCELLED", "REJECTED", "EXPIRED"}


async def run_scenario(cluster: Cluster, name: str, plans: list[TicketPlan], fault, *,
                       env: dict[str, str] | None = None,
                       extra_bound: float = 0.0, description: str = "", settle: float = 90.0,
                       out_of_band: list[Key] | None = None) -> Result:
    started = time.monotonic()
    cluster.proxy.reset()
    cluster.notes, cluster.kills = [], 0
    restarts_before = cluster.restarts
    cluster.start_app(env or {})
    watcher = Watcher(cluster.moto.url, cluster.org, SANDBOX, SETS)
    baseline = watcher.snapshot()
    notes = [f"{sum(baseline.values())} assignments present before the scenario"] if baseline else []
    watcher.start()
    stop = asyncio.Event()
    fault_task = asyncio.create_task(fault(cluster, stop))
    requested = await cluster.request(plans)
    last_end = max(r.end_at for r in requested)
    bound = RECONCILE_INTERVAL + LEASE_SECONDS + AWS_ALLOWANCE + extra_bound
    deadline = last_end + timedelta(seconds=bound + settle)
    keys_in_scope = {r.key for r in requested} | set(out_of_band or [])
    while True:
        await asyncio.sleep(1.0)
        now = datetime.now(UTC)
        if now > last_end + timedelta(seconds=2) and not stop.is_set():
            stop.set()
        statuses = await cluster.statuses([r.id for r in requested])
        done = all(s in TERMINAL for s in statuses.values())
        present = watcher.snapshots[-1][1] if watcher.snapshots else {}
        clean = not any(present.get(k) for k in keys_in_scope)
        if (done and clean and now > last_end) or now > deadline:
            break
    stop.set()
    await fault_task
    await asyncio.sleep(1.0)
    watcher.stop()
    final = watcher.snapshot()
    statuses = await cluster.statuses([r.id for r in requested])
    measured = measure(requested, watcher.snapshots, final, keys_in_scope, bound)
    if measured["max_lag"] > bound and measured["worst"][1] is not None:
        _, key, end = measured["worst"]
        ids = [r.id for r in requested if r.key == key]
        rows = await cluster.pg.fetch(
            "SELECT at, ticket_id::text AS t, action, detail::text AS d FROM audit_event "
            "WHERE ticket_id::text = ANY($1::text[]) ORDER BY at", ids)
        notes.append(f"slowest revoke: span ended {end.isoformat()}; history: " + "; ".join(
            f"{r['at'].strftime('%H:%M:%S.%f')[:-3]} {r['t'][:8]} {r['action']} {r['d'][:80]}" for r in rows))
    if out_of_band and (measured["max_lag"] > bound / 2 or measured["leftover"]):
        key = measured["worst"][1] or next(k for k in out_of_band if final.get(k))
        scans = await cluster.pg.fetch(
            "SELECT id, trigger, status, requested_at, started_at, finished_at, pairs_total, calls, error "
            "FROM drift_scan WHERE updated_at >= $1 ORDER BY id",
            datetime.now(UTC) - timedelta(seconds=time.monotonic() - started))
        notes.append("drift scans: " + "; ".join(
            f"#{s['id']} {s['status']} req {s['requested_at']:%H:%M:%S.%f} "
            f"start {s['started_at'] and s['started_at'].strftime('%H:%M:%S.%f')} "
            f"end {s['finished_at'] and s['finished_at'].strftime('%H:%M:%S.%f')} "
            f"pairs {s['pairs_total']} calls {s['calls']} {(s['error'] or '')[:60]}" for s in scans))
        found = await cluster.pg.fetch(
            "SELECT at, action FROM audit_event WHERE action LIKE 'drift.%' AND detail->>'account' = $1 "
            "AND detail->>'principal' = $2 ORDER BY at", key[0], key[2])
        notes.append("its drift events: " + "; ".join(f"{r['at']:%H:%M:%S.%f} {r['action']}" for r in found))
        held = await cluster.pg.fetch(
            "SELECT t.id::text AS t, t.status AS s, t.updated_at AS u, e.status AS es, e.origin AS eo, "
            "e.unwind_status AS eu, e.updated_at AS eat "
            "FROM ticket t JOIN resource_stack_entry e ON e.ticket_id = t.id "
            "WHERE e.account_id = $1 AND e.permission_set_arn = $2 AND e.principal_id = $3 ORDER BY t.created_at",
            key[0], key[1], key[2])
        notes.append("its tickets: " + "; ".join(
            f"{r['t'][:8]} {r['s']} {r['u']:%H:%M:%S} entry {r['es']} {r['eo']} unwind {r['eu']} {r['eat']:%H:%M:%S}"
            for r in held))
    cluster.stop_app()
    snaps = watcher.snapshots
    if len(snaps) > 1:
        gap = max((b[0] - a[0]).total_seconds() for a, b in pairwise(snaps))
        notes.append(f"{len(snaps)} AWS snapshots, largest gap {gap:.1f} s; "
                     f"statuses {dict(collections.Counter(statuses.values()))}; "
                     f"processes restarted by the supervisor {cluster.restarts - restarts_before}")
    notes.extend(cluster.notes)
    not_done = [s for s in statuses.values() if s not in TERMINAL]
    if not_done:
        notes.append(f"{len(not_done)} tickets not finished at the deadline: {collections.Counter(not_done)}")
    return Result(
        scenario=name, tickets=len(requested), granted=measured["granted_spans"],
        failed=sum(1 for s in statuses.values() if s == "FAILED"), leftover=measured["leftover"],
        missed=measured["missed"], duplicates=measured["duplicates"], max_lag=measured["max_lag"],
        bound=bound, faults=description, seconds=round(time.monotonic() - started, 1), notes=notes,
    )


def table(results: list[Result]) -> str:
    head = ("| scenario | tickets | granted | failed | leftover | missed | duplicates | max revoke lag (s) "
            "| bound (s) | ok | faults injected |")
    rule = "|" + "---|" * 11
    rows = [
        f"| {r.scenario} | {r.tickets} | {r.granted} | {r.failed} | {r.leftover} | {r.missed} | {r.duplicates} "
        f"| {r.max_lag:.1f} | {r.bound:.0f} | {'yes' if r.ok else 'NO'} | {r.faults} |"
        for r in results
    ]
    return "\n".join([head, rule, *rows])
