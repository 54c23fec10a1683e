"""Generated GraphQL operations (schemathesis) against a real `jit serve`: no 5xx, no unmasked errors.

Every query and mutation of schema.graphql is fuzzed as an admin and as a requester.
Expected failures must come back as typed results or as the errors the guards raise;
anything unexpected must be masked as "Unexpected error.", and none may happen at all.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import schemathesis.graphql
from hypothesis import HealthCheck, Phase, given, settings

from jit.demo.embedded import free_port
from jit.demo.stack import LiveStack

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("JIT_FUZZ_EXAMPLES", "100"))
SCHEMA = Path(__file__).parents[2] / "schema.graphql"
# What a leaked internal error would look like.
LEAK = re.compile(r"Traceback|File \"|tortoise|asyncpg|sqlite|aiosqlite|redis\.|NoneType|has no attribute|"
                  r"object is not|unsupported operand|KeyError|IndexError|TypeError|AttributeError", re.I)


@pytest.fixture
def server(demo, tmp_path):
    s = demo.rt.settings
    port = free_port()
    env = {**os.environ, "JIT_MODE": "test", "JIT_DATABASE_URL": s.database_url, "JIT_REDIS_URL": s.redis_url,
           "JIT_AWS_ENDPOINT_URL": s.aws_endpoint_url, "JIT_AWS_REGION": s.aws_region, "JIT_PORT": str(port),
           "JIT_MUTATION_RATE_LIMIT": "1000000", "JIT_MIN_DURATION_SECONDS": "1"}
    def mint(user: str) -> str:
        made = subprocess.run([sys.executable, "-m", "jit.cli", "token", "create", user, "--name", "fuzz"],
                              env=env, capture_output=True, text=True, timeout=60, check=True)
        return made.stdout.strip()

    tokens = {user: mint(user) for user in ("admin", "alice")}
    stack = LiveStack(env, log_dir=tmp_path)
    stack.start_api(port, name="serve")
    try:
        stack.wait_ready("/healthz", timeout=30)
        yield stack.api_url(), tokens, tmp_path / "serve.log", mint
    finally:
        stack.stop(10)


def test_fuzzed_operations_get_no_5xx_and_no_unmasked_errors(server):
    base, tokens, log, mint = server
    schema = schemathesis.graphql.from_path(SCHEMA)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    tried: dict[str, int] = {}
    problems: list[str] = []
    with httpx.Client(base_url=base, timeout=30) as http:
        for operation in operations:
            label = operation.label

            @given(case=operation.as_strategy())
            @settings(max_examples=EXAMPLES, deadline=None, database=None, phases=[Phase.generate],
                      suppress_health_check=list(HealthCheck))
            def run(case) -> None:
                n = tried.get(label, 0)  # noqa: B023 - run() is called in this iteration
                tried[label] = n + 1  # noqa: B023
                user = "admin" if n % 2 else "alice"
                response = http.post("/graphql", json={"query": case.body},
                                     headers={"Authorization": f"Bearer {tokens[user]}"})
                if response.status_code == 401:
                    # The fuzzer's revokeApiToken found our own token: a fair outcome; carry on.
                    tokens[user] = mint(user)
                    response = http.post("/graphql", json={"query": case.body},
                                         headers={"Authorization": f"Bearer {tokens[user]}"})
                if response.status_code >= 500:
                    problems.append(f"{response.status_code} for {case.body!r}")
                    return
                body = response.json()
                for error in body.get("errors") or []:
                    message = error.get("message", "")
                    if message == "Unexpected error." or LEAK.search(str(error)):
                        problems.append(f"{message!r} as {user} for {case.body!r}")

            run()
    total = sum(tried.values())
    print(f"\nfuzzing: {total} generated operations over {len(tried)} root fields; problems: {len(problems)}")
    assert total >= len(operations) * min(EXAMPLES, 10)
    assert "Logging error" not in log.read_text()
    assert not problems, "\n".join(problems[:20] + ["server log:", log.read_text()[-6000:]])
