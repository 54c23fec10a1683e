"""API tokens: shown once, stored hashed, scoped, and never more than their owner."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import pytest
import strawberry

from jit.auth.models import ApiToken
from jit.auth.scopes import ALL_SCOPES, Scope
from jit.auth.service import Identity, create_token, digest
from jit.graphql.resolver import declared_scopes, mutation, required_scopes
from jit.graphql.schema import schema as exported_schema
from jit.graphql.security import build_extensions
from tests.graphql.client import REQUEST

CREATE = """mutation($i: CreateApiTokenInput!) { createApiToken(input: $i) {
  __typename ... on NewApiToken { token apiToken { id name scopes expiresAt owner { userName } } }
  ... on Error { message field } } }"""
REVOKE = """mutation($id: ID!) { revokeApiToken(id: $id) { __typename ... on ApiToken { id revokedAt }
  ... on Error { message field } } }"""
LIST = "query($all: Boolean!) { apiTokens(all: $all) { id name scopes lastUsedAt revokedAt owner { userName } } }"


async def _post(api, token, query, **variables):
    response = await api.raw(query, variables, token)
    return response.status_code, response.json()


async def test_a_token_is_shown_once_and_stored_hashed(api, demo):
    data = await api.as_(demo.rt, "alice", CREATE, i={"name": "ci", "scopes": ["READ"]})
    made = data["createApiToken"]
    assert made["__typename"] == "NewApiToken"
    secret = made["token"]
    assert secret.startswith("jit_") and made["apiToken"]["scopes"] == ["READ"]
    row = await ApiToken.get(id=int(made["apiToken"]["id"]))
    assert row.token_hash == digest(secret) and secret not in str(row.__dict__)
    listed = (await api.as_(demo.rt, "alice", LIST, all=False))["apiTokens"]
    assert made["apiToken"]["id"] in [t["id"] for t in listed]
    assert all("token" not in t for t in listed)
    # The new token works, and records when it was used.
    status, body = await _post(api, secret, "{ me { user { userName } } }")
    assert status == 200 and body["data"]["me"]["user"]["userName"] == "alice"
    assert (await ApiToken.get(id=row.id)).last_used_at is not None


async def test_a_token_cannot_go_beyond_its_scopes(api, demo):
    read_only, _ = await create_token(demo.rt.clock, "alice", "ro", scopes={Scope.READ})
    status, body = await _post(api, read_only, REQUEST, input={
        "targets": [{"accountId": demo.account("sandbox-alice"), "permissionSet": "AdministratorAccess"}],
        "durationSeconds": 600, "justification": "x"})
    assert status == 200 and body["data"] is None
    assert body["errors"][0]["extensions"] == {"code": "FORBIDDEN_SCOPE", "field": "requestTicket"}
    from jit.tickets.models import Ticket
    assert await Ticket.all().count() == 0
    # A request-only token cannot decide, and cannot read.
    requester, _ = await create_token(demo.rt.clock, "bob", "rq", scopes={Scope.REQUEST})
    status, body = await _post(api, requester, 'mutation { approveTicket(ticketId: "x") { __typename } }')
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN_SCOPE"
    status, body = await _post(api, requester, "{ me { user { id } } }")
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN_SCOPE"


async def test_a_token_can_do_no_more_than_its_owner(api, demo):
    # alice is no admin: an admin-scoped token of hers still cannot change rules.
    token, _ = await create_token(demo.rt.clock, "alice", "all")
    status, body = await _post(api, token, 'mutation { deleteApprovalRule(id: "00000000-0000-0000-0000-000000000000") '
                                           '{ __typename ... on Error { message } } }')
    assert body["data"]["deleteApprovalRule"]["__typename"] == "NotAllowedError"
    status, body = await _post(api, token, LIST, all=True)
    assert body["data"] is None and "only admins" in body["errors"][0]["message"]
    status, body = await _post(api, token, CREATE, i={"name": "x", "scopes": ["READ"], "userName": "bob"})
    assert body["data"]["createApiToken"]["__typename"] == "NotAllowedError"


async def test_a_token_cannot_mint_a_wider_token(api, demo):
    token, _ = await create_token(demo.rt.clock, "admin", "narrow", scopes={Scope.READ, Scope.ADMIN})
    before = await ApiToken.all().count()
    status, body = await _post(api, token, CREATE, i={"name": "wide", "scopes": ["READ", "DECIDE"]})
    result = body["data"]["createApiToken"]
    assert result["__typename"] == "NotAllowedError" and result["field"] == "scopes"
    assert await ApiToken.all().count() == before


async def test_bad_token_input_is_a_typed_error_and_writes_nothing(api, demo):
    before = await ApiToken.all().count()
    past = (demo.rt.clock.now() - timedelta(days=1)).isoformat()
    far = (demo.rt.clock.now() + timedelta(days=5000)).isoformat()
    for i, field in (({"name": "x", "scopes": []}, "scopes"), ({"name": " ", "scopes": ["READ"]}, "name"),
                     ({"name": "x", "scopes": ["READ"], "expiresAt": past}, "expiresAt"),
                     ({"name": "x", "scopes": ["READ"], "expiresAt": far}, "expiresAt")):
        result = (await api.as_(demo.rt, "alice", CREATE, i=i))["createApiToken"]
        assert result["__typename"] == "ValidationError" and result["field"] == field, result
    assert await ApiToken.all().count() == before + 1  # only the caller's own test token


async def test_owners_revoke_their_tokens_and_admins_anyones(api, demo):
    _, bobs = await create_token(demo.rt.clock, "bob", "b")
    result = (await api.as_(demo.rt, "alice", REVOKE, id=str(bobs.id)))["revokeApiToken"]
    assert result["__typename"] == "NotFoundError"  # another's token looks absent
    assert (await ApiToken.get(id=bobs.id)).revoked_at is None
    everyone = (await api.as_(demo.rt, "admin", LIST, all=True))["apiTokens"]
    assert {"alice", "bob", "admin"} <= {t["owner"]["userName"] for t in everyone}
    result = (await api.as_(demo.rt, "admin", REVOKE, id=str(bobs.id)))["revokeApiToken"]
    assert result["__typename"] == "ApiToken" and result["revokedAt"]
    again = (await api.as_(demo.rt, "admin", REVOKE, id=str(bobs.id)))["revokeApiToken"]
    assert again["__typename"] == "NotFoundError"


async def test_every_root_field_of_the_schema_has_a_scope():
    declared = declared_scopes()
    for type_name in ("Query", "Mutation", "Subscription"):
        gql_type = exported_schema.schema_converter.type_map[type_name]
        names = {f.graphql_name or strawberry.utils.str_converters.to_camel_case(f.python_name)
                 for f in gql_type.definition.fields}
        for name in names:
            assert required_scopes(type_name, name) is not None, (
                f"{type_name}.{name} declares no scope: use @query/@mutation/@subscription from jit.graphql.resolver")
        # ...and the map holds nothing but the schema's root fields.
        assert set(declared[type_name]) == names, set(declared[type_name]) ^ names


def test_the_declared_scopes_are_the_documented_ones():
    # docs/security.md's table, as declared on the fields; a change here is a change of the API's contract.
    declared = declared_scopes()
    r, q, d, a = Scope.READ, Scope.REQUEST, Scope.DECIDE, Scope.ADMIN
    assert set(declared["Query"].values()) == {frozenset({r})}
    assert declared["Subscription"] == {"ticketUpdated": frozenset({r})}
    by_scopes: dict[frozenset[Scope], set[str]] = {}
    for name, scopes in declared["Mutation"].items():
        by_scopes.setdefault(scopes, set()).add(name)
    assert by_scopes == {
        frozenset({q}): {"requestTicket", "cancelTicket", "requestExtension", "breakGlassTicket"},
        frozenset({d}): {"approveTicket", "rejectTicket", "approveExtension", "rejectExtension", "reviewBreakGlass",
                         "createDelegation", "revokeDelegation"},
        frozenset({q, d, a}): {"revokeTicket", "setNotificationPreferences"},
        frozenset({a}): {"createPermissionSetGroup", "updatePermissionSetGroup", "deletePermissionSetGroup",
                         "approveRuleChange", "rejectRuleChange", "createApprovalRule", "updateApprovalRule",
                         "deleteApprovalRule", "scanDrift", "removeDrift", "syncDirectory", "verifyAuditChain",
                         "createApiToken", "revokeApiToken"},
    }


def test_a_root_field_cannot_be_declared_without_a_scope():
    with pytest.raises(TypeError):
        mutation()


async def test_a_mutation_without_a_scope_mapping_fails_closed(demo):
    ran = []

    @strawberry.type
    class Query:
        hello: str = "hi"

    @strawberry.type
    class Mutation:
        @strawberry.mutation
        def launch_missiles(self) -> bool:
            ran.append(True)
            return True

    schema = strawberry.Schema(query=Query, mutation=Mutation, extensions=build_extensions(demo.rt.settings))
    user = await demo.user("admin")

    class Ctx:
        runtime = demo.rt
        identity = Identity(user=user, scopes=ALL_SCOPES, method="session")

    result = await schema.execute("mutation { launchMissiles }", context_value=Ctx())
    assert result.data is None and ran == []
    assert result.errors[0].extensions == {"code": "FORBIDDEN", "field": "launchMissiles"}


def test_token_command_line(demo, tmp_path):
    env = {**os.environ, "JIT_DATABASE_URL": demo.rt.settings.database_url, "JIT_MODE": "test"}

    def jit(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "jit.cli", "token", *args], env=env, capture_output=True,
                              text=True, timeout=60)

    plain = jit("create", "alice")  # as it has always worked
    assert plain.returncode == 0 and plain.stdout.strip().startswith("jit_"), plain.stderr
    made = jit("create", "bob", "--name", "deploy", "--scopes", "read,request", "--expires", "30d")
    assert made.returncode == 0, made.stderr
    secret = made.stdout.strip()
    listed = jit("list")
    assert "deploy" in listed.stdout and "read,request" in listed.stdout and secret not in listed.stdout
    bad = jit("create", "bob", "--scopes", "root")
    assert bad.returncode != 0 and "unknown scope" in bad.stderr
    token_id = next(line.split()[0] for line in listed.stdout.splitlines() if "deploy" in line)
    assert jit("revoke", token_id).returncode == 0
    assert "revoked" in [line for line in jit("list", "--user", "bob").stdout.splitlines() if "deploy" in line][0]
