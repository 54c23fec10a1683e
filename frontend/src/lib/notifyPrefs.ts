/** Notification preferences as a matrix: each kind x each configured personal channel. */

export interface Preference {
  kind: string;
  channels: string[];
  isDefault: boolean;
}

export type Matrix = Record<string, string[]>;

export const KIND_LABELS: Record<string, string> = {
  REQUESTED_FOR_YOU: "Someone requested access for you",
  DECISION_NEEDED: "A ticket needs your decision",
  APPROVAL_REMINDER: "Reminder: a decision is still needed",
  APPROVED: "Your ticket was approved",
  REJECTED: "Your ticket was rejected",
  APPROVAL_EXPIRED: "Your ticket expired unapproved",
  GRANTED: "Your access was granted",
  FAILED: "Your access could not be granted",
  EXPIRING_SOON: "Your access ends soon",
  EXTENDED: "Your access was extended",
  REVOKED: "Your access was revoked",
  ENDED: "Your access ended",
  BREAK_GLASS: "Break-glass access was used and needs a review",
  DRIFT_FOUND: "Drift was found in AWS",
  DELEGATION_CREATED: "Someone delegated their approvals to you",
};

export function kindLabel(kind: string): string {
  return KIND_LABELS[kind] ?? kind.toLowerCase().replace(/_/g, " ");
}

export function toMatrix(prefs: Preference[]): Matrix {
  return Object.fromEntries(prefs.map((p) => [p.kind, [...p.channels]]));
}

export function toggle(matrix: Matrix, kind: string, channel: string, on: boolean): Matrix {
  const current = matrix[kind] ?? [];
  const next = on
    ? current.includes(channel)
      ? current
      : [...current, channel]
    : current.filter((c) => c !== channel);
  return { ...matrix, [kind]: next };
}

/** Only the kinds whose channels changed, in the order of `kinds`: what to send. */
export function changes(original: Matrix, current: Matrix, kinds: string[]): { kind: string; channels: string[] }[] {
  const same = (a: string[] = [], b: string[] = []) => a.length === b.length && a.every((c) => b.includes(c));
  return kinds
    .filter((k) => !same(original[k], current[k]))
    .map((k) => ({ kind: k, channels: [...(current[k] ?? [])] }));
}

/**
 * A typed error's field ("preferences[2].channels[0]") as the kind of the row it names,
 * given the list that was sent; null when it names no row.
 */
export function errorKind(field: string | null | undefined, sent: { kind: string }[]): string | null {
  const m = /^preferences\[(\d+)\]/.exec(field ?? "");
  if (!m) return null;
  return sent[Number(m[1])]?.kind ?? null;
}
