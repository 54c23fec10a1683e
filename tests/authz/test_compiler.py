"""The policy compiler and the object matcher, without a database."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from jit.authz.compiler import Directory, compile_policy, object_match, target_object
from jit.config import Settings
from jit.rules.models import ApprovalRule

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "request_obj,policy_obj,expected",
    [
        ("/r-1/ou-a/ou-b/111111111111#ps1", "ou-a#ps1", True),  # nested OU is covered
        ("/r-1/ou-a/ou-b/111111111111#ps1", "ou-b#ps1", True),
        ("/r-1/ou-a/ou-b/111111111111#ps1", "111111111111#ps1", True),
        ("/r-1/ou-a/ou-b/111111111111#ps1", "r-1#ps1", True),
        ("/r-1/ou-a/ou-b/111111111111#ps1", "ou-a#ps2", False),  # other permission set
        ("/r-1/ou-ab/111111111111#ps1", "ou-a#ps1", False),  # prefix of an id is not the id
        ("/r-1/ou-a/111111111111#ps1", "11111111111#ps1", False),
        ("/r-1/ou-c/222222222222#ps1", "ou-a#ps1", False),
        ("step:0", "step:0", True),
        ("step:1", "step:0", False),
        ("ticket", "*", True),
    ],
)
def test_object_match(request_obj, policy_obj, expected):
    assert object_match(request_obj, policy_obj) is expected


def test_compile_resolves_names_and_reports_the_unknown():
    rule = ApprovalRule(
        id=uuid.uuid4(), name="r", requester_users=["alice", "ghost"], requester_groups=["eng"],
        accounts=["payments"], organizational_units=["/Prod"], permission_sets=["RO", "Gone"],
        max_duration_seconds=3600, justification_required=True,
        steps=[{"name": "lead", "users": [], "groups": ["leads"], "required": 1}], created_at=NOW, updated_at=NOW,
    )
    directory = Directory(
        user_ids={"alice": "u-a"}, group_ids={"eng": "g-e", "leads": "g-l", "jit-admins": "g-adm"},
        memberships=[("u-a", "g-e")], account_ids={"payments": "111", "111": "111"}, ou_ids={"/Prod": "ou-p"},
        permission_set_arns={"RO": "arn:ro"},
    )
    compiled = compile_policy([rule], directory, Settings(mode="test"))
    rid = str(rule.id)
    assert ["user:u-a", rid, "111#arn:ro", "request"] in compiled.policies
    assert ["group:g-e", rid, "ou-p#arn:ro", "request"] in compiled.policies
    assert ["group:g-l", rid, "step:0", "decide"] in compiled.policies
    assert ["group:g-adm", "role:admin"] in compiled.groupings
    assert sorted(compiled.unresolved) == ["r: permission set Gone", "r: user ghost"]
    assert target_object("/r-1/ou-p/", "111", "arn:ro") == "/r-1/ou-p/111#arn:ro"
