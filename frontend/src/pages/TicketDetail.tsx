import { useCallback, useState } from "react";
import { useParams } from "react-router-dom";
import { useQuery } from "urql";
import Box from "@cloudscape-design/components/box";
import ColumnLayout from "@cloudscape-design/components/column-layout";
import Container from "@cloudscape-design/components/container";
import ContentLayout from "@cloudscape-design/components/content-layout";
import Header from "@cloudscape-design/components/header";
import SpaceBetween from "@cloudscape-design/components/space-between";
import StatusIndicator from "@cloudscape-design/components/status-indicator";
import Table from "@cloudscape-design/components/table";
import { TicketDetailDocument, type TicketDetailFragment } from "../graphql/generated/graphql";
import { TicketStatus } from "../components/TicketStatus";
import { Countdown } from "../components/Countdown";
import { LiveTicket } from "../components/LiveTicket";
import { TicketActions } from "../components/TicketActions";
import { DecisionButtons } from "../components/DecisionButtons";
import { LIVE_STATUSES, statusLabel } from "../lib/status";
import { formatDateTime, formatDuration } from "../lib/time";
import { userText } from "../components/targets";
import { useMe } from "../app/me";
import { mayDecide } from "../lib/decide";
import Alert from "@cloudscape-design/components/alert";
import { ExtendButton, ExtensionDecision, ReviewBreakGlassButton } from "../components/Extensions";
import { SessionActivity } from "../components/SessionActivity";

// Tickets that never reached AWS have no session to show (the server answers empty too).
const NEVER_GRANTED = ["PENDING_APPROVAL", "REJECTED", "EXPIRED", "SCHEDULED"];

function Field({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div>
      <Box variant="awsui-key-label">{label}</Box>
      <div>{children}</div>
    </div>
  );
}

export function TicketDetailPage() {
  const me = useMe();
  const { id = "" } = useParams();
  const [{ data, fetching, error }] = useQuery({ query: TicketDetailDocument, variables: { id } });
  const [live, setLive] = useState<TicketDetailFragment | null>(null);
  const onUpdate = useCallback(
    (t: TicketDetailFragment) => setLive((cur) => (cur && cur.version > t.version ? cur : t)),
    [],
  );
  const fetched = data?.ticket ?? null;
  const ticket = live && (!fetched || live.version >= fetched.version) ? live : fetched;
  const psName: Record<string, string> = Object.fromEntries(
    (ticket?.targets ?? []).filter((t) => t.permissionSet).map((t) => [t.permissionSetArn, t.permissionSet!.name]),
  );

  if (!ticket) {
    return (
      <ContentLayout header={<Header variant="h1">Ticket {id.slice(0, 8)}</Header>}>
        <Container>
          {fetching ? (
            <StatusIndicator type="loading">Loading</StatusIndicator>
          ) : (
            <Box>{error?.message ?? "No ticket with this id, or you may not read it."}</Box>
          )}
        </Container>
        <LiveTicket id={id} onUpdate={onUpdate} />
      </ContentLayout>
    );
  }

  return (
    <ContentLayout
      header={
        <Header
          variant="h1"
          description={ticket.justification || undefined}
          actions={
            <SpaceBetween direction="horizontal" size="xs">
              {mayDecide(ticket, me) && <DecisionButtons tickets={[ticket]} />}
              <ExtendButton id={ticket.id} status={ticket.status} />
              <TicketActions id={ticket.id} status={ticket.status} />
            </SpaceBetween>
          }
        >
          Ticket {ticket.id.slice(0, 8)}
        </Header>
      }
    >
      <LiveTicket id={id} onUpdate={onUpdate} />
      <SpaceBetween size="l">
        {ticket.breakGlass && (
          <Alert
            type={ticket.needsBreakGlassReview ? "warning" : "info"}
            header={ticket.needsBreakGlassReview ? "Break-glass: not yet reviewed" : "Break-glass: reviewed"}
            action={
              ticket.needsBreakGlassReview && ticket.requester?.id !== me.user.id ? (
                <ReviewBreakGlassButton ticketId={ticket.id} />
              ) : undefined
            }
          >
            The requester approved this ticket themself. Reason: {ticket.breakGlassReason || "-"}
            {ticket.breakGlassReview &&
              ` Reviewed by ${userText(ticket.breakGlassReview.reviewer)} at ${formatDateTime(ticket.breakGlassReview.reviewedAt)}${ticket.breakGlassReview.comment ? `: ${ticket.breakGlassReview.comment}` : "."}`}
          </Alert>
        )}
        <Container header={<Header variant="h2">Summary</Header>}>
          <ColumnLayout columns={4} variant="text-grid">
            <Field label="Status">
              <TicketStatus status={ticket.status} endReason={ticket.endReason} />
              {ticket.failureReason && <Box color="text-status-error">{ticket.failureReason}</Box>}
            </Field>
            <Field label="Remaining">
              {LIVE_STATUSES.includes(ticket.status) ? (
                <Countdown startAt={ticket.startAt} endAt={ticket.endAt} />
              ) : (
                "-"
              )}
            </Field>
            <Field label="Principal">{userText(ticket.principal)}</Field>
            <Field label="Requester">{userText(ticket.requester)}</Field>
            <Field label="Starts">{formatDateTime(ticket.startAt)}</Field>
            <Field label="Ends">{formatDateTime(ticket.endAt)}</Field>
            <Field label="Duration">{formatDuration(ticket.durationSeconds)}</Field>
            <Field label="External reference">{ticket.externalRef || "-"}</Field>
            <Field label="Ticket id">
              <Box variant="code">{ticket.id}</Box>
            </Field>
            <Field label="Version">{ticket.version}</Field>
          </ColumnLayout>
        </Container>

        <Table
          header={
            <Header variant="h2" counter={`(${ticket.targets.length})`}>
              Targets
            </Header>
          }
          items={ticket.targets}
          ariaLabels={{ tableLabel: "Targets" }}
          columnDefinitions={[
            { id: "account", header: "Account", cell: (t) => `${t.account?.name ?? ""} (${t.accountId})` },
            { id: "ps", header: "Permission set", cell: (t) => t.permissionSet?.name ?? t.permissionSetArn },
            { id: "rule", header: "Approval rule", cell: (t) => t.ruleName },
          ]}
        />

        <Table
          header={
            <Header
              variant="h2"
              counter={`(${ticket.steps.length})`}
              description="Every step must be approved, in order."
            >
              Approval steps
            </Header>
          }
          items={ticket.steps}
          ariaLabels={{ tableLabel: "Approval steps" }}
          empty={<Box>Auto-approved: the rule has no approval steps.</Box>}
          columnDefinitions={[
            { id: "pos", header: "#", cell: (s) => s.position + 1 },
            { id: "name", header: "Step", cell: (s) => s.name },
            { id: "rule", header: "Rule", cell: (s) => s.ruleName },
            {
              id: "approvers",
              header: "Approvers",
              cell: (s) => [...s.approverUsers, ...s.approverGroups.map((g) => `group ${g}`)].join(", ") || "-",
            },
            { id: "count", header: "Approvals", cell: (s) => `${s.approvals} of ${s.required}` },
            {
              id: "status",
              header: "Status",
              cell: (s) => (
                <StatusIndicator
                  type={s.status === "APPROVED" ? "success" : s.status === "REJECTED" ? "error" : "pending"}
                >
                  {statusLabel(s.status)}
                </StatusIndicator>
              ),
            },
          ]}
        />

        <Table
          header={
            <Header variant="h2" counter={`(${ticket.decisions.length})`}>
              Decisions
            </Header>
          }
          items={ticket.decisions}
          ariaLabels={{ tableLabel: "Decisions" }}
          empty={<Box>No decisions yet.</Box>}
          columnDefinitions={[
            { id: "at", header: "When", cell: (d) => formatDateTime(d.createdAt) },
            { id: "who", header: "Decided by", cell: (d) => userText(d.decider) },
            {
              id: "step",
              header: "Step",
              cell: (d) => ticket.steps.find((s) => s.position === d.stepPosition)?.name ?? d.stepPosition + 1,
            },
            {
              id: "outcome",
              header: "Outcome",
              cell: (d) => (
                <StatusIndicator type={d.outcome === "APPROVED" ? "success" : "error"}>
                  {statusLabel(d.outcome)}
                </StatusIndicator>
              ),
            },
            { id: "comment", header: "Comment", cell: (d) => d.comment || "-" },
          ]}
        />

        <Table
          header={
            <Header
              variant="h2"
              counter={`(${ticket.extensions.length})`}
              description="Requests to move the end later, oldest first."
            >
              Extensions
            </Header>
          }
          items={ticket.extensions}
          ariaLabels={{ tableLabel: "Extensions" }}
          empty={<Box>No extensions requested.</Box>}
          wrapLines
          columnDefinitions={[
            { id: "at", header: "Requested", cell: (x) => formatDateTime(x.createdAt) },
            { id: "by", header: "By", cell: (x) => userText(x.requester) },
            { id: "more", header: "Additional time", cell: (x) => formatDuration(x.additionalDurationSeconds) },
            { id: "reason", header: "Reason", cell: (x) => x.reason },
            {
              id: "status",
              header: "Status",
              cell: (x) => (
                <StatusIndicator
                  type={
                    x.status === "APPROVED"
                      ? "success"
                      : x.status === "PENDING"
                        ? "pending"
                        : x.status === "REJECTED"
                          ? "error"
                          : "stopped"
                  }
                >
                  {statusLabel(x.status)}
                </StatusIndicator>
              ),
            },
            {
              id: "end",
              header: "End",
              cell: (x) => `${formatDateTime(x.previousEndAt)}${x.newEndAt ? ` → ${formatDateTime(x.newEndAt)}` : ""}`,
            },
            {
              id: "decisions",
              header: "Decisions",
              cell: (x) =>
                x.decisions
                  .map(
                    (d) =>
                      `${statusLabel(d.outcome)} by ${userText(d.decider)}${d.onBehalfOf ? ` for ${userText(d.onBehalfOf)}` : ""}${d.comment ? `: ${d.comment}` : ""}`,
                  )
                  .join("; ") || "-",
            },
            {
              id: "actions",
              header: "Actions",
              cell: (x) =>
                x.status === "PENDING" && x.requester?.id !== me.user.id ? (
                  <ExtensionDecision extensionId={x.id} />
                ) : (
                  "-"
                ),
            },
          ]}
        />

        <Table
          header={
            <Header
              variant="h2"
              counter={`(${ticket.resourceStack.length})`}
              description="Account assignments in the order they were made; revocation unwinds them last in first out."
            >
              Resource stack
            </Header>
          }
          items={ticket.resourceStack}
          ariaLabels={{ tableLabel: "Resource stack" }}
          empty={<Box>No assignments yet.</Box>}
          wrapLines
          columnDefinitions={[
            { id: "pos", header: "#", cell: (e) => e.position + 1 },
            { id: "account", header: "Account", cell: (e) => e.accountId },
            {
              id: "ps",
              header: "Permission set",
              cell: (e) => psName[e.permissionSetArn] ?? e.permissionSetArn.split("/").pop(),
            },
            {
              id: "status",
              header: "Assignment",
              cell: (e) => (
                <span data-testid="stack-status">
                  <StatusIndicator
                    type={e.status === "SUCCEEDED" ? "success" : e.status === "FAILED" ? "error" : "in-progress"}
                  >
                    {statusLabel(e.status)}
                  </StatusIndicator>
                </span>
              ),
            },
            {
              id: "request",
              header: "AWS request id",
              cell: (e) => (e.requestId ? <Box variant="code">{e.requestId}</Box> : "-"),
            },
            {
              id: "unwind",
              header: "Removal",
              cell: (e) =>
                e.unwindStatus ? (
                  <StatusIndicator
                    type={
                      e.unwindStatus === "DELETED"
                        ? "stopped"
                        : e.unwindStatus === "FAILED"
                          ? "error"
                          : e.unwindStatus === "RETAINED" || e.unwindStatus === "SKIPPED"
                            ? "info"
                            : "in-progress"
                    }
                  >
                    {statusLabel(e.unwindStatus)}
                  </StatusIndicator>
                ) : (
                  "-"
                ),
            },
            {
              id: "unwindRequest",
              header: "Removal request id",
              cell: (e) => (e.unwindRequestId ? <Box variant="code">{e.unwindRequestId}</Box> : "-"),
            },
            {
              id: "note",
              header: "Note",
              cell: (e) => e.failureReason || e.unwindReason || (e.preExisting ? "existed before the ticket" : "-"),
            },
          ]}
        />

        {!NEVER_GRANTED.includes(ticket.status) && (
          <SessionActivity ticketId={ticket.id} startAt={ticket.startAt} endAt={ticket.endAt} />
        )}

        <Table
          header={
            <Header
              variant="h2"
              counter={`(${ticket.history.length})`}
              description="Every event in the ticket's life, oldest first."
            >
              Timeline
            </Header>
          }
          items={ticket.history}
          ariaLabels={{ tableLabel: "Timeline" }}
          wrapLines
          columnDefinitions={[
            { id: "at", header: "When", cell: (h) => formatDateTime(h.at) },
            { id: "action", header: "Event", cell: (h) => h.action },
            {
              id: "change",
              header: "Status change",
              cell: (h) =>
                h.toStatus ? `${h.fromStatus ? statusLabel(h.fromStatus) + " → " : ""}${statusLabel(h.toStatus)}` : "-",
            },
            { id: "actor", header: "By", cell: (h) => (h.actor ? h.actor.userName : "system") },
            { id: "detail", header: "Detail", cell: (h) => detailText(h.detail) },
          ]}
        />
      </SpaceBetween>
    </ContentLayout>
  );
}

function detailText(detail: unknown): string {
  if (!detail || typeof detail !== "object") return "-";
  const entries = Object.entries(detail as Record<string, unknown>);
  if (!entries.length) return "-";
  return entries.map(([k, v]) => `${k}: ${typeof v === "object" ? JSON.stringify(v) : String(v)}`).join("; ");
}
