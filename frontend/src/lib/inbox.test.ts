import { describe, expect, it } from "vitest";
import { byDeadline, deadlineState, stepNeeds, waitedText } from "./inbox";

const now = new Date("2026-03-01T12:00:00Z");
const step = (over: Partial<Parameters<typeof stepNeeds>[0][number]>) => ({
  position: 0,
  name: "team leads",
  ruleName: "prod-change",
  required: 2,
  approvals: 0,
  status: "PENDING",
  approverUsers: ["bob", "carol"],
  approverGroups: [],
  ...over,
});

describe("stepNeeds", () => {
  it("names what the ticket waits for now, then the later steps", () => {
    const lines = stepNeeds([
      step({ position: 1, name: "security", required: 1, approverUsers: [], approverGroups: ["security-approvers"] }),
      step({ approvals: 1 }),
    ]);
    expect(lines).toEqual([
      "team leads (prod-change): 1 more approval from bob, carol",
      "then security (prod-change): 1 more approval from group security-approvers",
    ]);
  });
  it("leaves out approved steps", () => {
    expect(stepNeeds([step({ status: "APPROVED", approvals: 2 })])).toEqual([]);
  });
});

describe("deadlineState", () => {
  it("grows more urgent as the deadline nears", () => {
    expect(deadlineState("2026-03-03T12:00:00Z", now)).toEqual({ level: "pending", text: "2d left" });
    expect(deadlineState("2026-03-01T15:00:00Z", now).level).toBe("warning");
    expect(deadlineState("2026-03-01T12:30:00Z", now)).toEqual({ level: "error", text: "30m left" });
    expect(deadlineState("2026-03-01T11:00:00Z", now)).toEqual({ level: "error", text: "expired" });
    expect(deadlineState(null, now).text).toBe("no deadline");
  });
});

describe("byDeadline", () => {
  it("sorts the earliest deadline first, tickets without one last", () => {
    const items = [
      { id: "none", approvalExpiresAt: null, createdAt: "2026-03-01T00:00:00Z" },
      { id: "late", approvalExpiresAt: "2026-03-02T00:00:00Z", createdAt: "2026-03-01T00:00:00Z" },
      { id: "soon", approvalExpiresAt: "2026-03-01T13:00:00Z", createdAt: "2026-03-01T00:00:00Z" },
    ];
    expect([...items].sort(byDeadline).map((t) => t.id)).toEqual(["soon", "late", "none"]);
  });
});

describe("waitedText", () => {
  it("says how long a ticket has waited", () => {
    expect(waitedText("2026-03-01T10:30:00Z", now)).toBe("1h 30m");
  });
});
