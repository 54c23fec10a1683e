"""Every kind of state change the issue lists leaves an audit event with its actor, on
behalf of, subject and before/after: tokens, sign-in and sign-out, directory syncs,
delegations, rule changes, decisions for a delegator, tickets requested for someone else."""

from __future__ import annotations

from datetime import timedelta

from jit.approvals.delegations import DelegationRequest, create_delegation, revoke_delegation
from jit.audit.models import AuditEvent
from jit.audit.verify import verify_chain
from jit.directory.service import sync_directory
from tests.graphql.client import APPROVE
from tests.security.test_tokens import CREATE, REVOKE

HEADERS = {"X-JIT-CSRF": "1", "Origin": "http://jit.test"}


async def _one(action: str, **flt) -> AuditEvent:
    rows = await AuditEvent.filter(action=action, **flt).order_by("-seq")
    assert rows, f"no {action} event"
    return rows[0]


async def test_tokens_are_audited_without_their_secret(api, demo):
    from jit.auth.service import create_token

    admin, bob = await demo.user("admin"), await demo.user("bob")
    made = (await api.as_(demo.rt, "admin", CREATE, i={"name": "ci", "scopes": ["READ"]}))["createApiToken"]
    created = await _one("token.created", subject_id=made["apiToken"]["id"])
    assert (created.subject_type, created.actor_id, created.on_behalf_of) == ("token", admin.id, None)
    assert created.after["scopes"] == ["read"] and created.before is None
    assert created.detail["credential"].startswith("token:") and created.detail["minted_by"] == f"user:{admin.id}"
    assert made["token"] not in str(created.detail) + str(created.after)
    # A token for someone else is an operator's, at the command line; an admin revokes it.
    secret, bobs = await create_token(demo.rt.clock, "bob", "ci", minted_by="admin")
    created = await _one("token.created", subject_id=bobs.id)
    assert created.actor_id is None and created.detail["minted_by"] == "operator:admin"
    assert secret not in str(created.detail) + str(created.after)
    await api.as_(demo.rt, "admin", REVOKE, id=str(bobs.id))
    revoked = await _one("token.revoked", subject_id=bobs.id)
    assert (revoked.actor_id, revoked.on_behalf_of) == (admin.id, bob.id)
    assert revoked.before["revoked_at"] is None and revoked.after["revoked_at"] is not None
    assert (await verify_chain()).ok


async def test_demo_sign_in_and_sign_out_are_audited(make_api, demo):
    api = await make_api(mode="demo", public_url="http://jit.test")
    await api.client.post("/auth/demo", json={"userName": "bob"}, headers=HEADERS)
    bob = await demo.user("bob")
    signed_in = await _one("user.signed_in", subject_id=bob.id)
    assert signed_in.actor_id == bob.id and signed_in.detail["method"] == "demo"
    csrf = api.client.cookies["jit_csrf"]
    response = await api.client.post("/auth/logout", headers={"X-JIT-CSRF": csrf, "Origin": "http://jit.test"})
    assert response.status_code == 200
    signed_out = await _one("user.signed_out", subject_id=bob.id)
    assert signed_out.before["ended_at"] is None and signed_out.after["session"] == signed_in.after["session"]


async def test_a_directory_sync_is_audited(demo):
    rt = demo.rt
    await sync_directory(rt)
    event = await _one("sync.completed")
    assert (event.subject_type, event.subject_id, event.actor_id) == ("sync", "directory", None)
    assert event.after["users"]["seen"] >= 8


async def test_delegations_and_decisions_on_behalf_are_audited(api, demo):
    rt = demo.rt
    bob, erin = await demo.user("bob"), await demo.user("erin")
    row = await create_delegation(rt, bob, DelegationRequest(
        delegate_id=erin.id, starts_at=None, ends_at=rt.clock.now() + timedelta(hours=2), reason="holiday"))
    created = await _one("delegation.created", subject_id=str(row.id))
    assert created.actor_id == bob.id and created.before is None and created.after["delegate"] == erin.id

    ticket = await demo.request("alice", [("payments-prod", "ReadOnlyAccess")])
    decided = (await api.as_(rt, "erin", APPROVE, id=str(ticket.id), comment="for bob"))["approveTicket"]
    assert decided["__typename"] == "Ticket", decided
    decision = await _one("decision.approved", ticket_id=ticket.id)
    assert (decision.actor_id, decision.on_behalf_of) == (erin.id, bob.id)
    assert (decision.subject_type, decision.subject_id) == ("ticket", str(ticket.id))

    await revoke_delegation(rt, bob, str(row.id))
    revoked = await _one("delegation.revoked", subject_id=str(row.id))
    assert revoked.before["revoked_at"] is None and revoked.after["revoked_at"] is not None


async def test_rule_changes_carry_before_and_after(demo):
    from jit.rules.models import ApprovalRule
    from jit.rules.service import RuleService, get_rule

    rule = await ApprovalRule.all().order_by("name").first()
    service = RuleService(demo.rt)
    from jit.rules.service import rule_to_spec

    spec = rule_to_spec(rule)
    changed = spec.model_copy(update={"description": "audited change"})
    admin = (await demo.user("admin")).id
    await service.update(rule.id, changed, admin)
    event = await _one("rule.updated", subject_id=str(rule.id))
    assert event.actor_id == admin
    assert event.after["description"] == "audited change" and event.before["description"] != "audited change"
    assert (await get_rule(rule.id)).description == "audited change"
