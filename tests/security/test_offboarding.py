"""Offboarding: the next directory sync (the worker's job, or `jit sync`) takes away what a
person may no longer hold. A real sync against moto, real AWS assignments."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import boto3

from jit.audit.models import AuditEvent
from jit.auth import sessions
from jit.auth.models import ApiToken, SignInSession
from jit.auth.service import create_token
from jit.jobs.worker import sync
from jit.tickets import stack
from jit.tickets.models import EndReason, Ticket
from jit.tickets.models import TicketStatus as S


def _store(demo):
    return boto3.client("identitystore", endpoint_url=demo.rt.settings.aws_endpoint_url, region_name="us-east-1")


async def _active_ticket(demo, user: str, account: str):
    ticket = await demo.request(user, [(account, "ReadOnlyAccess")], duration=3600, justification="")
    assert (await stack.grant(demo.rt, str(ticket.id))).result == "granted"
    assert (await Ticket.get(id=ticket.id)).status == S.ACTIVE
    assert len(demo.assignments(account, "ReadOnlyAccess", user)) == 1
    return ticket


async def _why_revoked(ticket) -> str:
    event = await AuditEvent.get(ticket_id=ticket.id, action="ticket.revoking")
    assert event.actor_id is None and event.detail["offboarding"] is True
    return event.detail["reason"]


def _jit(demo, *args: str) -> subprocess.CompletedProcess:
    s = demo.rt.settings
    env = {**os.environ, "JIT_DATABASE_URL": s.database_url, "JIT_REDIS_URL": s.redis_url, "JIT_MODE": "test",
           "JIT_AWS_ENDPOINT_URL": s.aws_endpoint_url, "JIT_AWS_REGION": s.aws_region}
    return subprocess.run([sys.executable, "-m", "jit.cli", *args], env=env, capture_output=True, text=True,
                          timeout=120, check=False)


async def test_a_person_removed_from_the_identity_store_loses_tickets_tokens_and_sessions(demo):
    ticket = await _active_ticket(demo, "alice", "sandbox-alice")
    waiting = await demo.request("alice", [("payments-prod", "ReadOnlyAccess")])
    _, token_row = await create_token(demo.rt.clock, "alice", "laptop")
    session = await sessions.create_session(demo.rt.settings, demo.rt.clock, await demo.user("alice"), "demo")
    erins = await _active_ticket(demo, "erin", "sandbox-erin")

    _store(demo).delete_user(IdentityStoreId=demo.org.identity_store_id, UserId=demo.org.users["alice"])
    report = await sync({"runtime": demo.rt})

    assert set(report["offboarded"]["tickets"]) == {str(ticket.id), str(waiting.id)}
    ticket = await Ticket.get(id=ticket.id)
    assert ticket.status == S.REVOKING and ticket.end_reason == EndReason.REVOKED
    assert "alice was removed from the identity store" in await _why_revoked(ticket)
    assert (await Ticket.get(id=waiting.id)).status == S.CANCELLED
    assert (await Ticket.get(id=erins.id)).status == S.ACTIVE  # nobody else loses anything
    # The revoke is queued now, not at the end time, and it removes the assignment.
    assert any(j.function == "tickets.revoke" for j in await demo.rt.redis.queued_jobs())
    assert (await stack.revoke(demo.rt, str(ticket.id))).result == "revoked"
    assert demo.assignments("sandbox-alice", "ReadOnlyAccess", "alice") == []

    row = await ApiToken.get(id=token_row.id)
    assert row.revoked_at is not None and row.revoked_reason == "user removed"
    assert (await SignInSession.get(id=session.row.id)).ended_at is not None
    listed = await asyncio.to_thread(_jit, demo, "token", "list", "--user", "alice")
    assert listed.returncode == 0, listed.stderr
    assert "ended (user removed)" in next(line for line in listed.stdout.splitlines() if "laptop" in line)


async def test_jit_sync_revokes_a_ticket_no_group_lets_its_principal_hold_any_more(demo):
    ticket = await _active_ticket(demo, "alice", "sandbox-alice")
    _, token_row = await create_token(demo.rt.clock, "alice", "laptop")
    store = _store(demo)
    membership = store.get_group_membership_id(
        IdentityStoreId=demo.org.identity_store_id, GroupId=demo.org.groups["engineers"],
        MemberId={"UserId": demo.org.users["alice"]})["MembershipId"]
    store.delete_group_membership(IdentityStoreId=demo.org.identity_store_id, MembershipId=membership)

    done = await asyncio.to_thread(_jit, demo, "sync")

    assert done.returncode == 0, done.stderr
    assert f"ended ticket {ticket.id}" in done.stdout
    ticket = await Ticket.get(id=ticket.id)
    assert ticket.status == S.REVOKING
    assert "no approval rule lets alice hold ReadOnlyAccess on sandbox-alice" in await _why_revoked(ticket)
    assert (await stack.revoke(demo.rt, str(ticket.id))).result == "revoked"
    assert demo.assignments("sandbox-alice", "ReadOnlyAccess", "alice") == []
    # Still a person in the directory: her token stays.
    assert (await ApiToken.get(id=token_row.id)).revoked_at is None
