"""The requester CLI, run as a separate process against a live `jit serve` and `jit worker`."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
import uuid

import pytest

from jit.client.commands.common import require_operation
from jit.client.config import ClientConfig
from jit.client.errors import ClientError, ExitCode
from jit.client.transport import GraphQLClient
from jit.demo.embedded import free_port
from tests.client.conftest import client_env, run_jit
from tests.support.tcp_proxy import FlakyProxy


def _one_line_error(result, code: int, *fragments: str, progress: bool = False) -> None:
    assert result.code == code, result
    assert result.out == "", result
    lines = result.err.strip().splitlines()
    if progress:  # --wait reports progress on stderr before the outcome
        lines = lines[-1:]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


def _start_waiting(live, tmp_path, *args: str, user: str = "alice") -> tuple[subprocess.Popen, str]:
    """A `jit request ... --wait` in the background, and the id of the ticket it is waiting on."""
    env = client_env(live, user, tmp_path)
    proc = subprocess.Popen([sys.executable, "-m", "jit.cli", "request", *args], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
    first = proc.stderr.readline()
    assert first.startswith("requested ticket "), (first, proc.stderr.read() if proc.poll() is not None else "")
    return proc, first.split()[2].rstrip(":")


def _finish(proc: subprocess.Popen, timeout: float = 60) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def test_help_groups_the_commands_and_documents_the_exit_codes():
    result = run_jit("--help", env={**os.environ})
    assert result.code == 0
    client, server = result.out.split("client commands")[1].split("server commands")
    for name in ("login", "request", "tickets", "show", "approve", "reject", "extend", "revoke", "cancel", "watch",
                 "delegate"):
        assert f"\n  {name} " in client
    for name in ("serve", "worker", "demo", "migrate", "sync", "token", "rules", "export-schema"):
        assert f"\n  {name} " in server
    for code in (ExitCode.NOT_LOGGED_IN, ExitCode.INVALID, ExitCode.WRONG_STATE, ExitCode.REJECTED, ExitCode.TIMEOUT):
        assert f"\n  {int(code):>2}  " in result.out


def test_login_saves_server_and_token_readable_by_the_owner_only(live, tmp_path):
    env = client_env(live, None, tmp_path)
    config = tmp_path / "jit-config" / "config.json"

    result = run_jit("login", "--server", live.url + "/graphql", env=env, input=live.tokens["alice"] + "\n")
    assert result.code == 0, result
    assert f"logged in to {live.url} as alice" in result.out
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert stat.S_IMODE(config.parent.stat().st_mode) == 0o700
    assert json.loads(config.read_text()) == {"server": live.url, "token": live.tokens["alice"]}

    # Later commands need nothing but the saved login.
    assert run_jit("tickets", "--output", "json", env=env).code == 0

    # A refused token is reported and does not replace the saved login.
    refused = run_jit("login", "--server", live.url, "--token", "jit_not-a-token", env=env)
    _one_line_error(refused, ExitCode.NOT_LOGGED_IN, "the server refused the token")
    assert json.loads(config.read_text())["token"] == live.tokens["alice"]

    # JIT_TOKEN wins over the saved login, so scripts can act as someone else.
    _one_line_error(run_jit("tickets", env={**env, "JIT_TOKEN": "jit_nope"}), ExitCode.NOT_LOGGED_IN)


def test_without_a_login_commands_say_how_to_log_in(jit):
    _one_line_error(jit("tickets", user=None), ExitCode.NOT_LOGGED_IN, "jit login --server URL", "JIT_SERVER")


def test_request_wait_returns_when_the_worker_grants(jit, live):
    assert live.assignments("sandbox-alice", "ReadOnlyAccess", "alice") == []
    result = jit("request", "--account", "sandbox-alice", "--permission-set", "ReadOnlyAccess", "--duration", "2h",
                 "--wait", "--timeout", "60s")
    assert result.code == 0, result
    # The worker, in its own process, made the assignment before --wait returned.
    assert len(live.assignments("sandbox-alice", "ReadOnlyAccess", "alice")) == 1
    ticket = result.out.split()[1]
    assert "is ACTIVE until" in result.out
    assert "[profile sandbox-alice/ReadOnlyAccess]" in result.out
    assert f"sso_account_id = {live.accounts['sandbox-alice']}" in result.out
    assert result.err.strip().splitlines()[-1] == "  ACTIVE"

    shown = jit("show", ticket, "--output", "json")
    assert shown.code == 0, shown
    data = shown.json()
    assert data["status"] == "ACTIVE" and data["durationSeconds"] == 7200
    assert [e["status"] for e in data["resourceStack"]] == ["SUCCEEDED"]

    table = jit("show", ticket)
    assert table.code == 0 and "sandbox-alice" in table.out and "history" in table.out
    stack = table.out.split("resource stack")[1].split("history")[0]
    assert "ReadOnlyAccess" in stack and "SUCCEEDED" in stack and f"sandbox-alice ({live.accounts['sandbox-alice']})" in stack

    revoked = jit("revoke", ticket, "--reason", "done")
    assert revoked.code == 0, revoked
    assert f"revoked ticket {ticket}" in revoked.out

    watched = jit("watch", ticket, "--timeout", "60s")
    assert watched.code == 0, watched
    # It may have ended before the watch began: the first line is always the status now.
    assert watched.out.strip().splitlines()[-1].endswith("ENDED  (revoked)")
    assert live.assignments("sandbox-alice", "ReadOnlyAccess", "alice") == []


def test_wait_blocks_until_approved_then_exec_runs_with_the_access(jit, live, tmp_path):
    command = 'printf "%s %s %s" "$AWS_PROFILE" "$JIT_ACCOUNT_ID" "$JIT_TICKET_ID" > exec.txt; exit 7'
    proc, ticket = _start_waiting(live, tmp_path, "--account", "payments-prod", "--permission-set", "ReadOnlyAccess",
                                  "--duration", "1h", "--reason", "INC-1", "--exec", command)
    try:
        time.sleep(1)
        assert proc.poll() is None, "returned before anyone approved"

        inbox = jit("tickets", "--to-decide", "--output", "json", user="bob")
        assert ticket in [t["id"] for t in inbox.json()]
        approved = jit("approve", ticket, "--comment", "ok", user="bob")
        assert approved.code == 0, approved
        assert approved.out.strip() == f"approved ticket {ticket}: now SCHEDULED"

        code, out, err = _finish(proc)
    finally:
        proc.kill()
    assert code == 7, (out, err)  # CMD's own exit code
    assert (tmp_path / "exec.txt").read_text() == f"payments-prod/ReadOnlyAccess {live.accounts['payments-prod']} {ticket}"
    assert "running:" in err

    again = jit("approve", ticket, user="carol")
    _one_line_error(again, ExitCode.WRONG_STATE, "WrongStateError", "SCHEDULED" if "SCHEDULED" in again.err else "")
    jit("revoke", ticket, "--reason", "cleanup")


@pytest.mark.parametrize(("decider", "verb", "status", "code"), [
    ("bob", "reject", "REJECTED", ExitCode.REJECTED),
    ("alice", "cancel", "CANCELLED", ExitCode.ENDED),
])
def test_wait_exit_code_says_how_the_ticket_ended(jit, live, tmp_path, decider, verb, status, code):
    proc, ticket = _start_waiting(live, tmp_path, "--account", "checkout-prod", "--permission-set",
                                  "ReadOnlyAccess", "--duration", "30m", "--reason", "look", "--wait")
    try:
        assert jit(verb, ticket, "-m", "no", user=decider).code == 0
        returncode, out, err = _finish(proc)
    finally:
        proc.kill()
    assert returncode == code, (out, err)
    assert err.strip().splitlines()[-1] == f"error: ticket {ticket} is {status}: not granted"


def test_json_output_wait_and_timeout(jit):
    result = jit("request", "--account", "search-prod", "--permission-set", "ReadOnlyAccess", "--duration", "1h",
                 "--reason", "r", "--output", "json", "--wait", "--timeout", "2s")
    pending = jit("tickets", "--mine", "--account", "search-prod", "--output", "json").json()
    assert [t["status"] for t in pending] == ["PENDING_APPROVAL"]
    _one_line_error(result, ExitCode.TIMEOUT, f"ticket {pending[0]['id']} is still PENDING_APPROVAL after --timeout",
                    progress=True)
    _one_line_error(jit("request", "--account", "search-prod", "--permission-set", "ReadOnlyAccess", "--duration",
                        "1h", "--profile-format", "{role}"), ExitCode.USAGE, "--profile-format")
    jit("cancel", pending[0]["id"])


def test_typed_api_errors_become_one_line_messages_with_exit_codes(jit, live):
    base = ("request", "--permission-set", "ReadOnlyAccess", "--reason", "r")
    _one_line_error(jit(*base, "--account", "sandbox-erin", "--duration", "1d"), ExitCode.INVALID,
                    "ValidationError: durationSeconds:", "sandbox-self-service")
    _one_line_error(jit("request", "--account", "payments-prod", "--permission-set", "Billing", "--duration", "1h",
                        "--reason", "r"), ExitCode.NOT_ALLOWED, "NotAllowedError: targets[0]")
    _one_line_error(jit("show", str(uuid.uuid4())), ExitCode.NOT_FOUND, "not found")
    _one_line_error(jit(*base, "--account", "sandbox-erin", "--duration", "2x"), ExitCode.USAGE, "--duration", "90m")
    _one_line_error(jit("show", "abc"), ExitCode.USAGE, "not a ticket id")
    _one_line_error(jit("watch", str(uuid.uuid4())), ExitCode.NOT_FOUND, "not found")
    _one_line_error(jit(*base, "--account", "no-such-account", "--duration", "1h"), ExitCode.INVALID,
                    "no account with id or name 'no-such-account'")
    ambiguous = jit(*base, "--account", "twin", "--duration", "1h")
    _one_line_error(ambiguous, ExitCode.INVALID, "ambiguous", *live.twins)
    # Either twin is fine by id.
    by_id = jit(*base, "--account", live.twins[0], "--duration", "90m", "--output", "json")
    assert by_id.code == 0, by_id
    assert by_id.json()["targets"][0]["accountId"] == live.twins[0]
    assert by_id.json()["durationSeconds"] == 5400

    mine = jit("request", "--account", "payments-prod", "--permission-set", "ReadOnlyAccess", "--duration", "1h",
               "--reason", "r", "--output", "json").json()
    _one_line_error(jit("approve", mine["id"]), ExitCode.NOT_ALLOWED, "your own ticket")
    jit("cancel", mine["id"])


def test_tickets_lists_filters_and_pages(jit, live):
    ids = []
    for _ in range(3):
        r = jit("request", "--account", "identity-prod", "--permission-set", "ReadOnlyAccess", "--duration", "1h",
                "--reason", "batch", "--start", "+1h", "--output", "json")
        assert r.code == 0, r
        assert r.json()["status"] == "PENDING_APPROVAL"
        ids.append(r.json()["id"])

    mine = jit("tickets", "--mine", "--account", "identity-prod", "--output", "json")
    assert [t["id"] for t in mine.json()] == ids[::-1]  # newest first
    assert [t["id"] for t in jit("tickets", "--account", "identity-prod", "--limit", "2", "--output", "json").json()] \
        == ids[:0:-1]
    assert jit("tickets", "--mine", "--account", "identity-prod", "--output", "json", user="erin").json() == []
    # --for names the principal by user name. Whether maria may ask for erin is the rules'
    # call (on-behalf requests come with the approval engine); either way erin was meant.
    for_erin = jit("request", "--for", "erin", "--account", "identity-prod", "--permission-set", "ReadOnlyAccess",
                   "--duration", "1h", "--reason", "on behalf", "--start", "+1h", "--output", "json", user="maria")
    if for_erin.code == 0:
        assert for_erin.json()["principal"]["userName"] == "erin"
        # "Mine" also means tickets someone else asked for on my behalf.
        assert [t["id"] for t in jit("tickets", "--mine", "--output", "json", user="erin").json()] \
            == [for_erin.json()["id"]]
        assert jit("cancel", for_erin.json()["id"], user="maria").code == 0
    else:
        _one_line_error(for_erin, ExitCode.NOT_ALLOWED, "for erin")
    _one_line_error(jit("request", "--for", "nobody", "--account", "identity-prod", "--permission-set",
                        "ReadOnlyAccess", "--duration", "1h"), ExitCode.INVALID, "--for", "nobody")
    assert set(ids) <= {t["id"] for t in jit("tickets", "--to-decide", "--all", "--output", "json", user="bob").json()}
    assert jit("tickets", "--status", "ACTIVE", "--account", "identity-prod", "--output", "json").json() == []
    _one_line_error(jit("tickets", "--status", "NOPE"), ExitCode.USAGE, "unknown status NOPE")

    table = jit("tickets", "--account", "identity-prod")
    assert table.code == 0
    assert table.out.splitlines()[0].split() == ["ID", "STATUS", "REQUESTER", "FOR", "TARGETS", "START", "DURATION"]
    assert all(i in table.out for i in ids)
    assert f"identity-prod ({live.accounts['identity-prod']}) / ReadOnlyAccess" in table.out
    for ticket in ids:
        assert jit("cancel", ticket).code == 0


def test_watch_streams_every_status_until_the_ticket_ends(jit):
    requested = jit("request", "--account", "sandbox-shared", "--permission-set", "PowerUserAccess",
                    "--start", "+4s", "--duration", "3s", "--output", "json")
    assert requested.code == 0, requested
    assert requested.json()["status"] == "SCHEDULED"
    watched = jit("watch", requested.json()["id"], "--output", "json", "--timeout", "60s")
    assert watched.code == 0, watched
    updates = [json.loads(line) for line in watched.out.splitlines()]
    assert [u["status"] for u in updates] == ["SCHEDULED", "GRANTING", "ACTIVE", "REVOKING", "ENDED"]
    assert updates[-1]["ticket"]["endReason"] == "EXPIRED"


def test_watch_reconnects_when_the_connection_drops(jit, live, tmp_path):
    requested = jit("request", "--account", "sandbox-shared", "--permission-set", "ReadOnlyAccess",
                    "--start", "+4s", "--duration", "3s", "--output", "json")
    assert requested.code == 0, requested
    proxy = FlakyProxy(live.port, drop_first=0)
    env = {**client_env(live, "alice", tmp_path), "JIT_SERVER": proxy.url, "JIT_CLIENT_RETRY_DELAYS": "0.2,0.5,1"}
    watch = subprocess.Popen([sys.executable, "-m", "jit.cli", "watch", requested.json()["id"], "--output", "json",
                              "--timeout", "60s"], env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        first = json.loads(watch.stdout.readline())
        assert first["status"] == "SCHEDULED"
        proxy.cut()
        rest, err = watch.communicate(timeout=60)
    finally:
        watch.kill()
        proxy.stop()
    assert watch.returncode == 0, err
    updates = [first] + [json.loads(line) for line in rest.splitlines()]
    assert updates[-1]["status"] == "ENDED"
    versions = [u["version"] for u in updates]
    assert versions == sorted(set(versions))  # nothing repeated after the reconnect
    assert proxy.connections >= 2


def test_queries_are_retried_and_mutations_are_not_resent(jit, live):
    proxy = FlakyProxy(live.port, drop_first=2)
    try:
        # Two dropped connections, then the third attempt goes through.
        listed = jit("tickets", "--output", "json", JIT_SERVER=proxy.url, JIT_CLIENT_RETRY_DELAYS="0.05,0.05,0.05")
        assert listed.code == 0, listed
        assert proxy.requests_dropped == 2
    finally:
        proxy.stop()

    proxy = FlakyProxy(live.port, drop_first=100)
    try:
        ticket = str(uuid.uuid4())
        sent = jit("approve", ticket, JIT_SERVER=proxy.url, JIT_CLIENT_RETRY_DELAYS="0.05,0.05,0.05", user="bob")
        _one_line_error(sent, ExitCode.UNREACHABLE, "may or may not have been applied")
        assert proxy.requests_dropped == 1  # sent once, never again
        read = jit("tickets", JIT_SERVER=proxy.url, JIT_CLIENT_RETRY_DELAYS="0.05,0.05,0.05")
        _one_line_error(read, ExitCode.UNREACHABLE, "cannot reach")
        assert proxy.requests_dropped == 1 + 4
    finally:
        proxy.stop()

    # Nothing listening: the connection never opened, so even a mutation may be tried again.
    nobody = f"http://127.0.0.1:{free_port()}"
    _one_line_error(jit("cancel", str(uuid.uuid4()), JIT_SERVER=nobody), ExitCode.UNREACHABLE, "cannot reach")


def test_an_operation_the_server_lacks_is_reported_as_unsupported(live):
    with GraphQLClient(ClientConfig(live.url, live.tokens["alice"]), backoff=()) as client:
        with pytest.raises(ClientError) as missing:
            require_operation(client, "Mutation", "noSuchMutation")
        assert missing.value.code == ExitCode.UNSUPPORTED
        require_operation(client, "Mutation", "requestTicket")
        with pytest.raises(ClientError) as unknown_field:
            client.query("query { noSuchField }")
        assert unknown_field.value.code == ExitCode.UNSUPPORTED
