import StatusIndicator from "@cloudscape-design/components/status-indicator";
import type { TicketStatus as Status } from "../graphql/generated/graphql";
import { statusLabel, statusType } from "../lib/status";

export function TicketStatus({ status, endReason }: { status: Status; endReason?: string | null }) {
  const label = statusLabel(status) + (status === "ENDED" && endReason ? ` (${endReason.toLowerCase()})` : "");
  return (
    <span data-testid="ticket-status" data-status={status}>
      <StatusIndicator type={statusType(status)} wrapText={false}>
        {label}
      </StatusIndicator>
    </span>
  );
}
