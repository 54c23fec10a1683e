import { describe, expect, it } from "vitest";
import { canCancel, canRevoke, statusLabel, statusType, TICKET_STATUSES } from "./status";

describe("ticket status display", () => {
  it("labels every status in words", () => {
    expect(statusLabel("PENDING_APPROVAL")).toBe("Pending approval");
    expect(statusLabel("ACTIVE")).toBe("Active");
  });
  it("gives every status an indicator", () => {
    for (const s of TICKET_STATUSES) expect(statusType(s)).toBeTruthy();
    expect(statusType("ACTIVE")).toBe("success");
    expect(statusType("FAILED")).toBe("error");
  });
  it("offers cancel before the grant and revoke after it", () => {
    expect(canCancel("PENDING_APPROVAL") && canCancel("SCHEDULED")).toBe(true);
    expect(canCancel("ACTIVE")).toBe(false);
    expect(canRevoke("ACTIVE")).toBe(true);
    expect(canRevoke("ENDED") || canRevoke("PENDING_APPROVAL")).toBe(false);
  });
});
