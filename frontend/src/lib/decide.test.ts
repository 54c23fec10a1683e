import { describe, expect, it } from "vitest";
import { mayDecide } from "./decide";

const bob = { user: { id: "u-bob", userName: "bob" }, groups: [{ displayName: "approvers" }] };
const ticket = {
  status: "PENDING_APPROVAL",
  requester: { id: "u-alice" },
  principal: { id: "u-alice" },
  steps: [
    { status: "APPROVED", approverUsers: [], approverGroups: ["approvers"] },
    { status: "PENDING", approverUsers: ["dave"], approverGroups: ["security-approvers"] },
  ],
};

describe("offering Approve and Reject", () => {
  it("follows the first pending step's approvers", () => {
    expect(mayDecide(ticket, bob)).toBe(false);
    expect(mayDecide(ticket, { user: { id: "u-dave", userName: "dave" }, groups: [] })).toBe(true);
    expect(
      mayDecide(
        { ...ticket, steps: [ticket.steps[1], ticket.steps[0]] },
        { ...bob, groups: [{ displayName: "security-approvers" }] },
      ),
    ).toBe(true);
  });
  it("never to the requester or the principal, nor after the decision", () => {
    const alice = { user: { id: "u-alice", userName: "alice" }, groups: [{ displayName: "security-approvers" }] };
    expect(mayDecide(ticket, alice)).toBe(false);
    expect(
      mayDecide({ ...ticket, status: "SCHEDULED" }, { user: { id: "u-dave", userName: "dave" }, groups: [] }),
    ).toBe(false);
  });
});
