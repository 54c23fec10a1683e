import { useMemo, useState } from "react";
import { useQuery } from "urql";
import { useCollection } from "@cloudscape-design/collection-hooks";
import Box from "@cloudscape-design/components/box";
import ContentLayout from "@cloudscape-design/components/content-layout";
import Grid from "@cloudscape-design/components/grid";
import Header from "@cloudscape-design/components/header";
import Pagination from "@cloudscape-design/components/pagination";
import Table from "@cloudscape-design/components/table";
import TextFilter from "@cloudscape-design/components/text-filter";
import {
  DirectoryDocument,
  DirectorySyncDocument,
  SyncDirectoryDocument,
  type DirectoryQuery,
} from "../../graphql/generated/graphql";
import { useMutation } from "urql";
import Button from "@cloudscape-design/components/button";
import SpaceBetween from "@cloudscape-design/components/space-between";
import { isAdmin, useMe } from "../../app/me";
import { useNotifications } from "../../app/notifications";
import { isResultError } from "../../lib/errors";
import { formatDateTime, formatDuration } from "../../lib/time";

type Ou = DirectoryQuery["organizationalUnits"][number] & { children?: Ou[] };

/** OUs as a tree for the table's expandable rows. */
export function ouTree(ous: DirectoryQuery["organizationalUnits"]): Ou[] {
  const byId = new Map<string, Ou>(ous.map((o) => [o.id, { ...o, children: [] }]));
  const roots: Ou[] = [];
  for (const o of byId.values()) {
    const parent = o.parentId ? byId.get(o.parentId) : undefined;
    if (parent) parent.children!.push(o);
    else roots.push(o);
  }
  for (const o of byId.values()) o.children!.sort((a, b) => a.name.localeCompare(b.name));
  return roots;
}

export function AccountsPage() {
  const [{ data, fetching, error }] = useQuery({ query: DirectoryDocument });
  const ous = useMemo(() => data?.organizationalUnits ?? [], [data]);
  const tree = useMemo(() => ouTree(ous), [ous]);
  const [expanded, setExpanded] = useState<Ou[] | null>(null);
  const [selectedOu, setSelectedOu] = useState<Ou[]>([]);
  const ouName = useMemo(() => Object.fromEntries(ous.map((o) => [o.id, o.name])), [ous]);
  const chosen = selectedOu[0];
  const accounts = useMemo(
    () => (data?.accounts ?? []).filter((a) => !chosen || a.organizationalUnitPath.includes(`/${chosen.id}/`)),
    [data, chosen],
  );
  const { items, collectionProps, filterProps, paginationProps, filteredItemsCount } = useCollection(accounts, {
    filtering: {
      filteringFunction: (a, text) => {
        const q = text.toLowerCase();
        return (
          a.name.toLowerCase().includes(q) ||
          a.id.includes(q) ||
          a.tags.some((t) => `${t.key}=${t.value}`.toLowerCase().includes(q))
        );
      },
    },
    pagination: { pageSize: 25 },
    sorting: { defaultState: { sortingColumn: { sortingField: "name" } } },
  });
  const path = (p: string) =>
    "/" +
    p
      .split("/")
      .filter(Boolean)
      .slice(1)
      .map((id) => ouName[id] ?? id)
      .join("/");

  return (
    <ContentLayout
      header={
        <Header
          variant="h1"
          description="The organization as last synced from AWS Organizations."
          actions={<SyncNow />}
        >
          Accounts and OUs
        </Header>
      }
    >
      <Grid gridDefinition={[{ colspan: { default: 12, m: 4 } }, { colspan: { default: 12, m: 8 } }]}>
        <Table
          variant="container"
          header={
            <Header counter={`(${ous.length})`} description="Choose one to list its accounts, nested OUs included.">
              Organizational units
            </Header>
          }
          items={tree}
          loading={fetching}
          loadingText="Loading"
          trackBy="id"
          selectionType="single"
          selectedItems={selectedOu}
          onSelectionChange={(e) => setSelectedOu(e.detail.selectedItems)}
          expandableRows={{
            getItemChildren: (o) => o.children ?? [],
            isItemExpandable: (o) => !!o.children?.length,
            expandedItems: expanded ?? tree,
            onExpandableItemToggle: ({ detail }) =>
              setExpanded((cur) => {
                const base = cur ?? tree;
                return detail.expanded ? [...base, detail.item] : base.filter((o) => o.id !== detail.item.id);
              }),
          }}
          ariaLabels={{
            tableLabel: "Organizational units",
            selectionGroupLabel: "Organizational unit selection",
            itemSelectionLabel: (_, o) => `Show accounts of ${o.name}`,
            expandButtonLabel: (o) => `Expand ${o.name}`,
            collapseButtonLabel: (o) => `Collapse ${o.name}`,
          }}
          columnDefinitions={[
            { id: "name", header: "Name", cell: (o) => o.name },
            { id: "id", header: "Id", cell: (o) => o.id },
          ]}
        />
        <Table
          {...collectionProps}
          variant="container"
          items={items}
          loading={fetching}
          loadingText="Loading accounts"
          ariaLabels={{ tableLabel: "Accounts" }}
          header={
            <Header counter={`(${accounts.length})`}>{chosen ? `Accounts in ${chosen.name}` : "Accounts"}</Header>
          }
          filter={
            <TextFilter
              {...filterProps}
              filteringAriaLabel="Find accounts"
              filteringPlaceholder="Find accounts by name, id or tag"
              countText={`${filteredItemsCount ?? 0} matches`}
            />
          }
          pagination={
            <Pagination
              {...paginationProps}
              ariaLabels={{
                nextPageLabel: "Next page",
                previousPageLabel: "Previous page",
                pageLabel: (n) => `Page ${n}`,
              }}
            />
          }
          empty={<Box textAlign="center">{error?.message ?? "No accounts"}</Box>}
          columnDefinitions={[
            { id: "name", header: "Name", sortingField: "name", cell: (a) => a.name },
            { id: "id", header: "Account id", sortingField: "id", cell: (a) => a.id },
            { id: "ou", header: "Organizational unit", cell: (a) => path(a.organizationalUnitPath) },
            { id: "status", header: "Status", cell: (a) => a.status },
            { id: "tags", header: "Tags", cell: (a) => a.tags.map((t) => `${t.key}=${t.value}`).join(", ") || "-" },
          ]}
        />
      </Grid>
    </ContentLayout>
  );
}

/** The last sync time for everyone; admins may also start a sync now. */
function SyncNow() {
  const admin = isAdmin(useMe());
  const { notify } = useNotifications();
  const [{ data }, refetch] = useQuery({ query: DirectorySyncDocument });
  const [state, sync] = useMutation(SyncDirectoryDocument);
  const status = data?.directorySync;
  const onSync = async () => {
    const res = await sync({});
    const out = res.data?.syncDirectory;
    if (res.error || !out) notify({ type: "error", content: res.error?.message ?? "The request failed." });
    else if (isResultError(out)) notify({ type: "error", header: "Could not start a sync", content: out.message });
    else if (out.__typename === "DirectorySyncRequested")
      notify({
        type: "info",
        content: out.queued
          ? "Directory sync queued: the worker runs it now."
          : "A sync was already started this minute.",
      });
    refetch({ requestPolicy: "network-only" });
  };
  return (
    <SpaceBetween direction="horizontal" size="xs" alignItems="center">
      <Box color="text-body-secondary" data-testid="last-sync">
        Last sync: {formatDateTime(status?.lastSyncedAt)}
        {status ? ` (every ${formatDuration(status.intervalSeconds)})` : ""}
      </Box>
      <Button
        iconName="refresh"
        ariaLabel="Refresh last sync time"
        onClick={() => refetch({ requestPolicy: "network-only" })}
      />
      {admin && (
        <Button loading={state.fetching} onClick={onSync}>
          Sync now
        </Button>
      )}
    </SpaceBetween>
  );
}
