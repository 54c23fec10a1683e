import { describe, expect, it } from "vitest";
import { checkDelegationForm, splitDelegations } from "./delegations";
import { checkTokenForm, tokenState } from "./tokens";
import { canExtend } from "./status";
import { localDateTimeToIso } from "./time";

const NOW = new Date("2026-11-24T12:00:00Z");

describe("delegations", () => {
  it("splits what I gave from what I was given", () => {
    const all = [
      { id: "1", delegator: { id: "me" }, delegate: { id: "x" } },
      { id: "2", delegator: { id: "y" }, delegate: { id: "me" } },
      { id: "3", delegator: { id: "y" }, delegate: { id: "z" } },
    ];
    const { given, received } = splitDelegations(all, "me");
    expect(given.map((d) => d.id)).toEqual(["1"]);
    expect(received.map((d) => d.id)).toEqual(["2"]);
  });

  it("checks the create form", () => {
    const empty = checkDelegationForm(
      { delegateId: null, endDate: "", endTime: "", reason: " " },
      "me",
      NOW,
      localDateTimeToIso,
    );
    expect(Object.keys(empty.errors).sort()).toEqual(["delegateId", "endsAt", "reason"]);
    const self = checkDelegationForm(
      { delegateId: "me", endDate: "2030-01-01", endTime: "10:00", reason: "x" },
      "me",
      NOW,
      localDateTimeToIso,
    );
    expect(self.errors).toEqual({ delegateId: "You cannot delegate to yourself." });
    const past = checkDelegationForm(
      { delegateId: "bob", endDate: "2020-01-01", endTime: "10:00", reason: "x" },
      "me",
      NOW,
      localDateTimeToIso,
    );
    expect(past.errors.endsAt).toMatch(/future/);
    const ok = checkDelegationForm(
      { delegateId: "bob", endDate: "2030-01-01", endTime: "", reason: "leave" },
      "me",
      NOW,
      localDateTimeToIso,
    );
    expect(ok.errors).toEqual({});
    expect(ok.endsAt).toBe(new Date(2030, 0, 1, 23, 59).toISOString());
  });
});

describe("API tokens", () => {
  it("says whether a token is active, expired or revoked", () => {
    expect(tokenState({ expiresAt: "2030-01-01T00:00:00Z" }, NOW)).toBe("active");
    expect(tokenState({ expiresAt: null }, NOW)).toBe("active");
    expect(tokenState({ expiresAt: "2026-11-24T11:59:59Z" }, NOW)).toBe("expired");
    expect(tokenState({ expiresAt: "2030-01-01T00:00:00Z", revokedAt: "2026-11-01T00:00:00Z" }, NOW)).toBe("revoked");
  });

  it("checks the create form and computes the expiry", () => {
    expect(Object.keys(checkTokenForm({ name: "", scopes: [], days: "0" }, NOW).errors).sort()).toEqual([
      "expiresAt",
      "name",
      "scopes",
    ]);
    expect(checkTokenForm({ name: "ci", scopes: ["READ"], days: "1.5" }, NOW).errors.expiresAt).toBeTruthy();
    const ok = checkTokenForm({ name: "ci", scopes: ["READ"], days: "30" }, NOW);
    expect(ok.errors).toEqual({});
    expect(ok.expiresAt).toBe("2026-12-24T12:00:00.000Z");
  });

  it("sends no expiry by default, so the token ends with the sign-in that mints it", () => {
    const ok = checkTokenForm({ name: "ci", scopes: ["READ"], days: "" }, NOW);
    expect(ok.errors).toEqual({});
    expect(ok.expiresAt).toBeNull();
  });
});

describe("extension", () => {
  it("is offered only for scheduled and active tickets", () => {
    expect(canExtend("ACTIVE")).toBe(true);
    expect(canExtend("SCHEDULED")).toBe(true);
    expect(canExtend("PENDING_APPROVAL")).toBe(false);
    expect(canExtend("ENDED")).toBe(false);
  });
});

describe("ticket time filter", () => {
  it("maps a relative range to bounds ending now, on the chosen field", async () => {
    const { rangeToFilter } = await import("./ticketFilter");
    expect(rangeToFilter("created", { type: "relative", amount: 7, unit: "day" }, NOW)).toEqual({
      createdAfter: "2026-11-17T12:00:00.000Z",
      createdBefore: "2026-11-24T12:00:00.000Z",
    });
    expect(
      rangeToFilter(
        "start",
        { type: "absolute", startDate: "2026-11-01T00:00:00Z", endDate: "2026-11-02T00:00:00Z" },
        NOW,
      ),
    ).toEqual({
      startAfter: "2026-11-01T00:00:00.000Z",
      startBefore: "2026-11-02T00:00:00.000Z",
    });
    expect(rangeToFilter("start", null, NOW)).toEqual({});
    expect(rangeToFilter("start", { type: "absolute", startDate: "x", endDate: "" }, NOW)).toEqual({});
  });
});

describe("wizard paging", () => {
  it("learns the next cursor once per page and keeps targets on chosen accounts", async () => {
    const { keepOnAccounts, withNextCursor } = await import("./targets");
    expect(withNextCursor([null], 1, { hasNextPage: true, endCursor: "c1" })).toEqual([null, "c1"]);
    expect(withNextCursor([null, "c1"], 1, { hasNextPage: true, endCursor: "c1" })).toEqual([null, "c1"]);
    expect(withNextCursor([null], 1, { hasNextPage: false, endCursor: "c1" })).toEqual([null]);
    const t = (id: string) => ({
      account: { id, name: id, organizationalUnitPath: "/r/", tags: [] },
      permissionSet: { arn: "a", name: "p" },
    });
    expect(keepOnAccounts([t("1"), t("2")], ["2"]).map((x) => x.account.id)).toEqual(["2"]);
  });
});
