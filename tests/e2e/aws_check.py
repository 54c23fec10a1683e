"""`python -m tests.e2e.aws_check present|absent`: the browser test's look at AWS, through boto3.

Reads JIT_E2E_AWS (endpoint, instance ARN, account id, permission set ARN, principal id),
prints what it found and exits non-zero when it differs from what was expected.
"""

from __future__ import annotations

import json
import os
import sys

import boto3


def main() -> int:
    expect = sys.argv[1]
    spec = json.loads(os.environ["JIT_E2E_AWS"])
    # moto takes any credentials; the suite sets these too, but this also runs by hand.
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    sso = boto3.client("sso-admin", endpoint_url=spec["endpoint"], region_name="us-east-1")
    items = sso.list_account_assignments(
        InstanceArn=spec["instanceArn"], AccountId=spec["accountId"], PermissionSetArn=spec["permissionSetArn"]
    )["AccountAssignments"]
    found = "present" if any(i["PrincipalId"] == spec["principalId"] for i in items) else "absent"
    print(found)
    return 0 if found == expect else 1


if __name__ == "__main__":
    sys.exit(main())
