import { describe, expect, it } from "vitest";
import { approvalSeries, budgetPercent, hasTickets, latenessText } from "./insights";

describe("approvalSeries", () => {
  it("gives p50 and p95 in minutes per rule", () => {
    const s = approvalSeries([{ ruleName: "prod-read-only", tickets: 2, p50Seconds: 1200, p95Seconds: 1740 }]);
    expect(s.p50).toEqual([{ x: "prod-read-only", y: 20 }]);
    expect(s.p95).toEqual([{ x: "prod-read-only", y: 29 }]);
  });
});

describe("latenessText", () => {
  it("says how many revokes were late and by how much", () => {
    expect(latenessText({ revokes: 0, late: 0, worstLateSeconds: 0, averageEarlySeconds: null }).type).toBe("info");
    expect(latenessText({ revokes: 3, late: 0, worstLateSeconds: 0, averageEarlySeconds: 4 })).toEqual({
      type: "success",
      text: "All 3 revokes started on time; on average 4s before the end.",
    });
    const late = latenessText({ revokes: 2, late: 1, worstLateSeconds: 90, averageEarlySeconds: -30 });
    expect(late.type).toBe("warning");
    expect(late.text).toBe(
      "1 of 2 revokes started after the ticket's end, the latest by 1m 30s; on average 30s after the end.",
    );
  });
});

describe("budgetPercent", () => {
  it("is the share of write slots in use", () => {
    expect(budgetPercent({ mode: "shared", ratePerSecond: 18, maxOutstanding: 14, outstanding: 7 })).toBe(50);
    expect(budgetPercent({ mode: "shared", ratePerSecond: 18, maxOutstanding: 0, outstanding: 7 })).toBe(0);
  });
});

describe("hasTickets", () => {
  it("is false for an empty range", () => {
    expect(hasTickets({ activeGrants: [{ count: 0 }], topAccounts: [], approvalTimes: [] })).toBe(false);
    expect(hasTickets({ activeGrants: [{ count: 1 }], topAccounts: [], approvalTimes: [] })).toBe(true);
  });
});
