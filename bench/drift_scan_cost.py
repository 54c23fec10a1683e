"""What a drift scan costs in sso-admin calls, against the one-call-per-pair scan it replaced.

    .venv/bin/python bench/drift_scan_cost.py                  # 50 x 20 with 10 pairs, 120 x 30 with 30
    .venv/bin/python bench/drift_scan_cost.py --size 200x40x50

For each size (accounts x permission sets x assigned pairs) a fresh moto (JIT's launcher,
which answers the provisioned-listing operations from its assignments) is seeded with the
demo organization plus generated accounts and permission sets, and one user assignment is
made on each of the first N account/permission set pairs. The scan runs twice, unpaced:
once with those assignments declared standing (no drift: nothing to confirm), once
undeclared (every pair holds a finding, read again to confirm it). The old scan's cost was
accounts x permission sets. Results go to bench/results/drift_scan_cost.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import common  # noqa: F401  (first: it points the test services at the benchmark's database)
from common import machine, write_result

from jit.authz.service import Authorizer
from jit.aws.clients import AwsClients
from jit.clock import FrozenClock
from jit.config import Settings
from jit.db import close_db, init_db, migrate
from jit.demo.embedded import free_port, start_moto
from jit.demo.seed import add_accounts, add_permission_sets, seed_demo_organization
from jit.directory.models import Account, PermissionSet
from jit.directory.service import sync_directory
from jit.reconcile import drift
from jit.runtime import Runtime


async def _measure(accounts: int, permission_sets: int, pairs: int, workdir: Path) -> dict[str, Any]:
    import boto3
    from arq import create_pool
    from arq.connections import RedisSettings

    moto = start_moto(free_port())
    try:
        demo = await seed_demo_organization(moto.url)
        await add_accounts(moto.url, list(demo.organizational_units.values()), max(0, accounts - len(demo.accounts) - 1))
        await add_permission_sets(moto.url, demo.instance_arn, max(0, permission_sets - len(demo.permission_sets)))
        url = f"sqlite://{workdir / f'drift-{accounts}.sqlite3'}"
        await migrate(url)
        await init_db(url)
        settings = Settings(mode="test", database_url=url, redis_url=common.os.environ["JIT_TEST_REDIS_URL"],
                            aws_endpoint_url=moto.url, aws_region="us-east-1")
        redis = await create_pool(RedisSettings.from_dsn(settings.redis_url))
        clock = FrozenClock(datetime.now(UTC))
        rt = Runtime(settings=settings, clock=clock, aws=AwsClients(settings), authz=Authorizer(settings), redis=redis)
        await sync_directory(rt)
        account_ids = list(await Account.filter(removed_at=None).order_by("id").values_list("id", flat=True))
        arns = list(await PermissionSet.filter(removed_at=None).order_by("arn").values_list("arn", flat=True))
        sso = boto3.client("sso-admin", endpoint_url=moto.url, region_name="us-east-1")
        user = demo.users["erin"]
        chosen = [(account_ids[i % len(account_ids)], arns[(i // len(account_ids)) % len(arns)]) for i in range(pairs)]
        for account_id, arn in chosen:
            sso.create_account_assignment(InstanceArn=demo.instance_arn, TargetId=account_id, TargetType="AWS_ACCOUNT",
                                          PermissionSetArn=arn, PrincipalType="USER", PrincipalId=user)
        standing = json.dumps([{"account": a, "permission_set": p, "principal": user} for a, p in chosen])
        runs = {}
        for name, declared in (("no_drift", standing), ("all_drift", None)):
            rt.settings = settings.model_copy(update={"standing_assignments": declared})
            started = time.monotonic()
            report = await drift.scan(rt, auto_remove=False)
            runs[name] = {"calls": report.calls, "pairs": report.pairs, "findings": len(report.found),
                          "by_operation": report.calls_by_operation, "seconds": round(time.monotonic() - started, 2)}
        await rt.aws.close()
        await redis.aclose()
        await close_db()
        return {"accounts": len(account_ids), "permission_sets": len(arns), "assigned_pairs": pairs,
                "old_calls": len(account_ids) * len(arns), **runs}
    finally:
        moto.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", action="append", help="accounts x permission sets x assigned pairs, e.g. 50x20x10")
    args = parser.parse_args()
    sizes = [tuple(int(n) for n in s.split("x")) for s in (args.size or ["50x20x10", "120x30x30"])]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for accounts, permission_sets, pairs in sizes:
            result = asyncio.run(_measure(accounts, permission_sets, pairs, Path(tmp)))
            results.append(result)
            print(f"{result['accounts']} accounts x {result['permission_sets']} permission sets, "
                  f"{pairs} assigned pairs: old {result['old_calls']} calls; now {result['no_drift']['calls']} "
                  f"(no drift), {result['all_drift']['calls']} (every pair drifted, confirmed)", flush=True)
    write_result("drift_scan_cost", {"machine": machine(), "results": results})


if __name__ == "__main__":
    main()
