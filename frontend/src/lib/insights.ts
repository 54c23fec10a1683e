/** The insights dashboard's wording and chart data. */
import { formatDuration } from "./time";

export interface RuleTime {
  ruleName: string;
  tickets: number;
  p50Seconds: number;
  p95Seconds: number;
}

/** Two bar series (p50, p95) over the rules, in minutes so the axis reads naturally. */
export function approvalSeries(rules: RuleTime[]): {
  p50: { x: string; y: number }[];
  p95: { x: string; y: number }[];
} {
  const minutes = (s: number) => Math.round((s / 60) * 10) / 10;
  return {
    p50: rules.map((r) => ({ x: r.ruleName, y: minutes(r.p50Seconds) })),
    p95: rules.map((r) => ({ x: r.ruleName, y: minutes(r.p95Seconds) })),
  };
}

export interface Lateness {
  revokes: number;
  late: number;
  worstLateSeconds: number;
  averageEarlySeconds?: number | null;
}

export function latenessText(l: Lateness): { type: "success" | "warning" | "info"; text: string } {
  if (l.revokes === 0) return { type: "info", text: "No revoke in this range." };
  const average =
    l.averageEarlySeconds == null
      ? ""
      : l.averageEarlySeconds >= 0
        ? `; on average ${formatDuration(l.averageEarlySeconds)} before the end`
        : `; on average ${formatDuration(-l.averageEarlySeconds)} after the end`;
  if (l.late === 0) return { type: "success", text: `All ${l.revokes} revokes started on time${average}.` };
  return {
    type: "warning",
    text: `${l.late} of ${l.revokes} revokes started after the ticket's end, the latest by ${formatDuration(l.worstLateSeconds)}${average}.`,
  };
}

export interface Budget {
  mode: string;
  ratePerSecond: number;
  maxOutstanding: number;
  outstanding: number;
}

/** The share of outstanding write slots in use, 0-100. */
export function budgetPercent(b: Budget): number {
  if (b.maxOutstanding <= 0) return 0;
  return Math.min(100, Math.round((b.outstanding / b.maxOutstanding) * 100));
}

/** Whether the range has anything to chart at all. */
export function hasTickets(i: {
  activeGrants: { count: number }[];
  topAccounts: unknown[];
  approvalTimes: unknown[];
}): boolean {
  return i.topAccounts.length > 0 || i.approvalTimes.length > 0 || i.activeGrants.some((d) => d.count > 0);
}
