"""`jit rules plan`: what apply would change and who gains or loses what, nothing written;
and approval steps that need more approvers than exist."""

from __future__ import annotations

import asyncio
import json
import os
import sys

import yaml

from jit.audit.models import AuditEvent
from jit.rules.groups import dump_groups_yaml, list_groups
from jit.rules.plan import file_warnings, plan_rules_file
from jit.rules.service import dump_rules_yaml, list_rules


async def _current() -> dict:
    return yaml.safe_load(dump_groups_yaml(await list_groups()) + dump_rules_yaml(await list_rules()))


async def _changed_file() -> str:
    data = await _current()
    rules = {r["name"]: r for r in data["rules"]}
    # erin loses the sandbox; a new rule gives the managers AdministratorAccess on payments-dev,
    # with a step no ticket can pass.
    rules["sandbox-self-service"]["requesters"] = {"users": ["alice"], "groups": []}
    data["rules"].append({
        "name": "managers-dba", "requesters": {"users": [], "groups": ["managers"]},
        "scope": {"accounts": ["payments-dev"], "permission_sets": ["AdministratorAccess"]},
        "max_duration_seconds": 3600,
        "steps": [{"name": "Everyone", "groups": ["approvers"], "users": ["dave"], "required": 50}],
    })
    data["rules"] = [r for r in data["rules"] if r["name"] != "billing-for-managers"]
    return yaml.safe_dump(data, sort_keys=False)


async def test_a_plan_says_what_changes_and_who_gains_or_loses_without_writing(demo):
    before = await _current()
    events = await AuditEvent.all().count()
    plan = await plan_rules_file(demo.rt, await _changed_file(), prune=True)
    assert plan.rules["create"] == ["managers-dba"]
    assert plan.rules["update"] == ["sandbox-self-service"]
    assert plan.rules["delete"] == ["billing-for-managers"]
    assert "maria: AdministratorAccess on payments-dev" in plan.gains
    assert any(line.startswith("erin: PowerUserAccess on ") and "sandbox-erin" in line for line in plan.losses)
    assert any(line.startswith("maria: Billing on ") for line in plan.losses)
    assert not any(line.startswith("alice:") for line in plan.losses)
    assert plan.warnings == ["rule 'managers-dba' step 1 ('Everyone') needs 50 approvals but its groups and users "
                             "hold 3 people as synced: no ticket under it can be approved"]
    # Nothing was written.
    assert await _current() == before
    assert await AuditEvent.all().count() == events


async def test_the_same_file_plans_no_change(demo):
    text = yaml.safe_dump(await _current(), sort_keys=False)
    plan = await plan_rules_file(demo.rt, text, prune=True)
    assert plan.rules["create"] == plan.rules["update"] == plan.rules["delete"] == []
    assert plan.gains == plan.losses == plan.warnings == []


async def test_apply_warns_of_steps_that_can_never_be_met(demo):
    warnings = await file_warnings(await _changed_file())
    assert len(warnings) == 1 and "'managers-dba' step 1" in warnings[0] and "3 people" in warnings[0]


async def _jit(database_url: str, *args: str) -> tuple[int, str, str]:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("JIT_")}, "JIT_DATABASE_URL": database_url,
           "JIT_MODE": "test"}
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "jit.cli", *args, env=env,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    return proc.returncode, out.decode(), err.decode()


async def test_the_commands_plan_and_warn(demo, database_url, tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text(await _changed_file())
    code, out, err = await _jit(database_url, "rules", "plan", str(path), "--prune")
    assert code == 0, err
    assert "create managers-dba" in out and "+ maria: AdministratorAccess on payments-dev" in out
    assert "warning: rule 'managers-dba' step 1" in out and "nothing was written" in out
    code, out, err = await _jit(database_url, "rules", "plan", str(path), "--output", "json")
    assert code == 0 and json.loads(out)["rules"]["create"] == ["managers-dba"]
    code, out, err = await _jit(database_url, "rules", "apply", str(path))
    assert code == 0, err
    assert err.strip().splitlines() == [line for line in err.strip().splitlines() if line.startswith("warning:")]
    assert "'managers-dba' step 1" in err and "created: ['managers-dba']" in out


async def test_the_requester_and_principal_do_not_count_as_approvers(demo):
    import pytest

    from jit.errors import NotAllowed
    from jit.rules.models import ApprovalRule
    from jit.rules.plan import refuse_unmeetable

    rule = await ApprovalRule.get(name="prod-change")  # team leads: 2 of approvers (bob, carol)
    rule.break_glass = False
    await refuse_unmeetable([rule], {demo.org.users["alice"]})
    with pytest.raises(NotAllowed) as err:
        await refuse_unmeetable([rule], {demo.org.users["bob"]})
    assert "step 1 ('Team leads') needs 2 approvals but only 1 person" in err.value.message
    rule.break_glass = True  # the requester could approve it themself
    await refuse_unmeetable([rule], {demo.org.users["bob"]})
