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
            "account": {"id": demo.account("payments-prod"), "name": "payments-prod"}, "permissionSet": "ReadOnlyAccess",
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
    serve = subprocess.Popen([sys.executable, "-m", "jit.cli", "serve"], env=env)
    try:
        import time
        import urllib.request

        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline or serve.poll() is not None:
                    raise RuntimeError("the API did not start")
                time.sleep(0.2)
        yield base
    finally:
        for process in (serve, provider.process):
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
