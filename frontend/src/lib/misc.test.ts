import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { rulesToYaml } from "./rulesYaml";
import { loadPreferences, savePreferences } from "./preferences";
import { breadcrumbsFor } from "../app/navigation";

describe("rules as YAML", () => {
  it("writes the file format jit rules apply reads", () => {
    const text = rulesToYaml([
      {
        name: "prod-read-only",
        description: "d",
        requesters: { users: [], groups: ["engineers"] },
        scope: { accounts: [], organizationalUnits: ["/Workloads/Prod"], permissionSets: ["ReadOnlyAccess"] },
        maxDurationSeconds: 14400,
        justificationRequired: true,
        steps: [{ name: "Team lead", users: [], groups: ["approvers"], required: 1 }],
      },
    ]);
    expect(parse(text)).toEqual({
      rules: [
        {
          name: "prod-read-only",
          description: "d",
          requesters: { users: [], groups: ["engineers"] },
          scope: { accounts: [], organizational_units: ["/Workloads/Prod"], permission_sets: ["ReadOnlyAccess"] },
          max_duration_seconds: 14400,
          justification_required: true,
          steps: [{ name: "Team lead", users: [], groups: ["approvers"], required: 1 }],
        },
      ],
    });
  });
});

describe("visual preferences", () => {
  it("are remembered and survive garbage", () => {
    savePreferences({ dark: true, compact: false }, localStorage);
    expect(loadPreferences(localStorage)).toEqual({ dark: true, compact: false });
    localStorage.setItem("jit.preferences", "{not json");
    expect(loadPreferences(localStorage)).toEqual({ dark: false, compact: false });
  });
});

describe("breadcrumbs", () => {
  it("name the section and the leaf", () => {
    expect(breadcrumbsFor("/").map((c) => c.text)).toEqual(["JIT", "My access"]);
    expect(breadcrumbsFor("/tickets/abc", "Ticket abc").map((c) => c.text)).toEqual(["JIT", "Tickets", "Ticket abc"]);
    expect(breadcrumbsFor("/admin/rules/prod-change").map((c) => c.text)).toEqual([
      "JIT",
      "Organization",
      "Approval rules",
      "prod-change",
    ]);
  });
});
