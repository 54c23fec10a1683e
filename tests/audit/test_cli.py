"""`jit audit verify | export | prune` as an operator runs them, in a separate process."""

from __future__ import annotations

import asyncio
import json
import os
import sys

from tortoise import connections

from jit.audit.models import AuditVerificationRun
from jit.audit.service import record


async def _jit(database_url: str, *args: str) -> tuple[int, str, str]:
    env = {**os.environ, "JIT_DATABASE_URL": database_url, "JIT_MODE": "test"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "jit.cli", *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    return proc.returncode, out.decode(), err.decode()


async def test_verify_export_and_prune(runtime, database_url):
    events = []
    for i in range(5):
        runtime.clock.advance(days=1)
        events.append(await record(runtime.clock.now(), "u1", "token.created", subject_id=str(i), after={"name": f"t{i}"}))

    code, out, _ = await _jit(database_url, "audit", "verify")
    assert code == 0 and "5 events verified" in out
    # The console shows the last result and when it ran: the CLI records it.
    run = await AuditVerificationRun.all().order_by("-id").first()
    assert (run.trigger, run.status, run.checked, run.head_seq) == ("CLI", "OK", 5, 5) and run.finished_at

    since = events[2].at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    code, out, err = await _jit(database_url, "audit", "export", "--since", since, "--format", "jsonl")
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and "exported 3 events" in err
    assert [e["seq"] for e in lines] == [3, 4, 5]
    assert lines[0]["prev_hash"] == events[1].hash and lines[-1]["hash"] == events[4].hash
    assert lines[0]["after"] == {"name": "t2"}

    code, out, _ = await _jit(database_url, "audit", "prune", "--before", events[2].at.isoformat())
    assert code == 0 and "pruned 2 events" in out
    code, out, _ = await _jit(database_url, "audit", "verify")
    assert code == 0 and "from checkpoint seq 2" in out

    await connections.get("default").execute_script(f"UPDATE audit_event SET actor_id = 'x' WHERE id = {events[3].id}")
    code, _, err = await _jit(database_url, "audit", "verify")
    assert code == 1
    assert f"BROKEN at event {events[3].id} (seq 4)" in err
    run = await AuditVerificationRun.all().order_by("-id").first()
    assert (run.status, run.broken_seq, run.broken_event_id) == ("BROKEN", 4, events[3].id)
    assert "do not match its hash" in run.reason


async def test_export_rejects_a_bad_date(runtime, database_url):
    code, _, err = await _jit(database_url, "audit", "export", "--since", "yesterday-ish")
    assert code == 2 and "is not like" in err
