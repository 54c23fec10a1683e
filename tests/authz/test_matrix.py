"""The authorization matrix: every actor against every action, asserted both against the
authz module directly and through GraphQL.

The world is the demo organization plus four delegates of bob (active, expired, not yet
started, revoked). The main ticket is maria (a manager) asking for alice (an engineer) on
prod-change: two team leads (bob is one), then security (dave); break-glass allowed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import boto3
import httpx
import pytest

from jit.approvals.break_glass import break_glass
from jit.approvals.delegations import DelegationRequest, create_delegation, revoke_delegation
from jit.approvals.models import Outcome
from jit.approvals.service import decide
from jit.directory.models import Account, PermissionSet
from jit.directory.service import sync_directory
from jit.tickets import stack
from jit.tickets.service import ticket_parties
from tests.graphql.client import Api, in_process_app

ACTORS = {
    "requester": "maria", "principal": "alice", "approver step 0": "bob", "approver step 1": "dave",
    "delegate active": "dl-active", "delegate expired": "dl-expired", "delegate not started": "dl-future",
    "delegate revoked": "dl-revoked", "other user": "erin", "admin": "admin", "auditor": "audrey",
}
A = set(ACTORS)


def only(*names: str) -> set[str]:
    return set(names)


# action -> the actors allowed to do it; every other actor is denied.
EXPECTED: dict[str, set[str]] = {
    "request": only("requester", "principal", "other user"),
    "request-for alice": only("requester", "principal"),
    "request-for erin": only("requester", "other user"),
    "approve step 0": only("approver step 0", "delegate active"),
    "reject step 0": only("approver step 0", "delegate active"),
    "approve step 1": only("approver step 1"),
    "reject step 1": only("approver step 1"),
    "extend": only("requester", "principal"),
    "cancel": only("requester", "principal", "admin"),
    "revoke": only("requester", "principal", "approver step 0", "approver step 1", "admin"),
    "read": only("requester", "principal", "approver step 0", "approver step 1", "delegate active", "admin", "auditor"),
    "break glass": only("requester"),
    "break glass without the rule allowing it": set(),
    "review": only("approver step 0", "approver step 1"),
}
CASES = [(action, actor, actor in allowed) for action, allowed in EXPECTED.items() for actor in ACTORS]
assert len(CASES) >= 150


@dataclass
class Matrix:
    w: object
    api: Api

    async def ticket(self, kind: str):
        """A fresh ticket in the state the action needs."""
        w = self.w
        if kind == "read-only":
            return await w.request("maria", [("payments-prod", "ReadOnlyAccess")], principal_id=w.org.users["alice"])
        ticket = await w.request("maria", [("payments-prod", "PowerUserAccess")], principal_id=w.org.users["alice"])
        if kind == "step 1":
            for name in ("bob", "carol"):
                await decide(w.rt, await w.user(name), str(ticket.id), Outcome.APPROVED)
        if kind in ("scheduled", "active"):
            ticket = await break_glass(w.rt, await w.user("maria"), str(ticket.id), "incident")
        if kind == "active":
            assert (await stack.grant(w.rt, str(ticket.id))).result == "granted"
        return ticket


async def _add_delegates(w) -> None:
    store = boto3.client("identitystore", endpoint_url=w.rt.settings.aws_endpoint_url, region_name="us-east-1")
    for name in ("dl-active", "dl-expired", "dl-future", "dl-revoked"):
        store.create_user(IdentityStoreId=w.org.identity_store_id, UserName=name, DisplayName=name,
                          Name={"GivenName": name, "FamilyName": "Delegate"})
    await sync_directory(w.rt)
    clock = w.rt.clock
    now = clock.now()
    bob = await w.user("bob")
    windows = {"dl-active": (now - timedelta(hours=1), now + timedelta(hours=8)),
               "dl-expired": (now - timedelta(hours=3), now - timedelta(hours=1)),
               "dl-future": (now + timedelta(hours=1), now + timedelta(hours=3)),
               "dl-revoked": (now - timedelta(hours=1), now + timedelta(hours=8))}
    for name, (start, end) in windows.items():
        # A delegation cannot start in the past: create each at its start (or now), then
        # move the frozen clock back.
        at = min(start, now)
        clock._at = at  # noqa: SLF001 - the frozen clock of the test
        row = await create_delegation(w.rt, bob, DelegationRequest((await w.user(name)).id, start, end, "leave"))
        clock._at = now  # noqa: SLF001
        if name == "dl-revoked":
            await revoke_delegation(w.rt, bob, str(row.id))


async def _target(w, account: str, ps: str):
    return await Account.get(id=w.account(account)), (await PermissionSet.get(name=ps)).arn


async def check_authz(m: Matrix, action: str, actor_id: str) -> bool:
    """The authz module's own answer."""
    w, authz = m.w, m.w.rt.authz
    now = w.rt.clock.now()
    if action.startswith("request"):
        account, arn = await _target(w, "payments-dev", "PowerUserAccess")
        principal = {"request": actor_id, "request-for alice": w.org.users["alice"],
                     "request-for erin": w.org.users["erin"]}[action]
        return bool(await authz.may_request(actor_id, principal, account, arn))
    kind = {"approve step 1": "step 1", "reject step 1": "step 1", "extend": "scheduled", "revoke": "active",
            "review": "scheduled", "break glass without the rule allowing it": "read-only"}.get(action, "pending")
    ticket = await m.ticket(kind)
    who = await ticket_parties(ticket)
    from jit.approvals.service import current_step

    if action.startswith(("approve", "reject")):
        step = await current_step(ticket.id)
        return await authz.may_decide(actor_id, who, str(step.rule_id), step.step_index, now)
    return await {
        "extend": lambda: authz.may_extend(actor_id, who),
        "cancel": lambda: authz.may_cancel(actor_id, who),
        "revoke": lambda: authz.may_revoke(actor_id, who),
        "read": lambda: authz.may_read(actor_id, who, now),
        "break glass": lambda: authz.may_break_glass(actor_id, who, who.rule_ids),
        "break glass without the rule allowing it": lambda: authz.may_break_glass(actor_id, who, who.rule_ids),
        "review": lambda: authz.may_review(actor_id, who),
    }[action]()


RESULT = "__typename ... on Error { message field }"


async def check_graphql(m: Matrix, action: str, user: str) -> bool:
    """The same question asked by doing it through the API."""
    w, api = m.w, m.api
    if action.startswith("request"):
        principal = {"request": None, "request-for alice": w.org.users["alice"],
                     "request-for erin": w.org.users["erin"]}[action]
        data = await api.as_(w.rt, user, f"mutation($i: RequestTicketInput!) {{ requestTicket(input: $i) {{ {RESULT} }} }}",
                             i={"targets": [{"accountId": w.account("payments-dev"), "permissionSet": "PowerUserAccess"}],
                                "durationSeconds": 3600, "justification": "matrix", "principalId": principal})
        return _allowed(data["requestTicket"], "Ticket")
    kind = {"approve step 1": "step 1", "reject step 1": "step 1", "extend": "scheduled", "revoke": "active",
            "review": "scheduled", "break glass without the rule allowing it": "read-only"}.get(action, "pending")
    ticket = await m.ticket(kind)
    tid = str(ticket.id)
    if action == "read":
        data = await api.as_(w.rt, user, "query($id: ID!) { ticket(id: $id) { id } }", id=tid)
        return data["ticket"] is not None
    if action.startswith(("approve", "reject")):
        field = "approveTicket" if action.startswith("approve") else "rejectTicket"
        data = await api.as_(w.rt, user, f"mutation($id: ID!) {{ {field}(ticketId: $id) {{ {RESULT} }} }}", id=tid)
        return _allowed(data[field], "Ticket")
    if action == "extend":
        data = await api.as_(w.rt, user, f"""mutation($id: ID!) {{ requestExtension(ticketId: $id,
            additionalDurationSeconds: 600, reason: "matrix") {{ {RESULT} }} }}""", id=tid)
        return _allowed(data["requestExtension"], "Extension")
    field, extra = {
        "cancel": ("cancelTicket", ""), "revoke": ("revokeTicket", ""),
        "break glass": ("breakGlassTicket", ', reason: "incident"'),
        "break glass without the rule allowing it": ("breakGlassTicket", ', reason: "incident"'),
        "review": ("reviewBreakGlass", ', comment: "fine"'),
    }[action]
    data = await api.as_(w.rt, user, f"mutation($id: ID!) {{ {field}(ticketId: $id{extra}) {{ {RESULT} }} }}", id=tid)
    return _allowed(data[field], "Ticket")


def _allowed(result: dict, success: str) -> bool:
    if result["__typename"] in ("NotAllowedError", "NotFoundError"):
        return False
    assert result["__typename"] == success, result  # allowed, and it worked
    return True


@pytest.mark.parametrize("action", list(EXPECTED))
async def test_authorization_matrix(demo, action):
    await _add_delegates(demo)
    app = in_process_app(demo.rt)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://jit.test") as client:
        m = Matrix(demo, Api(client, {}))
        wrong = []
        for case_action, actor, expected in CASES:
            if case_action != action:
                continue
            user = ACTORS[actor]
            actor_id = (await demo.user(user)).id
            direct = await check_authz(m, action, actor_id)
            through_api = await check_graphql(m, action, user)
            if direct is not expected or through_api is not expected:
                wrong.append(f"{actor}: expected {expected}, authz {direct}, GraphQL {through_api}")
        assert not wrong, f"{action}:\n" + "\n".join(wrong)
