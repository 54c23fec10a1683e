/** The approvals inbox at a glance: how long a ticket waited, what it still needs, and by when. */
import { formatDuration, secondsBetween } from "./time";

export interface InboxStep {
  position: number;
  name: string;
  ruleName: string;
  required: number;
  approvals: number;
  status: string;
  approverUsers: string[];
  approverGroups: string[];
}

export function waitedText(createdAt: string, now: Date): string {
  return formatDuration(secondsBetween(new Date(createdAt), now));
}

function who(step: InboxStep): string {
  const people = [...step.approverUsers, ...step.approverGroups.map((g) => `group ${g}`)];
  return people.length ? people.join(", ") : "its approvers";
}

/** One line per step still pending, in order: the first is what the ticket waits for now. */
export function stepNeeds(steps: InboxStep[]): string[] {
  return [...steps]
    .filter((s) => s.status === "PENDING")
    .sort((a, b) => a.position - b.position)
    .map((s, i) => {
      const more = Math.max(0, s.required - s.approvals);
      const label = `${s.name || `step ${s.position + 1}`} (${s.ruleName})`;
      const count = `${more} more approval${more === 1 ? "" : "s"}`;
      return `${i === 0 ? "" : "then "}${label}: ${count} from ${who(s)}`;
    });
}

export type DeadlineLevel = "error" | "warning" | "pending" | "info";

/** The approval deadline in words, and how urgent it is (under an hour, under a day). */
export function deadlineState(
  approvalExpiresAt: string | null | undefined,
  now: Date,
): { level: DeadlineLevel; text: string } {
  if (!approvalExpiresAt) return { level: "info", text: "no deadline" };
  const left = secondsBetween(now, new Date(approvalExpiresAt));
  if (left <= 0) return { level: "error", text: "expired" };
  const text = `${formatDuration(left)} left`;
  if (left < 3600) return { level: "error", text };
  if (left < 86400) return { level: "warning", text };
  return { level: "pending", text };
}

/** Earliest deadline first; tickets without one last; then the longest waiting first. */
export function byDeadline<T extends { approvalExpiresAt?: string | null; createdAt: string }>(a: T, b: T): number {
  const da = a.approvalExpiresAt ? new Date(a.approvalExpiresAt).getTime() : Infinity;
  const db = b.approvalExpiresAt ? new Date(b.approvalExpiresAt).getTime() : Infinity;
  if (da !== db) return da < db ? -1 : 1;
  return new Date(a.createdAt).getTime() - new Date(b.createdAt).getTime();
}
