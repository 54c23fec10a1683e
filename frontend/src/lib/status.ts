import type { StatusIndicatorProps } from "@cloudscape-design/components/status-indicator";
import type { TicketStatus } from "../graphql/generated/graphql";

export const TICKET_STATUSES: TicketStatus[] = [
  "PENDING_APPROVAL",
  "SCHEDULED",
  "GRANTING",
  "ACTIVE",
  "REVOKING",
  "ENDED",
  "REJECTED",
  "CANCELLED",
  "EXPIRED",
  "FAILED",
];

export const LIVE_STATUSES: TicketStatus[] = ["PENDING_APPROVAL", "SCHEDULED", "GRANTING", "ACTIVE", "REVOKING"];

const TYPE: Record<TicketStatus, StatusIndicatorProps.Type> = {
  PENDING_APPROVAL: "pending",
  SCHEDULED: "info",
  GRANTING: "in-progress",
  ACTIVE: "success",
  REVOKING: "in-progress",
  ENDED: "stopped",
  REJECTED: "error",
  CANCELLED: "stopped",
  EXPIRED: "stopped",
  FAILED: "error",
};

export function statusType(status: TicketStatus): StatusIndicatorProps.Type {
  return TYPE[status] ?? "info";
}

/** PENDING_APPROVAL -> "Pending approval" */
export function statusLabel(status: string): string {
  const words = status.toLowerCase().split("_");
  return [words[0].charAt(0).toUpperCase() + words[0].slice(1), ...words.slice(1)].join(" ");
}

/** What the requester or principal can do now; the server decides in the end. */
export function canCancel(status: TicketStatus): boolean {
  return status === "PENDING_APPROVAL" || status === "SCHEDULED";
}

export function canRevoke(status: TicketStatus): boolean {
  return status === "ACTIVE" || status === "GRANTING";
}

/** Only a SCHEDULED or ACTIVE ticket's end can be moved. */
export function canExtend(status: TicketStatus): boolean {
  return status === "SCHEDULED" || status === "ACTIVE";
}
