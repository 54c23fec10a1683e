"""moto's server, with IAM Identity Center's two provisioned-listing operations answered
from moto's own state.

moto 5.2.5 ignores the account in ListPermissionSetsProvisionedToAccount and answers
ListAccountsForProvisionedPermissionSet with the management account alone, whatever
is assigned where; neither pages. A drift scan that asks "which accounts hold this
permission set" would see nothing to scan. Here, as in AWS, a permission set is
provisioned to an account once an assignment of it exists there (creating the
assignment provisions it), or after ProvisionPermissionSet named that account.

Everything else is moto's own `python -m moto.server`: `python -m jit.demo.moto_server
-H host -p port` takes the same arguments. The demo, the tests and the fault proxy all
start moto this way (`jit.demo.embedded.start_moto`), so all of them see the same
answers.
"""

from __future__ import annotations

import base64
import json
import sys
from collections.abc import Callable
from typing import Any
from uuid import uuid4

from moto.core.exceptions import JsonRESTError
from moto.core.utils import unix_time
from moto.ssoadmin.models import SSOAdminBackend
from moto.ssoadmin.responses import SSOAdminResponse

# AWS's ceiling for MaxResults on both operations; also the page size when none is asked.
MAX_RESULTS = 100


class ValidationException(JsonRESTError):
    code = 400

    def __init__(self, message: str) -> None:
        super().__init__(error_type="ValidationException", message=message)


def _explicitly_provisioned(backend: SSOAdminBackend) -> set[tuple[str, str, str]]:
    # Per backend object, so a moto reset (new backends) forgets them with the rest.
    held = backend.__dict__.get("_jit_provisioned")
    if held is None:
        held = backend.__dict__["_jit_provisioned"] = set()
    return held


def _live_permission_sets(backend: SSOAdminBackend, instance_arn: str) -> set[str]:
    return {ps.permission_set_arn for ps in backend.permission_sets if ps.instance_arn == instance_arn}


def list_permission_sets_provisioned_to_account(
    self: SSOAdminBackend, instance_arn: str, account_id: str
) -> list[str]:
    live = _live_permission_sets(self, instance_arn)
    arns = {a.permission_set_arn for a in self.account_assignments
            if a.instance_arn == instance_arn and a.target_id == account_id}
    arns |= {ps for inst, ps, account in _explicitly_provisioned(self)
             if inst == instance_arn and account == account_id}
    return sorted(arns & live)


def list_accounts_for_provisioned_permission_set(
    self: SSOAdminBackend, instance_arn: str, permission_set_arn: str
) -> list[str]:
    self._find_permission_set(instance_arn, permission_set_arn)  # ResourceNotFoundException as AWS
    accounts = {a.target_id for a in self.account_assignments
                if a.instance_arn == instance_arn and a.permission_set_arn == permission_set_arn}
    accounts |= {account for inst, ps, account in _explicitly_provisioned(self)
                 if inst == instance_arn and ps == permission_set_arn}
    return sorted(accounts)


def _page(response: SSOAdminResponse, items: list[str]) -> tuple[list[str], str | None]:
    """One page of a sorted list; the token is the offset of the next page."""
    max_results = response._get_param("MaxResults")
    if max_results is None:
        max_results = MAX_RESULTS
    if not isinstance(max_results, int) or not 1 <= max_results <= MAX_RESULTS:
        raise ValidationException(f"MaxResults must be between 1 and {MAX_RESULTS}")
    token = response._get_param("NextToken")
    start = 0
    if token:
        try:
            start = int(base64.urlsafe_b64decode(token.encode()).decode())
        except ValueError as exc:
            raise ValidationException("Invalid NextToken") from exc
    end = start + max_results
    next_token = base64.urlsafe_b64encode(str(end).encode()).decode() if end < len(items) else None
    return items[start:end], next_token


def _by_status(response: SSOAdminResponse, items: list[str]) -> list[str]:
    # moto never leaves a permission set updated but unprovisioned: everything is latest.
    if response._get_param("ProvisioningStatus") == "LATEST_PERMISSION_SET_NOT_PROVISIONED":
        return []
    return items


def respond_permission_sets_provisioned_to_account(self: SSOAdminResponse) -> str:
    # Ours, called directly: moto's own method (which install() replaces) takes no account.
    arns = list_permission_sets_provisioned_to_account(
        self.ssoadmin_backend, self._get_param("InstanceArn"), self._get_param("AccountId"))
    page, next_token = _page(self, _by_status(self, arns))
    return json.dumps({"PermissionSets": page, **({"NextToken": next_token} if next_token else {})})


def respond_accounts_for_provisioned_permission_set(self: SSOAdminResponse) -> str:
    accounts = list_accounts_for_provisioned_permission_set(
        self.ssoadmin_backend, self._get_param("InstanceArn"), self._get_param("PermissionSetArn"))
    page, next_token = _page(self, _by_status(self, accounts))
    return json.dumps({"AccountIds": page, **({"NextToken": next_token} if next_token else {})})


def respond_provision_permission_set(self: SSOAdminResponse) -> str:
    instance_arn = self._get_param("InstanceArn")
    permission_set_arn = self._get_param("PermissionSetArn")
    target_type = self._get_param("TargetType")
    target_id = self._get_param("TargetId")
    backend = self.ssoadmin_backend
    backend._find_permission_set(instance_arn, permission_set_arn)
    if target_type == "AWS_ACCOUNT":
        if not target_id:
            raise ValidationException("TargetId is required when TargetType is AWS_ACCOUNT")
        _explicitly_provisioned(backend).add((instance_arn, permission_set_arn, target_id))
    # ALL_PROVISIONED_ACCOUNTS re-provisions where it already is: nothing new to record.
    status: dict[str, Any] = {
        "CreatedDate": unix_time(), "PermissionSetArn": permission_set_arn, "RequestId": str(uuid4()),
        "Status": "SUCCEEDED",
    }
    if target_id:
        status["AccountId"] = target_id
    return json.dumps({"PermissionSetProvisioningStatus": status})


def install() -> None:
    """Replace moto's answers in this process (moto's server process)."""
    # Patched through setattr: ours take different arguments than the methods they replace.
    patches: list[tuple[type, str, Callable[..., Any]]] = [
        (SSOAdminBackend, "list_permission_sets_provisioned_to_account", list_permission_sets_provisioned_to_account),
        (SSOAdminBackend, "list_accounts_for_provisioned_permission_set", list_accounts_for_provisioned_permission_set),
        (SSOAdminResponse, "list_permission_sets_provisioned_to_account", respond_permission_sets_provisioned_to_account),
        (SSOAdminResponse, "list_accounts_for_provisioned_permission_set", respond_accounts_for_provisioned_permission_set),
        (SSOAdminResponse, "provision_permission_set", respond_provision_permission_set),
    ]
    for owner, name, replacement in patches:
        setattr(owner, name, replacement)


def main(argv: list[str] | None = None) -> None:
    from moto.server import main as moto_main

    install()
    moto_main(argv if argv is not None else sys.argv[1:])


if __name__ == "__main__":
    main()
