/** Session activity: the calls-per-minute series for the chart, and what to say about the source. */

export interface MinuteCount {
  minute: string;
  calls: number;
  writes: number;
  errors: number;
}

export interface Point {
  x: Date;
  y: number;
}

export interface Series {
  calls: Point[];
  writes: Point[];
  errors: Point[];
  /** Minutes per point: 1, or more when the window is too long to draw minute by minute. */
  bucketMinutes: number;
}

const MINUTE = 60_000;
/** A chart with more points than this is unreadable and slow; longer windows are bucketed. */
export const MAX_POINTS = 720;

function floorMinute(t: number): number {
  return Math.floor(t / MINUTE) * MINUTE;
}

/**
 * A dense series from the window's start to its end (or to when the source was read, if
 * earlier), with zeros for quiet minutes; the server sends only minutes with calls.
 */
export function perMinuteSeries(minutes: MinuteCount[], start: string, end: string, readAt?: string): Series {
  const from = floorMinute(new Date(start).getTime());
  const last = Math.min(new Date(end).getTime(), readAt ? new Date(readAt).getTime() : Infinity);
  const to = floorMinute(Math.max(last, from));
  const span = Math.floor((to - from) / MINUTE) + 1;
  const bucketMinutes = Math.max(1, Math.ceil(span / MAX_POINTS));
  const size = bucketMinutes * MINUTE;
  const count = Math.floor((to - from) / size) + 1;
  const calls = new Array<number>(count).fill(0);
  const writes = new Array<number>(count).fill(0);
  const errors = new Array<number>(count).fill(0);
  for (const m of minutes) {
    const i = Math.floor((new Date(m.minute).getTime() - from) / size);
    if (i < 0 || i >= count) continue;
    calls[i] += m.calls;
    writes[i] += m.writes;
    errors[i] += m.errors;
  }
  const at = (i: number) => new Date(from + i * size);
  return {
    calls: calls.map((y, i) => ({ x: at(i), y })),
    writes: writes.map((y, i) => ({ x: at(i), y })),
    errors: errors.map((y, i) => ({ x: at(i), y })),
    bucketMinutes,
  };
}

export interface SessionWindow {
  start: string;
  end: string;
  readAt: string;
  caughtUp: boolean;
  deliveryDelaySeconds: number;
}

function clock(iso: string): string {
  return new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
}

/** What to say about how complete the activity is: plain words, never a stack trace. */
export function sourceNotice(w: SessionWindow): { type: "info" | "warning"; header: string; text: string } {
  const minutes = Math.round(w.deliveryDelaySeconds / 60);
  if (w.caughtUp) {
    return {
      type: "info",
      header: "Complete",
      text: `The source has caught up with the whole window. Last read at ${clock(w.readAt)}.`,
    };
  }
  const through = new Date(new Date(w.readAt).getTime() - w.deliveryDelaySeconds * 1000).toISOString();
  return {
    type: "warning",
    header: "The source has not caught up yet",
    text:
      `CloudTrail delivers events up to ${minutes} minutes late, so calls made after about ${clock(through)} ` +
      `may not be shown yet. Last read at ${clock(w.readAt)}.`,
  };
}

/** Which empty state a typed error from the activity queries calls for. */
export function activityEmptyState(error: { __typename: string; message: string; field?: string | null }): {
  header: string;
  text: string;
} {
  if (error.__typename === "ValidationError" && error.field === "source") {
    return {
      header: "Session activity is not configured",
      text: `${error.message}. An admin can set it up (docs/audit.md).`,
    };
  }
  if (error.__typename === "NotFoundError" || error.__typename === "NotAllowedError") {
    return { header: "You may not see this session activity", text: error.message };
  }
  return { header: "Session activity could not be read", text: error.message };
}
