"""docs/api.md's examples, executed against a live server so that they stay true."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from jit.client import documents
from jit.client.commands.tickets import fetch_tickets
from jit.client.config import ClientConfig
from jit.client.transport import GraphQLClient

DOC = Path(__file__).parents[2] / "docs" / "api.md"
EXAMPLE = re.compile(r"```(sh|python)\n# example: ([\w-]+)\n(.*?)```", re.S)


def examples() -> dict[str, tuple[str, str]]:
    found = {}
    for language, name, code in EXAMPLE.findall(DOC.read_text()):
        assert name not in found, f"two examples named {name}"
        found[name] = (language, code)
    return found


def run_example(name: str, live, **env: str) -> str:
    language, code = examples()[name]
    full = {**live.env, "JIT_URL": live.url, "JIT_TOKEN": live.tokens["alice"],
            "ACCOUNT_ID": live.accounts["payments-prod"], **env}
    # The docs call `jit` as an installed command.
    full["PATH"] = os.path.dirname(sys.executable) + os.pathsep + full.get("PATH", "")
    argv = ["bash", "-euo", "pipefail", "-c", code] if language == "sh" else [sys.executable, "-c", code]
    done = subprocess.run(argv, env=full, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, (name, done.stdout, done.stderr)
    return done.stdout


def json_documents(text: str) -> list:
    decoder, out, i = json.JSONDecoder(), [], 0
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        value, i = decoder.raw_decode(text, i)
        out.append(value)
    return out


@pytest.fixture
def client(live):
    with GraphQLClient(ClientConfig(live.url, live.tokens["alice"]), backoff=()) as c:
        yield c


def test_every_example_is_run_here():
    assert set(examples()) == {"create-token", "curl", "error-union", "gql-http", "gql-subscription", "pagination"}


def test_create_token(live):
    (me,) = json_documents(run_example("create-token", live))
    assert me == {"data": {"me": {"user": {"userName": "alice"}, "roles": []}}}


def test_curl(live):
    targets, requested = json_documents(run_example("curl", live))
    # Entries for a permission set group have no single permission set.
    assert {(t["account"]["name"], t["permissionSet"]["name"])
            for t in targets["data"]["requestableTargets"] if t.get("permissionSet")} \
        >= {("payments-prod", "ReadOnlyAccess"), ("sandbox-alice", "PowerUserAccess")}
    ticket = requested["data"]["requestTicket"]
    assert ticket["__typename"] == "Ticket" and ticket["status"] == "PENDING_APPROVAL"
    uuid.UUID(ticket["id"])


def test_error_union(live):
    out = run_example("error-union", live).strip()
    assert out.startswith("ValidationError on durationSeconds: "), out


def test_gql_over_http(live, client):
    ticket_id, status, steps = run_example("gql-http", live).strip().split(" ", 2)
    assert (status, steps) == ("PENDING_APPROVAL", "['Team lead']")
    assert client.query(documents.TICKET, id=ticket_id)["ticket"]["justification"] == "INC-42"


def test_gql_websocket_subscription_follows_the_worker(live, client):
    start = (datetime.now(UTC) + timedelta(seconds=3)).isoformat()
    ticket = client.mutate(documents.REQUEST, input={
        "targets": [{"accountId": live.accounts["sandbox-training"], "permissionSet": "ReadOnlyAccess"}],
        "durationSeconds": 600, "startAt": start})["requestTicket"]
    assert ticket["status"] == "SCHEDULED", ticket
    statuses = run_example("gql-subscription", live, TICKET_ID=ticket["id"]).split()
    assert statuses == ["SCHEDULED", "GRANTING", "ACTIVE"]
    assert len(live.assignments("sandbox-training", "ReadOnlyAccess", "alice")) == 1


def test_pagination(live, client):
    for _ in range(3):  # more than one page of two
        client.mutate(documents.REQUEST, input={
            "targets": [{"accountId": live.accounts["data-platform-prod"], "permissionSet": "ReadOnlyAccess"}],
            "durationSeconds": 600, "justification": "paging"})
    open_tickets = fetch_tickets(client, {"status": ["PENDING_APPROVAL", "SCHEDULED", "ACTIVE"]}, None)
    assert len(open_tickets) >= 3
    assert run_example("pagination", live).strip() == f"{len(open_tickets)} open tickets"


@pytest.mark.slow  # installs TypeScript and graphql-ws from npm
def test_typescript_example_type_checks_and_follows_the_worker(live, client, tmp_path):
    import shutil

    here = Path(__file__).parent / "typescript"
    for name in ("package.json", "tsconfig.json"):
        shutil.copy(here / name, tmp_path / name)
    (tmp_path / "example.ts").write_text(re.search(r"```ts\n(.*?)```", DOC.read_text(), re.S).group(1))
    subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent"], cwd=tmp_path, check=True, timeout=300)
    checked = subprocess.run([str(tmp_path / "node_modules" / ".bin" / "tsc"), "-p", "."], cwd=tmp_path,
                             capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0, checked.stdout + checked.stderr

    start = (datetime.now(UTC) + timedelta(seconds=3)).isoformat()
    ticket = client.mutate(documents.REQUEST, input={
        "targets": [{"accountId": live.accounts["sandbox-ml"], "permissionSet": "ReadOnlyAccess"}],
        "durationSeconds": 600, "startAt": start})["requestTicket"]
    env = {**os.environ, "JIT_URL": live.url, "JIT_TOKEN": live.tokens["alice"], "TICKET_ID": ticket["id"]}
    ran = subprocess.run(["node", "out/example.js"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.split() == ["SCHEDULED", "GRANTING", "ACTIVE"]
