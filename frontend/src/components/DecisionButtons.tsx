import { useState } from "react";
import { useMutation } from "urql";
import Button from "@cloudscape-design/components/button";
import SpaceBetween from "@cloudscape-design/components/space-between";
import { ApproveTicketDocument, RejectTicketDocument } from "../graphql/generated/graphql";
import { useNotifications } from "../app/notifications";
import { ConfirmWithText } from "./ConfirmWithText";

type Outcome = "approve" | "reject";

/** Approve or reject one or many tickets with one comment; each ticket is decided on its own and reported. */
export function DecisionButtons({ tickets, onDone }: { tickets: { id: string }[]; onDone?: () => void }) {
  const [open, setOpen] = useState<Outcome | null>(null);
  const [comment, setComment] = useState("");
  const [busy, setBusy] = useState(false);
  const [, approve] = useMutation(ApproveTicketDocument);
  const [, reject] = useMutation(RejectTicketDocument);
  const { notify } = useNotifications();
  const n = tickets.length;
  const what = n === 1 ? "ticket" : `${n} tickets`;

  const submit = async () => {
    if (!open) return;
    setBusy(true);
    const failures: string[] = [];
    for (const t of tickets) {
      const res =
        open === "approve" ? await approve({ ticketId: t.id, comment }) : await reject({ ticketId: t.id, comment });
      const data = res.data ? ("approveTicket" in res.data ? res.data.approveTicket : res.data.rejectTicket) : null;
      if (res.error || !data) failures.push(`${t.id.slice(0, 8)}: ${res.error?.message ?? "failed"}`);
      else if (data.__typename !== "Ticket")
        failures.push(`${t.id.slice(0, 8)}: ${(data as { message?: string }).message ?? "not allowed"}`);
    }
    setBusy(false);
    const done = n - failures.length;
    if (done)
      notify({
        type: "success",
        content: `${open === "approve" ? "Approved" : "Rejected"} ${done === 1 ? "1 ticket" : `${done} tickets`}.`,
      });
    if (failures.length)
      notify({ type: "error", header: `${failures.length} could not be decided`, content: failures.join("; ") });
    setOpen(null);
    setComment("");
    onDone?.();
  };

  return (
    <>
      <SpaceBetween direction="horizontal" size="xs">
        <Button disabled={!n} onClick={() => setOpen("reject")}>
          Reject
        </Button>
        <Button variant="primary" disabled={!n} onClick={() => setOpen("approve")}>
          Approve
        </Button>
      </SpaceBetween>
      <ConfirmWithText
        visible={open !== null}
        onDismiss={() => setOpen(null)}
        header={open === "approve" ? `Approve ${what}` : `Reject ${what}`}
        label="Comment"
        description="Shown to the requester and kept in the audit trail."
        confirmText={open === "approve" ? "Approve" : "Reject"}
        value={comment}
        onChange={setComment}
        onConfirm={submit}
        busy={busy}
      />
    </>
  );
}
