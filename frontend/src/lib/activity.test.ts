import { describe, expect, it } from "vitest";
import { activityEmptyState, MAX_POINTS, perMinuteSeries, sourceNotice } from "./activity";

describe("perMinuteSeries", () => {
  it("fills quiet minutes with zeros from the window's start to its end", () => {
    const s = perMinuteSeries(
      [
        { minute: "2026-01-01T10:01:00Z", calls: 2, writes: 0, errors: 0 },
        { minute: "2026-01-01T10:03:00Z", calls: 3, writes: 1, errors: 1 },
      ],
      "2026-01-01T10:00:30Z",
      "2026-01-01T10:04:10Z",
    );
    expect(s.bucketMinutes).toBe(1);
    expect(s.calls.map((p) => p.y)).toEqual([0, 2, 0, 3, 0]);
    expect(s.writes.map((p) => p.y)).toEqual([0, 0, 0, 1, 0]);
    expect(s.errors.map((p) => p.y)).toEqual([0, 0, 0, 1, 0]);
    expect(s.calls[0].x.toISOString()).toBe("2026-01-01T10:00:00.000Z");
  });

  it("stops at the moment the source was read when the window is still open", () => {
    const s = perMinuteSeries([], "2026-01-01T10:00:00Z", "2026-01-01T12:00:00Z", "2026-01-01T10:02:00Z");
    expect(s.calls).toHaveLength(3);
  });

  it("buckets a long window so the chart stays readable", () => {
    const s = perMinuteSeries(
      [
        { minute: "2026-01-01T10:00:00Z", calls: 1, writes: 0, errors: 0 },
        { minute: "2026-01-01T10:01:00Z", calls: 1, writes: 0, errors: 0 },
      ],
      "2026-01-01T10:00:00Z",
      "2026-01-02T10:00:00Z",
    );
    expect(s.bucketMinutes).toBe(3);
    expect(s.calls.length).toBeLessThanOrEqual(MAX_POINTS);
    expect(s.calls[0].y).toBe(2);
    expect(s.calls.reduce((a, p) => a + p.y, 0)).toBe(2);
  });

  it("ignores minutes outside the window", () => {
    const s = perMinuteSeries(
      [{ minute: "2026-01-01T09:00:00Z", calls: 9, writes: 0, errors: 0 }],
      "2026-01-01T10:00:00Z",
      "2026-01-01T10:01:00Z",
    );
    expect(s.calls.map((p) => p.y)).toEqual([0, 0]);
  });
});

describe("sourceNotice", () => {
  const w = {
    start: "2026-01-01T10:00:00Z",
    end: "2026-01-01T12:00:00Z",
    readAt: "2026-01-01T11:00:00Z",
    deliveryDelaySeconds: 900,
  };
  it("says plainly that the source has not caught up, and when it was read", () => {
    const n = sourceNotice({ ...w, caughtUp: false });
    expect(n.type).toBe("warning");
    expect(n.header).toBe("The source has not caught up yet");
    expect(n.text).toContain("up to 15 minutes late");
    expect(n.text).toContain("Last read at");
  });
  it("says when it is complete", () => {
    expect(sourceNotice({ ...w, caughtUp: true }).type).toBe("info");
  });
});

describe("activityEmptyState", () => {
  it("tells a missing configuration from a refusal", () => {
    expect(activityEmptyState({ __typename: "ValidationError", field: "source", message: "x" }).header).toBe(
      "Session activity is not configured",
    );
    expect(activityEmptyState({ __typename: "NotFoundError", message: "no" }).header).toBe(
      "You may not see this session activity",
    );
    expect(activityEmptyState({ __typename: "ValidationError", field: "after", message: "bad" }).header).toBe(
      "Session activity could not be read",
    );
  });
});
