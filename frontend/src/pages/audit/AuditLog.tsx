import { useEffect, useMemo, useState } from "react";
import { useMutation, useQuery } from "urql";
import Box from "@cloudscape-design/components/box";
import Button from "@cloudscape-design/components/button";
import ColumnLayout from "@cloudscape-design/components/column-layout";
import Container from "@cloudscape-design/components/container";
import ContentLayout from "@cloudscape-design/components/content-layout";
import DateRangePicker, { type DateRangePickerProps } from "@cloudscape-design/components/date-range-picker";
import FormField from "@cloudscape-design/components/form-field";
import Header from "@cloudscape-design/components/header";
import Input from "@cloudscape-design/components/input";
import Multiselect from "@cloudscape-design/components/multiselect";
import Pagination from "@cloudscape-design/components/pagination";
import Select from "@cloudscape-design/components/select";
import SpaceBetween from "@cloudscape-design/components/space-between";
import StatusIndicator from "@cloudscape-design/components/status-indicator";
import Table from "@cloudscape-design/components/table";
import {
  AuditChainStatusDocument,
  AuditEventsDocument,
  UsersDocument,
  VerifyAuditChainDocument,
} from "../../graphql/generated/graphql";
import { authHeaders } from "../../auth/session";
import { isAdmin, useMe } from "../../app/me";
import { useNotifications } from "../../app/notifications";
import { Link } from "../../components/Link";
import { userText } from "../../components/targets";
import { AUDIT_KINDS, auditErrorField, auditFilter, exportPath, verificationSummary } from "../../lib/audit";
import { isResultError } from "../../lib/errors";
import type { TimeRange } from "../../lib/ticketFilter";
import { formatDateTime } from "../../lib/time";
import { EmptyState as Empty } from "../../components/EmptyState";

const PAGE_SIZE = 50;

export function AuditLogPage() {
  const me = useMe();
  const allowed = isAdmin(me) || me.roles.includes("AUDITOR");
  return (
    <ContentLayout
      header={
        <Header variant="h1" description="Every state change JIT made, in the order of its hash chain.">
          Audit log
        </Header>
      }
    >
      {allowed ? (
        <SpaceBetween size="l">
          <ChainStatus admin={isAdmin(me)} />
          <AuditEvents />
        </SpaceBetween>
      ) : (
        <Container>
          <Empty header="Only admins and auditors read the audit log" text="Ask a JIT admin if you need to see it." />
        </Container>
      )}
    </ContentLayout>
  );
}

function ChainStatus({ admin }: { admin: boolean }) {
  const { notify } = useNotifications();
  const [{ data, error }, refetch] = useQuery({ query: AuditChainStatusDocument, requestPolicy: "network-only" });
  const [{ fetching: starting }, verify] = useMutation(VerifyAuditChainDocument);
  const status = data?.auditChainStatus;
  const chain = status?.__typename === "AuditChainStatus" ? status : null;
  const running = chain?.inProgress ?? null;
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(() => refetch({ requestPolicy: "network-only" }), 2000);
    return () => clearInterval(timer);
  }, [running, refetch]);

  const verifyNow = async () => {
    const res = await verify({});
    const out = res.data?.verifyAuditChain;
    if (res.error || !out) notify({ type: "error", content: res.error?.message ?? "The request failed." });
    else if (isResultError(out)) notify({ type: "error", header: "Could not verify", content: out.message });
    else
      notify({
        type: "info",
        content: out.queued ? "Verification started; it runs in the background." : "A verification is already running.",
      });
    refetch({ requestPolicy: "network-only" });
  };

  const last = chain?.lastResult ?? null;
  const summary = verificationSummary(last);
  return (
    <Container
      header={
        <Header
          variant="h2"
          description="Each event's hash covers the one before it, so an edited, inserted or deleted event breaks the chain."
          actions={
            admin ? (
              <Button onClick={verifyNow} loading={starting || !!running} disabled={!!running}>
                Verify now
              </Button>
            ) : undefined
          }
        >
          Chain verification
        </Header>
      }
    >
      {status && isResultError(status) ? (
        <Empty header="Not allowed" text={status.message} />
      ) : (
        <ColumnLayout columns={3} variant="text-grid">
          <div>
            <Box variant="awsui-key-label">Status</Box>
            <StatusIndicator type={error ? "error" : summary.type}>
              {error ? error.message : summary.text}
            </StatusIndicator>
          </div>
          <div>
            <Box variant="awsui-key-label">Last verified</Box>
            <div>{last ? formatDateTime(last.finishedAt) : "never"}</div>
          </div>
          <div>
            <Box variant="awsui-key-label">Now</Box>
            <div>
              {running ? (
                <StatusIndicator type="in-progress">
                  {running.status === "QUEUED" ? "Queued" : "Verifying"} (asked {formatDateTime(running.requestedAt)})
                </StatusIndicator>
              ) : (
                "Idle"
              )}
            </div>
          </div>
        </ColumnLayout>
      )}
    </Container>
  );
}

function AuditEvents() {
  const { notify } = useNotifications();
  const [{ data: users }] = useQuery({ query: UsersDocument });
  const [actorId, setActorId] = useState<string | null>(null);
  const [ticketId, setTicketId] = useState("");
  const [kinds, setKinds] = useState<string[]>([]);
  const [range, setRange] = useState<DateRangePickerProps.Value | null>(null);
  const [rangeAt, setRangeAt] = useState(() => new Date());
  const { filter, errors: formErrors } = useMemo(
    () => auditFilter({ actorId, ticketId, kinds, range: range as TimeRange | null }, rangeAt),
    [actorId, ticketId, kinds, range, rangeAt],
  );
  const blocked = Object.keys(formErrors).length > 0;
  const filterKey = JSON.stringify(filter);
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [page, setPage] = useState(1);
  const [exporting, setExporting] = useState<string | null>(null);
  useEffect(() => {
    setCursors([null]);
    setPage(1);
  }, [filterKey]);

  const [{ data, fetching, error }, refetch] = useQuery({
    query: AuditEventsDocument,
    variables: { filter, first: PAGE_SIZE, after: cursors[page - 1] ?? null },
    pause: blocked,
  });
  const result = data?.auditEvents;
  const conn = result?.__typename === "AuditEventConnection" ? result : null;
  const typed = result && isResultError(result) ? result : null;
  const serverField = typed ? auditErrorField(typed.field) : null;
  const errors: Record<string, string> = {
    ...formErrors,
    ...(serverField && typed ? { [serverField]: typed.message } : {}),
  };
  const pageInfo = conn?.pageInfo;
  useEffect(() => {
    if (pageInfo?.hasNextPage && pageInfo.endCursor && cursors.length === page)
      setCursors((c) => [...c, pageInfo.endCursor ?? null]);
  }, [pageInfo, page, cursors.length]);
  const items = conn?.edges.map((e) => e.node) ?? [];

  const download = async (format: "csv" | "json") => {
    setExporting(format);
    try {
      // Streamed by the server; the same filter and the same authorization as the table.
      const res = await fetch(exportPath(filter, format), { headers: authHeaders(), credentials: "same-origin" });
      if (!res.ok) {
        const body = await res.json().catch(() => null);
        throw new Error(body?.errors?.[0]?.message ?? `the server answered ${res.status}`);
      }
      const blob = await res.blob();
      const url = URL.createObjectURL(blob);
      const a = document.createElement("a");
      a.href = url;
      a.download = `audit-log.${format}`;
      document.body.appendChild(a);
      a.click();
      a.remove();
      URL.revokeObjectURL(url);
      notify({ type: "success", content: `Exported the audit log as ${format.toUpperCase()}.` });
    } catch (e) {
      notify({ type: "error", header: "Export failed", content: (e as Error).message });
    } finally {
      setExporting(null);
    }
  };

  const userOptions = [
    { value: "", label: "Anyone" },
    ...(users?.users ?? []).map((u) => ({ value: u.id, label: userText(u) })),
  ];
  const emptyText =
    typed && !serverField
      ? typed.message
      : (error?.message ?? (blocked ? "Correct the filter above." : "No event matches the filter."));
  return (
    <Table
      variant="container"
      items={items}
      trackBy="id"
      loading={fetching}
      loadingText="Loading events"
      wrapLines
      ariaLabels={{ tableLabel: "Audit events" }}
      header={
        <Header
          counter={conn ? `(${items.length}${pageInfo?.hasNextPage ? "+" : ""})` : undefined}
          description="Exports include every event matching the filter, streamed by the server."
          actions={
            <SpaceBetween direction="horizontal" size="xs">
              <Button
                iconName="refresh"
                ariaLabel="Refresh events"
                onClick={() => refetch({ requestPolicy: "network-only" })}
              />
              <Button
                iconName="download"
                loading={exporting === "csv"}
                disabled={blocked}
                onClick={() => download("csv")}
              >
                Export CSV
              </Button>
              <Button
                iconName="download"
                loading={exporting === "json"}
                disabled={blocked}
                onClick={() => download("json")}
              >
                Export JSON
              </Button>
            </SpaceBetween>
          }
        >
          Events
        </Header>
      }
      filter={
        <ColumnLayout columns={4}>
          <FormField label="Actor" errorText={errors.actorId}>
            <Select
              selectedOption={userOptions.find((o) => o.value === (actorId ?? "")) ?? userOptions[0]}
              onChange={(e) => setActorId(e.detail.selectedOption.value || null)}
              options={userOptions}
              filteringType="auto"
              ariaLabel="Actor"
            />
          </FormField>
          <FormField label="Ticket" errorText={errors.ticketId}>
            <Input
              value={ticketId}
              onChange={(e) => setTicketId(e.detail.value)}
              placeholder="ticket id"
              ariaLabel="Ticket id"
            />
          </FormField>
          <FormField label="Kind" errorText={errors.kinds}>
            <Multiselect
              selectedOptions={kinds.map((k) => ({ value: k, label: k }))}
              onChange={(e) => setKinds(e.detail.selectedOptions.map((o) => o.value!))}
              options={AUDIT_KINDS.map((k) => ({ value: k, label: k }))}
              filteringType="auto"
              placeholder="Any kind"
              ariaLabel="Kinds of event"
              tokenLimit={2}
            />
          </FormField>
          <FormField label="Time" errorText={errors.range}>
            <DateRangePicker
              value={range}
              onChange={(e) => {
                setRangeAt(new Date());
                setRange(e.detail.value);
              }}
              relativeOptions={[
                { key: "last-1-hour", amount: 1, unit: "hour", type: "relative" },
                { key: "last-1-day", amount: 1, unit: "day", type: "relative" },
                { key: "last-7-days", amount: 7, unit: "day", type: "relative" },
                { key: "last-30-days", amount: 30, unit: "day", type: "relative" },
              ]}
              isValidRange={(r) =>
                r?.type === "absolute" && new Date(r.startDate) > new Date(r.endDate)
                  ? { valid: false, errorMessage: "Choose a start before the end." }
                  : { valid: true }
              }
              placeholder="Any time"
              ariaLabel="Time range of events"
              i18nStrings={{ ariaLabel: "Time range of events" }}
            />
          </FormField>
        </ColumnLayout>
      }
      pagination={
        <Pagination
          currentPageIndex={page}
          pagesCount={cursors.length}
          openEnd={!!pageInfo?.hasNextPage}
          onChange={(e) => setPage(e.detail.currentPageIndex)}
          ariaLabels={{ nextPageLabel: "Next page", previousPageLabel: "Previous page", pageLabel: (n) => `Page ${n}` }}
        />
      }
      empty={<Empty header="No events" text={emptyText} />}
      columnDefinitions={[
        { id: "seq", header: "Seq", cell: (e) => e.seq },
        { id: "at", header: "When", cell: (e) => formatDateTime(e.at) },
        { id: "action", header: "Kind", cell: (e) => <Box variant="code">{e.action}</Box> },
        { id: "actor", header: "Actor", cell: (e) => (e.actor ? userText(e.actor) : (e.actorId ?? "JIT")) },
        {
          id: "subject",
          header: "Subject",
          cell: (e) =>
            [e.subjectType, e.subjectType === "ticket" ? null : e.subjectId].filter(Boolean).join(" ") || "-",
        },
        {
          id: "ticket",
          header: "Ticket",
          cell: (e) =>
            e.ticketId ? (
              <Link href={`/tickets/${e.ticketId}`} ariaLabel={`Ticket ${e.ticketId}`}>
                {e.ticketId.slice(0, 8)}
              </Link>
            ) : (
              "-"
            ),
        },
        {
          id: "status",
          header: "Status change",
          cell: (e) => (e.fromStatus || e.toStatus ? `${e.fromStatus ?? "-"} → ${e.toStatus ?? "-"}` : "-"),
        },
      ]}
    />
  );
}
