import { useState } from "react";
import { useMutation } from "urql";
import Button from "@cloudscape-design/components/button";
import SpaceBetween from "@cloudscape-design/components/space-between";
import { CancelTicketDocument, RevokeTicketDocument, type TicketStatus } from "../graphql/generated/graphql";
import { useNotifications } from "../app/notifications";
import { ConfirmWithText } from "./ConfirmWithText";
import { canCancel, canRevoke } from "../lib/status";

type Kind = "revoke" | "cancel";

/** Revoke and Cancel, each behind a confirmation that asks for a reason. The server decides who may. */
export function TicketActions({
  id,
  status,
  variant = "normal",
}: {
  id: string;
  status: TicketStatus;
  variant?: "normal" | "inline-link";
}) {
  const [open, setOpen] = useState<Kind | null>(null);
  const [reason, setReason] = useState("");
  const [, revoke] = useMutation(RevokeTicketDocument);
  const [, cancel] = useMutation(CancelTicketDocument);
  const [busy, setBusy] = useState(false);
  const { notify } = useNotifications();

  const submit = async () => {
    if (!open) return;
    setBusy(true);
    const run = open === "revoke" ? revoke : cancel;
    const res = await run({ ticketId: id, reason });
    setBusy(false);
    const data = res.data ? ("revokeTicket" in res.data ? res.data.revokeTicket : res.data.cancelTicket) : null;
    if (res.error || !data) {
      notify({ type: "error", content: res.error?.message ?? "The request failed." });
    } else if (data.__typename !== "Ticket") {
      notify({
        type: "error",
        header: `Could not ${open} the ticket`,
        content: (data as { message?: string }).message,
      });
    } else {
      notify({
        type: "success",
        content: open === "revoke" ? "Revoking the ticket: its access is being removed." : "Ticket cancelled.",
      });
    }
    setOpen(null);
    setReason("");
  };

  return (
    <>
      <SpaceBetween direction="horizontal" size="xs">
        {canRevoke(status) && (
          <Button variant={variant} onClick={() => setOpen("revoke")} ariaLabel={`Revoke ticket ${id}`}>
            Revoke
          </Button>
        )}
        {canCancel(status) && (
          <Button variant={variant} onClick={() => setOpen("cancel")} ariaLabel={`Cancel ticket ${id}`}>
            Cancel
          </Button>
        )}
      </SpaceBetween>
      <ConfirmWithText
        visible={open !== null}
        onDismiss={() => setOpen(null)}
        header={open === "revoke" ? "Revoke access" : "Cancel ticket"}
        label="Reason"
        description="Recorded in the ticket's audit trail."
        confirmText={open === "revoke" ? "Revoke" : "Cancel ticket"}
        value={reason}
        onChange={setReason}
        onConfirm={submit}
        busy={busy}
      />
    </>
  );
}
