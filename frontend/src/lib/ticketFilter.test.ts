import { describe, expect, it } from "vitest";
import { tokensToFilter } from "./ticketFilter";

const lookup = { users: { alice: "u-alice", bob: "u-bob" }, accounts: { "payments-prod": "111111111111" } };

describe("tickets property filter to the server's TicketFilter", () => {
  it("maps status, account, principal and requester", () => {
    const { filter, error } = tokensToFilter(
      [
        { propertyKey: "status", operator: "=", value: "ACTIVE" },
        { propertyKey: "status", operator: "=", value: "Pending approval" },
        { propertyKey: "account", operator: "=", value: "payments-prod" },
        { propertyKey: "principal", operator: "=", value: "alice" },
        { propertyKey: "requester", operator: "=", value: "bob" },
      ],
      lookup,
    );
    expect(error).toBeNull();
    expect(filter).toEqual({
      status: ["ACTIVE", "PENDING_APPROVAL"],
      accountId: "111111111111",
      principalId: "u-alice",
      requesterId: "u-bob",
    });
  });
  it("takes a raw account id", () => {
    expect(tokensToFilter([{ propertyKey: "account", operator: "=", value: "222222222222" }], lookup).filter).toEqual({
      accountId: "222222222222",
    });
  });
  it("reports unknown values and free text instead of matching everything", () => {
    expect(tokensToFilter([{ propertyKey: "status", operator: "=", value: "DONE" }], lookup).error).toMatch(
      /Unknown status/,
    );
    expect(tokensToFilter([{ propertyKey: "principal", operator: "=", value: "mallory" }], lookup).error).toMatch(
      /Unknown user/,
    );
    expect(tokensToFilter([{ operator: ":", value: "alice" }], lookup).error).toMatch(/Choose a property/);
  });
});
