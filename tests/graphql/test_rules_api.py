from __future__ import annotations

from jit.rules.models import ApprovalRule

CREATE = """
mutation($input: ApprovalRuleInput!) {
  createApprovalRule(input: $input) {
    __typename
    ... on ApprovalRule { id name autoApproved steps { name required } }
    ... on Error { message field }
  }
}"""

DELETE = """mutation($id: ID!) { deleteApprovalRule(id: $id) { __typename ... on Error { message field } } }"""


def _rule(**over):
    rule = {
        "name": "infra-readonly", "requesters": {"groups": ["engineers"]},
        "scope": {"organizationalUnits": ["/Infrastructure"], "permissionSets": ["ReadOnlyAccess"]},
        "maxDurationSeconds": 3600, "justificationRequired": True,
        "steps": [{"name": "Lead", "groups": ["approvers"], "required": 1}],
    }
    rule.update(over)
    return rule


async def test_only_admins_change_rules(api, demo):
    before = await ApprovalRule.all().count()
    denied = (await api.as_(demo.rt, "alice", CREATE, input=_rule()))["createApprovalRule"]
    assert denied["__typename"] == "NotAllowedError"
    assert await ApprovalRule.all().count() == before

    created = (await api.as_(demo.rt, "admin", CREATE, input=_rule()))["createApprovalRule"]
    assert created["__typename"] == "ApprovalRule" and created["autoApproved"] is False
    assert await ApprovalRule.all().count() == before + 1

    # The new rule takes effect at once: alice may now request infra read-only.
    data = await api.as_(demo.rt, "alice", "{ requestableTargets { account { name } ruleName } }")
    assert {"infra-readonly"} == {r["ruleName"] for r in data["requestableTargets"] if r["account"]["name"] == "ci-cd"}

    assert (await api.as_(demo.rt, "alice", DELETE, id=created["id"]))["deleteApprovalRule"]["__typename"] == "NotAllowedError"
    assert (await api.as_(demo.rt, "admin", DELETE, id=created["id"]))["deleteApprovalRule"]["__typename"] == "DeletedApprovalRule"
    data = await api.as_(demo.rt, "alice", "{ requestableTargets { account { name } } }")
    assert "ci-cd" not in {r["account"]["name"] for r in data["requestableTargets"]}


async def test_rule_validation_names_the_field(api, demo):
    cases = [
        (_rule(name=""), "name"),
        (_rule(name="sandbox-self-service"), "name"),
        (_rule(maxDurationSeconds=0), "maxDurationSeconds"),
        (_rule(requesters={"groups": ["no-such-group"]}), "requesters.groups[0]"),
        (_rule(scope={"organizationalUnits": ["/Nowhere"], "permissionSets": ["ReadOnlyAccess"]}), "scope.organizationalUnits[0]"),
        (_rule(scope={"accounts": ["payments-prod"], "permissionSets": ["Nope"]}), "scope.permissionSets[0]"),
        (_rule(steps=[{"name": "x", "groups": ["approvers"], "required": 0}]), "steps[0].required"),
        (_rule(onBehalf=[{"requesters": {"users": ["nobody"]}, "principals": {"groups": ["engineers"]}}]),
         "onBehalf[0].requesters.users[0]"),
        (_rule(steps=[{"name": "x", "required": 1}]), "steps[0]"),
    ]
    before = await ApprovalRule.all().count()
    for rule, field in cases:
        result = (await api.as_(demo.rt, "admin", CREATE, input=rule))["createApprovalRule"]
        assert result["__typename"] == "ValidationError", (rule, result)
        assert result["field"] == field, (rule, result)
        assert "_" not in result["message"].split(":")[0], result  # the path in the message is the input's too
    assert await ApprovalRule.all().count() == before


WARNINGS = """
mutation($input: ApprovalRuleInput!) {
  createApprovalRule(input: $input) { __typename ... on ApprovalRule { name warnings } ... on Error { message } }
}"""

REQUEST = """
mutation($input: RequestTicketInput!) {
  requestTicket(input: $input) { __typename ... on Error { message field } }
}"""


async def test_a_step_that_can_never_be_met_is_warned_of_and_refused_at_request_time(api, demo):
    from jit.tickets.models import Ticket

    fine = (await api.as_(demo.rt, "admin", WARNINGS, input=_rule()))["createApprovalRule"]
    assert fine == {"__typename": "ApprovalRule", "name": "infra-readonly", "warnings": []}
    # approvers holds two people (bob, carol); dave adds a third.
    steps = [{"name": "Leads", "groups": ["approvers"], "required": 2},
             {"name": "Everyone", "groups": ["approvers"], "users": ["dave"], "required": 50}]
    rule = _rule(name="infra-admin", steps=steps,
                 scope={"organizationalUnits": ["/Infrastructure"], "permissionSets": ["AdministratorAccess"]})
    created = (await api.as_(demo.rt, "admin", WARNINGS, input=rule))["createApprovalRule"]
    assert created["__typename"] == "ApprovalRule"  # saved: the directory may yet grow
    assert created["warnings"] == ["rule 'infra-admin' step 2 ('Everyone') needs 50 approvals but its groups and "
                                   "users hold 3 people as synced: no ticket under it can be approved"]
    listed = await api.as_(demo.rt, "alice", "{ approvalRules { name warnings } }")
    assert {r["name"]: r["warnings"] for r in listed["approvalRules"]}["infra-admin"] == created["warnings"]

    before = await Ticket.all().count()
    target = {"targets": [{"accountId": demo.account("ci-cd"), "permissionSet": "AdministratorAccess"}],
              "durationSeconds": 3600, "justification": "x"}
    refused = (await api.as_(demo.rt, "alice", REQUEST, input=target))["requestTicket"]
    assert refused["__typename"] == "NotAllowedError" and refused["field"] == "targets"
    assert "'infra-admin' step 2 ('Everyone') needs 50 approvals but only 3 people" in refused["message"]
    assert await Ticket.all().count() == before
