"""A policy change made in one process is seen by another, without a restart, within
POLICY_BOUND seconds: every authorization question first reads the policy version row
(one indexed read) and rebuilds the enforcer when it moved."""

from __future__ import annotations

import asyncio
import os
import sys
import textwrap
import time

from jit.directory.models import Account, PermissionSet
from jit.rules.models import ApprovalRule
from jit.rules.service import RuleService, rule_to_spec

# The watcher below asks every 50 ms; a rebuild takes milliseconds. Two seconds leaves room
# for a loaded CI machine.
POLICY_BOUND = 2.0

WATCHER = textwrap.dedent("""
    import asyncio, sys, time
    from jit.authz.service import Authorizer
    from jit.config import Settings
    from jit.db import database
    from jit.directory.models import Account

    async def main(url, user_id, account_id, arn):
        settings = Settings(mode="test", database_url=url)
        async with database(url):
            authz = Authorizer(settings)
            account = await Account.get(id=account_id)
            first = bool(await authz.may_request(user_id, user_id, account, arn))
            print(f"ready {first}", flush=True)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                if bool(await authz.may_request(user_id, user_id, account, arn)) != first:
                    print(f"changed {time.time()}", flush=True)
                    return
                await asyncio.sleep(0.05)
            print("timeout", flush=True)

    asyncio.run(main(*sys.argv[1:]))
""")


async def test_a_rule_change_in_one_process_reaches_another_without_restart(demo, database_url):
    dave = await demo.user("dave")
    account = await Account.get(id=demo.account("payments-dev"))
    arn = (await PermissionSet.get(name="PowerUserAccess")).arn
    assert not await demo.rt.authz.may_request(dave.id, dave.id, account, arn)

    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", WATCHER, database_url, dave.id, account.id, arn,
        stdout=asyncio.subprocess.PIPE, env=env,
    )
    try:
        ready = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode().strip()
        assert ready == "ready False"
        rule = await ApprovalRule.get(name="dev-access")
        spec = rule_to_spec(rule)
        spec.requesters.users.append("dave")
        await RuleService(demo.rt).update(rule.id, spec, None)
        changed_at = time.time()
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode().strip()
        assert line.startswith("changed"), line
        seen_at = float(line.split()[1])
        assert seen_at - changed_at < POLICY_BOUND
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()
    # And this process sees it too, with the same enforcer object it had before.
    assert await demo.rt.authz.may_request(dave.id, dave.id, account, arn)
