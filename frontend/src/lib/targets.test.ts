import { describe, expect, it } from "vitest";
import { choiceName, filterTargets, maxDurationFor, targetInput, targetKey, type TargetLike } from "./targets";

function target(i: number, ps: string): TargetLike {
  const ou = i % 2 ? "ou-prod" : "ou-dev";
  return {
    account: {
      id: String(100000000000 + i),
      name: `acct-${i}`,
      organizationalUnitPath: `/r-root/ou-workloads/${ou}/`,
      tags: [
        { key: "env", value: i % 2 ? "prod" : "dev" },
        ...(i % 10 === 0 ? [{ key: "team", value: "payments" }] : []),
      ],
    },
    permissionSet: { arn: `arn:ps/${ps}`, name: ps },
  };
}

describe("requestable target filtering", () => {
  const all = [0, 1, 2, 3, 10, 11].flatMap((i) => [target(i, "ReadOnlyAccess"), target(i, "AdministratorAccess")]);
  const none = { text: "", ouId: null, tags: [], permissionSets: [] };

  it("returns everything without a filter", () => {
    expect(filterTargets(all, none)).toBe(all);
  });
  it("filters by OU, nested OUs included", () => {
    expect(filterTargets(all, { ...none, ouId: "ou-prod" }).map((t) => t.account.name)).toEqual([
      "acct-1",
      "acct-1",
      "acct-3",
      "acct-3",
      "acct-11",
      "acct-11",
    ]);
    expect(filterTargets(all, { ...none, ouId: "ou-workloads" })).toHaveLength(all.length);
  });
  it("needs every chosen tag", () => {
    expect(filterTargets(all, { ...none, tags: ["env=dev", "team=payments"] }).map((t) => t.account.name)).toEqual([
      "acct-0",
      "acct-0",
      "acct-10",
      "acct-10",
    ]);
  });
  it("matches text on account name, id and permission set, ignoring case", () => {
    expect(filterTargets(all, { ...none, text: "ACCT-11" })).toHaveLength(2);
    expect(filterTargets(all, { ...none, text: "100000000003" })).toHaveLength(2);
    expect(filterTargets(all, { ...none, text: "readonly" })).toHaveLength(6);
  });
  it("filters by permission set", () => {
    expect(
      filterTargets(all, { ...none, permissionSets: ["AdministratorAccess"] }).every(
        (t) => t.permissionSet?.name === "AdministratorAccess",
      ),
    ).toBe(true);
  });
  it("keys a target by account and permission set", () => {
    expect(targetKey(all[0])).toBe("100000000000|arn:ps/ReadOnlyAccess");
  });
  it("treats a permission set group as one choice of its own", () => {
    const account = { id: "100000000099", name: "db-prod", organizationalUnitPath: "/r/ou-1/", tags: [] };
    const group: TargetLike = { account, permissionSet: null, permissionSetGroup: { name: "DBA" } };
    const plain: TargetLike = { account, permissionSet: { arn: "arn:ps/ReadOnlyAccess", name: "ReadOnlyAccess" } };
    expect(targetKey(group)).toBe("100000000099|group:DBA");
    expect(choiceName(group)).toBe("DBA (group)");
    expect(targetInput(group)).toEqual({ accountId: "100000000099", permissionSetGroup: "DBA" });
    expect(targetInput(plain)).toEqual({ accountId: "100000000099", permissionSet: "ReadOnlyAccess" });
    expect(filterTargets([group, plain], { ...none, text: "dba" })).toEqual([group]);
    expect(filterTargets([group, plain], { ...none, permissionSets: ["DBA (group)"] })).toEqual([group]);
  });
  it("caps the duration by the tightest rule", () => {
    expect(maxDurationFor([])).toBeNull();
    expect(maxDurationFor([{ maxDurationSeconds: 28800 }, { maxDurationSeconds: 3600 }])).toBe(3600);
  });
  it("filters 5,000 accounts x 500 permission sets correctly", () => {
    // The wizard's scale: 2.5 million rows. Correctness only; the timing is measured in bench/.
    const sets = Array.from({ length: 500 }, (_, i) => `PS${i}`);
    const big: TargetLike[] = [];
    for (let a = 0; a < 5000; a++) {
      const account = target(a, "x").account;
      for (const ps of sets) big.push({ account, permissionSet: { arn: `arn:${ps}`, name: ps } });
    }
    const hits = filterTargets(big, { ...none, text: "acct-4999", ouId: "ou-prod" });
    expect(hits).toHaveLength(500);
  });
});
