"""Authorization at scale: enforcer rebuild time and "which rules cover this target"
latency as the number of approval rules grows, on SQLite with the demo organization.

    .venv/bin/python bench/bench_authz.py                 # 10, 100 and 500 rules
    .venv/bin/python bench/bench_authz.py --rules 10 1000

Compare the per-rule cost between sizes (a ratio near 1 means linear) rather than
absolute times: these machines are shared. Results go to bench/results/authz.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from jit.authz.service import Authorizer  # noqa: E402
from jit.aws.clients import AwsClients  # noqa: E402
from jit.clock import SystemClock  # noqa: E402
from jit.config import Settings  # noqa: E402
from jit.db import close_db, init_db, migrate  # noqa: E402
from jit.demo.embedded import free_port, reset_moto, start_moto  # noqa: E402
from jit.demo.seed import seed_demo_organization  # noqa: E402
from jit.directory.models import Account, PermissionSet  # noqa: E402
from jit.directory.service import sync_directory  # noqa: E402
from jit.rules.schemas import parse_rule  # noqa: E402
from jit.rules.service import RuleService  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "authz.json"
CALLS = 200


def _rules(n: int) -> list:
    ous = ["/Workloads/Prod", "/Workloads/Dev", "/Sandbox", "/Security", "/Infrastructure"]
    sets = ["ReadOnlyAccess", "PowerUserAccess", "DatabaseAdmin", "Billing"]
    return [
        parse_rule({
            "name": f"rule-{i:04d}", "requesters": {"groups": ["engineers", "managers"]},
            "scope": {"organizational_units": [ous[i % len(ous)]], "permission_sets": [sets[i % len(sets)]]},
            "max_duration_seconds": 3600 + i, "justification_required": bool(i % 2),
            "steps": [{"name": "lead", "groups": ["approvers"], "required": 1}] * (i % 3),
        })
        for i in range(n)
    ]


async def measure(moto_url: str, n: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite://{tmp}/bench.sqlite3"
        settings = Settings(mode="test", database_url=url, aws_endpoint_url=moto_url)
        reset_moto(moto_url)
        org = await seed_demo_organization(moto_url)
        await migrate(url)
        await init_db(url)
        try:
            clock = SystemClock()
            await sync_directory(settings, AwsClients(settings), clock)
            await RuleService(settings, clock).apply(_rules(n), None, prune=True)
            authz = Authorizer(settings)
            started = time.perf_counter()
            await authz._fresh()
            rebuild = time.perf_counter() - started
            account = await Account.get(name="payments-prod")
            ps = await PermissionSet.get(name="ReadOnlyAccess")
            alice = org.users["alice"]
            started = time.perf_counter()
            for _ in range(CALLS):
                covering = await authz.rules_covering(alice, account, ps.arn)
            per_call = (time.perf_counter() - started) / CALLS
        finally:
            await close_db()
    return {"rules": n, "rebuild_seconds": rebuild, "covering_seconds": per_call, "covering_rules": len(covering)}


async def main(sizes: list[int]) -> None:
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    moto = start_moto(free_port())
    try:
        rows = [await measure(moto.url, n) for n in sizes]
    finally:
        moto.stop()
    base = rows[0]
    print(f"{'rules':>6} {'rebuild s':>10} {'covering ms':>12} {'matched':>8} {'covering per rule vs smallest':>30}")
    for row in rows:
        ratio = (row["covering_seconds"] / row["rules"]) / (base["covering_seconds"] / base["rules"])
        row["covering_per_rule_ratio"] = ratio
        print(f"{row['rules']:>6} {row['rebuild_seconds']:>10.3f} {row['covering_seconds'] * 1000:>12.3f} "
              f"{row['covering_rules']:>8} {ratio:>30.2f}")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({
        "benchmark": "authz", "at": datetime.now(timezone.utc).isoformat(), "python": platform.python_version(),
        "calls_per_size": CALLS, "results": rows,
    }, indent=2))
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rules", type=int, nargs="+", default=[10, 100, 500])
    asyncio.run(main(parser.parse_args().rules))
