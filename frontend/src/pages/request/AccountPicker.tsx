import { useEffect, useState } from "react";
import { useQuery } from "urql";
import Box from "@cloudscape-design/components/box";
import FormField from "@cloudscape-design/components/form-field";
import Header from "@cloudscape-design/components/header";
import Pagination from "@cloudscape-design/components/pagination";
import Select, { type SelectProps } from "@cloudscape-design/components/select";
import SpaceBetween from "@cloudscape-design/components/space-between";
import Table from "@cloudscape-design/components/table";
import TextFilter from "@cloudscape-design/components/text-filter";
import { RequestableAccountsDocument, type RequestableAccountFieldsFragment } from "../../graphql/generated/graphql";
import { MAX_CHOSEN_ACCOUNTS, withNextCursor } from "../../lib/targets";

const PAGE_SIZE = 20;

/**
 * The accounts the caller may request on, searched and paged by the server
 * (`requestableAccounts`), so an organization of any size loads one page at a time.
 * Chosen accounts stay chosen across searches and pages.
 */
export function AccountPicker({
  chosen,
  onChange,
  ouOptions,
  ouPathText,
}: {
  chosen: RequestableAccountFieldsFragment[];
  onChange: (accounts: RequestableAccountFieldsFragment[]) => void;
  ouOptions: SelectProps.Option[];
  ouPathText: (path: string) => string;
}) {
  const [text, setText] = useState("");
  const [search, setSearch] = useState("");
  const [ouId, setOuId] = useState<string | null>(null);
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [page, setPage] = useState(1);
  const [limitError, setLimitError] = useState<string | null>(null);

  // One request per pause in typing, not per keystroke.
  useEffect(() => {
    const timer = setTimeout(() => setSearch(text.trim()), 300);
    return () => clearTimeout(timer);
  }, [text]);
  useEffect(() => {
    setCursors([null]);
    setPage(1);
  }, [search, ouId]);

  const [{ data, fetching, error }] = useQuery({
    query: RequestableAccountsDocument,
    variables: { search: search || null, ouId, first: PAGE_SIZE, after: cursors[page - 1] ?? null },
  });
  const connection = data?.requestableAccounts;
  useEffect(() => {
    setCursors((c) => withNextCursor(c, page, connection?.pageInfo));
  }, [connection, page]);
  const items = connection?.edges.map((e) => e.node) ?? [];

  return (
    <Table
      variant="container"
      items={items}
      trackBy="id"
      loading={fetching}
      loadingText="Loading accounts"
      selectionType="multi"
      selectedItems={chosen}
      onSelectionChange={(e) => {
        // The selection event covers this page; keep what was chosen on other pages.
        const here = new Set(items.map((a) => a.id));
        const next = [...chosen.filter((a) => !here.has(a.id)), ...e.detail.selectedItems];
        if (next.length > MAX_CHOSEN_ACCOUNTS) {
          setLimitError(`Choose at most ${MAX_CHOSEN_ACCOUNTS} accounts at a time.`);
          return;
        }
        setLimitError(null);
        onChange(next);
      }}
      ariaLabels={{
        tableLabel: "Accounts you may request on",
        selectionGroupLabel: "Account selection",
        allItemsSelectionLabel: () => "Select all accounts on this page",
        itemSelectionLabel: (_, a) => `Select account ${a.name}`,
      }}
      header={
        <Header
          counter={connection ? `(${chosen.length} chosen of ${connection.totalCount})` : undefined}
          description="Choose the accounts first; their permission sets load below."
        >
          Accounts
        </Header>
      }
      filter={
        <SpaceBetween size="xs">
          <SpaceBetween direction="horizontal" size="xs">
            <TextFilter
              filteringText={text}
              onChange={(e) => setText(e.detail.filteringText)}
              filteringPlaceholder="Find accounts by name or id"
              filteringAriaLabel="Find accounts"
              countText={connection ? `${connection.totalCount} matches` : ""}
            />
            <FormField label="Organizational unit">
              <Select
                selectedOption={ouOptions.find((o) => o.value === (ouId ?? "")) ?? ouOptions[0] ?? null}
                onChange={(e) => setOuId(e.detail.selectedOption.value || null)}
                options={ouOptions}
                filteringType="auto"
                ariaLabel="Organizational unit"
              />
            </FormField>
          </SpaceBetween>
          {limitError && <Box color="text-status-error">{limitError}</Box>}
        </SpaceBetween>
      }
      pagination={
        <Pagination
          currentPageIndex={page}
          pagesCount={cursors.length}
          onChange={(e) => setPage(e.detail.currentPageIndex)}
          ariaLabels={{
            nextPageLabel: "Next page of accounts",
            previousPageLabel: "Previous page of accounts",
            pageLabel: (n) => `Accounts page ${n}`,
          }}
        />
      }
      empty={<Box textAlign="center">{error ? error.message : "No account you may request on matches."}</Box>}
      columnDefinitions={[
        { id: "name", header: "Account", cell: (a) => `${a.name} (${a.id})` },
        { id: "ou", header: "Organizational unit", cell: (a) => ouPathText(a.organizationalUnitPath) },
        { id: "tags", header: "Tags", cell: (a) => a.tags.map((x) => `${x.key}=${x.value}`).join(", ") || "-" },
      ]}
    />
  );
}
