import { act, renderHook } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import {
  firstInvalidStep,
  INITIAL_VALUES,
  requestFacts,
  requestInput,
  useRequestForm,
  validateStep,
  type ApprovalRule,
  type Requestable,
  type RequestValues,
} from "./useRequestForm";

function target(accountId: string, ps: string, overrides: Partial<Requestable> = {}): Requestable {
  return {
    maxDurationSeconds: 4 * 3600,
    justificationRequired: false,
    ruleName: "prod",
    autoApproved: false,
    account: { id: accountId, name: `acct-${accountId}`, organizationalUnitPath: "/r-root/ou-prod/", tags: [] },
    permissionSet: { arn: `arn:ps/${ps}`, name: ps, description: "" },
    permissionSetGroup: null,
    ...overrides,
  };
}

function rule(name: string, overrides: Partial<ApprovalRule> = {}): ApprovalRule {
  return {
    id: `rule-${name}`,
    name,
    description: "",
    maxDurationSeconds: 4 * 3600,
    justificationRequired: false,
    autoApproved: false,
    breakGlass: false,
    approvalWindowSeconds: 86400,
    permissionSetGroups: [],
    permissionSetGroupsBundleOnly: false,
    warnings: [],
    createdAt: "2026-01-01T00:00:00Z",
    updatedAt: "2026-01-01T00:00:00Z",
    requesters: { users: [], groups: [] },
    scope: { accounts: [], organizationalUnits: [], permissionSets: [] },
    steps: [{ name: "lead", users: ["bob"], groups: [], required: 1 }],
    onBehalf: [],
    extension: null,
    ...overrides,
  };
}

const NOW = new Date("2026-06-01T12:00:00Z");
const values = (v: Partial<RequestValues>): RequestValues => ({ ...INITIAL_VALUES, ...v });
const check = (step: number, v: Partial<RequestValues>, rules: ApprovalRule[] = []) =>
  validateStep(step, values(v), requestFacts(values(v), rules), NOW);

describe("request form facts", () => {
  it("takes the tightest duration and any rule's justification requirement", () => {
    const v = values({
      selected: [target("1", "A"), target("2", "B", { maxDurationSeconds: 3600, justificationRequired: true })],
      amount: "90",
      unit: "minutes",
    });
    const facts = requestFacts(v, []);
    expect(facts.cap).toBe(3600);
    expect(facts.durationSeconds).toBe(5400);
    expect(facts.justificationRequired).toBe(true);
    expect(requestFacts(INITIAL_VALUES, []).cap).toBeNull();
  });

  it("offers break-glass only when every governing rule allows it and one would ask someone", () => {
    const selected = [target("1", "A", { ruleName: "prod" }), target("2", "B", { ruleName: "ops" })];
    const glass = { breakGlass: true };
    const allowed = (rules: ApprovalRule[]) => requestFacts(values({ selected, breakGlass: true }), rules);
    expect(allowed([rule("prod", glass), rule("ops", glass), rule("other")]).breakGlassAllowed).toBe(true);
    expect(allowed([rule("prod", glass), rule("ops", glass)]).rules.map((r) => r.name)).toEqual(["prod", "ops"]);
    expect(allowed([rule("prod", glass), rule("ops")]).breakGlassAllowed).toBe(false);
    expect(
      allowed([rule("prod", { ...glass, steps: [] }), rule("ops", { ...glass, steps: [] })]).breakGlassAllowed,
    ).toBe(false);
    expect(allowed([]).breakGlassAllowed).toBe(false);
    // Ticked, but not allowed: not used.
    expect(allowed([rule("prod", glass), rule("ops")]).useBreakGlass).toBe(false);
    expect(requestFacts(values({ selected }), [rule("prod", glass), rule("ops", glass)]).useBreakGlass).toBe(false);
  });
});

describe("request form validation", () => {
  it("needs a target on the first step", () => {
    expect(check(0, {})).toEqual({ targets: "Choose at least one account and permission set." });
    expect(check(0, { selected: [target("1", "A")] })).toEqual({});
  });

  it("has nothing to check on the principal and review steps", () => {
    expect(check(1, {})).toEqual({});
    expect(check(4, {})).toEqual({});
  });

  it("needs a positive duration within the chosen targets' limit", () => {
    const selected = [target("1", "A")];
    expect(check(2, { selected, amount: "0" })).toEqual({ durationSeconds: "Enter a duration greater than zero." });
    expect(check(2, { selected, amount: "abc" })).toEqual({ durationSeconds: "Enter a duration greater than zero." });
    expect(check(2, { selected, amount: "5", unit: "hours" })).toEqual({
      durationSeconds: "At most 4h for the chosen targets.",
    });
    expect(check(2, { selected, amount: "4", unit: "hours" })).toEqual({});
    // No targets yet, so no limit.
    expect(check(2, { amount: "30", unit: "days" })).toEqual({});
  });

  it("needs a future date and time to start later", () => {
    const later = { startMode: "later" as const };
    expect(check(2, { ...later })).toEqual({ startAt: "Enter a date and a time." });
    expect(check(2, { ...later, startDate: "2026-06-02" })).toEqual({ startAt: "Enter a date and a time." });
    expect(check(2, { ...later, startDate: "2020-01-01", startTime: "09:00" })).toEqual({
      startAt: "Choose a time in the future.",
    });
    expect(check(2, { ...later, startDate: "2030-01-01", startTime: "09:00" })).toEqual({});
    // A date typed but then "Now" chosen again: nothing to check.
    expect(check(2, { startMode: "now", startDate: "2020-01-01", startTime: "09:00" })).toEqual({});
  });

  it("needs a justification only when a rule asks for one, and a break-glass reason only for break-glass", () => {
    const plain = [target("1", "A")];
    const strict = [target("1", "A", { justificationRequired: true })];
    expect(check(3, { selected: plain })).toEqual({});
    expect(check(3, { selected: strict, justification: "  " })).toEqual({
      justification: "A justification is required by the approval rule.",
    });
    expect(check(3, { selected: strict, justification: "INC-1" })).toEqual({});

    const glassRules = [rule("prod", { breakGlass: true })];
    expect(check(3, { selected: plain, breakGlass: true, breakGlassReason: " " }, glassRules)).toEqual({
      breakGlassReason: "Break-glass needs a reason.",
    });
    expect(check(3, { selected: plain, breakGlass: true, breakGlassReason: "outage" }, glassRules)).toEqual({});
    // Not allowed by the rules: the reason is not asked for.
    expect(check(3, { selected: plain, breakGlass: true }, [rule("prod")])).toEqual({});
  });

  it("finds the first step that fails", () => {
    const v = values({ selected: [target("1", "A", { justificationRequired: true })], amount: "0" });
    expect(firstInvalidStep(v, requestFacts(v, []), NOW)).toEqual({
      step: 2,
      errors: { durationSeconds: "Enter a duration greater than zero." },
    });
    const ok = values({ ...v, amount: "1", justification: "why" });
    expect(firstInvalidStep(ok, requestFacts(ok, []), NOW)).toBeNull();
    expect(firstInvalidStep(INITIAL_VALUES, requestFacts(INITIAL_VALUES, []), NOW)?.step).toBe(0);
  });

  it("builds the requestTicket input", () => {
    const v = values({
      selected: [target("1", "A"), target("2", "B", { permissionSet: null, permissionSetGroup: { name: "g" } })],
      amount: "2",
      unit: "hours",
      justification: "why",
      startMode: "approved",
    });
    expect(requestInput(v, requestFacts(v, []))).toEqual({
      targets: [
        { accountId: "1", permissionSet: "A" },
        { accountId: "2", permissionSetGroup: "g" },
      ],
      durationSeconds: 7200,
      justification: "why",
      externalRef: null,
      startAt: null,
      startWhenApproved: true,
      breakGlassReason: null,
    });
    const glass = values({ ...v, breakGlass: true, breakGlassReason: "  INC-4 " });
    const rules = [{ name: "prod", breakGlass: true, steps: [{ name: "ops" }] }] as unknown as ApprovalRule[];
    expect(requestInput(glass, requestFacts(glass, rules)).breakGlassReason).toBe("INC-4");
  });
});

describe("useRequestForm", () => {
  const account = (id: string) => ({
    id,
    name: `acct-${id}`,
    organizationalUnitPath: "/r-root/",
    tags: [],
  });

  it("moves forward only past a step that passes, and back freely", () => {
    const { result } = renderHook(() => useRequestForm([]));
    act(() => result.current.navigate(1));
    expect(result.current.step).toBe(0);
    expect(result.current.errors.targets).toBe("Choose at least one account and permission set.");

    act(() => result.current.chooseTargets([target("1", "A")]));
    expect(result.current.errors.targets).toBe("");
    act(() => result.current.navigate(1));
    expect(result.current.step).toBe(1);
    act(() => result.current.navigate(2));
    act(() => result.current.set("amount", "0"));
    act(() => result.current.navigate(3));
    expect(result.current.step).toBe(2);
    expect(result.current.errors.durationSeconds).toBe("Enter a duration greater than zero.");
    act(() => result.current.navigate(0));
    expect(result.current.step).toBe(0);
  });

  it("drops chosen targets on accounts no longer chosen", () => {
    const { result } = renderHook(() => useRequestForm([]));
    act(() => result.current.chooseAccounts([account("1"), account("2")]));
    act(() => result.current.chooseTargets([target("1", "A"), target("2", "A"), target("2", "B")]));
    act(() => result.current.chooseAccounts([account("2")]));
    expect(result.current.accounts.map((a) => a.id)).toEqual(["2"]);
    expect(result.current.values.selected.map((t) => `${t.account.id}/${t.permissionSet?.name}`)).toEqual([
      "2/A",
      "2/B",
    ]);
  });

  it("before sending, goes back to the first step that fails", () => {
    const { result } = renderHook(() => useRequestForm([]));
    act(() => result.current.chooseTargets([target("1", "A", { justificationRequired: true })]));
    act(() => result.current.navigate(1));
    act(() => result.current.navigate(2));
    act(() => result.current.navigate(3));
    act(() => result.current.navigate(4));
    expect(result.current.step).toBe(3);
    act(() => result.current.set("justification", "why"));
    act(() => result.current.navigate(4));
    expect(result.current.step).toBe(4);

    act(() => result.current.set("justification", ""));
    let ok = true;
    act(() => {
      ok = result.current.begin();
    });
    expect(ok).toBe(false);
    expect(result.current.step).toBe(3);
    expect(result.current.submitting).toBe(false);
    expect(result.current.errors).toEqual({ justification: "A justification is required by the approval rule." });

    act(() => result.current.set("justification", "why"));
    act(() => result.current.fail("stale"));
    act(() => {
      ok = result.current.begin();
    });
    expect(ok).toBe(true);
    expect(result.current.submitting).toBe(true);
    expect(result.current.formError).toBeNull();
    act(() => result.current.finish());
    expect(result.current.submitting).toBe(false);
  });

  it("shows a server error on its field's step, or on the form", () => {
    const { result } = renderHook(() => useRequestForm([]));
    act(() => result.current.refuse({ __typename: "ValidationError", message: "Too long.", field: "durationSeconds" }));
    expect(result.current.step).toBe(2);
    expect(result.current.errors).toEqual({ durationSeconds: "Too long." });
    expect(result.current.formError).toBeNull();

    act(() =>
      result.current.refuse({ __typename: "ValidationError", message: "Bad target.", field: "targets[1].accountId" }),
    );
    expect(result.current.step).toBe(0);
    expect(result.current.errors).toEqual({ targets: "Bad target." });

    act(() => result.current.navigate(4));
    act(() => result.current.refuse({ __typename: "PermissionDeniedError", message: "Not allowed.", field: null }));
    expect(result.current.errors).toEqual({});
    expect(result.current.formError).toBe("Not allowed.");
  });
});
