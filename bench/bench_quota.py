"""JIT within AWS's real limits: grant delay, revoke lateness and sso-admin calls per
ticket, through the test proxy's quota mode, beside the same run on limitless moto.

    .venv/bin/python bench/bench_quota.py                   # 300 tickets ending within 60 s
    .venv/bin/python bench/bench_quota.py --quick           # 60 tickets ending within 12 s (same rate)
    .venv/bin/python bench/bench_quota.py --tickets 1000    # beyond the budget: how early, how late
    .venv/bin/python bench/bench_quota.py --modes quota     # one mode only

Setup: `jit serve` + one `jit worker` (defaults: JIT_AWS_RATE_LIMIT 18, JIT_AWS_MAX_OUTSTANDING
14) against moto behind the fault proxy (tests/support/fault_proxy.py). In "quota" mode
the proxy behaves as IAM Identity Center's documented limits: 20 sso-admin calls a second
(burst 20) for everyone, ThrottlingException beyond; 15 outstanding creates and deletes at
most; each settling 1-3 s (seeded) after it was made, before which AWS still shows the old
state. In "limitless" mode it passes everything through at once, as plain moto does.

Each ticket is its own principal/account/permission set (alice, erin, maria x
ReadOnlyAccess, PowerUserAccess x sandbox accounts), auto-approved, starting at once;
their ends are spread evenly over the window, which opens once all could be granted. The
proxy records when each create and delete settled; from that:
- revoke lateness: the delete's settle time minus the ticket's endAt (negative: early);
- grant delay: the create's settle time minus the ticket's startAt;
- calls per lifecycle: every sso-admin call the proxy saw from the first request until
  the last revoke settled, over the tickets.
Leftovers are read straight from moto afterwards.

The physical limit: a revoke is at least a delete and one status poll, so 20 calls/s is at
most 10 revokes/s; 15 outstanding deletes taking about 2 s each is 7.5 revokes/s. JIT's
defaults leave headroom for other tools (18 calls/s, 14 outstanding: 7 revokes/s).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import boto3
import httpx
from common import percentiles, print_table, write_result

USERS = ["alice", "erin", "maria"]
SETS = ["ReadOnlyAccess", "PowerUserAccess"]
QUOTA = {"rate": 20.0, "burst": 20, "max_outstanding": 15, "settle": [1.0, 3.0], "seed": 15}
LIMITLESS = {"rate": 1_000_000.0, "burst": 1_000_000, "max_outstanding": 1_000_000, "settle": [0.0, 0.0], "seed": 15}
PHYSICAL_REVOKES_PER_S = min(20 / 2, 15 / 2.0)
REQUEST = """mutation($input: RequestTicketInput!) { requestTicket(input: $input) {
  __typename ... on Ticket { id status startAt endAt } ... on Error { message } } }"""


def _post(url: str, body: dict) -> dict:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"{}")


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=60) as response:
        return json.loads(response.read())


class Proxy:
    """The fault proxy as a process of its own, configured over its HTTP control endpoints."""

    def __init__(self, upstream: str) -> None:
        from jit.demo.embedded import free_port

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.support.fault_proxy", "--upstream", upstream, "--port", str(self.port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=str(Path(__file__).resolve().parents[1]))
        deadline = time.monotonic() + 30
        while True:
            try:
                self.stats()
                return
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError("the fault proxy did not start") from None
                time.sleep(0.2)

    def quota(self, params: dict | None) -> None:
        _post(f"{self.url}/_proxy/quota", params if params is not None else {"off": True})

    def stats(self) -> dict:
        return _get(f"{self.url}/_proxy/stats")

    def reset_stats(self) -> None:
        _post(f"{self.url}/_proxy/stats/reset", {})

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


async def _sandbox_ou(database_url: str) -> str:
    conn = await asyncpg.connect(database_url.replace("postgres://", "postgresql://", 1))
    try:
        return await conn.fetchval("SELECT id FROM organizational_unit WHERE name = 'Sandbox'")
    finally:
        await conn.close()


async def _tickets(database_url: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(database_url.replace("postgres://", "postgresql://", 1))
    try:
        return await conn.fetch("SELECT id, status, start_at, end_at, revoke_started_early FROM ticket")
    finally:
        await conn.close()


async def request_all(live, keys, window_start: datetime, window: float) -> list[dict]:
    sem = asyncio.Semaphore(8)
    n = len(keys)

    async with httpx.AsyncClient(base_url=live.url, timeout=120) as client:
        async def one(i: int, key) -> dict:
            user, account, ps = key
            end = window_start + timedelta(seconds=window * i / n)
            async with sem:
                duration = int(round((end - datetime.now(UTC)).total_seconds()))
                body = (await client.post("/graphql", json={"query": REQUEST, "variables": {"input": {
                    "targets": [{"accountId": account, "permissionSet": ps}], "durationSeconds": duration,
                    "justification": "bench"}}}, headers={"Authorization": f"Bearer {live.tokens[user]}"})).json()
            ticket = body["data"]["requestTicket"]
            if ticket["__typename"] != "Ticket":
                raise RuntimeError(ticket)
            return {"key": (account, live.permission_sets[ps], live.users[user]), "id": ticket["id"],
                    "start": datetime.fromisoformat(ticket["startAt"]).timestamp(),
                    "end": datetime.fromisoformat(ticket["endAt"]).timestamp()}

        return await asyncio.gather(*(one(i, key) for i, key in enumerate(keys)))


def leftovers(live, moto_url: str, keys: set) -> int:
    sso = boto3.client("sso-admin", endpoint_url=moto_url, region_name="us-east-1")
    left = 0
    paginator = sso.get_paginator("list_account_assignments_for_principal")
    for user in USERS:
        principal = live.users[user]
        for page in paginator.paginate(InstanceArn=live.instance_arn, PrincipalId=principal, PrincipalType="USER"):
            for item in page["AccountAssignments"]:
                if (item["AccountId"], item["PermissionSetArn"], principal) in keys:
                    left += 1
    return left


SCAN = """mutation { scanDrift { __typename ... on DriftScanRequested { queued scan { id status } }
  ... on Error { message } } }"""
LAST_SCAN = """{ lastDriftScan { id status trigger startedAt finishedAt pairsTotal pairsDone calls findings } }"""


class DriftWatch:
    """Starts a drift scan as the demo admin over GraphQL and follows it to the end."""

    def __init__(self, live) -> None:
        self.client = httpx.Client(base_url=live.url, timeout=60,
                                   headers={"Authorization": f"Bearer {live.tokens['admin']}"})
        self.scans: list[dict] = []

    def start(self) -> dict:
        return self.client.post("/graphql", json={"query": SCAN}).json()["data"]["scanDrift"]

    def last(self) -> dict | None:
        return self.client.post("/graphql", json={"query": LAST_SCAN}).json()["data"]["lastDriftScan"]


async def _seed_directory(moto_url: str, instance_arn: str, ou: str, accounts: int, permission_sets: int) -> None:
    from jit.demo.seed import add_accounts, add_permission_sets

    await add_accounts(moto_url, [ou], accounts, concurrency=16, name_prefix="drift")
    await add_permission_sets(moto_url, instance_arn, permission_sets, concurrency=16, name_prefix="Drift")


def run(mode: str, n: int, window: float, drift: tuple[int, int] | None = None) -> dict:
    import tempfile

    from jit.demo.embedded import free_port, start_moto
    from jit.demo.seed import add_accounts
    from tests.support.live import LiveJit, database_for

    moto = start_moto(free_port())
    proxy = Proxy(moto.url)
    live = None
    try:
        database_url = database_for(f"quota_{mode}", Path(tempfile.mkdtemp(prefix="jit-bench-")))
        class _Live(LiveJit):
            @property
            def env(self) -> dict[str, str]:
                # The product's polling defaults, not the test suite's; a mutation limit far
                # above hundreds of requests within seconds. With a drift scan, one whose
                # paced reads (half the interval) span the window of ends.
                env = {**super().env, "JIT_MUTATION_RATE_LIMIT": "1000000",
                       **({"JIT_DRIFT_INTERVAL": str(int(2 * window))} if drift else {})}
                for name in ("JIT_ASSIGNMENT_POLL_INTERVAL", "JIT_ASSIGNMENT_FIRST_POLL"):
                    env.pop(name, None)
                return env

        live = _Live(database_url, os.environ["JIT_TEST_REDIS_URL"], proxy.url)
        live.start()
        env = live.env
        accounts_needed = -(-n // (len(USERS) * len(SETS)))
        existing = [live.accounts[a] for a in ("sandbox-alice", "sandbox-erin", "sandbox-shared", "sandbox-ml",
                                               "sandbox-training")]
        ou = asyncio.run(_sandbox_ou(database_url))
        extra = max(0, accounts_needed - len(existing))
        added = asyncio.run(add_accounts(moto.url, [ou], extra, concurrency=16)) if extra else {}
        seeded_in = 0.0
        if drift:
            clock = time.monotonic()
            asyncio.run(_seed_directory(moto.url, live.instance_arn, ou, drift[0], drift[1]))
            seeded_in = time.monotonic() - clock
        subprocess.run([sys.executable, "-m", "jit.cli", "sync"], env=env, check=True, stdout=subprocess.DEVNULL)
        keys = [(u, a, p) for a in existing + list(added.values()) for u in USERS for p in SETS][:n]

        proxy.quota(QUOTA if mode == "quota" else LIMITLESS)
        proxy.reset_stats()
        # Requests take a while here; grants run at most ~6 a second under the quota. The
        # window opens once all could be granted.
        lead = 30 + n * 0.25 + (n / 5 if mode == "quota" else 0)
        window_start = datetime.now(UTC) + timedelta(seconds=lead)
        started = time.monotonic()
        tickets = asyncio.run(request_all(live, keys, window_start, window))
        requested_in = time.monotonic() - started
        watch = DriftWatch(live) if drift else None
        if watch is not None:
            while datetime.now(UTC) < window_start - timedelta(seconds=5):
                time.sleep(0.5)
            started_scan = watch.start()
        # Wait for the window, then for every delete to settle (or a generous timeout).
        wanted = {t["key"] for t in tickets}
        deadline = window_start.timestamp() + window + 180
        while time.time() < deadline:
            stats = proxy.stats()
            deleted = {(s["account"], s["permission_set_arn"], s["principal_id"]) for s in stats["settles"]
                       if s["operation"] == "DeleteAccountAssignment" and s["status"] == "SUCCEEDED"}
            if time.time() > window_start.timestamp() + window and wanted <= deleted:
                break
            time.sleep(1)
        time.sleep(2)
        scan = None
        if watch is not None:
            scan_deadline = time.time() + 4 * window + 120
            while (scan := watch.last()) and scan["status"] in ("QUEUED", "RUNNING") and time.time() < scan_deadline:
                time.sleep(2)
            scan = {**(scan or {}), "requested": started_scan}
        stats = proxy.stats()
        rows = {str(r["id"]): r for r in asyncio.run(_tickets(database_url))}
        left = leftovers(live, moto.url, wanted)
    finally:
        if live is not None:
            live.stop()
        proxy.stop()
        moto.stop()

    created, deleted = {}, {}
    for s in stats["settles"]:
        key = (s["account"], s["permission_set_arn"], s["principal_id"])
        if s["status"] != "SUCCEEDED":
            continue
        if s["operation"] == "CreateAccountAssignment":
            created.setdefault(key, s["settled_at"])
        elif s["operation"] == "DeleteAccountAssignment":
            deleted[key] = s["settled_at"]
    lateness = [deleted[t["key"]] - t["end"] for t in tickets if t["key"] in deleted]
    grant_delay = [created[t["key"]] - t["start"] for t in tickets if t["key"] in created]
    early = [rows[t["id"]]["revoke_started_early"] for t in tickets
             if t["id"] in rows and rows[t["id"]]["revoke_started_early"] is not None]
    # Per ticket, by end time: seconds from the window's opening to its end, how late its
    # delete settled, and how early its revoke started (for a plot, or to see where in a
    # burst lateness comes from).
    timeline = sorted(
        (round(t["end"] - window_start.timestamp(), 2),
         round(deleted[t["key"]] - t["end"], 2) if t["key"] in deleted else None,
         round(rows[t["id"]]["revoke_started_early"], 2)
         if t["id"] in rows and rows[t["id"]]["revoke_started_early"] is not None else None)
        for t in tickets)
    calls = stats["calls"]
    sso_calls = sum(calls.values())
    return {
        "mode": mode, "tickets": n, "window_s": window, "requested_s": round(requested_in, 1),
        "revoke_lateness_ms": percentiles(lateness), "grant_delay_ms": percentiles(grant_delay),
        "revoke_started_early_ms": percentiles(early),
        "min_lateness_ms": round(min(lateness) * 1000, 1) if lateness else None,
        "revoked": len(lateness), "granted": len(grant_delay), "leftover": left,
        "calls": calls, "throttled": stats.get("throttled", {}), "calls_per_lifecycle": round(sso_calls / n, 2),
        "statuses": {s: sum(1 for r in rows.values() if r["status"] == s) for s in {r["status"] for r in rows.values()}},
        "timeline": timeline,
        "drift": {"accounts": drift[0], "permission_sets": drift[1], "seeded_s": round(seeded_in, 1),
                  "scan": scan} if drift else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--tickets", type=int)
    parser.add_argument("--window", type=float)
    parser.add_argument("--modes", default="limitless,quota")
    parser.add_argument("--drift", metavar="ACCOUNTSxSETS",
                        help="seed this many more accounts and permission sets (e.g. 5000x500) and run a drift scan "
                             "over them during the window of ends")
    args = parser.parse_args()
    drift = tuple(int(x) for x in args.drift.lower().split("x")) if args.drift else None
    n = args.tickets or (60 if args.quick else 300)
    window = args.window or (12.0 if args.quick else 60.0 * max(1, n // 1000) if n >= 1000 else 60.0)
    results = [run(mode, n, window, drift) for mode in args.modes.split(",")]
    rows = []
    for r in results:
        late, grant = r["revoke_lateness_ms"], r["grant_delay_ms"]
        throttled = sum(sum(v.values()) for v in r["throttled"].values())
        rows.append([r["mode"], r["tickets"], late.get("p50"), late.get("p99"), late.get("max"), r["min_lateness_ms"],
                     grant.get("p50"), grant.get("p99"), r["calls_per_lifecycle"], throttled, r["leftover"]])
    demanded = n / window
    table = print_table(
        f"{n} tickets ending within {window:.0f} s ({demanded:.1f} revokes/s; the physical limit is "
        f"{PHYSICAL_REVOKES_PER_S:.1f}/s, ratio {demanded / PHYSICAL_REVOKES_PER_S:.2f}). Targets: lateness p99 <= "
        "2,000 ms, none settled > 10,000 ms early, <= 6 calls per lifecycle, 0 leftover",
        ["mode", "tickets", "late p50 ms", "late p99 ms", "late max ms", "earliest ms", "grant p50 ms",
         "grant p99 ms", "calls/ticket", "throttled", "leftover"], rows)
    for r in results:
        print(f"{r['mode']}: calls {r['calls']}; throttled {r['throttled']}; revokes started early "
              f"{r['revoke_started_early_ms']}; ticket statuses {r['statuses']}")
        if r["drift"]:
            print(f"{r['mode']}: drift scan over {r['drift']['accounts']} more accounts x {r['drift']['permission_sets']} "
                  f"more permission sets: {r['drift']['scan']}")
    print(f"load average {os.getloadavg()}")
    name = ("quota" + ("-quick" if args.quick else "") + (f"-{n}" if args.tickets else "")
            + (f"-drift-{args.drift.lower()}" if drift else ""))
    write_result(name, {"setup": {"tickets": n, "window_s": window, "quota": QUOTA,
                                  "physical_revokes_per_s": PHYSICAL_REVOKES_PER_S},
                        "results": results, "load_average": os.getloadavg(), "table": table})


if __name__ == "__main__":
    main()
