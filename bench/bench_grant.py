"""Grant latency: from the final approval to the assignment visible through an independent
boto3 client, beside a bare aioboto3 CreateAccountAssignment in the same run.

    .venv/bin/python bench/bench_grant.py                 # 40 tickets
    .venv/bin/python bench/bench_grant.py --quick         # 12 tickets
    .venv/bin/python bench/bench_grant.py --env JIT_QUEUE_POLL_DELAY=0.2   # compare a setting

Setup: `jit serve` + `jit worker` (subprocesses, PostgreSQL, Redis) against a moto server
seeded with the demo organization. alice requests PowerUserAccess on one of the five dev
accounts (rule dev-access: one approval step); bob approves. The clock starts just before
bob's approveTicket is sent and stops when a boto3 client talking straight to moto first
lists the assignment (polled every 10 ms). Each ticket is then revoked, and its target is
used again only once the assignment is gone. The bare figure is the same create-then-see
with aioboto3 alone (no JIT), on a sandbox account.
"""

from __future__ import annotations

import argparse
import asyncio
import time

import boto3
import httpx
from common import LiveBench, percentiles, print_table, write_result

TARGET_P99_MS = 500
DEV = ["payments-dev", "checkout-dev", "search-dev", "data-platform-dev", "identity-dev"]

REQUEST = """mutation($input: RequestTicketInput!) { requestTicket(input: $input) {
  __typename ... on Ticket { id status } ... on Error { message } } }"""
APPROVE = """mutation($id: ID!) { approveTicket(ticketId: $id) { __typename ... on Ticket { status } ... on Error { message } } }"""
REVOKE = """mutation($id: ID!) { revokeTicket(ticketId: $id, reason: "bench") {
  __typename ... on Ticket { status } ... on Error { message } } }"""


def revoke(api, user: str, ticket: str, timeout: float = 60) -> None:
    """The assignment can show in AWS a moment before the ticket is ACTIVE, when revoking
    is refused as the wrong state: ask again until it is accepted."""
    deadline = time.monotonic() + timeout
    while (result := api(user, REVOKE, {"id": ticket}))["__typename"] != "Ticket":
        if time.monotonic() > deadline:
            raise RuntimeError(result)
        time.sleep(0.05)


class Api:
    def __init__(self, url: str, tokens: dict[str, str]) -> None:
        self.client = httpx.Client(base_url=url, timeout=30)
        self.tokens = tokens

    def __call__(self, user: str, query: str, variables: dict | None = None) -> dict:
        response = self.client.post("/graphql", json={"query": query, "variables": variables or {}},
                                    headers={"Authorization": f"Bearer {self.tokens[user]}"})
        body = response.json()
        if body.get("errors"):
            raise RuntimeError(body["errors"])
        return next(iter(body["data"].values()))

    def request(self, user: str, account_id: str, permission_set: str, justification: str = "bench") -> str:
        result = self(user, REQUEST, {"input": {
            "targets": [{"accountId": account_id, "permissionSet": permission_set}],
            "durationSeconds": 3600, "justification": justification}})
        if result["__typename"] != "Ticket":
            raise RuntimeError(result)
        return result["id"]


class Watcher:
    """boto3 straight to moto: JIT's own view of AWS is never read."""

    def __init__(self, live) -> None:
        self.live = live
        self.sso = boto3.client("sso-admin", endpoint_url=live.moto_url, region_name="us-east-1")

    def present(self, account_id: str, arn: str, user_id: str) -> bool:
        items = self.sso.list_account_assignments(InstanceArn=self.live.instance_arn, AccountId=account_id,
                                                  PermissionSetArn=arn)["AccountAssignments"]
        return any(i["PrincipalId"] == user_id for i in items)

    def wait(self, account_id: str, arn: str, user_id: str, present: bool, timeout: float = 60) -> float:
        started = time.perf_counter()
        while self.present(account_id, arn, user_id) != present:
            if time.perf_counter() - started > timeout:
                raise TimeoutError(f"assignment still {'absent' if present else 'present'} after {timeout} s")
            time.sleep(0.01)
        return time.perf_counter()


def jit_grants(bench: LiveBench, n: int) -> list[float]:
    live = bench.live
    api, watcher = Api(live.url, live.tokens), Watcher(live)
    arn = live.permission_sets["PowerUserAccess"]
    keys = [(user, live.accounts[acc]) for user in ("alice", "erin") for acc in DEV]
    in_use: dict[tuple[str, str], bool] = {}
    samples = []
    for i in range(n):
        user, account = keys[i % len(keys)]
        if in_use.get((user, account)):
            watcher.wait(account, arn, live.users[user], present=False)
        ticket = api.request(user, account, "PowerUserAccess")
        started = time.perf_counter()
        outcome = api("bob", APPROVE, {"id": ticket})
        if outcome["__typename"] != "Ticket":
            raise RuntimeError(outcome)
        samples.append(watcher.wait(account, arn, live.users[user], present=True) - started)
        revoke(api, user, ticket)
        in_use[(user, account)] = True
    return samples


async def bare_grants(bench: LiveBench, n: int) -> tuple[list[float], list[float]]:
    import aioboto3

    live = bench.live
    watcher = Watcher(live)
    arn = live.permission_sets["ReadOnlyAccess"]
    account = live.accounts["sandbox-shared"]
    user = live.users["dave"]
    params = {"InstanceArn": live.instance_arn, "TargetId": account, "TargetType": "AWS_ACCOUNT",
              "PermissionSetArn": arn, "PrincipalType": "USER", "PrincipalId": user}
    calls, visible = [], []
    async with aioboto3.Session().client("sso-admin", endpoint_url=live.moto_url, region_name="us-east-1") as sso:
        for _ in range(n):
            started = time.perf_counter()
            await sso.create_account_assignment(**params)
            calls.append(time.perf_counter() - started)
            visible.append(watcher.wait(account, arn, user, present=True) - started)
            await sso.delete_account_assignment(**params)
            watcher.wait(account, arn, user, present=False)
    return calls, visible


def main(quick: bool, env: dict[str, str]) -> None:
    n = 12 if quick else 40
    with LiveBench("grant", extra_env=env) as bench:
        bare_call, bare_visible = asyncio.run(bare_grants(bench, n))
        jit = jit_grants(bench, n)
        rss = bench.rss()
    stats = {"JIT: approval -> assignment visible": percentiles(jit),
             "bare aioboto3: CreateAccountAssignment -> visible": percentiles(bare_visible),
             "bare aioboto3: CreateAccountAssignment call": percentiles(bare_call)}
    bare = stats["bare aioboto3: CreateAccountAssignment -> visible"]["p99"]
    ratio = stats["JIT: approval -> assignment visible"]["p99"] / max(bare, 1e-6)
    rows = [[k, s["n"], s["p50"], s["p95"], s["p99"], s["max"]] for k, s in stats.items()]
    table = print_table(f"Grant latency (target p99 <= {TARGET_P99_MS} ms); settings {env or 'defaults'}",
                        ["measure", "n", "p50 ms", "p95 ms", "p99 ms", "max ms"], rows)
    print(f"p99 JIT / bare create->visible: x{ratio:.1f}; RSS MB: {rss}")
    write_result("grant" + ("-quick" if quick else "") + ("-" + "-".join(f"{k}={v}" for k, v in env.items()) if env else ""), {
        "setup": {"tickets": n, "settings": env or "defaults", "rule": "dev-access (one approval step)"},
        "target": {"p99_ms": TARGET_P99_MS}, "latency_ms": stats, "p99_ratio_to_bare": round(ratio, 2),
        "rss_mb": rss, "table": table,
    })


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--env", action="append", default=[], help="NAME=value for jit serve and jit worker")
    args = parser.parse_args()
    main(args.quick, dict(item.split("=", 1) for item in args.env))
