"""Live fan-out: N websocket subscribers (graphql-transport-ws, `ticketUpdated`) on one
API process; how long a state change takes to reach every one of them.

    .venv/bin/python bench/bench_fanout.py             # 1,000 subscribers
    .venv/bin/python bench/bench_fanout.py --quick     # 200

Setup: `jit serve` + `jit worker` against moto with the demo organization. alice requests
PowerUserAccess on payments-dev (rule dev-access); N sockets subscribe to that ticket,
alternately as alice (the requester) and bob (an approver), each with its own token check
and its own authorization check per event. Then bob approves and alice revokes: five state
changes (SCHEDULED, GRANTING, ACTIVE, REVOKING, ENDED) reach every socket. Latency is the
arrival time at the socket minus the event's own `at` (when the change committed; one
machine, one clock). The client runs in this process, so its own scheduling delay is in
the figure too; the API's own histogram (jit_live_event_delivery_seconds: commit -> the event
handed to each socket) is reported beside it, to the precision of its buckets.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from datetime import datetime

import httpx
import psutil
import websockets
from common import LiveBench, percentiles, print_table, rss_mb, write_result

TARGET_P99_MS = 200
LAG_METRIC = "jit_live_event_delivery_seconds_bucket"


async def server_lag_buckets(client: httpx.AsyncClient) -> dict[float, float]:
    """The API's own histogram: commit -> event handed to each socket (cumulative counts)."""
    text = (await client.get("/metrics")).text
    buckets = {}
    for line in text.splitlines():
        if line.startswith(LAG_METRIC + "{"):
            le = line.split('le="', 1)[1].split('"', 1)[0]
            buckets[float(le)] = float(line.rsplit(" ", 1)[1])
    return buckets


def gc_pauses(text: str) -> dict[str, float]:
    """jit_gc_pause_seconds count and sum per generation, from one scrape."""
    found = {}
    for line in text.splitlines():
        for part in ("_count", "_sum"):
            if line.startswith("jit_gc_pause_seconds" + part + "{"):
                generation = line.split('generation="', 1)[1].split('"', 1)[0]
                found[f"gen{generation}{part}"] = float(line.rsplit(" ", 1)[1])
    return found


def gc_during(before: dict[str, float], after: dict[str, float]) -> dict:
    """The API's garbage collections between two scrapes: how many, and their pauses in ms."""
    out = {}
    for key in sorted(k for k in after if k.endswith("_count")):
        generation = key[:-len("_count")]
        n = after[key] - before.get(key, 0)
        if n:
            out[generation] = {"collections": int(n),
                               "pause_ms": round(1000 * (after[generation + "_sum"] - before.get(generation + "_sum", 0)), 1)}
    return out


def server_side(before: dict[float, float], after: dict[float, float]) -> dict:
    """Deliveries of this run per bucket; p50/p99 as the upper bound of their bucket."""
    counts = {le: after.get(le, 0) - before.get(le, 0) for le in sorted(after)}
    total = counts.get(float("inf"), 0)
    if not total:
        return {"n": 0}

    def upper(q: float) -> float:
        return next(le for le, c in counts.items() if c >= q * total) * 1000

    return {"n": int(total), "p50_at_most_ms": upper(0.5), "p99_at_most_ms": upper(0.99),
            "within_200_ms": round(counts.get(0.2, 0) / total, 4)}
SUBSCRIBE = """subscription($id: ID!) { ticketUpdated(id: $id) { status at } }"""
CHANGES = ["SCHEDULED", "GRANTING", "ACTIVE", "REVOKING", "ENDED"]


async def subscriber(url: str, token: str, ticket: str, ready: asyncio.Event, arrivals: list, errors: list) -> None:
    try:
        async with websockets.connect(url, subprotocols=["graphql-transport-ws"], open_timeout=120,
                                      ping_interval=None, max_queue=None) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            await ws.send(json.dumps({"id": "1", "type": "subscribe",
                                      "payload": {"query": SUBSCRIBE, "variables": {"id": ticket}}}))
            first = json.loads(await asyncio.wait_for(ws.recv(), 120))
            assert first["type"] == "next", first
            ready.set()
            while True:
                message = json.loads(await ws.recv())
                arrived = time.time()
                if message["type"] != "next":
                    return
                update = message["payload"]["data"]["ticketUpdated"]
                arrivals.append((update["status"], arrived - datetime.fromisoformat(update["at"]).timestamp()))
                if update["status"] == "ENDED":
                    return
    except Exception as exc:  # noqa: BLE001 - counted and reported
        errors.append(repr(exc)[:200])
        ready.set()


async def run(bench: LiveBench, n: int) -> dict:
    live = bench.live
    ws_url = live.url.replace("http", "ws") + "/graphql"
    async with httpx.AsyncClient(base_url=live.url, timeout=60) as client:
        async def gql(user: str, query: str, variables: dict) -> dict:
            body = (await client.post("/graphql", json={"query": query, "variables": variables},
                                      headers={"Authorization": f"Bearer {live.tokens[user]}"})).json()
            if body.get("errors"):
                raise RuntimeError(body["errors"])
            return body["data"]

        data = await gql("alice", """mutation($input: RequestTicketInput!) { requestTicket(input: $input) {
            ... on Ticket { id } ... on Error { message } } }""", {"input": {
            "targets": [{"accountId": live.accounts["payments-dev"], "permissionSet": "PowerUserAccess"}],
            "durationSeconds": 3600, "justification": "bench"}})
        ticket = data["requestTicket"]["id"]
        arrivals: list = []
        errors: list = []
        readies = []
        tasks = []
        started = time.perf_counter()
        for i in range(n):
            ready = asyncio.Event()
            readies.append(ready)
            token = live.tokens["alice" if i % 2 == 0 else "bob"]
            tasks.append(asyncio.create_task(subscriber(ws_url, token, ticket, ready, arrivals, errors)))
            if i % 50 == 49:
                await asyncio.gather(*(r.wait() for r in readies[-50:]))
        await asyncio.gather(*(r.wait() for r in readies))
        subscribe_seconds = time.perf_counter() - started
        serve_rss_subscribed = rss_mb(live.processes[0].pid)
        serve = psutil.Process(live.processes[0].pid)
        cpu_before = sum(serve.cpu_times()[:2])
        lag_before = await server_lag_buckets(client)
        gc_before = gc_pauses((await client.get("/metrics")).text)
        await gql("bob", """mutation($id: ID!) { approveTicket(ticketId: $id) { __typename } }""", {"id": ticket})
        deadline = time.monotonic() + 120
        while not any(s == "ACTIVE" for s, _ in arrivals) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        await asyncio.sleep(1)
        await gql("alice", """mutation($id: ID!) { revokeTicket(ticketId: $id, reason: "bench") { __typename } }""",
                  {"id": ticket})
        _, pending = await asyncio.wait(tasks, timeout=120)
        for task in pending:
            task.cancel()
        serve_cpu = sum(serve.cpu_times()[:2]) - cpu_before
        server_lag = server_side(lag_before, await server_lag_buckets(client))
        gc_in_fanout = gc_during(gc_before, gc_pauses((await client.get("/metrics")).text))
    by_status = {s: percentiles([lag for status, lag in arrivals if status == s]) for s in CHANGES}
    return {"subscribers": n, "subscribe_seconds": round(subscribe_seconds, 2), "unfinished": len(pending),
            "delivered": len(arrivals), "expected": n * len(CHANGES), "errors": len(errors),
            "error_samples": errors[:3], "all_ms": percentiles([lag for _, lag in arrivals]),
            "by_status_ms": by_status, "serve_rss_mb_with_subscribers": serve_rss_subscribed,
            "serve_cpu_ms_per_delivery": round(1000 * serve_cpu / max(len(arrivals), 1), 3),
            "server_side_send_ms": server_lag, "serve_gc_during_fanout": gc_in_fanout}


def main(quick: bool, n: int | None) -> None:
    n = n or (200 if quick else 1000)
    with LiveBench("fanout") as bench:
        result = asyncio.run(run(bench, n))
        result["rss_mb"] = bench.rss()
    rows = [["all changes", result["all_ms"]["n"], *(result["all_ms"].get(k) for k in ("p50", "p95", "p99", "max"))]]
    rows += [[s, v.get("n"), *(v.get(k) for k in ("p50", "p95", "p99", "max"))] for s, v in result["by_status_ms"].items()]
    table = print_table(f"Fan-out to {n} websocket subscribers on one API process (target p99 <= {TARGET_P99_MS} ms)",
                        ["state change", "deliveries", "p50 ms", "p95 ms", "p99 ms", "max ms"], rows)
    print(f"delivered {result['delivered']} of {result['expected']}, errors {result['errors']}, "
          f"subscribers without ENDED after 120 s {result['unfinished']}, "
          f"jit serve CPU per delivery {result['serve_cpu_ms_per_delivery']} ms; "
          f"server side (commit -> handed to the socket) {result['server_side_send_ms']} "
          f"{result['error_samples']}; jit serve garbage collections during the fan-out "
          f"{result['serve_gc_during_fanout'] or 'none'}; subscribing took {result['subscribe_seconds']} s; RSS MB {result['rss_mb']}")
    write_result("fanout-quick" if quick else "fanout", {"setup": {"subscribers": n}, "target": {"p99_ms": TARGET_P99_MS}, **result,
                            "table": table})


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--subscribers", type=int)
    args = parser.parse_args()
    main(args.quick, args.subscribers)
