import { describe, expect, it } from "vitest";
import { auditErrorField, auditFilter, exportPath, verificationSummary } from "./audit";

const now = new Date("2026-03-01T12:00:00Z");

describe("auditFilter", () => {
  it("maps actor, ticket, kinds and a relative range", () => {
    const { filter, errors } = auditFilter(
      {
        actorId: "u1",
        ticketId: " 3F2A8C1E-5B7D-4E9A-8C6F-1A2B3C4D5E6F ",
        kinds: ["ticket.active"],
        range: { type: "relative", amount: 1, unit: "day" },
      },
      now,
    );
    expect(errors).toEqual({});
    expect(filter).toEqual({
      actorId: "u1",
      ticketId: "3f2a8c1e-5b7d-4e9a-8c6f-1a2b3c4d5e6f",
      types: ["ticket.active"],
      since: "2026-02-28T12:00:00.000Z",
      until: "2026-03-01T12:00:00.000Z",
    });
  });
  it("says which field is wrong before asking the server", () => {
    const { errors } = auditFilter({ actorId: null, ticketId: "abc", kinds: [], range: null }, now);
    expect(Object.keys(errors)).toEqual(["ticketId"]);
  });
  it("is empty when nothing is chosen", () => {
    expect(auditFilter({ actorId: null, ticketId: "", kinds: [], range: null }, now).filter).toEqual({});
  });
});

describe("exportPath", () => {
  it("sends the same filter to the export", () => {
    const path = exportPath({ actorId: "u 1", types: ["a.b", "c.d"], since: "2026-01-01T00:00:00.000Z" }, "json");
    const url = new URL(path, "http://x");
    expect(url.pathname).toBe("/audit/export");
    expect(Object.fromEntries(url.searchParams)).toEqual({
      format: "json",
      actorId: "u 1",
      types: "a.b,c.d",
      since: "2026-01-01T00:00:00.000Z",
    });
  });
});

describe("auditErrorField", () => {
  it("maps server fields to form fields", () => {
    expect(auditErrorField("since")).toBe("range");
    expect(auditErrorField("ticketId")).toBe("ticketId");
    expect(auditErrorField("after")).toBeNull();
  });
});

describe("verificationSummary", () => {
  const base = { checked: 10, firstSeq: 0, headSeq: 10, reason: "", trigger: "MANUAL" };
  it("says intact, broken, unfinished or never", () => {
    expect(verificationSummary({ ...base, status: "OK" })).toEqual({
      type: "success",
      text: "Intact: 10 events verified from the first event to seq 10 (Verify now).",
    });
    const broken = verificationSummary({
      ...base,
      status: "BROKEN",
      brokenSeq: 4,
      checked: 3,
      reason: "its contents do not match its hash (the row was edited)",
      trigger: "CLI",
    });
    expect(broken.type).toBe("error");
    expect(broken.text).toContain("Broken at seq 4");
    expect(broken.text).toContain("jit audit verify");
    expect(verificationSummary({ ...base, status: "FAILED", reason: "abandoned" }).type).toBe("warning");
    expect(verificationSummary(null).text).toContain("Never verified");
  });
});
