"""The fault proxy's quota mode: IAM Identity Center's rate limit, outstanding-write limit and
settle delay, in front of moto."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from jit.demo.embedded import reset_moto
from tests.support.fault_proxy import FaultProxy

NO_RETRIES = Config(retries={"total_max_attempts": 1, "mode": "standard"})
DEADLINE = 20.0  # seconds any wait below may take before the test fails


@dataclass
class IdentityCenter:
    moto: object  # a client straight to moto: what AWS holds, whatever the proxy says
    sso: object  # a client through the proxy
    instance_arn: str
    permission_set_arn: str

    def assignment(self, account: str, principal: str = "user-1") -> dict:
        return {"InstanceArn": self.instance_arn, "TargetId": account, "TargetType": "AWS_ACCOUNT",
                "PermissionSetArn": self.permission_set_arn, "PrincipalType": "USER", "PrincipalId": principal}

    def listed(self, client, account: str) -> list[str]:
        return [a["PrincipalId"] for a in client.list_account_assignments(
            InstanceArn=self.instance_arn, AccountId=account, PermissionSetArn=self.permission_set_arn,
        )["AccountAssignments"]]

    def status(self, operation: str, request_id: str) -> dict:
        if operation == "create":
            return self.sso.describe_account_assignment_creation_status(
                InstanceArn=self.instance_arn, AccountAssignmentCreationRequestId=request_id,
            )["AccountAssignmentCreationStatus"]
        return self.sso.describe_account_assignment_deletion_status(
            InstanceArn=self.instance_arn, AccountAssignmentDeletionRequestId=request_id,
        )["AccountAssignmentDeletionStatus"]


@pytest.fixture(scope="module")
def proxy(moto_url):
    p = FaultProxy(moto_url).start()
    yield p
    p.stop()


@pytest.fixture
def ic(proxy, moto_url) -> IdentityCenter:
    proxy.reset()
    reset_moto(moto_url)
    moto = boto3.client("sso-admin", endpoint_url=moto_url, region_name="us-east-1")
    instance_arn = moto.list_instances()["Instances"][0]["InstanceArn"]
    ps = moto.create_permission_set(InstanceArn=instance_arn, Name="ReadOnly")["PermissionSet"]["PermissionSetArn"]
    sso = boto3.client("sso-admin", endpoint_url=proxy.url, region_name="us-east-1", config=NO_RETRIES)
    yield IdentityCenter(moto, sso, instance_arn, ps)
    proxy.reset()  # writes still pending never reach the next test's moto


def throttled(call, **kwargs) -> bool:
    try:
        call(**kwargs)
    except ClientError as exc:
        assert exc.response["Error"]["Code"] == "ThrottlingException"
        assert exc.response["Error"]["Message"] == "Rate exceeded"
        return True
    return False


def wait_for(predicate, what: str):
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"not within {DEADLINE}s: {what}")


def test_quota_mode_is_off_by_default(proxy, ic):
    created = ic.sso.create_account_assignment(**ic.assignment("111111111111"))["AccountAssignmentCreationStatus"]

    assert created["Status"] == "SUCCEEDED"  # moto's own answer, at once
    assert ic.listed(ic.moto, "111111111111") == ["user-1"]
    assert proxy.stats()["quota"] is None


def test_an_empty_bucket_throttles_the_next_call_without_reaching_moto(proxy, ic):
    proxy.quota(rate=0.001, burst=20)  # no refill to speak of during the test

    outcomes = [throttled(ic.sso.create_permission_set, InstanceArn=ic.instance_arn, Name=f"Set{i}")
                for i in range(21)]

    assert outcomes == [False] * 20 + [True]
    assert len(ic.moto.list_permission_sets(InstanceArn=ic.instance_arn)["PermissionSets"]) == 1 + 20
    stats = proxy.stats()
    assert stats["calls"]["CreatePermissionSet"] == 21
    assert stats["throttled"] == {"CreatePermissionSet": {"rate": 1}}


def test_the_bucket_is_shared_by_every_operation_and_caller(proxy, ic, moto_url):
    proxy.quota(rate=0.001, burst=3)
    other = boto3.client("sso-admin", endpoint_url=proxy.url, region_name="us-east-1", config=NO_RETRIES)

    assert not throttled(ic.sso.list_instances)
    assert not throttled(other.list_permission_sets, InstanceArn=ic.instance_arn)
    assert not throttled(ic.sso.list_account_assignments, InstanceArn=ic.instance_arn, AccountId="111111111111",
                         PermissionSetArn=ic.permission_set_arn)
    assert throttled(other.list_instances)
    # Other services are not Identity Center's to limit.
    boto3.client("sts", endpoint_url=proxy.url, region_name="us-east-1").get_caller_identity()
    assert proxy.stats()["throttled"] == {"ListInstances": {"rate": 1}}


def test_the_bucket_refills_at_its_rate(proxy, ic):
    proxy.quota(rate=5.0, burst=5)
    started = time.monotonic()

    outcomes = [throttled(ic.sso.list_instances) for _ in range(40)]

    elapsed = time.monotonic() - started
    allowed = outcomes.count(False)
    assert allowed >= 5
    assert allowed <= 5 + 5.0 * elapsed + 1
    stats = proxy.stats()
    assert stats["calls"]["ListInstances"] == 40
    assert stats["throttled"].get("ListInstances", {}).get("rate", 0) == 40 - allowed


def test_the_sixteenth_outstanding_write_is_refused(proxy, ic):
    proxy.quota(rate=1000.0, burst=1000, max_outstanding=15, settle=(60.0, 60.0))

    accepted = [ic.sso.create_account_assignment(**ic.assignment(f"1000000000{i:02d}"))
                ["AccountAssignmentCreationStatus"] for i in range(15)]

    assert {a["Status"] for a in accepted} == {"IN_PROGRESS"}
    assert throttled(ic.sso.create_account_assignment, **ic.assignment("100000000099"))
    assert throttled(ic.sso.delete_account_assignment, **ic.assignment("100000000000"))
    assert not throttled(ic.sso.list_instances)  # reads are not writes
    stats = proxy.stats()
    assert stats["outstanding"] == 15
    assert stats["throttled"] == {"CreateAccountAssignment": {"outstanding": 1},
                                  "DeleteAccountAssignment": {"outstanding": 1}}
    assert ic.listed(ic.moto, "100000000000") == []  # nothing settled, so nothing reached moto


def test_a_settled_write_frees_its_slot(proxy, ic):
    proxy.quota(rate=1000.0, burst=1000, max_outstanding=1, settle=(0.2, 0.2))
    first = ic.sso.create_account_assignment(**ic.assignment("111111111111"))["AccountAssignmentCreationStatus"]
    assert throttled(ic.sso.create_account_assignment, **ic.assignment("222222222222"))

    wait_for(lambda: ic.status("create", first["RequestId"])["Status"] == "SUCCEEDED", "the first create settles")

    assert not throttled(ic.sso.create_account_assignment, **ic.assignment("222222222222"))


def test_a_create_is_invisible_until_its_status_says_succeeded(proxy, ic):
    proxy.quota(rate=1000.0, burst=1000, settle=(0.3, 0.8))
    created = ic.sso.create_account_assignment(**ic.assignment("111111111111"))["AccountAssignmentCreationStatus"]
    assert created["Status"] == "IN_PROGRESS"
    assert created["TargetId"] == "111111111111" and created["PrincipalId"] == "user-1"
    assert created["PermissionSetArn"] == ic.permission_set_arn and created["CreatedDate"]

    polls_in_progress = 0
    while True:
        # Listed first: if the status after it is still IN_PROGRESS, the list came before
        # the settle and must not show the assignment.
        listed = ic.listed(ic.sso, "111111111111")
        status = ic.status("create", created["RequestId"])
        if status["Status"] != "IN_PROGRESS":
            break
        polls_in_progress += 1
        assert listed == []
        assert polls_in_progress < 1000
        time.sleep(0.02)

    assert status["Status"] == "SUCCEEDED"
    assert status["RequestId"] == created["RequestId"] and status["TargetType"] == "AWS_ACCOUNT"
    assert polls_in_progress > 0
    assert ic.listed(ic.sso, "111111111111") == ["user-1"]


def test_a_deleted_assignment_stays_until_the_delete_settles(proxy, ic):
    ic.moto.create_account_assignment(**ic.assignment("111111111111"))
    proxy.quota(rate=1000.0, burst=1000, settle=(0.3, 0.8))
    deleted = ic.sso.delete_account_assignment(**ic.assignment("111111111111"))["AccountAssignmentDeletionStatus"]
    assert deleted["Status"] == "IN_PROGRESS"

    while True:
        listed = ic.listed(ic.sso, "111111111111")
        status = ic.status("delete", deleted["RequestId"])
        if status["Status"] != "IN_PROGRESS":
            break
        assert listed == ["user-1"]
        time.sleep(0.02)

    assert status["Status"] == "SUCCEEDED"
    assert ic.listed(ic.sso, "111111111111") == []


def test_deleting_a_missing_assignment_settles_failed(proxy, ic):
    proxy.quota(rate=1000.0, burst=1000, settle=(0.1, 0.2))
    deleted = ic.sso.delete_account_assignment(**ic.assignment("111111111111"))["AccountAssignmentDeletionStatus"]

    status = wait_for(lambda: (s := ic.status("delete", deleted["RequestId"]))["Status"] != "IN_PROGRESS" and s,
                      "the delete settles")

    assert status["Status"] == "FAILED"
    assert "does not exist" in status["FailureReason"]
    assert proxy.stats()["settles"][0]["failure_reason"] == status["FailureReason"]


def test_a_write_refused_upstream_settles_failed_with_the_reason(moto_url, ic):
    # A second proxy between this one and moto refuses the create when it arrives, as
    # AWS would refuse a principal it does not know.
    inner = FaultProxy(moto_url).start()
    outer = FaultProxy(inner.url).start()
    try:
        inner.faults.error_code["CreateAccountAssignment"] = ("ValidationException", "principal not found", 400)
        outer.quota(rate=1000.0, burst=1000, settle=(0.1, 0.2))
        sso = boto3.client("sso-admin", endpoint_url=outer.url, region_name="us-east-1", config=NO_RETRIES)
        created = sso.create_account_assignment(**ic.assignment("111111111111"))["AccountAssignmentCreationStatus"]
        assert created["Status"] == "IN_PROGRESS"

        def settled():
            s = sso.describe_account_assignment_creation_status(
                InstanceArn=ic.instance_arn, AccountAssignmentCreationRequestId=created["RequestId"],
            )["AccountAssignmentCreationStatus"]
            return s["Status"] != "IN_PROGRESS" and s

        status = wait_for(settled, "the create settles")

        assert status["Status"] == "FAILED"
        assert status["FailureReason"] == "ValidationException: principal not found"
        assert outer.stats()["settles"][0]["status"] == "FAILED"
        assert ic.listed(ic.moto, "111111111111") == []
    finally:
        outer.stop()
        inner.stop()


def run_creates(proxy: FaultProxy, ic: IdentityCenter, seed: int) -> list[dict]:
    proxy.reset()
    forget_assignments(ic)
    proxy.quota(rate=1000.0, burst=1000, settle=(0.1, 0.4), seed=seed)
    for i in range(5):
        ic.sso.create_account_assignment(**ic.assignment(f"10000000000{i}"))
    # Only the stats are read while waiting: settling must not depend on anyone polling AWS.
    wait_for(lambda: len(proxy.stats()["settles"]) == 5, "five creates settle")
    return sorted(proxy.stats()["settles"], key=lambda r: r["account"])


def forget_assignments(ic: IdentityCenter) -> None:
    for i in range(5):
        try:
            ic.moto.delete_account_assignment(**ic.assignment(f"10000000000{i}"))
        except ClientError:
            pass


def test_settle_delays_are_within_range_and_reproducible_with_the_seed(proxy, ic):
    first = run_creates(proxy, ic, seed=7)
    again = run_creates(proxy, ic, seed=7)
    other = run_creates(proxy, ic, seed=8)

    assert [r["delay"] for r in first] == [r["delay"] for r in again]
    assert [r["delay"] for r in first] != [r["delay"] for r in other]
    for record in first + again + other:
        assert 0.1 <= record["delay"] <= 0.4
        assert record["settled_at"] - record["requested_at"] >= record["delay"]
        assert record["status"] == "SUCCEEDED"
        assert record["operation"] == "CreateAccountAssignment"
        assert record["permission_set_arn"] == ic.permission_set_arn
        assert (record["principal_type"], record["principal_id"]) == ("USER", "user-1")
        assert ic.listed(ic.moto, record["account"]) == ["user-1"]
    assert json.loads(json.dumps(proxy.stats())) == proxy.stats()


def test_reset_stats_clears_counts_but_not_the_quota(proxy, ic):
    proxy.quota(rate=0.001, burst=1)
    ic.sso.list_instances()
    assert throttled(ic.sso.list_instances)

    proxy.reset_stats()

    stats = proxy.stats()
    assert stats["calls"] == {} and stats["throttled"] == {} and stats["settles"] == []
    assert stats["quota"]["burst"] == 1
    assert throttled(ic.sso.list_instances)


def http(url: str, body: dict | None = None) -> tuple[int, dict]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="GET" if body is None else "POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_quota_is_configured_and_read_over_http(proxy, ic):
    status, stats = http(f"{proxy.url}/_proxy/quota", {"rate": 0.001, "burst": 2, "max_outstanding": 3,
                                                       "settle": [0.5, 0.5], "seed": 4})
    assert status == 200
    assert stats["quota"] == {"rate": 0.001, "burst": 2, "max_outstanding": 3, "settle": [0.5, 0.5], "seed": 4}

    outcomes = [throttled(ic.sso.list_instances) for _ in range(3)]

    assert outcomes == [False, False, True]
    status, stats = http(f"{proxy.url}/_proxy/stats")
    assert status == 200
    assert stats["calls"] == {"ListInstances": 3}
    assert stats["throttled"] == {"ListInstances": {"rate": 1}}

    assert http(f"{proxy.url}/_proxy/quota", {"off": True})[1]["quota"] is None
    assert not throttled(ic.sso.list_instances)
    assert http(f"{proxy.url}/_proxy/quota", {"settle": [3, 1]})[0] == 400


def test_the_module_runs_a_standalone_proxy(moto_url):
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.support.fault_proxy", "--upstream", moto_url, "--quota", "--rate", "7",
         "--max-outstanding", "4", "--settle", "2,5", "--seed", "3"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        url = process.stdout.readline().strip()
        status, stats = http(f"{url}/_proxy/stats")
        assert status == 200
        assert stats["quota"] == {"rate": 7.0, "burst": 7, "max_outstanding": 4, "settle": [2.0, 5.0], "seed": 3}
        sso = boto3.client("sso-admin", endpoint_url=url, region_name="us-east-1", config=NO_RETRIES)
        assert sso.list_instances()["Instances"]
        assert http(f"{url}/_proxy/stats")[1]["calls"] == {"ListInstances": 1}
    finally:
        process.terminate()
        process.wait(10)


def test_writes_to_one_assignment_settle_in_the_order_they_were_asked(proxy, ic):
    # With seed 0 the delete draws the shorter delay; it must still wait for the create.
    proxy.quota(rate=1000.0, burst=1000, settle=(0.1, 0.6), seed=0)
    ic.sso.create_account_assignment(**ic.assignment("111111111111"))
    ic.sso.delete_account_assignment(**ic.assignment("111111111111"))

    wait_for(lambda: len(proxy.stats()["settles"]) == 2, "both writes settle")

    create, delete = proxy.stats()["settles"]
    assert create["delay"] > delete["delay"]
    assert (create["operation"], create["status"]) == ("CreateAccountAssignment", "SUCCEEDED")
    assert (delete["operation"], delete["status"]) == ("DeleteAccountAssignment", "SUCCEEDED")
    assert ic.listed(ic.moto, "111111111111") == []
