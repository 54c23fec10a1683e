"""Small helpers that build test data through the real services."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import boto3

from jit.demo.seed import DemoOrganization, seed_demo_organization
from jit.directory.models import User
from jit.directory.service import sync_directory
from jit.rules.groups import apply_rules_file
from jit.runtime import Runtime
from jit.tickets import service as tickets
from jit.tickets.models import Ticket


@dataclass
class World:
    rt: Runtime
    org: DemoOrganization

    async def user(self, name: str) -> User:
        return await User.get(user_name=name)

    def account(self, name: str) -> str:
        return self.org.accounts[name]

    def ps(self, name: str) -> str:
        return self.org.permission_sets[name]

    async def request(
        self, user: str, targets: list[tuple[str, str]], duration: int = 3600, justification: str = "testing", **kw
    ) -> Ticket:
        req = tickets.TicketRequest(
            targets=[tickets.TargetRequest(self.account(a), p) for a, p in targets],
            duration_seconds=duration, justification=justification, **kw,
        )
        return await tickets.request_ticket(self.rt, await self.user(user), req)

    def sso(self):
        """A separate, synchronous boto3 client: what AWS says, independently of JIT."""
        return boto3.client("sso-admin", endpoint_url=self.rt.settings.aws_endpoint_url, region_name="us-east-1")

    def assignments(self, account: str, permission_set: str, principal: str | None = None) -> list[dict]:
        items = self.sso().list_account_assignments(
            InstanceArn=self.org.instance_arn, AccountId=self.account(account), PermissionSetArn=self.ps(permission_set)
        )["AccountAssignments"]
        if principal is not None:
            items = [i for i in items if i["PrincipalId"] == self.org.users[principal]]
        return items


async def seed_world(rt: Runtime) -> World:
    org = await seed_demo_organization(rt.settings.aws_endpoint_url, rt.settings.aws_region)
    await sync_directory(rt)
    text = resources.files("jit.demo").joinpath("rules.yaml").read_text()
    await apply_rules_file(rt, text, actor_id=None, prune=True)
    return World(rt, org)
