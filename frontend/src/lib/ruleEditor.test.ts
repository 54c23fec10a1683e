import { describe, expect, it } from "vitest";
import { NEW_RULE_YAML, previewThrough, ruleToYaml, yamlField, yamlToRuleInput } from "./ruleEditor";

const RULE = {
  name: "prod-change",
  description: "Two leads then security",
  requesters: { users: ["alice"], groups: ["engineers"] },
  scope: {
    accounts: ["payments-prod"],
    organizationalUnits: ["/Workloads/Prod"],
    permissionSets: ["AdministratorAccess"],
  },
  permissionSetGroups: ["DBA"],
  maxDurationSeconds: 3600,
  justificationRequired: true,
  steps: [
    { name: "Team lead", users: [], groups: ["approvers"], required: 2 },
    { name: "Security", users: ["carol"], groups: [], required: 1 },
  ],
  onBehalf: [{ requesters: { users: [], groups: ["managers"] }, principals: { users: [], groups: ["engineers"] } }],
  breakGlass: true,
  approvalWindowSeconds: 7200,
  extension: { requiresApproval: true, steps: 1, maxTotalDurationSeconds: 7200, maxExtensions: 2 },
};

describe("rule editor YAML", () => {
  it("round-trips every field into the API's input", () => {
    const out = yamlToRuleInput(ruleToYaml(RULE));
    expect(out).toEqual({
      input: {
        name: "prod-change",
        description: "Two leads then security",
        requesters: { users: ["alice"], groups: ["engineers"] },
        scope: {
          accounts: ["payments-prod"],
          organizationalUnits: ["/Workloads/Prod"],
          permissionSets: ["AdministratorAccess"],
          permissionSetGroups: ["DBA"],
          permissionSetGroupsBundleOnly: false,
        },
        maxDurationSeconds: 3600,
        justificationRequired: true,
        steps: RULE.steps,
        onBehalf: RULE.onBehalf,
        breakGlass: true,
        approvalWindowSeconds: 7200,
        extension: { requiresApproval: true, steps: 1, maxTotalDurationSeconds: 7200, maxExtensions: 2 },
      },
    });
  });

  it("accepts the template and a one-rule rules.yaml file", () => {
    expect("input" in yamlToRuleInput(NEW_RULE_YAML)).toBe(true);
    const file = "rules:\n  - name: a\n    max_duration_seconds: 60\n";
    const out = yamlToRuleInput(file);
    expect("input" in out && out.input.name).toBe("a");
    expect("input" in out && out.input.extension).toBeNull();
  });

  it("names what is wrong", () => {
    expect(yamlToRuleInput("name: [")).toHaveProperty("error");
    expect(yamlToRuleInput("- a\n- b")).toEqual({
      error: "The YAML must be one rule (a mapping with name, scope, steps...).",
    });
    expect(yamlToRuleInput("name: x")).toEqual({ error: "max_duration_seconds must be a whole number" });
    expect(yamlToRuleInput("name: x\nmax_duration_seconds: 60\nsteps:\n  - users: [a]")).toEqual({
      error: "steps[0] needs a name",
    });
    expect(yamlToRuleInput("name: x\nmax_duration_seconds: 60\nscope: {accounts: a}")).toEqual({
      error: "scope.accounts must be a list of names",
    });
    expect(yamlToRuleInput("rules: [{name: a}, {name: b}]")).toEqual({ error: "Edit one rule at a time." });
  });
});

describe("issue 17 in the rule editor", () => {
  it("keeps bundle-only through the YAML", () => {
    const out = yamlToRuleInput(ruleToYaml({ ...RULE, permissionSetGroupsBundleOnly: true }));
    expect("input" in out && out.input.scope.permissionSetGroupsBundleOnly).toBe(true);
    const plain = yamlToRuleInput(ruleToYaml(RULE));
    expect("input" in plain && plain.input.scope.permissionSetGroupsBundleOnly).toBe(false);
  });

  it("names the API's fields in the YAML's words", () => {
    expect(yamlField("scope.organizationalUnits[0]")).toBe("scope.organizational_units[0]");
    expect(yamlField("steps[1].required")).toBe("steps[1].required");
    expect(yamlField("onBehalf[0].requesters.users[2]")).toBe("on_behalf[0].requesters.users[2]");
  });

  it("says how the preview's rule covers the permission set", () => {
    expect(previewThrough({ viaPermissionSetGroups: [], requestableAlone: true })).toBe("Named by the rule");
    expect(previewThrough({ viaPermissionSetGroups: ["DBA"], requestableAlone: true })).toContain(
      "also requestable alone",
    );
    expect(previewThrough({ viaPermissionSetGroups: ["DBA"], requestableAlone: false })).toContain(
      "not requestable alone",
    );
  });
});
