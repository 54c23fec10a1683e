"""`jit extend` and `jit delegate` against a live server with the approval engine (issue 3):
extensions with and without approval, delegations that let someone else decide."""

from __future__ import annotations

import uuid
from datetime import datetime

from jit.client.errors import ExitCode
from tests.client.test_cli import _one_line_error


def _active_ticket(jit, account: str, duration: str = "1h") -> str:
    requested = jit("request", "--account", account, "--permission-set", "ReadOnlyAccess", "--duration", duration,
                    "--reason", "work", "--wait", "--timeout", "60s", "--output", "json")
    assert requested.code == 0, requested
    return requested.json()["id"]


def test_extend_moves_the_end_at_once_where_the_rule_needs_no_approval(jit):
    ticket = _active_ticket(jit, "sandbox-erin")
    before = datetime.fromisoformat(jit("show", ticket, "--output", "json").json()["endAt"])

    extended = jit("extend", ticket, "--by", "1h", "--reason", "the migration runs long", "--output", "json")
    assert extended.code == 0, extended
    extension = extended.json()
    assert (extension["status"], extension["ticketId"], extension["additionalDurationSeconds"]) == (
        "APPROVED", ticket, 3600)
    after = datetime.fromisoformat(jit("show", ticket, "--output", "json").json()["endAt"])
    assert after - before == datetime.fromisoformat(extension["newEndAt"]) - before
    assert (after - before).total_seconds() == 3600

    table = jit("extend", ticket, "--by", "30m", "--reason", "again")
    assert table.code == 0, table
    assert "by 30m: APPROVED; the ticket now ends" in table.out

    # The rule caps the total: 8 h.
    _one_line_error(jit("extend", ticket, "--by", "1d", "--reason", "too much"), ExitCode.INVALID, "ValidationError")
    _one_line_error(jit("extend", str(uuid.uuid4()), "--by", "1h", "--reason", "x"), ExitCode.NOT_FOUND)
    _one_line_error(jit("extend", ticket, "--by", "soon", "--reason", "x"), ExitCode.USAGE, "--by")
    jit("revoke", ticket)


def test_an_extension_that_needs_approval_waits_for_an_approver(jit):
    requested = jit("request", "--account", "data-platform-prod", "--permission-set", "ReadOnlyAccess",
                    "--duration", "1h", "--reason", "INC-7", "--output", "json")
    ticket = requested.json()["id"]
    assert jit("approve", ticket, user="bob").code == 0

    pending = jit("extend", ticket, "--by", "30m", "--reason", "still digging")
    assert pending.code == 0, pending
    assert ": PENDING; awaiting approval until" in pending.out
    extension = pending.out.split()[1]

    _one_line_error(jit("approve", extension, "--extension"), ExitCode.NOT_ALLOWED)  # not her own
    approved = jit("approve", extension, "--extension", "-m", "ok", user="bob", )
    assert approved.code == 0, approved
    assert ": APPROVED; the ticket now ends" in approved.out
    _one_line_error(jit("reject", extension, "--extension", user="carol"), ExitCode.WRONG_STATE)
    jit("revoke", ticket)


def test_delegate_lets_someone_else_decide_in_your_name(jit):
    created = jit("delegate", "--to", "maria", "--until", "+1d", "--reason", "on leave", "--rule", "prod-read-only",
                  "--output", "json", user="bob")
    assert created.code == 0, created
    delegation = created.json()
    assert (delegation["delegator"]["userName"], delegation["delegate"]["userName"], delegation["state"],
            delegation["ruleNames"]) == ("bob", "maria", "ACTIVE", ["prod-read-only"])

    listed = jit("delegate", "--list", "--output", "json", user="maria")
    assert delegation["id"] in [d["id"] for d in listed.json()]
    assert "on leave" in jit("delegate", "--list", user="bob").out

    # maria approves nothing herself; in bob's name she may.
    ticket = jit("request", "--account", "checkout-prod", "--permission-set", "ReadOnlyAccess", "--duration", "1h",
                 "--reason", "INC-8", "--output", "json").json()["id"]
    approved = jit("approve", ticket, "-m", "for bob", user="maria")
    assert approved.code == 0, approved
    assert approved.out.strip() == f"approved ticket {ticket}: now SCHEDULED"

    revoked = jit("delegate", "--revoke", delegation["id"], user="bob")
    assert revoked.code == 0, revoked
    assert "(REVOKED)" in revoked.out
    _one_line_error(jit("delegate", "--revoke", delegation["id"], user="bob"), ExitCode.WRONG_STATE, "already revoked")
    jit("revoke", ticket)


def test_delegate_refuses_bad_input(jit):
    _one_line_error(jit("delegate", "--to", "erin", "--until", "+1d", "--reason", "x"), ExitCode.NOT_ALLOWED,
                    "only an approver")
    _one_line_error(jit("delegate", "--to", "carol", "--until", "+1d", "--reason", "x", "--rule", "nope", user="bob"),
                    ExitCode.INVALID, "no approval rule named 'nope'")
    _one_line_error(jit("delegate", "--to", "nobody", "--until", "+1d", "--reason", "x", user="bob"),
                    ExitCode.INVALID, "--to")
    _one_line_error(jit("delegate", "--to", "carol", "--from", "+2d", "--until", "+1d", "--reason", "x", user="bob"),
                    ExitCode.USAGE, "--until must be after")
    _one_line_error(jit("delegate", "--to", "carol", "--until", "+1d", user="bob"), ExitCode.USAGE, "--reason")
    _one_line_error(jit("delegate", "--revoke", "42", user="bob"), ExitCode.USAGE, "not a delegation id")
