"""The demo organization and the demo approval rules that name it."""

from __future__ import annotations

from importlib import resources

import aioboto3
import pytest
import yaml

from jit.demo import seed
from jit.demo.seed import DemoAlreadySeeded, seed_demo_organization


def _client(moto, service: str):
    return aioboto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing").client(
        service, endpoint_url=moto.url, region_name="us-east-1"
    )


async def test_seed_builds_a_nested_organization_with_tagged_accounts(moto):
    demo = await seed_demo_organization(moto.url)

    assert set(demo.organizational_units) == {
        "/Workloads", "/Workloads/Prod", "/Workloads/Dev", "/Sandbox", "/Security", "/Infrastructure"
    }  # fmt: skip
    assert len(demo.accounts) >= 20
    async with _client(moto, "organizations") as org:
        nested = await org.list_organizational_units_for_parent(ParentId=demo.organizational_units["/Workloads"])
        assert {ou["Name"] for ou in nested["OrganizationalUnits"]} == {"Prod", "Dev"}
        parents = await org.list_parents(ChildId=demo.accounts["payments-prod"])
        assert parents["Parents"][0]["Id"] == demo.organizational_units["/Workloads/Prod"]
        tags = await org.list_tags_for_resource(ResourceId=demo.accounts["sandbox-alice"])
        assert {t["Key"]: t["Value"] for t in tags["Tags"]} == {"env": "sandbox", "team": "payments", "owner": "alice"}
        listed = [a async for page in org.get_paginator("list_accounts").paginate() for a in page["Accounts"]]
        assert {a["Name"] for a in listed} == {*demo.accounts, "master"}


async def test_seed_fills_identity_center(moto):
    demo = await seed_demo_organization(moto.url)

    async with _client(moto, "sso-admin") as sso:
        arns = (await sso.list_permission_sets(InstanceArn=demo.instance_arn))["PermissionSets"]
        assert set(arns) == set(demo.permission_sets.values())
    assert {"ReadOnlyAccess", "PowerUserAccess", "AdministratorAccess", "DatabaseAdmin", "Billing"} <= set(demo.permission_sets)

    async with _client(moto, "identitystore") as store:
        alice = await store.describe_user(IdentityStoreId=demo.identity_store_id, UserId=demo.users["alice"])
        assert (alice["UserName"], alice["DisplayName"]) == ("alice", "Alice Nguyen")
        assert alice["Emails"][0]["Value"] == "alice@example.com"
        members = await store.list_group_memberships(IdentityStoreId=demo.identity_store_id, GroupId=demo.groups["approvers"])
        assert {m["MemberId"]["UserId"] for m in members["GroupMemberships"]} == {demo.users["bob"], demo.users["carol"]}
    expected = {user: set(groups) for user, _, _, groups in seed.USERS}
    assert expected["alice"] == {"engineers"} and expected["maria"] == {"managers"}
    assert expected["admin"] == {"jit-admins"} and expected["audrey"] == {"jit-auditors"}
    assert expected["dave"] == {"security-approvers"}


async def test_seeding_an_endpoint_that_has_an_organization_fails_clearly(moto):
    await seed_demo_organization(moto.url)

    with pytest.raises(DemoAlreadySeeded, match="already holds organization"):
        await seed_demo_organization(moto.url)


def _demo_rules() -> list[dict]:
    return yaml.safe_load(resources.files("jit.demo").joinpath("rules.yaml").read_text())["rules"]


def test_demo_rules_name_only_what_the_seed_creates():
    users = {name for name, *_ in seed.USERS}
    groups = {name for name, _ in seed.GROUPS}
    permission_sets = {name for name, *_ in seed.PERMISSION_SETS}
    accounts = {name for name, *_ in seed.ACCOUNTS}

    for rule in _demo_rules():
        assert set(rule["requesters"]["users"]) <= users, rule["name"]
        assert set(rule["requesters"]["groups"]) <= groups, rule["name"]
        assert set(rule["scope"]["accounts"]) <= accounts, rule["name"]
        assert set(rule["scope"]["organizational_units"]) <= set(seed.ORGANIZATIONAL_UNITS), rule["name"]
        assert set(rule["scope"]["permission_sets"]) <= permission_sets, rule["name"]
        for step in rule["steps"]:
            assert set(step["users"]) <= users and set(step["groups"]) <= groups, rule["name"]


def test_demo_rules_cover_no_one_two_and_two_person_approval():
    rules = _demo_rules()
    steps = {rule["name"]: rule["steps"] for rule in rules}

    assert steps["sandbox-self-service"] == []
    assert any(len(s) == 1 and s[0]["required"] == 1 for s in steps.values())
    assert any(len(s) == 2 and any(step["required"] >= 2 for step in s) for s in steps.values())
    requester_groups = {g for rule in rules for g in rule["requesters"]["groups"]}
    assert {"engineers", "managers"} <= requester_groups
    assert "jit-admins" not in requester_groups


async def test_scale_seeding_spreads_users_evenly_over_groups_and_adds_permission_sets(moto):
    demo = await seed_demo_organization(moto.url)

    users, groups, memberships = await seed.add_people(moto.url, demo.identity_store_id, 12, 4, groups_per_user=2)
    sets = await seed.add_permission_sets(moto.url, demo.instance_arn, 5)

    assert len(users) == 12 and len(groups) == 4 and memberships == 24
    async with _client(moto, "identitystore") as store:
        members_of = {}
        for name, group_id in groups.items():
            listed = await store.list_group_memberships(IdentityStoreId=demo.identity_store_id, GroupId=group_id)
            members_of[name] = [m["MemberId"]["UserId"] for m in listed["GroupMemberships"]]
    assert sorted(len(m) for m in members_of.values()) == [6, 6, 6, 6]
    for user_id in users.values():
        assert sum(user_id in m for m in members_of.values()) == 2  # two distinct groups
    async with _client(moto, "sso-admin") as sso:
        arns = (await sso.list_permission_sets(InstanceArn=demo.instance_arn))["PermissionSets"]
    assert set(sets.values()) <= set(arns) and len(arns) == len(demo.permission_sets) + 5


async def test_scale_seeding_retries_moto_server_errors_but_not_others():
    from botocore.exceptions import ClientError

    calls = []

    def failing(status: int, times: int):
        async def call(**params):
            calls.append(params)
            if len(calls) <= times:
                raise ClientError({"Error": {"Code": str(status)}, "ResponseMetadata": {"HTTPStatusCode": status}}, "CreateUser")
            return {"UserId": "u-1"}

        return call

    assert await seed._retry_server_errors(failing(500, 2), UserName="x") == {"UserId": "u-1"}
    assert len(calls) == 3
    calls.clear()
    with pytest.raises(ClientError):
        await seed._retry_server_errors(failing(409, 1), UserName="x")
    assert len(calls) == 1
