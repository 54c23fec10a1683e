"""`jit request` asks for what the API can: several targets, OUs by name path, permission
set groups, a start, a principal, and a window that starts when approved."""

from __future__ import annotations

import time
from datetime import datetime

from jit.client.commands.watch import line
from jit.client.errors import ExitCode
from tests.client.test_cli import _one_line_error

SANDBOX = ("--permission-set", "PowerUserAccess", "--duration", "1h", "--start", "+1h", "--output", "json")


def _pairs(ticket: dict) -> set[tuple[str, str]]:
    return {(t["account"]["name"], t["permissionSet"]["name"]) for t in ticket["targets"]}


def test_repeated_accounts_and_permission_sets_are_all_requested(jit):
    result = jit("request", "--account", "sandbox-ml", "--account", "sandbox-training",
                 "--permission-set", "ReadOnlyAccess", *SANDBOX)
    assert result.code == 0, result
    ticket = result.json()
    assert _pairs(ticket) == {(a, p) for a in ("sandbox-ml", "sandbox-training")
                              for p in ("ReadOnlyAccess", "PowerUserAccess")}
    assert jit("cancel", ticket["id"]).code == 0


def test_an_ou_by_name_path_with_a_permission_set_group(jit, live):
    result = jit("request", "--ou", "/Workloads/Dev", "--permission-set-group", "DBA", "--duration", "1h",
                 "--reason", "schema change", "--start", "+1h", "--output", "json")
    assert result.code == 0, result
    ticket = result.json()
    dev = {"payments-dev", "checkout-dev", "search-dev", "data-platform-dev", "identity-dev"}
    assert _pairs(ticket) == {(a, p) for a in dev for p in ("ReadOnlyAccess", "DatabaseAdmin")}
    assert ticket["status"] == "PENDING_APPROVAL"
    assert jit("cancel", ticket["id"]).code == 0
    _one_line_error(jit("request", "--ou", "/Workloads/NoSuch", "--permission-set", "ReadOnlyAccess",
                        "--duration", "1h", "--reason", "r"), ExitCode.INVALID, "organizationalUnitId", "NoSuch")


def test_principal_names_who_receives_the_access(jit):
    # alice, not erin: another test counts every ticket of erin's.
    result = jit("request", "--principal", "alice", "--account", "sandbox-ml", *SANDBOX, user="maria")
    assert result.code == 0, result
    assert result.json()["principal"]["userName"] == "alice"
    assert result.json()["requester"]["userName"] == "maria"
    assert jit("cancel", result.json()["id"], user="maria").code == 0


def test_start_when_approved_starts_the_window_at_the_approval(jit):
    result = jit("request", "--account", "checkout-prod", "--permission-set", "ReadOnlyAccess", "--duration", "1h",
                 "--reason", "r", "--start-when-approved", "--output", "json")
    assert result.code == 0, result
    requested = result.json()
    time.sleep(2)
    approved = jit("approve", requested["id"], "--output", "json", user="bob")
    assert approved.code == 0, approved
    ticket = jit("show", requested["id"], "--output", "json").json()
    moved = datetime.fromisoformat(ticket["startAt"]) - datetime.fromisoformat(requested["startAt"])
    assert moved.total_seconds() >= 2
    assert ticket["durationSeconds"] == 3600
    jit("cancel", requested["id"])
    _one_line_error(jit("request", "--account", "checkout-prod", "--permission-set", "ReadOnlyAccess",
                        "--duration", "1h", "--start", "+1h", "--start-when-approved"), ExitCode.USAGE, "--start")


def test_break_glass_in_the_request_itself(jit):
    result = jit("request", "--account", "payments-prod", "--permission-set", "AdministratorAccess", "--duration", "1h",
                 "--reason", "payments are down", "--start", "+1h", "--break-glass", "INC-7", "--output", "json")
    assert result.code == 0, result
    assert (result.json()["status"], result.json()["breakGlass"]) == ("SCHEDULED", True)
    assert jit("cancel", result.json()["id"]).code == 0
    # A rule without break-glass refuses it, and no ticket is made.
    before = len(jit("tickets", "--output", "json").json())
    _one_line_error(jit("request", "--account", "payments-prod", "--permission-set", "ReadOnlyAccess",
                        "--duration", "1h", "--reason", "r", "--break-glass", "INC-7"), ExitCode.NOT_ALLOWED, "break-glass")
    assert len(jit("tickets", "--output", "json").json()) == before


def test_a_request_without_a_place_or_a_permission_set_is_a_usage_error(jit):
    _one_line_error(jit("request", "--permission-set", "ReadOnlyAccess", "--duration", "1h"), ExitCode.USAGE,
                    "--account or --ou")
    _one_line_error(jit("request", "--account", "sandbox-ml", "--duration", "1h"), ExitCode.USAGE,
                    "--permission-set")


def test_help_names_every_way_to_say_what_to_request(jit):
    result = jit("request", "--help")
    for option in ("--ou", "--permission-set-group", "--principal", "--start-when-approved", "--start"):
        assert option in result.out


def test_watch_says_an_end_reason_once():
    update = {"previousStatus": "REVOKING", "status": "ENDED", "at": "2026-01-01T00:00:00+00:00", "reason": "expired",
              "ticket": {"endReason": "EXPIRED", "failureReason": None}}
    assert line(update).endswith("REVOKING → ENDED  (expired)")
    update["reason"] = "offboarded"
    assert line(update).endswith("(expired; offboarded)")
