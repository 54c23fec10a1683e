import { describe, expect, it } from "vitest";
import { principalLabel, scanView, type ScanLike } from "./driftScan";

const scan = (over: Partial<ScanLike>): ScanLike => ({
  status: "RUNNING",
  trigger: "MANUAL",
  pairsTotal: 0,
  pairsDone: 0,
  calls: 0,
  findings: 0,
  new: 0,
  resolved: 0,
  error: "",
  progress: 0,
  ...over,
});

describe("scanView", () => {
  it("shows pairs read while running, and keeps polling", () => {
    const view = scanView(scan({ pairsTotal: 8, pairsDone: 2, calls: 26, progress: 0.25 }));
    expect(view).toMatchObject({ value: 25, status: "in-progress", active: true });
    expect(view.description).toBe("2 of 8 provisioned account and permission set pairs read; 26 AWS calls.");
  });

  it("says it is finding pairs before it knows how many", () => {
    expect(scanView(scan({ calls: 1 })).description).toBe(
      "Finding the provisioned account and permission set pairs; 1 AWS call.",
    );
  });

  it("stops polling once finished or failed", () => {
    const done = scanView(
      scan({ status: "FINISHED", pairsTotal: 8, pairsDone: 8, calls: 15, findings: 1, new: 1, progress: 1 }),
    );
    expect(done).toMatchObject({ value: 100, status: "success", active: false, label: "Scan finished" });
    const failed = scanView(scan({ status: "FAILED", trigger: "SCHEDULED", error: "ClientError: throttled" }));
    expect(failed).toMatchObject({
      status: "error",
      active: false,
      label: "Scheduled scan failed",
      description: "ClientError: throttled",
    });
    expect(scanView(scan({ status: "QUEUED" })).active).toBe(true);
  });
});

describe("principalLabel", () => {
  it("names users and groups, and falls back to the id", () => {
    expect(principalLabel({ principalType: "USER", principalId: "u-1", user: { userName: "erin" } })).toBe("erin");
    expect(principalLabel({ principalType: "GROUP", principalId: "g-1", group: { displayName: "engineers" } })).toBe(
      "group engineers",
    );
    expect(principalLabel({ principalType: "GROUP", principalId: "g-2", user: null, group: null })).toBe("group g-2");
  });
});
