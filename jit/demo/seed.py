"""The demo organization, seeded into a fresh moto server.

Organization (OU paths from the root; the management account "master" sits at the root)::

    /Workloads/Prod   payments-prod, checkout-prod, search-prod, data-platform-prod, identity-prod
    /Workloads/Dev    payments-dev, checkout-dev, search-dev, data-platform-dev, identity-dev
    /Sandbox          sandbox-alice, sandbox-erin, sandbox-shared, sandbox-ml, sandbox-training
    /Security         security-tooling, log-archive, audit
    /Infrastructure   network-hub, shared-services, ci-cd

Every account is tagged ``env`` (prod, dev, sandbox, security, infra) and ``team``.

Permission sets: ReadOnlyAccess, PowerUserAccess, AdministratorAccess, DatabaseAdmin,
Billing, SecurityAudit.

People (identity store user name, groups) and the part each plays in the demo:

    alice   engineers            requester
    erin    engineers            a second requester
    maria   managers             requests for her engineers (on behalf)
    bob     approvers            approver
    carol   approvers            approver; with bob, the two people a prod step needs
    dave    security-approvers   the security step after bob and carol
    admin   jit-admins           runs JIT; may request nothing special
    audrey  jit-auditors         reads every ticket and the audit log

Users are ``<name>@example.com``. The approval rules that use these names are in
``rules.yaml`` beside this module.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aioboto3
from botocore.exceptions import ClientError

# moto accepts any credentials; fixed ones keep seeding independent of the caller's environment.
_MOTO_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}

ORGANIZATIONAL_UNITS = ["/Workloads", "/Workloads/Prod", "/Workloads/Dev", "/Sandbox", "/Security", "/Infrastructure"]

# (account name, OU path, tags)
ACCOUNTS: list[tuple[str, str, dict[str, str]]] = [
    *(
        (f"{team}-{env}", f"/Workloads/{env.capitalize()}", {"env": env, "team": team})
        for env in ("prod", "dev")
        for team in ("payments", "checkout", "search", "data-platform", "identity")
    ),
    ("sandbox-alice", "/Sandbox", {"env": "sandbox", "team": "payments", "owner": "alice"}),
    ("sandbox-erin", "/Sandbox", {"env": "sandbox", "team": "search", "owner": "erin"}),
    ("sandbox-shared", "/Sandbox", {"env": "sandbox", "team": "platform"}),
    ("sandbox-ml", "/Sandbox", {"env": "sandbox", "team": "data-platform"}),
    ("sandbox-training", "/Sandbox", {"env": "sandbox", "team": "platform"}),
    ("security-tooling", "/Security", {"env": "security", "team": "security"}),
    ("log-archive", "/Security", {"env": "security", "team": "security"}),
    ("audit", "/Security", {"env": "security", "team": "security"}),
    ("network-hub", "/Infrastructure", {"env": "infra", "team": "platform"}),
    ("shared-services", "/Infrastructure", {"env": "infra", "team": "platform"}),
    ("ci-cd", "/Infrastructure", {"env": "infra", "team": "platform"}),
]

# (name, description, session duration)
PERMISSION_SETS = [
    ("ReadOnlyAccess", "Read-only access to every service", "PT8H"),
    ("PowerUserAccess", "Everything except IAM and Organizations", "PT4H"),
    ("AdministratorAccess", "Full administrative access", "PT1H"),
    ("DatabaseAdmin", "Administer RDS, DynamoDB and their backups", "PT2H"),
    ("Billing", "Billing console, budgets and cost explorer", "PT4H"),
    ("SecurityAudit", "Read security configuration and logs", "PT8H"),
]

GROUPS = [
    ("engineers", "Product engineers"),
    ("managers", "Engineering managers"),
    ("approvers", "Team leads who approve access"),
    ("security-approvers", "Security engineers who approve production access"),
    ("jit-admins", "Administrators of JIT"),
    ("jit-auditors", "Read every ticket and the audit log"),
]

# (user name, given name, family name, groups)
USERS = [
    ("alice", "Alice", "Nguyen", ["engineers"]),
    ("erin", "Erin", "Okafor", ["engineers"]),
    ("maria", "Maria", "Garcia", ["managers"]),
    ("bob", "Bob", "Smith", ["approvers"]),
    ("carol", "Carol", "Jensen", ["approvers"]),
    ("dave", "Dave", "Kowalski", ["security-approvers"]),
    ("admin", "Ada", "Admin", ["jit-admins"]),
    ("audrey", "Audrey", "Fischer", ["jit-auditors"]),
]

_CONCURRENCY = 16


class DemoAlreadySeeded(RuntimeError):
    """The endpoint already holds an organization; the demo only seeds a fresh moto."""


@dataclass(frozen=True)
class DemoOrganization:
    organization_id: str
    root_id: str
    management_account_id: str
    instance_arn: str
    identity_store_id: str
    organizational_units: dict[str, str]  # OU path ("/Workloads/Prod") -> ou id
    accounts: dict[str, str]  # account name -> account id
    permission_sets: dict[str, str]  # name -> arn
    users: dict[str, str]  # user name -> identity store user id
    groups: dict[str, str]  # display name -> identity store group id


def _client(endpoint_url: str, region: str, service: str) -> Any:
    return aioboto3.Session().client(service, endpoint_url=endpoint_url, region_name=region, **_MOTO_CREDENTIALS)


async def seed_demo_organization(endpoint_url: str, region: str = "us-east-1") -> DemoOrganization:
    async with _client(endpoint_url, region, "organizations") as org:
        try:
            existing = await org.describe_organization()
        except ClientError as error:
            if error.response["Error"]["Code"] != "AWSOrganizationsNotInUseException":
                raise
        else:
            raise DemoAlreadySeeded(
                f"{endpoint_url} already holds organization {existing['Organization']['Id']}; "
                "seed a fresh moto server (reset it with POST /moto-api/reset)"
            )
        organization = (await org.create_organization(FeatureSet="ALL"))["Organization"]
        root_id = (await org.list_roots())["Roots"][0]["Id"]

        ous: dict[str, str] = {}
        # Parents come before children in ORGANIZATIONAL_UNITS, so one pass suffices.
        for path in ORGANIZATIONAL_UNITS:
            parent_path, _, name = path.rpartition("/")
            parent_id = ous[parent_path] if parent_path else root_id
            created = await org.create_organizational_unit(ParentId=parent_id, Name=name)
            ous[path] = created["OrganizationalUnit"]["Id"]

        semaphore = asyncio.Semaphore(_CONCURRENCY)

        async def create(name: str, ou_path: str, tags: dict[str, str]) -> tuple[str, str]:
            async with semaphore:
                account_id = await _create_account(org, root_id, ous[ou_path], name, tags)
            return name, account_id

        accounts = dict(await asyncio.gather(*(create(*spec) for spec in ACCOUNTS)))

    instance_arn, identity_store_id = await _identity_center(endpoint_url, region)
    permission_sets, (users, groups) = await asyncio.gather(
        _seed_permission_sets(endpoint_url, region, instance_arn),
        _seed_identity_store(endpoint_url, region, identity_store_id),
    )
    return DemoOrganization(
        organization_id=organization["Id"],
        root_id=root_id,
        management_account_id=organization["MasterAccountId"],
        instance_arn=instance_arn,
        identity_store_id=identity_store_id,
        organizational_units=ous,
        accounts=accounts,
        permission_sets=permission_sets,
        users=users,
        groups=groups,
    )


async def add_accounts(
    endpoint_url: str,
    parent_ids: Sequence[str],
    count: int,
    *,
    region: str = "us-east-1",
    name_prefix: str = "bulk",
    concurrency: int = _CONCURRENCY,
) -> dict[str, str]:
    """Create `count` more accounts spread round-robin over `parent_ids`; for scale tests."""
    semaphore = asyncio.Semaphore(concurrency)
    async with _client(endpoint_url, region, "organizations") as org:
        root_id = (await org.list_roots())["Roots"][0]["Id"]

        async def create(index: int) -> tuple[str, str]:
            name = f"{name_prefix}-{index:05d}"
            tags = {"env": "bulk", "team": f"team-{index % 25:02d}"}
            async with semaphore:
                return name, await _create_account(org, root_id, parent_ids[index % len(parent_ids)], name, tags)

        return dict(await asyncio.gather(*(create(i) for i in range(count))))


async def _create_account(org: Any, root_id: str, parent_id: str, name: str, tags: dict[str, str]) -> str:
    status = (
        await org.create_account(
            AccountName=name,
            Email=f"aws+{name}@example.com",
            Tags=[{"Key": key, "Value": value} for key, value in tags.items()],
        )
    )["CreateAccountStatus"]
    # Real AWS creates accounts asynchronously; moto answers SUCCEEDED at once. Refuse to
    # go on with an account id we do not have rather than poll in a seed for a fake.
    if status["State"] != "SUCCEEDED":
        raise RuntimeError(f"account {name} was not created at once: {status['State']}")
    account_id: str = status["AccountId"]
    if parent_id != root_id:
        await org.move_account(AccountId=account_id, SourceParentId=root_id, DestinationParentId=parent_id)
    return account_id


async def _identity_center(endpoint_url: str, region: str) -> tuple[str, str]:
    async with _client(endpoint_url, region, "sso-admin") as sso:
        instances = (await sso.list_instances())["Instances"]
    if len(instances) != 1:
        raise RuntimeError(f"expected the one IAM Identity Center instance moto creates, found {len(instances)}")
    return instances[0]["InstanceArn"], instances[0]["IdentityStoreId"]


async def _seed_permission_sets(endpoint_url: str, region: str, instance_arn: str) -> dict[str, str]:
    async with _client(endpoint_url, region, "sso-admin") as sso:

        async def create(name: str, description: str, duration: str) -> tuple[str, str]:
            created = await sso.create_permission_set(
                InstanceArn=instance_arn, Name=name, Description=description, SessionDuration=duration
            )
            return name, created["PermissionSet"]["PermissionSetArn"]

        return dict(await asyncio.gather(*(create(*spec) for spec in PERMISSION_SETS)))


async def _seed_identity_store(
    endpoint_url: str, region: str, identity_store_id: str
) -> tuple[dict[str, str], dict[str, str]]:
    async with _client(endpoint_url, region, "identitystore") as store:

        async def create_group(name: str, description: str) -> tuple[str, str]:
            created = await store.create_group(IdentityStoreId=identity_store_id, DisplayName=name,
                                               Description=description)
            return name, created["GroupId"]

        async def create_user(user_name: str, given: str, family: str) -> tuple[str, str]:
            created = await store.create_user(
                IdentityStoreId=identity_store_id,
                UserName=user_name,
                DisplayName=f"{given} {family}",
                Name={"GivenName": given, "FamilyName": family},
                Emails=[{"Value": f"{user_name}@example.com", "Type": "work", "Primary": True}],
            )
            return user_name, created["UserId"]

        groups = dict(await asyncio.gather(*(create_group(*spec) for spec in GROUPS)))
        users = dict(await asyncio.gather(*(create_user(name, given, family) for name, given, family, _ in USERS)))
        await asyncio.gather(
            *(
                store.create_group_membership(
                    IdentityStoreId=identity_store_id, GroupId=groups[group], MemberId={"UserId": users[user_name]}
                )
                for user_name, _, _, member_of in USERS
                for group in member_of
            )
        )
    return users, groups


async def _retry_server_errors(call: Any, **params: Any) -> Any:
    """moto's identity store checks a new name against every existing one by iterating a
    dict that concurrent requests (its server is threaded) insert into; the loser gets a
    500 before anything was stored, so calling again is safe. botocore's own retries run
    out when thousands of users are created 32 at a time."""
    for attempt in range(20):
        try:
            return await call(**params)
        except ClientError as error:
            if error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") != 500 or attempt == 19:
                raise
            await asyncio.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


async def add_permission_sets(
    endpoint_url: str,
    instance_arn: str,
    count: int,
    *,
    region: str = "us-east-1",
    name_prefix: str = "Bulk",
    concurrency: int = _CONCURRENCY,
) -> dict[str, str]:
    """Create `count` more permission sets (name -> arn); for scale tests."""
    semaphore = asyncio.Semaphore(concurrency)
    async with _client(endpoint_url, region, "sso-admin") as sso:

        async def create(index: int) -> tuple[str, str]:
            name = f"{name_prefix}{index:04d}"
            async with semaphore:
                created = await sso.create_permission_set(
                    InstanceArn=instance_arn, Name=name, Description=f"Generated permission set {index}",
                    SessionDuration=("PT1H", "PT4H", "PT8H")[index % 3],
                )
            return name, created["PermissionSet"]["PermissionSetArn"]

        return dict(await asyncio.gather(*(create(i) for i in range(count))))


async def add_people(
    endpoint_url: str,
    identity_store_id: str,
    users: int,
    groups: int,
    *,
    groups_per_user: int = 2,
    region: str = "us-east-1",
    name_prefix: str = "bulk",
    concurrency: int = _CONCURRENCY,
) -> tuple[dict[str, str], dict[str, str], int]:
    """Create `users` more users and `groups` more groups, each user a member of
    `groups_per_user` distinct groups spread evenly over them; for scale tests.
    Returns (user name -> id, group name -> id, memberships created)."""
    semaphore = asyncio.Semaphore(concurrency)
    async with _client(endpoint_url, region, "identitystore") as store:

        async def create_group(index: int) -> tuple[str, str]:
            name = f"{name_prefix}-group-{index:04d}"
            async with semaphore:
                created = await _retry_server_errors(
                    store.create_group,
                    IdentityStoreId=identity_store_id, DisplayName=name, Description=f"Generated group {index}",
                )
            return name, created["GroupId"]

        async def create_user(index: int) -> tuple[str, str]:
            name = f"{name_prefix}-user-{index:05d}"
            async with semaphore:
                created = await _retry_server_errors(
                    store.create_user,
                    IdentityStoreId=identity_store_id,
                    UserName=name,
                    DisplayName=f"User {index}",
                    Name={"GivenName": "User", "FamilyName": f"{index:05d}"},
                    Emails=[{"Value": f"{name}@example.com", "Type": "work", "Primary": True}],
                )
            return name, created["UserId"]

        group_ids = dict(await asyncio.gather(*(create_group(i) for i in range(groups))))
        user_ids = dict(await asyncio.gather(*(create_user(i) for i in range(users))))
        group_list = list(group_ids.values())
        # User i joins groups i, i+1, ... (mod groups): every group gets the same share.
        pairs = [
            (group_list[(index + k) % len(group_list)], user_id)
            for index, user_id in enumerate(user_ids.values())
            for k in range(min(groups_per_user, len(group_list)))
        ]

        async def join(group_id: str, user_id: str) -> None:
            async with semaphore:
                await store.create_group_membership(
                    IdentityStoreId=identity_store_id, GroupId=group_id, MemberId={"UserId": user_id}
                )

        await asyncio.gather(*(join(g, u) for g, u in pairs))
    return user_ids, group_ids, len(pairs)
