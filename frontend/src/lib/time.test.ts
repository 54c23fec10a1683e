import { describe, expect, it } from "vitest";
import { formatDuration, localDateTimeToIso, remainingText, startInput, toSeconds } from "./time";

describe("formatDuration", () => {
  it("shows the two largest non-zero units", () => {
    expect(formatDuration(0)).toBe("0s");
    expect(formatDuration(59)).toBe("59s");
    expect(formatDuration(60)).toBe("1m");
    expect(formatDuration(5400)).toBe("1h 30m");
    expect(formatDuration(3661)).toBe("1h 1m");
    expect(formatDuration(90061)).toBe("1d 1h");
    expect(formatDuration(28800)).toBe("8h");
  });
  it("never shows negative time", () => {
    expect(formatDuration(-5)).toBe("0s");
  });
});

describe("remainingText (the countdown)", () => {
  const start = "2026-11-24T10:00:00Z";
  const end = "2026-11-24T11:00:00Z";
  it("counts down to the start before the window", () => {
    expect(remainingText(start, end, new Date("2026-11-24T09:58:30Z"))).toBe("starts in 1m 30s");
  });
  it("counts down to the end inside the window", () => {
    expect(remainingText(start, end, new Date("2026-11-24T10:00:00Z"))).toBe("1h left");
    expect(remainingText(start, end, new Date("2026-11-24T10:59:59Z"))).toBe("1s left");
  });
  it("says ended after the window", () => {
    expect(remainingText(start, end, new Date("2026-11-24T11:00:00Z"))).toBe("ended");
  });
});

describe("wizard time inputs", () => {
  it("converts a duration to seconds", () => {
    expect(toSeconds(90, "minutes")).toBe(5400);
    expect(toSeconds(1.5, "hours")).toBe(5400);
    expect(toSeconds(1, "days")).toBe(86400);
  });
  it("reads a local date and time, and refuses half-filled input", () => {
    const iso = localDateTimeToIso("2026-12-01", "13:05");
    expect(iso).not.toBeNull();
    const d = new Date(iso!);
    expect([d.getFullYear(), d.getMonth(), d.getDate(), d.getHours(), d.getMinutes()]).toEqual([2026, 11, 1, 13, 5]);
    expect(localDateTimeToIso("2026-12-01", "")).toBeNull();
    expect(localDateTimeToIso("", "13:05")).toBeNull();
    expect(localDateTimeToIso("tomorrow", "13:05")).toBeNull();
  });
});

describe("startInput", () => {
  it("asks for the window to start at the approval, now, or at the time given", () => {
    expect(startInput("approved", null)).toEqual({ startAt: null, startWhenApproved: true });
    expect(startInput("now", "2030-01-01T00:00:00.000Z")).toEqual({ startAt: null, startWhenApproved: false });
    expect(startInput("later", "2030-01-01T00:00:00.000Z")).toEqual({
      startAt: "2030-01-01T00:00:00.000Z",
      startWhenApproved: false,
    });
  });
});
