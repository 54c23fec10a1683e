import { useEffect, useMemo, useState } from "react";
import { useClient, useQuery } from "urql";
import Box from "@cloudscape-design/components/box";
import Button from "@cloudscape-design/components/button";
import ContentLayout from "@cloudscape-design/components/content-layout";
import Header from "@cloudscape-design/components/header";
import Pagination from "@cloudscape-design/components/pagination";
import PropertyFilter, { type PropertyFilterProps } from "@cloudscape-design/components/property-filter";
import SpaceBetween from "@cloudscape-design/components/space-between";
import Table from "@cloudscape-design/components/table";
import {
  DirectoryDocument,
  TicketsDocument,
  UsersDocument,
  type TicketFilter,
  type TicketSummaryFragment,
} from "../graphql/generated/graphql";
import { Link } from "../components/Link";
import { TicketStatus } from "../components/TicketStatus";
import { targetsText, userText } from "../components/targets";
import { useNotifications } from "../app/notifications";
import { TICKET_STATUSES, statusLabel } from "../lib/status";
import { formatDateTime } from "../lib/time";
import { rangeToFilter, tokensToFilter, type TimeField, type TimeRange } from "../lib/ticketFilter";
import DateRangePicker, { type DateRangePickerProps } from "@cloudscape-design/components/date-range-picker";
import Select from "@cloudscape-design/components/select";

const TIME_FIELDS = [
  { value: "created", label: "Created" },
  { value: "start", label: "Starts" },
];
import { downloadText, toCsv } from "../lib/csv";

const PAGE_SIZE = 25;
const EXPORT_LIMIT = 10000;

export const TICKET_CSV_COLUMNS = [
  { header: "id", value: (t: TicketSummaryFragment) => t.id },
  { header: "status", value: (t: TicketSummaryFragment) => t.status },
  { header: "end_reason", value: (t: TicketSummaryFragment) => t.endReason ?? "" },
  { header: "requester", value: (t: TicketSummaryFragment) => t.requester?.userName ?? "" },
  { header: "principal", value: (t: TicketSummaryFragment) => t.principal?.userName ?? "" },
  {
    header: "targets",
    value: (t: TicketSummaryFragment) =>
      t.targets.map((x) => `${x.accountId}/${x.permissionSet?.name ?? x.permissionSetArn}`).join(" "),
  },
  { header: "rules", value: (t: TicketSummaryFragment) => [...new Set(t.targets.map((x) => x.ruleName))].join(" ") },
  { header: "start_at", value: (t: TicketSummaryFragment) => t.startAt },
  { header: "end_at", value: (t: TicketSummaryFragment) => t.endAt },
  { header: "created_at", value: (t: TicketSummaryFragment) => t.createdAt },
  { header: "justification", value: (t: TicketSummaryFragment) => t.justification },
  { header: "external_ref", value: (t: TicketSummaryFragment) => t.externalRef ?? "" },
];

export function TicketsPage() {
  const client = useClient();
  const { notify } = useNotifications();
  const [query, setQuery] = useState<PropertyFilterProps.Query>({ tokens: [], operation: "and" });
  // Cursor of each page seen so far: the connection is forward-only.
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [page, setPage] = useState(1);
  const [exporting, setExporting] = useState(false);
  const [{ data: users }] = useQuery({ query: UsersDocument });
  const [{ data: directory }] = useQuery({ query: DirectoryDocument });

  const lookup = useMemo(
    () => ({
      users: Object.fromEntries((users?.users ?? []).map((u) => [u.userName, u.id])),
      accounts: Object.fromEntries((directory?.accounts ?? []).map((a) => [a.name, a.id])),
    }),
    [users, directory],
  );
  const { filter, error: filterError } = useMemo(
    () => tokensToFilter(query.tokens as { propertyKey?: string; operator: string; value: string }[], lookup),
    [query, lookup],
  );
  const [timeField, setTimeField] = useState<TimeField>("created");
  const [range, setRange] = useState<DateRangePickerProps.Value | null>(null);
  // Relative ranges are pinned when chosen, so paging does not shift under the reader.
  const [rangeAt, setRangeAt] = useState(() => new Date());
  const fullFilter = useMemo(
    () => ({ ...filter, ...rangeToFilter(timeField, range as TimeRange | null, rangeAt) }),
    [filter, timeField, range, rangeAt],
  );
  const filterKey = JSON.stringify(fullFilter);
  useEffect(() => {
    setCursors([null]);
    setPage(1);
  }, [filterKey]);

  const [{ data, fetching, error }, refetch] = useQuery({
    query: TicketsDocument,
    variables: { filter: fullFilter, first: PAGE_SIZE, after: cursors[page - 1] ?? null },
    pause: !!filterError,
  });
  const pageInfo = data?.tickets.pageInfo;
  useEffect(() => {
    if (pageInfo?.hasNextPage && pageInfo.endCursor && cursors.length === page)
      setCursors((c) => [...c, pageInfo.endCursor ?? null]);
  }, [pageInfo, page, cursors.length]);
  const items = data?.tickets.edges.map((e) => e.node) ?? [];

  const exportCsv = async () => {
    setExporting(true);
    const rows: TicketSummaryFragment[] = [];
    let after: string | null = null;
    try {
      for (;;) {
        const res = await client
          .query(
            TicketsDocument,
            { filter: fullFilter as TicketFilter, first: 100, after },
            { requestPolicy: "network-only" },
          )
          .toPromise();
        if (res.error || !res.data) throw new Error(res.error?.message ?? "export failed");
        rows.push(...res.data.tickets.edges.map((e) => e.node));
        if (!res.data.tickets.pageInfo.hasNextPage || rows.length >= EXPORT_LIMIT) break;
        after = res.data.tickets.pageInfo.endCursor ?? null;
      }
      downloadText("tickets.csv", toCsv(rows, TICKET_CSV_COLUMNS));
      notify({
        type: "success",
        content: `Exported ${rows.length} tickets${rows.length >= EXPORT_LIMIT ? " (the first " + EXPORT_LIMIT + ")" : ""}.`,
      });
    } catch (e) {
      notify({ type: "error", header: "Export failed", content: (e as Error).message });
    } finally {
      setExporting(false);
    }
  };

  const filteringProperties: PropertyFilterProps.FilteringProperty[] = [
    { key: "status", propertyLabel: "Status", groupValuesLabel: "Status values", operators: ["="] },
    { key: "account", propertyLabel: "Account", groupValuesLabel: "Account values", operators: ["="] },
    { key: "principal", propertyLabel: "Principal", groupValuesLabel: "Principal values", operators: ["="] },
    { key: "requester", propertyLabel: "Requester", groupValuesLabel: "Requester values", operators: ["="] },
  ];
  const filteringOptions: PropertyFilterProps.FilteringOption[] = [
    ...TICKET_STATUSES.map((s) => ({ propertyKey: "status", value: s, label: statusLabel(s) })),
    ...(directory?.accounts ?? []).map((a) => ({
      propertyKey: "account",
      value: a.name,
      label: `${a.name} (${a.id})`,
    })),
    ...(users?.users ?? []).flatMap((u) => [
      { propertyKey: "principal", value: u.userName },
      { propertyKey: "requester", value: u.userName },
    ]),
  ];

  return (
    <ContentLayout
      header={
        <Header variant="h1" description="Every ticket you may read, newest first.">
          Tickets
        </Header>
      }
    >
      <Table
        variant="container"
        items={items}
        trackBy="id"
        loading={fetching}
        loadingText="Loading tickets"
        ariaLabels={{ tableLabel: "Tickets" }}
        wrapLines
        header={
          <Header
            counter={data ? `(${items.length}${pageInfo?.hasNextPage ? "+" : ""})` : undefined}
            actions={
              <SpaceBetween direction="horizontal" size="xs">
                <Button
                  iconName="refresh"
                  ariaLabel="Refresh"
                  onClick={() => refetch({ requestPolicy: "network-only" })}
                />
                <Button iconName="download" loading={exporting} onClick={exportCsv} disabled={!!filterError}>
                  Export CSV
                </Button>
              </SpaceBetween>
            }
          >
            Tickets
          </Header>
        }
        filter={
          <SpaceBetween size="xs">
            <PropertyFilter
              query={query}
              onChange={(e) => setQuery({ ...e.detail, operation: "and" })}
              filteringProperties={filteringProperties}
              filteringOptions={filteringOptions}
              filteringPlaceholder="Filter tickets by status, account, principal or requester"
              filteringAriaLabel="Filter tickets"
              hideOperations
              countText={filterError ?? `${items.length} on this page`}
              i18nStrings={{
                filteringAriaLabel: "Filter tickets",
                clearFiltersText: "Clear filters",
                applyActionText: "Apply",
                cancelActionText: "Cancel",
                operationAndText: "and",
                operationOrText: "or",
                operatorEqualsText: "Equals",
                groupPropertiesText: "Properties",
                groupValuesText: "Values",
                propertyText: "Property",
                operatorText: "Operator",
                valueText: "Value",
                removeTokenButtonAriaLabel: (t) => `Remove filter ${t.propertyKey} ${t.operator} ${t.value}`,
                tokenLimitShowMore: "Show more",
                tokenLimitShowFewer: "Show fewer",
                enteredTextLabel: (v) => `Use: "${v}"`,
              }}
            />
            <SpaceBetween direction="horizontal" size="xs">
              <Select
                selectedOption={TIME_FIELDS.find((o) => o.value === timeField)!}
                onChange={(e) => setTimeField(e.detail.selectedOption.value as TimeField)}
                options={TIME_FIELDS}
                ariaLabel="Time to filter on"
              />
              <DateRangePicker
                value={range}
                onChange={(e) => {
                  setRangeAt(new Date());
                  setRange(e.detail.value);
                }}
                relativeOptions={[
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
                ariaLabel="Time range"
                i18nStrings={{ ariaLabel: "Time range" }}
              />
            </SpaceBetween>
          </SpaceBetween>
        }
        pagination={
          <Pagination
            currentPageIndex={page}
            pagesCount={cursors.length}
            openEnd={!!pageInfo?.hasNextPage}
            onChange={(e) => setPage(e.detail.currentPageIndex)}
            ariaLabels={{
              nextPageLabel: "Next page",
              previousPageLabel: "Previous page",
              pageLabel: (n) => `Page ${n}`,
            }}
          />
        }
        empty={
          <Box textAlign="center" color="inherit">
            <b>No tickets</b>
            <Box variant="p" color="inherit">
              {filterError ?? error?.message ?? "No ticket matches."}
            </Box>
          </Box>
        }
        columnDefinitions={[
          { id: "id", header: "Ticket", cell: (t) => <Link href={`/tickets/${t.id}`}>{t.id.slice(0, 8)}</Link> },
          {
            id: "status",
            header: "Status",
            minWidth: 160,
            cell: (t) => <TicketStatus status={t.status} endReason={t.endReason} />,
          },
          { id: "principal", header: "Principal", cell: (t) => userText(t.principal) },
          { id: "requester", header: "Requester", cell: (t) => userText(t.requester) },
          { id: "targets", header: "Targets", cell: (t) => targetsText(t) },
          { id: "start", header: "Starts", cell: (t) => formatDateTime(t.startAt) },
          { id: "end", header: "Ends", cell: (t) => formatDateTime(t.endAt) },
          { id: "created", header: "Requested", cell: (t) => formatDateTime(t.createdAt) },
        ]}
      />
    </ContentLayout>
  );
}
