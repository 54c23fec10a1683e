"""moto as the demo and the tests run it: the provisioned-listing operations answer from
the assignments moto holds, as IAM Identity Center does, straight or through the quota
proxy."""

from __future__ import annotations

from dataclasses import dataclass

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.support.fault_proxy import FaultProxy

ACCOUNTS = [f"{100000000000 + i}" for i in range(150)]


@dataclass
class Provisioned:
    sso: object
    instance_arn: str
    wide: str  # assigned in all ACCOUNTS
    narrow: str  # assigned in two of them
    unused: str  # assigned nowhere


@pytest.fixture(scope="module")
def quota_proxy(moto_server):
    proxy = FaultProxy(moto_server.url).start()
    proxy.quota(rate=1000.0, burst=1000)
    yield proxy
    proxy.stop()


@pytest.fixture(params=["moto", "quota proxy"])
def provisioned(request, moto, quota_proxy) -> Provisioned:
    seed = boto3.client("sso-admin", endpoint_url=moto.url, region_name="us-east-1")
    instance_arn = seed.list_instances()["Instances"][0]["InstanceArn"]
    wide, narrow, unused = (seed.create_permission_set(InstanceArn=instance_arn, Name=name)["PermissionSet"]["PermissionSetArn"]
                            for name in ("Wide", "Narrow", "Unused"))

    def assign(account: str, permission_set: str, principal: str) -> None:
        seed.create_account_assignment(InstanceArn=instance_arn, TargetId=account, TargetType="AWS_ACCOUNT",
                                       PermissionSetArn=permission_set, PrincipalType="USER", PrincipalId=principal)

    for account in ACCOUNTS:
        assign(account, wide, "user-1")
    assign(ACCOUNTS[3], wide, "user-2")  # a second assignment lists the account once
    assign(ACCOUNTS[3], narrow, "user-1")
    assign(ACCOUNTS[7], narrow, "user-2")
    endpoint = moto.url if request.param == "moto" else quota_proxy.url
    quota_proxy.reset_stats()
    return Provisioned(boto3.client("sso-admin", endpoint_url=endpoint, region_name="us-east-1"),
                       instance_arn, wide, narrow, unused)


def accounts_for(p: Provisioned, permission_set: str, page_size: int = 100) -> list[list[str]]:
    pages = p.sso.get_paginator("list_accounts_for_provisioned_permission_set").paginate(
        InstanceArn=p.instance_arn, PermissionSetArn=permission_set, PaginationConfig={"PageSize": page_size})
    return [page["AccountIds"] for page in pages]


def sets_for(p: Provisioned, account: str, page_size: int = 100) -> list[list[str]]:
    pages = p.sso.get_paginator("list_permission_sets_provisioned_to_account").paginate(
        InstanceArn=p.instance_arn, AccountId=account, PaginationConfig={"PageSize": page_size})
    return [page["PermissionSets"] for page in pages]


def test_accounts_for_a_permission_set_are_the_accounts_it_is_assigned_in(provisioned):
    p = provisioned

    pages = accounts_for(p, p.wide, page_size=40)

    assert [len(page) for page in pages] == [40, 40, 40, 30]
    assert sorted(a for page in pages for a in page) == ACCOUNTS
    assert accounts_for(p, p.narrow) == [sorted([ACCOUNTS[3], ACCOUNTS[7]])]
    assert accounts_for(p, p.unused) == [[]]


def test_one_page_is_at_most_a_hundred(provisioned):
    p = provisioned

    first = p.sso.list_accounts_for_provisioned_permission_set(InstanceArn=p.instance_arn, PermissionSetArn=p.wide)

    assert len(first["AccountIds"]) == 100 and first["NextToken"]
    with pytest.raises(ClientError) as refused:
        p.sso.list_accounts_for_provisioned_permission_set(InstanceArn=p.instance_arn, PermissionSetArn=p.wide,
                                                           MaxResults=101)
    assert refused.value.response["Error"]["Code"] == "ValidationException"


def test_permission_sets_provisioned_to_an_account_are_those_assigned_there(provisioned):
    p = provisioned

    assert sets_for(p, ACCOUNTS[3], page_size=1) == [[a] for a in sorted([p.wide, p.narrow])]
    assert sets_for(p, ACCOUNTS[0]) == [[p.wide]]
    assert sets_for(p, "999999999999") == [[]]


def test_an_account_loses_a_permission_set_with_its_last_assignment(moto, provisioned):
    p = provisioned
    writer = boto3.client("sso-admin", endpoint_url=moto.url, region_name="us-east-1")

    writer.delete_account_assignment(InstanceArn=p.instance_arn, TargetId=ACCOUNTS[7], TargetType="AWS_ACCOUNT",
                                     PermissionSetArn=p.narrow, PrincipalType="USER", PrincipalId="user-2")

    assert sets_for(p, ACCOUNTS[7]) == [[p.wide]]
    assert accounts_for(p, p.narrow) == [[ACCOUNTS[3]]]


def test_provisioning_to_an_account_lists_it_without_an_assignment(moto, provisioned):
    p = provisioned
    writer = boto3.client("sso-admin", endpoint_url=moto.url, region_name="us-east-1")

    writer.provision_permission_set(InstanceArn=p.instance_arn, PermissionSetArn=p.unused,
                                    TargetType="AWS_ACCOUNT", TargetId="999999999999")

    assert accounts_for(p, p.unused) == [["999999999999"]]
    assert sets_for(p, "999999999999") == [[p.unused]]


def test_the_quota_proxy_counts_the_listings_against_its_bucket(provisioned, quota_proxy):
    p = provisioned

    accounts_for(p, p.wide, page_size=50)
    sets_for(p, ACCOUNTS[3])

    calls = quota_proxy.stats()["calls"]
    through_proxy = p.sso.meta.endpoint_url == quota_proxy.url
    assert calls.get("ListAccountsForProvisionedPermissionSet", 0) == (3 if through_proxy else 0)
    assert calls.get("ListPermissionSetsProvisionedToAccount", 0) == (1 if through_proxy else 0)
