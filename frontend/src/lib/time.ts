/** Time arithmetic and wording shared by the pages; everything takes "now" explicitly so it tests without a clock. */

const UNITS: [string, number][] = [
  ["d", 86400],
  ["h", 3600],
  ["m", 60],
  ["s", 1],
];

/** 5400 -> "1h 30m"; at most the two largest non-zero units, so a countdown stays readable. */
export function formatDuration(totalSeconds: number): string {
  let rest = Math.max(0, Math.floor(totalSeconds));
  if (rest === 0) return "0s";
  const parts: string[] = [];
  for (const [unit, size] of UNITS) {
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (n > 0) parts.push(`${n}${unit}`);
  }
  return parts.slice(0, 2).join(" ");
}

export function secondsBetween(from: Date, to: Date): number {
  return Math.floor((to.getTime() - from.getTime()) / 1000);
}

/** What a countdown shows for a ticket window at `now`. */
export function remainingText(startAt: string, endAt: string, now: Date): string {
  const start = new Date(startAt);
  const end = new Date(endAt);
  if (now < start) return `starts in ${formatDuration(secondsBetween(now, start))}`;
  if (now < end) return `${formatDuration(secondsBetween(now, end))} left`;
  return "ended";
}

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return "-";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, {
    year: "numeric",
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
}

export type DurationUnit = "minutes" | "hours" | "days";
const UNIT_SECONDS: Record<DurationUnit, number> = { minutes: 60, hours: 3600, days: 86400 };

export function toSeconds(amount: number, unit: DurationUnit): number {
  return Math.round(amount * UNIT_SECONDS[unit]);
}

/** Combine the wizard's date ("2026-11-24") and time ("13:05") inputs into an ISO instant in local time. */
export function localDateTimeToIso(date: string, time: string): string | null {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || !/^\d{2}:\d{2}(:\d{2})?$/.test(time)) return null;
  const [y, mo, d] = date.split("-").map(Number);
  const [h, mi, s] = time.split(":").map(Number);
  const value = new Date(y, mo - 1, d, h, mi, s || 0);
  return Number.isNaN(value.getTime()) ? null : value.toISOString();
}

/** The wizard's start choice as the request's input: now, when approved, or at a time. */
export type StartMode = "now" | "approved" | "later";

export function startInput(
  mode: StartMode,
  laterIso: string | null,
): { startAt: string | null; startWhenApproved: boolean } {
  return { startAt: mode === "later" ? laterIso : null, startWhenApproved: mode === "approved" };
}
