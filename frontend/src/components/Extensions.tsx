import { useState } from "react";
import { useMutation } from "urql";
import FormField from "@cloudscape-design/components/form-field";
import Input from "@cloudscape-design/components/input";
import Select from "@cloudscape-design/components/select";
import SpaceBetween from "@cloudscape-design/components/space-between";
import {
  ApproveExtensionDocument,
  RejectExtensionDocument,
  RequestExtensionDocument,
  ReviewBreakGlassDocument,
  type TicketStatus,
} from "../graphql/generated/graphql";
import { useNotifications } from "../app/notifications";
import { resultMessage } from "../lib/errors";
import { canExtend } from "../lib/status";
import { formatDateTime, formatDuration, toSeconds, type DurationUnit } from "../lib/time";
import { TextAction } from "./TextAction";

const UNITS = [
  { value: "minutes", label: "minutes" },
  { value: "hours", label: "hours" },
  { value: "days", label: "days" },
];

/** Ask to move a SCHEDULED or ACTIVE ticket's end later. */
export function ExtendButton({
  id,
  status,
  variant = "normal",
}: {
  id: string;
  status: TicketStatus;
  variant?: "normal" | "inline-link";
}) {
  const [, request] = useMutation(RequestExtensionDocument);
  const { notify } = useNotifications();
  const [amount, setAmount] = useState("1");
  const [unit, setUnit] = useState<DurationUnit>("hours");
  if (!canExtend(status)) return null;
  const seconds = toSeconds(Number(amount), unit);
  return (
    <TextAction
      variant={variant}
      ariaLabel={`Extend ticket ${id}`}
      header="Extend access"
      label="Reason"
      description="Approvers see it; it is kept in the audit trail."
      confirmText="Request extension"
      required
      onOpen={() => {
        setAmount("1");
        setUnit("hours");
      }}
      fields={
        <FormField label="Additional time" description="Added to the ticket's current end.">
          <SpaceBetween direction="horizontal" size="xs">
            <Input
              type="number"
              inputMode="numeric"
              value={amount}
              onChange={(e) => setAmount(e.detail.value)}
              ariaLabel="Additional time amount"
            />
            <Select
              selectedOption={UNITS.find((u) => u.value === unit)!}
              onChange={(e) => setUnit(e.detail.selectedOption.value as DurationUnit)}
              options={UNITS}
              ariaLabel="Additional time unit"
            />
          </SpaceBetween>
        </FormField>
      }
      run={async (reason) => {
        if (!Number.isFinite(seconds) || seconds <= 0) return "Enter a positive amount of time.";
        const res = await request({ ticketId: id, additionalDurationSeconds: seconds, reason });
        const error = resultMessage(res, "requestExtension");
        if (error) return error;
        const ext = res.data!.requestExtension;
        if (ext.__typename === "Extension") {
          notify({
            type: "success",
            content:
              ext.status === "APPROVED"
                ? `Extended by ${formatDuration(seconds)}: access now ends ${formatDateTime(ext.newEndAt)}.`
                : `Extension by ${formatDuration(seconds)} requested; it waits for approval.`,
          });
        }
        return null;
      }}
    >
      Extend
    </TextAction>
  );
}

/** Approve or reject one pending extension. */
export function ExtensionDecision({ extensionId, onDone }: { extensionId: string; onDone?: () => void }) {
  const [, approve] = useMutation(ApproveExtensionDocument);
  const [, reject] = useMutation(RejectExtensionDocument);
  const { notify } = useNotifications();
  const short = extensionId.slice(0, 8);
  return (
    <SpaceBetween direction="horizontal" size="xs">
      <TextAction
        variant="inline-link"
        ariaLabel={`Reject extension ${short}`}
        header="Reject extension"
        label="Comment"
        confirmText="Reject"
        run={async (comment) => {
          const error = resultMessage(await reject({ extensionId, comment }), "rejectExtension");
          if (!error) {
            notify({ type: "success", content: "Extension rejected." });
            onDone?.();
          }
          return error;
        }}
      >
        Reject
      </TextAction>
      <TextAction
        variant="inline-link"
        ariaLabel={`Approve extension ${short}`}
        header="Approve extension"
        label="Comment"
        confirmText="Approve"
        run={async (comment) => {
          const error = resultMessage(await approve({ extensionId, comment }), "approveExtension");
          if (!error) {
            notify({ type: "success", content: "Extension approved." });
            onDone?.();
          }
          return error;
        }}
      >
        Approve
      </TextAction>
    </SpaceBetween>
  );
}

/** The post-hoc review of a break-glass ticket. */
export function ReviewBreakGlassButton({ ticketId, onDone }: { ticketId: string; onDone?: () => void }) {
  const [, review] = useMutation(ReviewBreakGlassDocument);
  const { notify } = useNotifications();
  return (
    <TextAction
      variant="inline-link"
      ariaLabel={`Review break-glass ticket ${ticketId.slice(0, 8)}`}
      header="Review break-glass access"
      label="Comment"
      description="Your review clears the break-glass flag and is kept in the audit trail."
      confirmText="Mark reviewed"
      run={async (comment) => {
        const error = resultMessage(await review({ ticketId, comment }), "reviewBreakGlass");
        if (!error) {
          notify({ type: "success", content: "Break-glass ticket reviewed." });
          onDone?.();
        }
        return error;
      }}
    >
      Review
    </TextAction>
  );
}
