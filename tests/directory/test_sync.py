"""The directory sync mirrors the organization and identity store into the database."""

from __future__ import annotations

from typing import Any

import aioboto3

from jit.authz.version import bump_policy_version, current_policy_version
from jit.config import Settings
from jit.demo.embedded import reset_moto
from jit.demo.seed import DemoOrganization, add_accounts, seed_demo_organization
from jit.directory import queries as directory
from jit.directory.models import Account, Group, GroupMembership, OrganizationalUnit, PermissionSet, User
from jit.directory.service import sync_directory
from jit.runtime import Runtime
from tests.directory.conftest import clear_directory, count_queries


def _client(moto: Any, service: str) -> Any:
    return aioboto3.Session().client(service, endpoint_url=moto.url, region_name="us-east-1")


def _path(demo: DemoOrganization, *ou_paths: str) -> str:
    """The id path of a unit, from the OU name paths of the seed: "/r-1/ou-a/ou-b/"."""
    return "/" + "".join(f"{i}/" for i in [demo.root_id, *(demo.organizational_units[p] for p in ou_paths)])


async def test_first_sync_mirrors_the_organization(moto, settings, aws, clock):
    demo = await seed_demo_organization(moto.url)
    version_before = await current_policy_version()

    report = await sync_directory(Runtime.offline(settings, clock, aws))

    assert (report.organizational_units.created, report.accounts.created) == (7, 22)
    assert (report.permission_sets.created, report.users.created, report.groups.created) == (6, 8, 6)
    assert report.memberships.created == 8
    assert await current_policy_version() == version_before + 1

    prod = await OrganizationalUnit.get(id=demo.organizational_units["/Workloads/Prod"])
    assert (prod.name, prod.parent_id) == ("Prod", demo.organizational_units["/Workloads"])
    assert prod.path == _path(demo, "/Workloads", "/Workloads/Prod")
    root = await OrganizationalUnit.get(id=demo.root_id)
    assert (root.parent_id, root.path) == (None, f"/{demo.root_id}/")

    payments = await Account.get(id=demo.accounts["payments-prod"])
    assert payments.name == "payments-prod"
    assert payments.email == "aws+payments-prod@example.com"
    assert payments.parent_id == demo.organizational_units["/Workloads/Prod"]
    assert payments.ou_path == prod.path
    assert payments.tags == {"env": "prod", "team": "payments"}
    assert payments.synced_at == clock.now() and payments.removed_at is None
    management = await Account.get(id=demo.management_account_id)
    assert management.ou_path == f"/{demo.root_id}/"

    workloads = await directory.accounts_under(demo.organizational_units["/Workloads"])
    assert {a.name for a in workloads} == {
        f"{team}-{env}" for team in ("payments", "checkout", "search", "data-platform", "identity") for env in ("prod", "dev")
    }
    assert len(await directory.accounts_under(demo.root_id)) == 22

    alice = await directory.user_by_name("alice")
    assert alice is not None and alice.id == demo.users["alice"]
    assert (alice.display_name, alice.email) == ("Alice Nguyen", "alice@example.com")
    assert [g.display_name for g in await directory.groups_of_user(alice.id)] == ["engineers"]
    approvers = await GroupMembership.filter(group_id=demo.groups["approvers"]).values_list("user_id", flat=True)
    assert set(approvers) == {demo.users["bob"], demo.users["carol"]}

    admin_set = await PermissionSet.get(arn=demo.permission_sets["AdministratorAccess"])
    assert (admin_set.name, admin_set.session_duration) == ("AdministratorAccess", "PT1H")
    assert admin_set.description == "Full administrative access"
    assert [p.name for p in await directory.permission_sets()] == sorted(demo.permission_sets)


async def test_a_second_sync_of_an_unchanged_directory_changes_nothing(moto, settings, aws, clock):
    await seed_demo_organization(moto.url)
    first = await sync_directory(Runtime.offline(settings, clock, aws))
    clock.advance(hours=1)

    second = await sync_directory(Runtime.offline(settings, clock, aws))

    assert second.changed == 0
    assert {name: t.seen for name, t in second.tables.items()} == {name: t.seen for name, t in first.tables.items()}
    # Rows are not rewritten, but every live one records that this sync saw it.
    assert {a.synced_at for a in await Account.all()} == {clock.now()}
    assert {u.synced_at for u in await User.all()} == {clock.now()}


async def test_sync_follows_changes_and_marks_what_disappeared(moto, settings, aws, clock):
    demo = await seed_demo_organization(moto.url)
    await sync_directory(Runtime.offline(settings, clock, aws))
    ous = demo.organizational_units

    async with _client(moto, "organizations") as org:
        staging = (await org.create_organizational_unit(ParentId=ous["/Workloads"], Name="Staging"))["OrganizationalUnit"]["Id"]
        await org.move_account(
            AccountId=demo.accounts["checkout-dev"], SourceParentId=ous["/Workloads/Dev"], DestinationParentId=staging
        )
        await org.move_account(
            AccountId=demo.accounts["payments-dev"], SourceParentId=ous["/Workloads/Dev"], DestinationParentId=ous["/Sandbox"]
        )
        search = demo.accounts["search-prod"]
        await org.tag_resource(ResourceId=search, Tags=[{"Key": "cost-center", "Value": "cc-42"}])
        await org.untag_resource(ResourceId=search, TagKeys=["team"])
        await org.remove_account_from_organization(AccountId=demo.accounts["ci-cd"])
    [new_account] = (await add_accounts(moto.url, [ous["/Sandbox"]], 1, name_prefix="sandbox-new")).values()
    async with _client(moto, "sso-admin") as sso:
        await sso.delete_permission_set(InstanceArn=demo.instance_arn, PermissionSetArn=demo.permission_sets["Billing"])
    async with _client(moto, "identitystore") as store:
        membership = await store.get_group_membership_id(
            IdentityStoreId=demo.identity_store_id, GroupId=demo.groups["engineers"], MemberId={"UserId": demo.users["alice"]}
        )
        await store.delete_group_membership(IdentityStoreId=demo.identity_store_id, MembershipId=membership["MembershipId"])
        await store.delete_user(IdentityStoreId=demo.identity_store_id, UserId=demo.users["erin"])
        await store.delete_group(IdentityStoreId=demo.identity_store_id, GroupId=demo.groups["jit-auditors"])
    clock.advance(hours=1)
    version_before = await current_policy_version()

    report = await sync_directory(Runtime.offline(settings, clock, aws))

    assert (report.organizational_units.created, report.organizational_units.removed) == (1, 0)
    assert (report.accounts.created, report.accounts.updated, report.accounts.removed) == (1, 3, 1)
    assert (report.permission_sets.removed, report.users.removed, report.groups.removed) == (1, 1, 1)
    # alice left engineers; erin's and audrey's memberships went with erin and jit-auditors.
    assert (report.memberships.created, report.memberships.removed) == (0, 3)
    assert await current_policy_version() == version_before + 1

    checkout = await Account.get(id=demo.accounts["checkout-dev"])
    assert checkout.parent_id == staging
    assert checkout.ou_path == _path(demo, "/Workloads") + f"{staging}/"
    assert (await OrganizationalUnit.get(id=staging)).path == checkout.ou_path
    payments = await Account.get(id=demo.accounts["payments-dev"])
    assert payments.ou_path == _path(demo, "/Sandbox")
    assert {a.name for a in await directory.accounts_under(ous["/Workloads/Dev"])} == {
        "search-dev", "data-platform-dev", "identity-dev"
    }  # fmt: skip
    assert "checkout-dev" in {a.name for a in await directory.accounts_under(ous["/Workloads"])}
    assert (await Account.get(id=search)).tags == {"env": "prod", "cost-center": "cc-42"}
    assert (await Account.get(id=new_account)).ou_path == _path(demo, "/Sandbox")

    removed = await Account.get(id=demo.accounts["ci-cd"])
    assert removed.removed_at == clock.now()
    assert removed.id not in {a.id for a in await directory.accounts()}
    billing = await PermissionSet.get(arn=demo.permission_sets["Billing"])
    assert billing.removed_at == clock.now()
    assert "Billing" not in {p.name for p in await directory.permission_sets()}

    assert await directory.user_by_name("erin") is None
    assert (await User.get(id=demo.users["erin"])).removed_at == clock.now()
    assert await directory.groups_of_user(demo.users["alice"]) == []
    assert (await Group.get(id=demo.groups["jit-auditors"])).removed_at == clock.now()
    assert await GroupMembership.all().count() == 5


async def test_what_comes_back_is_live_again(moto, settings, aws, clock):
    demo = await seed_demo_organization(moto.url)
    await sync_directory(Runtime.offline(settings, clock, aws))
    # Pointed at an empty identity store by mistake, then put right.
    wrong = Settings(**{**settings.model_dump(), "sso_instance_arn": demo.instance_arn, "identity_store_id": "d-0000000000"})
    emptied = await sync_directory(Runtime.offline(wrong, clock, aws))
    assert (emptied.users.removed, emptied.groups.removed, emptied.memberships.removed) == (8, 6, 8)
    assert await directory.user_by_name("alice") is None
    clock.advance(minutes=5)

    restored = await sync_directory(Runtime.offline(settings, clock, aws))

    assert (restored.users.updated, restored.groups.updated, restored.memberships.created) == (8, 6, 8)
    assert (restored.users.created, restored.groups.created) == (0, 0)
    assert await User.filter(removed_at__isnull=False).count() == 0
    alice = await directory.user_by_name("alice")
    assert alice is not None and alice.synced_at == clock.now()
    assert [g.display_name for g in await directory.groups_of_user(alice.id)] == ["engineers"]


async def test_a_recreated_user_takes_the_name_and_the_old_row_keeps_its_history(moto, settings, aws, clock):
    demo = await seed_demo_organization(moto.url)
    await sync_directory(Runtime.offline(settings, clock, aws))
    old_id = demo.users["erin"]
    async with _client(moto, "identitystore") as store:
        await store.delete_user(IdentityStoreId=demo.identity_store_id, UserId=old_id)
        new_id = (
            await store.create_user(
                IdentityStoreId=demo.identity_store_id,
                UserName="erin",
                DisplayName="Erin Okafor",
                Name={"GivenName": "Erin", "FamilyName": "Okafor"},
                Emails=[{"Value": "erin@example.com", "Primary": True}],
            )
        )["UserId"]

    report = await sync_directory(Runtime.offline(settings, clock, aws))

    assert (report.users.created, report.users.removed) == (1, 1)
    erin = await directory.user_by_name("erin")
    assert erin is not None and erin.id == new_id
    old = await User.get(id=old_id)
    assert old.user_name == f"erin~{old_id}" and old.removed_at is not None
    assert old.display_name == "Erin Okafor"


async def test_database_work_does_not_grow_with_the_organization(moto, settings, aws, clock):
    # The very first sync of a database also creates the policy version row.
    await bump_policy_version()
    statements: dict[int, tuple[int, int]] = {}
    for size in (50, 300):
        reset_moto(moto.url)
        await clear_directory()
        demo = await seed_demo_organization(moto.url)
        bulk = await add_accounts(moto.url, list(demo.organizational_units.values()), size - len(demo.accounts) - 1)
        with count_queries() as first_sync:
            first = await sync_directory(Runtime.offline(settings, clock, aws))
        assert first.accounts.created == size

        # Touch a tenth of the accounts and remove another tenth, so that the second sync
        # updates and removes rows as well as reading them.
        bulk_ids = list(bulk.values())
        async with _client(moto, "organizations") as org:
            for account_id in bulk_ids[0::10]:
                await org.tag_resource(ResourceId=account_id, Tags=[{"Key": "env", "Value": "retired"}])
            for account_id in bulk_ids[1::10]:
                await org.remove_account_from_organization(AccountId=account_id)
        with count_queries() as second_sync:
            second = await sync_directory(Runtime.offline(settings, clock, aws))
        assert (second.accounts.updated, second.accounts.removed) == (len(bulk_ids[0::10]), len(bulk_ids[1::10]))
        statements[size] = (first_sync.count, second_sync.count)

    assert statements[50] == statements[300]
    assert max(statements[300]) < 40
