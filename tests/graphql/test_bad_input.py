"""Every kind of bad input gets a typed error naming the field, and writes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from jit.approvals.models import Decision
from jit.audit.models import AuditEvent
from jit.tickets.models import Target, Ticket
from tests.graphql.client import APPROVE, REQUEST


async def _counts():
    return (await Ticket.all().count(), await Target.all().count(), await AuditEvent.all().count(),
            await Decision.all().count())


def _t(account, ps):
    return {"accountId": account, "permissionSet": ps}


CASES = [
    # name, user, input builder (world -> input), expected typename, expected field
    ("unknown account", "alice", lambda w: {"targets": [_t("999999999999", "ReadOnlyAccess")], "durationSeconds": 60},
     "ValidationError", "targets[0].accountId"),
    ("unknown permission set", "alice", lambda w: {"targets": [_t(w.account("sandbox-alice"), "NoSuchSet")], "durationSeconds": 60},
     "ValidationError", "targets[0].permissionSet"),
    ("target outside every rule", "alice", lambda w: {"targets": [_t(w.account("audit"), "AdministratorAccess")], "durationSeconds": 60},
     "NotAllowedError", "targets[0]"),
    ("zero duration", "alice", lambda w: {"targets": [_t(w.account("sandbox-alice"), "ReadOnlyAccess")], "durationSeconds": 0},
     "ValidationError", "durationSeconds"),
    ("negative duration", "alice", lambda w: {"targets": [_t(w.account("sandbox-alice"), "ReadOnlyAccess")], "durationSeconds": -5},
     "ValidationError", "durationSeconds"),
    ("duration above the rule's maximum", "alice",
     lambda w: {"targets": [_t(w.account("sandbox-alice"), "ReadOnlyAccess")], "durationSeconds": 28801},
     "ValidationError", "durationSeconds"),
    ("start in the past", "alice",
     lambda w: {"targets": [_t(w.account("sandbox-alice"), "ReadOnlyAccess")], "durationSeconds": 60,
                "startAt": (datetime.now(UTC) - timedelta(hours=1)).isoformat()},
     "ValidationError", "startAt"),
    ("missing justification where required", "alice",
     lambda w: {"targets": [_t(w.account("payments-prod"), "ReadOnlyAccess")], "durationSeconds": 60, "justification": "  "},
     "ValidationError", "justification"),
    ("empty target list", "alice", lambda w: {"targets": [], "durationSeconds": 60}, "ValidationError", "targets"),
    ("more than JIT_MAX_TARGETS targets", "alice",
     lambda w: {"targets": [_t(w.account(a), "ReadOnlyAccess") for a in
                            ["sandbox-alice", "sandbox-erin", "sandbox-shared", "sandbox-ml", "sandbox-training", "payments-dev"]],
                "durationSeconds": 60},
     "ValidationError", "targets"),
    ("the same target twice", "alice",
     lambda w: {"targets": [_t(w.account("sandbox-alice"), "ReadOnlyAccess")] * 2, "durationSeconds": 60},
     "ValidationError", "targets[1]"),
    ("an unknown principal", "alice",
     lambda w: {"targets": [_t(w.account("sandbox-alice"), "ReadOnlyAccess")], "durationSeconds": 60, "principalId": "nobody"},
     "ValidationError", "principalId"),
    # Managers may request for engineers; bob is an approver, not an engineer.
    ("on behalf of someone without a rule allowing it", "maria",
     lambda w: {"targets": [_t(w.account("sandbox-alice"), "ReadOnlyAccess")], "durationSeconds": 60,
                "principalId": w.org.users["bob"]},
     "NotAllowedError", "targets[0]"),
]


@pytest.mark.parametrize("name,user,build,typename,field", CASES, ids=[c[0] for c in CASES])
async def test_request_ticket_rejects_bad_input(api, demo, name, user, build, typename, field):
    await api.token(demo.rt, user)  # minting the caller's token is itself audited
    before = await _counts()
    data = await api.as_(demo.rt, user, REQUEST, input=build(demo))
    result = data["requestTicket"]
    assert result["__typename"] == typename, result
    assert result["field"] == field
    assert result["message"]
    assert await _counts() == before


@pytest.mark.parametrize("build,field,setting", [
    # Issue 16's maximum lead time (JIT_TICKET_MAX_LEAD_DAYS, default 30) refuses a start in 2099.
    (lambda w: {"targets": [_t(w.account("sandbox-alice"), "ReadOnlyAccess")], "durationSeconds": 60,
                "startAt": "2099-01-01T00:00:00+00:00"}, "startAt", "JIT_TICKET_MAX_LEAD_DAYS"),
    (lambda w: {"targets": [_t(w.account(a), "ReadOnlyAccess") for a in
                            ["sandbox-alice", "sandbox-erin", "sandbox-shared", "sandbox-ml", "sandbox-training",
                             "payments-dev"]], "durationSeconds": 60}, "targets", "JIT_MAX_TARGETS"),
], ids=["start in 2099", "too many targets"])
async def test_a_limit_names_the_setting_that_changes_it(api, demo, build, field, setting):
    await api.token(demo.rt, "alice")
    result = (await api.as_(demo.rt, "alice", REQUEST, input=build(demo)))["requestTicket"]
    assert (result["__typename"], result["field"]) == ("ValidationError", field)
    assert setting in result["message"]


def test_the_default_target_limit_covers_a_large_ou():
    from jit.config import Settings

    # The test organization's largest OU has 24 accounts; the budget revokes ~5.6 a second.
    assert Settings(_env_file=None).max_targets == 100


@pytest.mark.parametrize("ticket_id", ["not-a-uuid", "123", "'; drop table ticket; --"])
async def test_malformed_id_is_a_typed_error(api, demo, ticket_id):
    await api.token(demo.rt, "bob")  # minting the caller's token is itself audited
    before = await _counts()
    data = await api.as_(demo.rt, "bob", APPROVE, id=ticket_id, comment="")
    assert data["approveTicket"]["__typename"] == "ValidationError"
    assert data["approveTicket"]["field"] == "ticketId"
    assert await _counts() == before


async def test_decision_on_a_ticket_in_the_wrong_state(api, demo):
    ticket = await demo.request("alice", [("sandbox-alice", "ReadOnlyAccess")], justification="")  # auto-approved
    before = await _counts()
    data = await api.as_(demo.rt, "bob", APPROVE, id=str(ticket.id), comment="")
    result = data["approveTicket"]
    # bob is not an approver of the sandbox rule, so he cannot even read it.
    assert result["__typename"] == "NotFoundError"
    ticket = await demo.request("alice", [("payments-prod", "ReadOnlyAccess")])
    await api.as_(demo.rt, "bob", APPROVE, id=str(ticket.id), comment="fine")
    await api.token(demo.rt, "carol")
    before = await _counts()
    data = await api.as_(demo.rt, "carol", APPROVE, id=str(ticket.id), comment="late")
    assert data["approveTicket"]["__typename"] == "WrongStateError"
    assert data["approveTicket"]["currentStatus"] == "SCHEDULED"
    assert await _counts() == before


@pytest.mark.parametrize("header", ["Bearer jit_unknown", "Bearer ", "Basic abc", "revoked", "expired", None])
async def test_unknown_revoked_or_missing_token_is_refused(api, demo, header):
    from jit.auth.models import ApiToken
    from jit.auth.service import create_token
    from jit.errors import Unauthenticated

    if header in ("revoked", "expired"):
        token, row = await create_token(demo.rt.clock, "alice", "t")
        if header == "revoked":
            row.revoked_at = demo.rt.clock.now()
        else:
            row.expires_at = demo.rt.clock.now() - timedelta(seconds=1)
        await row.save()
        header = f"Bearer {token}"
    headers = {"Authorization": header} if header is not None else {}
    response = await api.client.post("/graphql", json={"query": "{ me { user { userName } } }"}, headers=headers)
    assert response.status_code == 401
    body = response.json()
    # One answer whatever the reason (docs/security.md): which one is for the log only.
    assert body["errors"][0] == {"message": Unauthenticated.PUBLIC_MESSAGE,
                                 "extensions": {"code": "UNAUTHENTICATED", "field": None}}
    assert await ApiToken.filter(last_used_at__not_isnull=True).count() == 0
