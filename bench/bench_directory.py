"""Directory scale: the read queries people use all day, over a large directory and a long
history, through the GraphQL API of a live `jit serve`.

    .venv/bin/python bench/bench_directory.py            # 5,000 accounts, 500 permission sets, 20,000 users, 1,000,000 tickets
    .venv/bin/python bench/bench_directory.py --quick    # 1,000 / 100 / 2,000 / 100,000
    .venv/bin/python bench/bench_directory.py --reuse    # measure again on the database the last run generated
    .venv/bin/python bench/bench_directory.py --quick --tickets 20000   # a small run

Setup: the live JIT of bench/common.py (demo organization and rules, synced from moto),
then the rest is written straight into PostgreSQL with set-based INSERT ... SELECT over
generate_series (a million tickets in well under a minute; going through the API would
take hours): accounts spread over the demo OUs, permission sets, users, and tickets with
one target and one approval step each, over the last ~2 years, 90% ENDED, the rest ACTIVE,
REJECTED, CANCELLED and 0.1% PENDING_APPROVAL; alice is the principal of 1% of them and
targets use the demo permission sets, so the demo rules govern them. Steps are approved up
to ten minutes after the request, ended tickets record how early their revoke started, and
one in 500 is break-glass, for the insights queries.

The worker is stopped first: these are read queries, and its directory sync would mark
the generated accounts and users removed, since moto does not hold them.

--reuse skips the minutes of setup when comparing a change: it migrates the database the
last run of the same scale left behind (jit_bench_run_directory, or the prefix in
JIT_BENCH_PG_DATABASE), mints fresh tokens and starts `jit serve` alone on it (no moto, no
worker: these queries make no AWS call). Without such a database it runs the full setup.

Each query is sent 40 times in a row after 3 warm-ups; p50/p95/p99 of the HTTP round trip.
The trivial query `{ __typename }` is measured the same way, as the framework's floor.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlparse

import asyncpg
import httpx
from common import LiveBench, percentiles, print_table, rss_mb, write_result

if TYPE_CHECKING:
    from jit.demo.stack import LiveStack

TARGET_P95_MS = 50
REPEATS = 40
INSIGHTS = """query($days: Int) { insights(days: $days) { __typename ... on Insights {
  activeGrants { day count } approvalTimes { ruleName tickets p50Seconds p95Seconds }
  topAccounts { id count } topPermissionSets { id count } breakGlass { used reviewsOutstanding }
  revokeLateness { revokes late worstLateSeconds averageEarlySeconds } awsBudget { outstanding } } } }"""

GENERATE = [
    # Accounts under the OUs the demo accounts live in.
    """INSERT INTO account (id, name, email, status, parent_id, ou_path, tags, synced_at)
       SELECT (100000000000 + i)::text, 'bench-account-' || i, 'bench' || i || '@example.com', 'ACTIVE',
              p.parent_id, p.ou_path, '{}'::jsonb, now()
       FROM generate_series(1, $1::int) i
       JOIN (SELECT parent_id, ou_path, (row_number() OVER (ORDER BY ou_path) - 1)::int AS k, count(*) OVER ()::int AS n
             FROM (SELECT DISTINCT parent_id, ou_path FROM account WHERE parent_id LIKE 'ou-%') d) p
         ON p.k = i % p.n""",
    """INSERT INTO permission_set (arn, name, description, session_duration, synced_at)
       SELECT 'arn:aws:sso:::permissionSet/ssoins-bench/ps-' || lpad(i::text, 16, '0'), 'BenchSet' || i, '', 'PT1H', now()
       FROM generate_series(1, $1::int) i""",
    """INSERT INTO directory_user (id, user_name, display_name, email, synced_at)
       SELECT 'bench-user-' || i, 'bench' || i, 'Bench ' || i, 'bench' || i || '@example.com', now()
       FROM generate_series(1, $1::int) i""",
]

TICKETS = """
INSERT INTO ticket (id, status, end_reason, start_at, end_at, justification, created_at, updated_at, version,
                    principal_id, requester_id, break_glass, revoke_started_early, starts_on_approval)
SELECT md5('t' || i)::uuid, s.status, CASE WHEN s.status = 'ENDED' THEN 'EXPIRED' END,
       s.at, s.at + interval '1 hour', 'bench', s.at, s.at, 3, s.who, s.who, i % 500 = 7,
       -- How early each ended ticket's revoke started (insights' revoke lateness): a few late.
       CASE WHEN s.status = 'ENDED' THEN (i % 13) - 1.5 END, false
FROM (SELECT i, now() - i * interval '60 seconds' AS at,
             CASE WHEN i % 1000 = 0 THEN 'PENDING_APPROVAL' WHEN i % 200 = 1 THEN 'ACTIVE'
                  WHEN i % 20 = 2 THEN 'REJECTED' WHEN i % 20 = 3 THEN 'CANCELLED' ELSE 'ENDED' END AS status,
             CASE WHEN i % 100 = 5 THEN $2::text
                  ELSE ($3::text[])[1 + (hashint4(i)::bigint & 2147483647) % array_length($3::text[], 1)] END AS who
      FROM generate_series(1, $1::int) i) s"""

TARGETS = """
INSERT INTO ticket_target (ticket_id, account_id, permission_set_arn, rule_id, rule_name)
SELECT md5('t' || i)::uuid, ($2::text[])[1 + (hashint4(i + 7)::bigint & 2147483647) % array_length($2::text[], 1)],
       ($3::text[])[1 + i % array_length($3::text[], 1)], ($4::uuid[])[1 + i % array_length($4::uuid[], 1)],
       ($5::text[])[1 + i % array_length($5::text[], 1)]
FROM generate_series(1, $1::int) i"""

STEPS = """
INSERT INTO ticket_step (ticket_id, position, rule_id, rule_name, step_index, name, required, approver_users,
                         approver_groups, status, completed_at)
SELECT md5('t' || i)::uuid, 0, ($2::uuid[])[1 + i % array_length($2::uuid[], 1)],
       ($3::text[])[1 + i % array_length($3::text[], 1)], 0, 'Team lead', 1, '[]'::jsonb, '["approvers"]'::jsonb,
       CASE WHEN i % 1000 = 0 THEN 'PENDING' ELSE 'APPROVED' END,
       -- Approved up to ten minutes after the request (insights' approval time per rule).
       CASE WHEN i % 1000 = 0 THEN NULL ELSE now() - i * interval '60 seconds' + (i % 600) * interval '1 second' END
FROM generate_series(1, $1::int) i"""


async def generate(database_url: str, accounts: int, sets: int, users: int, tickets: int) -> dict:
    conn = await asyncpg.connect(database_url.replace("postgres://", "postgresql://", 1))
    timings = {}
    try:
        for sql, n, name in zip(GENERATE, (accounts - await conn.fetchval("SELECT count(*) FROM account"),
                                          sets - await conn.fetchval("SELECT count(*) FROM permission_set"),
                                          users), ("accounts", "permission_sets", "users"), strict=True):
            started = time.perf_counter()
            await conn.execute(sql, max(n, 0))
            timings[name] = round(time.perf_counter() - started, 2)
        user_ids = [r[0] for r in await conn.fetch("SELECT id FROM directory_user")]
        alice = await conn.fetchval("SELECT id FROM directory_user WHERE user_name = 'alice'")
        account_ids = [r[0] for r in await conn.fetch("SELECT id FROM account")]
        demo_sets = [r[0] for r in await conn.fetch("SELECT arn FROM permission_set WHERE arn NOT LIKE '%ssoins-bench%'")]
        rules = await conn.fetch("SELECT id, name FROM approval_rule ORDER BY name")
        # Rules with approval steps, for the steps (and so for the inbox).
        stepped = await conn.fetch("SELECT id, name FROM approval_rule WHERE jsonb_array_length(steps) > 0 ORDER BY name")
        started = time.perf_counter()
        async with conn.transaction():
            await conn.execute(TICKETS, tickets, alice, user_ids)
            await conn.execute(TARGETS, tickets, account_ids, demo_sets, [r["id"] for r in rules],
                               [r["name"] for r in rules])
            await conn.execute(STEPS, tickets, [r["id"] for r in stepped], [r["name"] for r in stepped])
        timings["tickets_targets_steps"] = round(time.perf_counter() - started, 2)
        started = time.perf_counter()
        await conn.execute("ANALYZE")
        timings["analyze"] = round(time.perf_counter() - started, 2)
        counts = {t: await conn.fetchval(f"SELECT count(*) FROM {t}")
                  for t in ("account", "permission_set", "directory_user", "ticket", "ticket_target", "ticket_step")}
    finally:
        await conn.close()
    return {"seconds": timings, "rows": counts}


# Run by the reused database's own child process: the product's migrations (a change under
# test may bring one), fresh tokens, and the ids the queries name.
PREPARE_REUSED = """
import asyncio, json, os
from jit.auth.service import create_token
from jit.clock import SystemClock
from jit.db import database, migrate
from jit.directory.models import Account, User

async def main():
    url = os.environ["JIT_DATABASE_URL"]
    await migrate(url)
    async with database(url):
        users = {u.user_name: u.id for u in await User.filter(user_name__in=["alice", "bob", "dave", "admin"])}
        tokens = {name: (await create_token(SystemClock(), name, "bench"))[0] for name in users}
        dev = await Account.get(name="payments-dev")
    print(json.dumps({"tokens": tokens, "users": users, "accounts": {"payments-dev": dev.id}}))

asyncio.run(main())
"""


# The insights rollups (jit.insights.rollup) as the worker's cron writes them. The generator
# writes tickets behind the cron's back (past updated_at, after the worker's startup run
# may have rolled up an empty history), so the rollups are emptied first; the first run
# then writes the last 90 closed days and their hours (timed: the backfill a deployment
# pays once), the second finds nothing to do (timed: the cron's steady cost). With --reuse
# and JIT_BENCH_KEEP_ROLLUPS=1 the rollups a previous run wrote are kept (the database's
# tickets have not changed since): the first run only catches up the days and hours since.
ROLL_UP = """
import asyncio, json, os, time
from jit.clock import SystemClock
from jit.db import database
from jit.insights import models
from jit.insights.rollup import roll_up

async def main():
    async with database(os.environ["JIT_DATABASE_URL"]):
        keep = os.environ.get("JIT_BENCH_KEEP_ROLLUPS") == "1"
        for model in () if keep else (models.InsightsDay, models.InsightsApprovalBucket, models.InsightsTargetDay,
                      models.InsightsTargetPage, models.InsightsRollup):
            await model.all().delete()
        started = time.perf_counter()
        first = await roll_up(SystemClock())
        backfill = time.perf_counter() - started
        started = time.perf_counter()
        second = await roll_up(SystemClock())
        steady = time.perf_counter() - started
    print(json.dumps({"backfill": first, "backfill_seconds": round(backfill, 2),
                      "again": second, "again_seconds": round(steady, 2)}))

asyncio.run(main())
"""


def roll_up_insights(database_url: str) -> dict:
    from tests.support.live import server_env

    env = server_env(database_url, os.environ["JIT_TEST_REDIS_URL"], "http://127.0.0.1:9", 9)
    out = subprocess.run([sys.executable, "-c", ROLL_UP], env=env, capture_output=True, text=True, timeout=3600,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


@dataclass
class ReusedJit:
    """`jit serve` alone on the database a previous full run generated."""

    database_url: str
    tokens: dict[str, str] = field(default_factory=dict)
    users: dict[str, str] = field(default_factory=dict)
    accounts: dict[str, str] = field(default_factory=dict)
    stack: LiveStack | None = None
    url: str = ""

    @property
    def processes(self) -> list[subprocess.Popen]:
        return self.stack.apis if self.stack else []

    def __enter__(self) -> ReusedJit:
        import redis

        from jit.demo.embedded import free_port
        from jit.demo.stack import LiveStack
        from tests.support.live import server_env

        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        # No AWS endpoint is reached: the measured queries read the database only.
        env = server_env(self.database_url, os.environ["JIT_TEST_REDIS_URL"], "http://127.0.0.1:9", port)
        # As LiveJit does: the previous benchmark's deployment (another database) left its
        # claim on the shared Redis database, and jit serve would refuse to start beside it.
        redis.Redis.from_url(env["JIT_REDIS_URL"]).flushdb()
        out = subprocess.run([sys.executable, "-c", PREPARE_REUSED], env=env, capture_output=True, text=True,
                             timeout=600, check=True)
        prepared = json.loads(out.stdout.strip().splitlines()[-1])
        self.tokens, self.users, self.accounts = prepared["tokens"], prepared["users"], prepared["accounts"]
        self.stack = LiveStack(env)
        self.stack.start_api(port)
        try:
            self.stack.wait_ready("/healthz", timeout=30)
        except RuntimeError as error:
            self.__exit__()
            raise RuntimeError(f"jit serve did not start on the reused database: {error}") from None
        return self

    def __exit__(self, *exc: object) -> None:
        if self.stack:
            self.stack.stop(10)


async def reusable_database(tickets: int) -> tuple[str, dict] | None:
    """The database the last full run of this scale generated, with its row counts, if any."""
    from tests import services

    url = urlparse(services.PG_ADMIN_URL)._replace(path=f"/{services.PG_DATABASE}_directory").geturl()
    try:
        conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1), timeout=3)
    except (TimeoutError, OSError, asyncpg.PostgresError):
        return None
    try:
        counts = {t: await conn.fetchval(f"SELECT count(*) FROM {t}")
                  for t in ("account", "permission_set", "directory_user", "ticket", "ticket_target", "ticket_step")}
    except asyncpg.PostgresError:
        return None
    finally:
        await conn.close()
    return (url, counts) if counts["ticket"] == tickets else None


async def measure(live) -> dict:
    async with httpx.AsyncClient(base_url=live.url, timeout=120) as client:
        async def gql(user: str, query: str, variables: dict | None = None) -> dict:
            body = (await client.post("/graphql", json={"query": query, "variables": variables or {}},
                                      headers={"Authorization": f"Bearer {live.tokens[user]}"})).json()
            if body.get("errors"):
                raise RuntimeError(body["errors"])
            return body["data"]

        dev = live.accounts["payments-dev"]
        # Ten accounts alice may request, for requestableTargets(accountIds:).
        first_page = await gql("alice", "{ requestableAccounts(first: 10) { edges { node { id } } } }")
        ten = [e["node"]["id"] for e in first_page["requestableAccounts"]["edges"]]
        page = "edges { node { id status } } pageInfo { hasNextPage endCursor }"
        queries = {
            "trivial query { __typename } (floor)": ("alice", "{ __typename }", None),
            "requestableTargets (alice, every account)": (
                "alice", "{ requestableTargets { ruleName account { id } } }", None),
            "requestableAccounts first 50, search (alice)": (
                "alice", '{ requestableAccounts(first: 50, search: "account-1") '
                         '{ totalCount edges { cursor node { id name } } pageInfo { hasNextPage } } }', None),
            "requestableTargets for 10 accounts (alice)": (
                "alice", "query($ids: [ID!]) { requestableTargets(accountIds: $ids) { ruleName account { id } } }",
                {"ids": ten}),
            "tickets first 20, status ENDED (alice)": (
                "alice", f"{{ tickets(first: 20, filter: {{status: [ENDED]}}) {{ {page} }} }}", None),
            "tickets first 20, status ENDED + account (bob, approver)": (
                "bob", f"query($a: String) {{ tickets(first: 20, filter: {{status: [ENDED], accountId: $a}}) {{ {page} }} }}",
                {"a": dev}),
            "tickets first 20, principal alice (admin)": (
                "admin", f"query($p: ID) {{ tickets(first: 20, filter: {{principalId: $p}}) {{ {page} }} }}",
                {"p": live.users["alice"]}),
            "approvals inbox: awaitingMyDecision (bob)": (
                "bob", f"{{ tickets(first: 20, filter: {{awaitingMyDecision: true}}) {{ {page} }} }}", None),
            # dave decides only the security step of prod-change, never the current one here:
            # the inbox's worst case, every pending ticket looked at and none returned.
            "approvals inbox, nothing to decide (dave)": (
                "dave", f"{{ tickets(first: 20, filter: {{awaitingMyDecision: true}}) {{ {page} }} }}", None),
            # The insights dashboard: every aggregate of jit/insights/queries.py in one request.
            "insights 30 days, everyone (admin)": ("admin", INSIGHTS, {"days": 30}),
            "insights 90 days, everyone (admin)": ("admin", INSIGHTS, {"days": 90}),
            "insights 30 days, own tickets (alice)": ("alice", INSIGHTS, {"days": 30}),
            "insights 90 days, own tickets (alice)": ("alice", INSIGHTS, {"days": 90}),
        }
        results = {}
        for name, (user, query, variables) in queries.items():
            samples, size = [], None
            for attempt in range(3 + REPEATS):
                started = time.perf_counter()
                data = await gql(user, query, variables)
                if attempt >= 3:
                    samples.append(time.perf_counter() - started)
                size = data
            value = next(iter(size.values()))
            if isinstance(value, list):
                count = len(value)
            elif isinstance(value, dict):
                count = len(value.get("edges", []))
            else:
                count = 1
            results[name] = {**percentiles(samples), "rows_returned": count}
            print(f"  {name}: p95 {results[name]['p95']} ms ({count} rows)", flush=True)
    return results


def main(quick: bool, reuse: bool, tickets: int | None = None) -> None:
    scale = (1000, 100, 2000, 100_000) if quick else (5000, 500, 20_000, 1_000_000)
    if tickets is not None:
        scale = (*scale[:3], tickets)
    reusable = asyncio.run(reusable_database(scale[3])) if reuse else None
    if reusable:
        url, counts = reusable
        print(f"reusing {urlparse(url).path[1:]}: {counts}", flush=True)
        with ReusedJit(url) as live:
            generated = {"reused": True, "rows": counts, "insights_roll_up": roll_up_insights(url)}
            print(f"insights rollups: {generated['insights_roll_up']}", flush=True)
            results = asyncio.run(measure(live))
            rss = {"jit serve": rss_mb(live.processes[0].pid), "bench client": rss_mb(os.getpid(), children=False)}
    else:
        with LiveBench("directory") as bench:
            # Read queries need no worker, and its directory sync would mark the generated
            # accounts and users removed (they are not in moto).
            # Its graceful shutdown waits for a running job (the startup sync) on a loaded
            # machine; after 30 s it is killed, as nothing it does matters to these read queries.
            from jit.demo.stack import stop_group

            stop_group(bench.live.processes[1], timeout=30)
            print(f"generating {scale} ...", flush=True)
            generated = asyncio.run(generate(bench.live.database_url, *scale))
            generated["insights_roll_up"] = roll_up_insights(bench.live.database_url)
            print(f"generated {generated}", flush=True)
            results = asyncio.run(measure(bench.live))
            rss = bench.rss()
    floor = results["trivial query { __typename } (floor)"]["p95"]
    rows = [[name, r["n"], r["rows_returned"], r["p50"], r["p95"], r["p99"], round(r["p95"] / max(floor, 1e-6), 1)]
            for name, r in results.items()]
    accounts, sets, users, tickets = scale
    table = print_table(
        f"Directory scale: {accounts} accounts, {sets} permission sets, {users} users, {tickets} tickets "
        f"(target p95 <= {TARGET_P95_MS} ms)",
        ["query", "n", "rows", "p50 ms", "p95 ms", "p99 ms", "p95 / trivial p95"], rows)
    print(f"RSS MB {rss}")
    write_result("directory" + ("-quick" if quick else "") + (f"-{tickets}" if tickets is not None else ""), {
        "setup": {"accounts": accounts, "permission_sets": sets, "users": users, "tickets": tickets,
                  "repeats": REPEATS}, "generated": generated,
        "target": {"p95_ms": TARGET_P95_MS}, "latency_ms": results, "rss_mb": rss, "table": table,
    })


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--reuse", action="store_true",
                        help="measure on the database the last run of this scale generated (see above)")
    parser.add_argument("--tickets", type=int, default=None,
                        help="generate this many tickets instead (a small run on a shared machine)")
    args = parser.parse_args()
    main(args.quick, args.reuse, args.tickets)
