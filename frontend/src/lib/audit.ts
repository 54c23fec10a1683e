/** The audit log page's logic: its filter, the export URL, and the chain's status in words. */
import type { AuditEventFilter } from "../graphql/generated/graphql";
import { rangeToFilter, type TimeRange } from "./ticketFilter";

/** The actions JIT records (docs/audit.md), offered as kinds to filter on. */
export const AUDIT_KINDS = [
  "ticket.requested",
  "ticket.scheduled",
  "ticket.granting",
  "ticket.active",
  "ticket.revoking",
  "ticket.ended",
  "ticket.rejected",
  "ticket.cancelled",
  "ticket.expired",
  "ticket.failed",
  "ticket.extended",
  "ticket.break_glass",
  "ticket.break_glass_reviewed",
  "decision.approved",
  "decision.rejected",
  "extension.requested",
  "extension.approved",
  "extension.rejected",
  "assignment.requested",
  "assignment.succeeded",
  "assignment.found",
  "session_kill.applied",
  "session_kill.failed",
  "approval.reminder",
  "revoke.retry_scheduled",
  "revoke.alert",
  "delegation.created",
  "delegation.revoked",
  "rule.created",
  "rule.updated",
  "rule.deleted",
  "rule.change_proposed",
  "rule.change_approved",
  "rule.change_rejected",
  "permission_set_group.created",
  "permission_set_group.updated",
  "permission_set_group.deleted",
  "token.created",
  "token.revoked",
  "user.signed_in",
  "user.signed_out",
  "user.session_ended",
  "sync.completed",
  "drift.detected",
  "drift.resolved",
  "drift.removed",
  "audit.pruned",
  "audit.verification_requested",
];

export interface AuditForm {
  actorId: string | null;
  ticketId: string;
  kinds: string[];
  range: TimeRange | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The form as an AuditEventFilter, or errors keyed by form field (checked before asking). */
export function auditFilter(form: AuditForm, now: Date): { filter: AuditEventFilter; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const filter: AuditEventFilter = {};
  if (form.actorId) filter.actorId = form.actorId;
  const ticket = form.ticketId.trim();
  if (ticket) {
    if (UUID.test(ticket)) filter.ticketId = ticket.toLowerCase();
    else errors.ticketId = "A ticket id looks like 3f2a8c1e-5b7d-4e9a-8c6f-1a2b3c4d5e6f.";
  }
  if (form.kinds.length) filter.types = [...form.kinds];
  const bounds = rangeToFilter("created", form.range, now);
  if (bounds.createdAfter) filter.since = bounds.createdAfter;
  if (bounds.createdBefore) filter.until = bounds.createdBefore;
  return { filter, errors };
}

/** Field names in the server's typed errors, as the form's fields. */
export function auditErrorField(field: string | null | undefined): string | null {
  if (!field) return null;
  if (field === "ticketId" || field === "actorId") return field;
  if (field === "since" || field === "until") return "range";
  if (field === "types") return "kinds";
  return null;
}

/** GET /audit/export's query string for the same filter. */
export function exportPath(filter: AuditEventFilter, format: "csv" | "json"): string {
  const params = new URLSearchParams({ format });
  if (filter.actorId) params.set("actorId", filter.actorId);
  if (filter.ticketId) params.set("ticketId", String(filter.ticketId));
  if (filter.subjectType) params.set("subjectType", filter.subjectType);
  if (filter.subjectId) params.set("subjectId", filter.subjectId);
  if (filter.types?.length) params.set("types", filter.types.join(","));
  if (filter.since) params.set("since", String(filter.since));
  if (filter.until) params.set("until", String(filter.until));
  return `/audit/export?${params.toString()}`;
}

export interface Verification {
  status: string;
  checked: number;
  firstSeq: number;
  headSeq: number;
  brokenSeq?: number | null;
  reason: string;
  trigger: string;
}

/** The chain's status for a StatusIndicator, in words. */
export function verificationSummary(v: Verification | null | undefined): {
  type: "success" | "error" | "warning" | "info";
  text: string;
} {
  if (!v) return { type: "info", text: "Never verified. An admin can verify it now, or run jit audit verify." };
  const from = v.firstSeq ? `from the pruning checkpoint (seq ${v.firstSeq})` : "from the first event";
  const by = v.trigger === "CLI" ? "jit audit verify" : "Verify now";
  if (v.status === "OK")
    return { type: "success", text: `Intact: ${v.checked} events verified ${from} to seq ${v.headSeq} (${by}).` };
  if (v.status === "BROKEN") {
    const at = v.brokenSeq != null ? `at seq ${v.brokenSeq}` : "at the end";
    return { type: "error", text: `Broken ${at}: ${v.reason} (${v.checked} events verified before it; ${by}).` };
  }
  return { type: "warning", text: `The verification did not finish: ${v.reason || v.status}.` };
}
