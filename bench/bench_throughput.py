"""Throughput: complete ticket lifecycles (request, approve, grant, revoke) per second,
sustained, against a trivial query on the same server in the same run (the framework's
ceiling on this machine).

    .venv/bin/python bench/bench_throughput.py            # 60 s of lifecycles
    .venv/bin/python bench/bench_throughput.py --quick    # 15 s

Setup: `jit serve` + `jit worker` against moto with the demo organization. 15 lifecycles
run at once, one per (requester, dev account) pair so no two share an assignment:
alice, erin and maria request PowerUserAccess on the five dev accounts (rule dev-access),
bob approves, the client waits for ACTIVE, revokes, waits for ENDED (reading the ticket
every 250 ms, itself ~60 queries/s on the server), then starts the next. A lifecycle
counts when it ends inside the window.
The per-user mutation rate limit is lifted (JIT_MUTATION_RATE_LIMIT), since bob
approves every ticket. The trivial query is `{ __typename }` with a token, from 15 concurrent clients.
"""

from __future__ import annotations

import argparse
import asyncio
import time

import httpx
from common import LiveBench, percentiles, print_table, write_result

DEV = ["payments-dev", "checkout-dev", "search-dev", "data-platform-dev", "identity-dev"]
REQUEST = """mutation($input: RequestTicketInput!) { requestTicket(input: $input) {
  __typename ... on Ticket { id } ... on Error { message } } }"""
APPROVE = """mutation($id: ID!) { approveTicket(ticketId: $id) { __typename ... on Error { message } } }"""
REVOKE = """mutation($id: ID!) { revokeTicket(ticketId: $id, reason: "bench") { __typename ... on Error { message } } }"""
STATUS = """query($id: ID!) { ticket(id: $id) { status } }"""


async def gql(client: httpx.AsyncClient, token: str, query: str, variables: dict | None = None) -> dict:
    response = await client.post("/graphql", json={"query": query, "variables": variables or {}},
                                 headers={"Authorization": f"Bearer {token}"})
    body = response.json()
    if body.get("errors"):
        raise RuntimeError(body["errors"])
    return body["data"]


async def _until(client, token: str, ticket: str, statuses: set[str], timeout: float = 120) -> str:
    deadline = time.monotonic() + timeout
    while True:
        status = (await gql(client, token, STATUS, {"id": ticket}))["ticket"]["status"]
        if status in statuses:
            return status
        if time.monotonic() > deadline:
            raise TimeoutError(f"ticket {ticket} still {status}")
        await asyncio.sleep(0.25)


async def lifecycles(live, seconds: float) -> tuple[list[float], int]:
    tokens = live.tokens
    done: list[float] = []
    failed = 0
    stop_at = time.monotonic() + seconds

    async def slot(client: httpx.AsyncClient, user: str, account: str) -> None:
        nonlocal failed
        while time.monotonic() < stop_at:
            started = time.monotonic()
            data = await gql(client, tokens[user], REQUEST, {"input": {
                "targets": [{"accountId": live.accounts[account], "permissionSet": "PowerUserAccess"}],
                "durationSeconds": 3600, "justification": "bench"}})
            ticket = data["requestTicket"]["id"]
            await gql(client, tokens["bob"], APPROVE, {"id": ticket})
            if await _until(client, tokens[user], ticket, {"ACTIVE", "FAILED"}) != "ACTIVE":
                failed += 1
                continue
            while (await gql(client, tokens[user], REVOKE, {"id": ticket}))["revokeTicket"]["__typename"] != "Ticket":
                await asyncio.sleep(0.05)
            await _until(client, tokens[user], ticket, {"ENDED", "FAILED"})
            if time.monotonic() <= stop_at:
                done.append(time.monotonic() - started)

    limits = httpx.Limits(max_connections=50)
    async with httpx.AsyncClient(base_url=live.url, timeout=60, limits=limits) as client:
        await asyncio.gather(*(slot(client, user, account) for user in ("alice", "erin", "maria") for account in DEV))
    return done, failed


async def trivial(live, seconds: float, concurrency: int = 15) -> list[float]:
    samples: list[float] = []
    stop_at = time.monotonic() + seconds

    async def loop(client: httpx.AsyncClient) -> None:
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            await gql(client, live.tokens["alice"], "{ __typename }")
            samples.append(time.perf_counter() - started)

    async with httpx.AsyncClient(base_url=live.url, timeout=60, limits=httpx.Limits(max_connections=50)) as client:
        await asyncio.gather(*(loop(client) for _ in range(concurrency)))
    return samples


def main(quick: bool) -> None:
    seconds = 15 if quick else 60
    trivial_seconds = 5 if quick else 15
    # bob approves every ticket: lift the per-user mutation rate limit (60 a minute).
    with LiveBench("throughput", extra_env={"JIT_MUTATION_RATE_LIMIT": "1000000"}) as bench:
        ceiling = asyncio.run(trivial(bench.live, trivial_seconds))
        done, failed = asyncio.run(lifecycles(bench.live, seconds))
        rss = bench.rss()
    per_second = len(done) / seconds
    trivial_per_second = len(ceiling) / trivial_seconds
    table = print_table(
        f"Throughput, {seconds} s of lifecycles, 15 at once (machine loaded)",
        ["measure", "count", "per s", "p50 ms", "p95 ms", "p99 ms"],
        [["ticket lifecycles (request, approve, grant, revoke)", len(done), round(per_second, 2),
          *(percentiles(done)[k] for k in ("p50", "p95", "p99"))],
         ["trivial query { __typename }", len(ceiling), round(trivial_per_second, 1),
          *(percentiles(ceiling)[k] for k in ("p50", "p95", "p99"))]])
    ratio = per_second / trivial_per_second
    print(f"lifecycles per trivial query: {ratio:.4f} (one lifecycle = {1 / ratio:.0f} trivial queries); "
          f"failed lifecycles {failed}; RSS MB {rss}")
    write_result("throughput-quick" if quick else "throughput", {
        "setup": {"seconds": seconds, "concurrent_lifecycles": 15, "trivial_seconds": trivial_seconds},
        "lifecycles": {"count": len(done), "per_second": round(per_second, 3), "failed": failed,
                       "duration_ms": percentiles(done)},
        "trivial_query": {"count": len(ceiling), "per_second": round(trivial_per_second, 1),
                          "latency_ms": percentiles(ceiling)},
        "ratio_lifecycles_to_trivial": round(ratio, 5), "rss_mb": rss, "table": table,
    })


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    main(parser.parse_args().quick)
