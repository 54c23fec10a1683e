"""The console in a real browser: Playwright (playwright-core, Debian's chromium) against
`jit serve` and `jit worker` in their own processes, with moto as AWS.

This test brings the stack up and then runs frontend/e2e/console.e2e.mjs with Node's test
runner; that script drives two browser contexts (alice and bob), checks AWS through
tests/e2e/aws_check.py (boto3), runs axe-core on every page and saves screenshots to
frontend/artifacts/e2e/. It needs a built console, node, and /usr/bin/chromium: run it
with `make test-browser` (which installs what is missing) or `make test-all`.
"""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from jit.auth.service import create_token
from jit.demo.stack import LiveStack
from tests.e2e.test_ticket_life import processes  # noqa: F401  (the live stack fixture)

ROOT = Path(__file__).resolve().parents[2]
FRONTEND = ROOT / "frontend"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def _require(condition: bool, what: str) -> None:
    # A missing browser or build is a broken setup, not a reason to pass quietly.
    if not condition:
        pytest.fail(f"the browser test needs {what}; `make test-browser` installs and builds it", pytrace=False)


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_console_request_approve_live_revoke(demo, processes):  # noqa: F811
    _require(shutil.which("node") is not None, "node on PATH")
    _require(Path(CHROMIUM).exists(), f"{CHROMIUM} (apt-get install chromium)")
    _require((FRONTEND / "node_modules" / "playwright-core").is_dir(), "frontend/node_modules (npm ci)")
    _require((FRONTEND / "dist" / "index.html").is_file(), "a built console (make frontend)")

    tokens = {name: (await create_token(demo.rt.clock, name, "browser-e2e"))[0] for name in ("alice", "bob", "admin")}
    artifacts = FRONTEND / "artifacts" / "e2e"
    env = os.environ.copy()
    env.update({
        "JIT_E2E_CONFIG": json.dumps({
            "baseUrl": processes, "tokens": tokens,
            "account": {"id": demo.account("payments-prod"), "name": "payments-prod"},
            "permissionSet": "ReadOnlyAccess",
        }),
        "JIT_E2E_CHECK": json.dumps([sys.executable, "-m", "tests.e2e.aws_check"]),
        "JIT_E2E_AWS": json.dumps({
            "endpoint": demo.rt.settings.aws_endpoint_url, "instanceArn": demo.org.instance_arn,
            "accountId": demo.account("payments-prod"), "permissionSetArn": demo.ps("ReadOnlyAccess"),
            "principalId": demo.org.users["alice"],
        }),
        "JIT_E2E_ARTIFACTS": str(artifacts),
        "CHROMIUM_PATH": CHROMIUM,
        "PYTHONPATH": str(ROOT),
    })
    hold = float(os.environ.get("JIT_E2E_HOLD", "0"))
    if hold:
        # For debugging the browser script: keep the stack up and write its environment out.
        (FRONTEND / "artifacts").mkdir(exist_ok=True)
        keys = [k for k in env if k.startswith("JIT_E2E_") or k in ("CHROMIUM_PATH", "PYTHONPATH")]
        (FRONTEND / "artifacts" / "e2e.env").write_text("".join(f"export {k}={shlex.quote(env[k])}\n" for k in keys))
        await asyncio.sleep(hold)
    result = subprocess.run(
        ["node", "--test", "--test-reporter=spec", "e2e/console.e2e.mjs"],
        cwd=FRONTEND, env=env, capture_output=True, text=True, timeout=600,
    )
    print(result.stdout[-20000:])
    print(result.stderr[-5000:], file=sys.stderr)
    assert result.returncode == 0, "the browser run failed; screenshots in frontend/artifacts/e2e/"
    report = json.loads((artifacts / "axe-report.json").read_text())
    assert len(report) >= 30 and all(r["serious"] == 0 for r in report), report


@pytest.fixture
def oidc_stack(demo):
    """`jit serve` with single sign-on against the oidc-provider package on loopback."""
    from jit.demo.embedded import free_port
    from tests.e2e.test_ticket_life import _env
    from tests.security.oidc import CLIENT_ID, start_provider

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    provider = start_provider(redirect_uri=f"{base}/auth/callback")
    env = _env(demo.rt.settings, port)
    env.update({"JIT_OIDC_ISSUER": provider.issuer, "JIT_OIDC_CLIENT_ID": CLIENT_ID, "JIT_PUBLIC_URL": base})
    stack = LiveStack(env, inherit_output=True)
    stack.start_api(port)
    try:
        stack.wait_ready("/healthz", timeout=30)
        yield base
    finally:
        stack.stop(10)
        for process in (provider.process,):
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_console_oidc_sign_in_uses_the_session_cookie(demo, oidc_stack):
    """Sign in through the provider's pages in Chromium; the console then works on the
    cookie session (CSRF header over HTTP, csrfToken on the websocket) and signs out."""
    _require(shutil.which("node") is not None, "node on PATH")
    _require(Path(CHROMIUM).exists(), f"{CHROMIUM} (apt-get install chromium)")
    _require((FRONTEND / "dist" / "index.html").is_file(), "a built console (make frontend)")
    ticket = await demo.request("alice", [("sandbox-alice", "ReadOnlyAccess")], justification="")
    artifacts = FRONTEND / "artifacts" / "e2e"
    env = os.environ.copy()
    env.update({
        "JIT_E2E_CONFIG": json.dumps({"baseUrl": oidc_stack, "login": "alice", "ticketId": str(ticket.id)}),
        "JIT_E2E_ARTIFACTS": str(artifacts), "CHROMIUM_PATH": CHROMIUM,
    })
    result = subprocess.run(
        ["node", "--test", "--test-reporter=spec", "e2e/oidc.e2e.mjs"],
        cwd=FRONTEND, env=env, capture_output=True, text=True, timeout=300,
    )
    print(result.stdout[-10000:])
    print(result.stderr[-5000:], file=sys.stderr)
    assert result.returncode == 0, "the OIDC browser run failed; screenshots in frontend/artifacts/e2e/"


@pytest.fixture
def pages_stack(demo):
    """`jit serve` and `jit worker` reading session activity from a fake CloudTrail (STS
    passed through to moto), with an SMTP host set so email is a configured channel."""
    from jit.demo.embedded import free_port
    from tests.e2e.test_ticket_life import _env
    from tests.support.cloudtrail import FakeCloudTrail

    cloudtrail = FakeCloudTrail(sts_endpoint=demo.rt.settings.aws_endpoint_url).start()
    port = free_port()
    env = _env(demo.rt.settings, port)
    env.update({"JIT_ACTIVITY_CLOUDTRAIL_ENDPOINT_URL": cloudtrail.url, "JIT_ACTIVITY_STS_ENDPOINT_URL": cloudtrail.url,
                # Nothing listens there: deliveries fail and retry, which this test does not look at.
                "JIT_SMTP_HOST": "127.0.0.1", "JIT_SMTP_PORT": str(free_port()), "JIT_SMTP_TLS": "none"})
    stack = LiveStack(env, inherit_output=True)
    stack.start_api(port)
    stack.start_worker()
    try:
        stack.wait_ready("/healthz", timeout=30)
        yield stack.api_url(), cloudtrail
    finally:
        stack.stop(10)
        cloudtrail.stop()


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_console_session_activity_audit_log_insights_notification_preferences(demo, pages_stack):
    """The audit and insight pages (frontend/e2e/pages.e2e.mjs): session activity from the fake
    CloudTrail in its chart and table, the audit log (filters, exports, Verify now), insights,
    notification preferences and the approvals inbox, each at 0 axe-core violations."""
    from datetime import timedelta

    from jit.approvals.models import Outcome
    from jit.approvals.service import decide
    from jit.tickets.models import Ticket, TicketStatus
    from tests.support.cloudtrail import cloudtrail_record

    _require(shutil.which("node") is not None, "node on PATH")
    _require(Path(CHROMIUM).exists(), f"{CHROMIUM} (apt-get install chromium)")
    _require((FRONTEND / "dist" / "index.html").is_file(), "a built console (make frontend)")
    base, cloudtrail = pages_stack
    rt = demo.rt
    # Half an hour ago alice asked for an hour of payments-prod and bob approved at once; the
    # worker (on the real clock) grants it now.
    rt.clock.advance(minutes=-30)
    ticket = await demo.request("alice", [("payments-prod", "ReadOnlyAccess")], duration=3600)
    rt.clock.advance(minutes=4)  # bob took four minutes: insights' approval time
    await decide(rt, await demo.user("bob"), str(ticket.id), Outcome.APPROVED)
    for _ in range(240):
        if (await Ticket.get(id=ticket.id)).status == TicketStatus.ACTIVE:
            break
        await asyncio.sleep(0.25)
    assert (await Ticket.get(id=ticket.id)).status == TicketStatus.ACTIVE
    # Her calls since: 24 reads and 6 writes, two of them refused, spread over 25 minutes.
    account, role = demo.account("payments-prod"), "AWSReservedSSO_ReadOnlyAccess_0123abcd"
    for i in range(30):
        write = i % 5 == 4
        extra = {"read_only": not write, **({"errorCode": "AccessDenied"} if write and i % 10 == 9 else {})}
        cloudtrail.records.append(cloudtrail_record(
            account, role, "alice", "PutObject" if write else "GetObject",
            ticket.start_at + timedelta(minutes=1 + (i * 24) // 30, seconds=i % 7), **extra))
    # Two tickets waiting for bob: prod-change's 4-hour approval window ends before
    # prod-read-only's 24 hours, though it was asked for later.
    rt.clock.advance(minutes=10)
    # (A deadline is never past the ticket's end, so each asks for its rule's longest window.)
    pending = [await demo.request("erin", [("checkout-prod", "ReadOnlyAccess")], duration=4 * 3600)]
    rt.clock.advance(minutes=5)
    pending.append(await demo.request("alice", [("payments-prod", "PowerUserAccess")], duration=2 * 3600))
    order = [str(t.id) for t in sorted(pending, key=lambda t: t.approval_expires_at)]
    assert order == [str(pending[1].id), str(pending[0].id)]

    tokens = {name: (await create_token(rt.clock, name, "browser-e2e"))[0] for name in ("alice", "bob", "admin")}
    artifacts = FRONTEND / "artifacts" / "e2e"
    env = os.environ.copy()
    env.update({
        "JIT_E2E_CONFIG": json.dumps({
            "baseUrl": base, "tokens": tokens, "ticketId": str(ticket.id), "inboxOrder": order,
            "events": {"all": 30, "writes": 6},
        }),
        "JIT_E2E_ARTIFACTS": str(artifacts), "CHROMIUM_PATH": CHROMIUM,
    })
    result = subprocess.run(
        ["node", "--test", "--test-reporter=spec", "e2e/pages.e2e.mjs"],
        cwd=FRONTEND, env=env, capture_output=True, text=True, timeout=600,
    )
    print(result.stdout[-20000:])
    print(result.stderr[-5000:], file=sys.stderr)
    assert result.returncode == 0, "the browser run failed; screenshots in frontend/artifacts/e2e/"
    report = json.loads((artifacts / "axe-report-pages.json").read_text())
    pages = {r["page"] for r in report}
    for name in ("session-activity", "audit-log", "insights", "notification-preferences", "approvals-inbox"):
        assert any(name in p for p in pages), (name, pages)
    assert all(r["violations"] == 0 for r in report), report
