import { describe, expect, it } from "vitest";
import { changes, errorKind, kindLabel, toggle, toMatrix } from "./notifyPrefs";

const prefs = [
  { kind: "APPROVED", channels: ["EMAIL", "SLACK"], isDefault: true },
  { kind: "REVOKED", channels: [], isDefault: false },
];

describe("notification preferences matrix", () => {
  it("toggles one cell without touching the others", () => {
    const m = toMatrix(prefs);
    const off = toggle(m, "APPROVED", "SLACK", false);
    expect(off.APPROVED).toEqual(["EMAIL"]);
    expect(m.APPROVED).toEqual(["EMAIL", "SLACK"]);
    expect(toggle(off, "REVOKED", "EMAIL", true).REVOKED).toEqual(["EMAIL"]);
    expect(toggle(m, "APPROVED", "EMAIL", true).APPROVED).toEqual(["EMAIL", "SLACK"]);
  });

  it("sends only the kinds that changed", () => {
    const m = toMatrix(prefs);
    expect(changes(m, m, ["APPROVED", "REVOKED"])).toEqual([]);
    const next = toggle(toggle(m, "REVOKED", "SLACK", true), "APPROVED", "EMAIL", false);
    expect(changes(m, next, ["APPROVED", "REVOKED"])).toEqual([
      { kind: "APPROVED", channels: ["SLACK"] },
      { kind: "REVOKED", channels: ["SLACK"] },
    ]);
  });

  it("puts a typed error on the row it names", () => {
    const sent = [{ kind: "APPROVED" }, { kind: "REVOKED" }];
    expect(errorKind("preferences[1].channels[0]", sent)).toBe("REVOKED");
    expect(errorKind("preferences[5].kind", sent)).toBeNull();
    expect(errorKind(null, sent)).toBeNull();
  });

  it("labels kinds in words", () => {
    expect(kindLabel("DECISION_NEEDED")).toBe("A ticket needs your decision");
    expect(kindLabel("SOMETHING_NEW")).toBe("something new");
  });
});
