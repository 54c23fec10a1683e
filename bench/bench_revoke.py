"""Revoke lag: from a ticket's end time to its assignment gone from AWS, with many tickets
ending within the same minute.

    .venv/bin/python bench/bench_revoke.py            # 1,000 tickets ending within 60 s
    .venv/bin/python bench/bench_revoke.py --quick    # 100 tickets ending within 6 s (same rate)

Setup: `jit serve` + one `jit worker` against moto with the demo organization plus enough
extra accounts in /Sandbox (synced with `jit sync`) that every ticket has its own
assignment: alice, erin and maria request ReadOnlyAccess or PowerUserAccess on sandbox
accounts under the rule sandbox-self-service (no approval step). All tickets are requested
first, ending at evenly spread times within one window that starts once they are all
granted. A boto3 client talking straight to moto (ListAccountAssignmentsForPrincipal for
the three users, as fast as moto answers) records when each assignment disappears; lag is
that moment minus the ticket's endAt, so its resolution is one snapshot (reported).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import asyncpg
import boto3
import httpx
from common import LiveBench, percentiles, print_table, write_result

TARGET_P99_MS, TARGET_MAX_MS = 1000, 5000
USERS = ["alice", "erin", "maria"]
SETS = ["ReadOnlyAccess", "PowerUserAccess"]
REQUEST = """mutation($input: RequestTicketInput!) { requestTicket(input: $input) {
  __typename ... on Ticket { id status endAt } ... on Error { message } } }"""


class Snapshots(threading.Thread):
    def __init__(self, live, users: list[str], interval: float) -> None:
        super().__init__(daemon=True)
        self.interval = interval
        self.live = live
        self.sso = boto3.client("sso-admin", endpoint_url=live.moto_url, region_name="us-east-1")
        self.principals = [live.users[u] for u in users]
        self.taken: list[tuple[float, set]] = []
        self.halt = threading.Event()

    def snapshot(self) -> set:
        seen = set()
        paginator = self.sso.get_paginator("list_account_assignments_for_principal")
        for principal in self.principals:
            for page in paginator.paginate(InstanceArn=self.live.instance_arn, PrincipalId=principal,
                                           PrincipalType="USER"):
                for item in page["AccountAssignments"]:
                    seen.add((item["AccountId"], item["PermissionSetArn"], principal))
        return seen

    def run(self) -> None:
        while not self.halt.is_set():
            started = time.time()
            seen = self.snapshot()
            # Stamp with the start: an assignment absent from it was gone by then at the latest... and
            # present at its start means it was there then; the midpoint would flatter the lag.
            self.taken.append((started, seen))
            # Listing 1,000 assignments back to back kept moto and this process busy on one of
            # the machine's two cores, starving the worker being measured; a pause bounds that.
            self.halt.wait(max(self.interval - (time.time() - started), 0))


async def _sandbox_ou(database_url: str) -> str:
    conn = await asyncpg.connect(database_url.replace("postgres://", "postgresql://", 1))
    try:
        return await conn.fetchval("SELECT id FROM organizational_unit WHERE name = 'Sandbox'")
    finally:
        await conn.close()


async def request_all(live, keys, window_start: datetime, window: float) -> list[tuple[tuple, datetime]]:
    sem = asyncio.Semaphore(8)
    n = len(keys)

    async with httpx.AsyncClient(base_url=live.url, timeout=120) as client:
        async def one(i: int, key) -> tuple[tuple, datetime]:
            user, account, ps = key
            end = window_start + timedelta(seconds=window * i / n)
            async with sem:
                duration = int((end - datetime.now(UTC)).total_seconds())
                body = (await client.post("/graphql", json={"query": REQUEST, "variables": {"input": {
                    "targets": [{"accountId": account, "permissionSet": ps}], "durationSeconds": duration,
                    "justification": "bench"}}}, headers={"Authorization": f"Bearer {live.tokens[user]}"})).json()
            ticket = body["data"]["requestTicket"]
            if ticket["__typename"] != "Ticket":
                raise RuntimeError(ticket)
            return (account, live.permission_sets[ps], live.users[user]), datetime.fromisoformat(ticket["endAt"])

        return await asyncio.gather(*(one(i, key) for i, key in enumerate(keys)))


def main(quick: bool, workers: int, interval: float) -> None:
    n, window = (100, 6.0) if quick else (1000, 60.0)
    # 1,000 requests from three users within seconds: far above the per-user mutation limit.
    with LiveBench("revoke", extra_env={"JIT_MUTATION_RATE_LIMIT": "1000000"}, workers=workers) as bench:
        live = bench.live
        accounts_needed = -(-n // (len(USERS) * len(SETS)))
        existing = [live.accounts[a] for a in ("sandbox-alice", "sandbox-erin", "sandbox-shared", "sandbox-ml",
                                               "sandbox-training")]
        from jit.demo.seed import add_accounts

        ou = asyncio.run(_sandbox_ou(live.database_url))
        extra = max(0, accounts_needed - len(existing))
        added = asyncio.run(add_accounts(live.moto_url, [ou], extra, concurrency=16)) if extra else {}
        subprocess.run([sys.executable, "-m", "jit.cli", "sync"], env=live.env, check=True, stdout=subprocess.DEVNULL)
        account_ids = existing + list(added.values())
        keys = [(u, a, p) for a in account_ids for u in USERS for p in SETS][:n]

        # Requests take a while on this machine; the window opens once all could be granted.
        lead = 60 + n * 0.25
        window_start = datetime.now(UTC) + timedelta(seconds=lead)
        started = time.monotonic()
        ends = asyncio.run(request_all(live, keys, window_start, window))
        requested_in = time.monotonic() - started
        watcher = Snapshots(live, USERS, interval)
        watcher.start()
        # Everything should be granted before the window opens.
        granted_at_window, cpu_before = None, None
        while datetime.now(UTC) < window_start + timedelta(seconds=window + 20):
            if cpu_before is None and datetime.now(UTC) >= window_start:
                cpu_before, cpu_at = bench.cpu(), time.monotonic()
            if granted_at_window is None and cpu_before is not None and watcher.taken:
                granted_at_window = len(watcher.taken[-1][1])
            time.sleep(0.1)
        deadline = time.monotonic() + 120
        while watcher.taken and watcher.taken[-1][1] and time.monotonic() < deadline:
            time.sleep(0.5)
        cpu_after, cpu_seconds = bench.cpu(), time.monotonic() - cpu_at
        watcher.halt.set()
        watcher.join(30)
        rss = bench.rss()
        # The share of one core each process used from the window's start until the last revoke.
        cpu_share = {name: round((cpu_after[name] - cpu_before[name]) / cpu_seconds, 2) for name in cpu_after}

    lags, missed, never_seen = [], 0, 0
    intervals = [b[0] - a[0] for a, b in pairwise(watcher.taken)]
    for key, end in ends:
        end_ts = end.timestamp()
        seen = [t for t, keys_seen in watcher.taken if key in keys_seen]
        if not seen:
            never_seen += 1
            continue
        gone = next((t for t, keys_seen in watcher.taken if t >= end_ts and key not in keys_seen), None)
        if gone is None:
            missed += 1
        else:
            lags.append(gone - end_ts)
    stats = percentiles(lags)
    table = print_table(
        f"Revoke lag, {n} tickets ending within {window:.0f} s, {workers} worker(s) "
        f"(target p99 <= {TARGET_P99_MS} ms, max <= {TARGET_MAX_MS} ms)",
        ["tickets", "revoked seen", "missed", "never granted", "p50 ms", "p95 ms", "p99 ms", "max ms",
         "snapshot ms (resolution)"],
        [[n, stats.get("n", 0), missed, never_seen, stats.get("p50"), stats.get("p95"), stats.get("p99"),
          stats.get("max"), round(1000 * sum(intervals) / max(len(intervals), 1), 1)]])
    print(f"requested in {requested_in:.1f} s; assignments present when the window opened: {granted_at_window}; RSS MB {rss}")
    print(f"{workers} worker(s); cores used per process from the window's start to the last revoke "
          f"({cpu_seconds:.0f} s): {cpu_share}; load average {os.getloadavg()}")
    write_result("revoke" + ("-quick" if quick else ""), {
        "setup": {"tickets": n, "window_seconds": window, "workers": workers, "snapshot_every_s": interval},
        "cores_used": cpu_share, "load_average": os.getloadavg(),
        "target": {"p99_ms": TARGET_P99_MS, "max_ms": TARGET_MAX_MS}, "lag_ms": stats, "missed": missed,
        "never_granted": never_seen, "present_at_window_open": granted_at_window,
        "snapshot_interval_ms": percentiles(intervals), "requested_seconds": round(requested_in, 1),
        "rss_mb": rss, "table": table,
    })


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--workers", type=int, default=1, help="jit worker processes (default 1)")
    parser.add_argument("--snapshot-every", type=float, default=0.2,
                        help="seconds between the watcher's snapshots of AWS (default 0.2; the lag's resolution)")
    args = parser.parse_args()
    main(args.quick, args.workers, args.snapshot_every)
