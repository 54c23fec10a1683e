import Box from "@cloudscape-design/components/box";
import FormField from "@cloudscape-design/components/form-field";
import Header from "@cloudscape-design/components/header";
import Multiselect from "@cloudscape-design/components/multiselect";
import Pagination from "@cloudscape-design/components/pagination";
import SpaceBetween from "@cloudscape-design/components/space-between";
import Table from "@cloudscape-design/components/table";
import TextFilter from "@cloudscape-design/components/text-filter";
import { choiceName, targetKey } from "../../lib/targets";
import { formatDuration } from "../../lib/time";
import { AccountPicker } from "./AccountPicker";
import type { TargetCatalog } from "./useTargetCatalog";
import type { RequestForm, Requestable } from "./useRequestForm";

export const accountLabel = (t: Requestable) => `${t.account.name} (${t.account.id})`;

/** Step 1: accounts (searched by the server), then the permission sets on them. */
export function TargetsStep({ form, catalog }: { form: RequestForm; catalog: TargetCatalog }) {
  const { filter, setFilter } = form;
  const { selected } = form.values;
  const { all, filtered, tagOptions, psOptions, ouPathText } = catalog;
  return (
    <SpaceBetween size="l">
      <AccountPicker
        chosen={form.accounts}
        onChange={form.chooseAccounts}
        ouOptions={catalog.ouOptions}
        ouPathText={ouPathText}
      />
      <Table
        {...catalog.collectionProps}
        selectedItems={selected}
        onSelectionChange={(e) => form.chooseTargets(e.detail.selectedItems)}
        selectionType="multi"
        trackBy={targetKey}
        variant="container"
        items={catalog.items}
        loading={catalog.fetching}
        loadingText="Loading what you may request on the chosen accounts"
        ariaLabels={{
          tableLabel: "Requestable targets",
          selectionGroupLabel: "Target selection",
          allItemsSelectionLabel: () => "Select all targets on this page",
          itemSelectionLabel: (_, t) => `Select ${t.account.name} ${choiceName(t)}`,
        }}
        header={
          <Header counter={selected.length ? `(${selected.length} selected of ${all.length})` : `(${all.length})`}>
            Permission sets on the chosen accounts
          </Header>
        }
        filter={
          <SpaceBetween direction="horizontal" size="xs">
            <TextFilter
              filteringText={filter.text}
              onChange={(e) => setFilter({ ...filter, text: e.detail.filteringText })}
              filteringPlaceholder="Find accounts or permission sets"
              filteringAriaLabel="Find accounts or permission sets"
              countText={`${filtered.length} matches`}
            />
            <FormField label="Tags">
              <Multiselect
                selectedOptions={tagOptions.filter((o) => filter.tags.includes(o.value))}
                onChange={(e) => setFilter({ ...filter, tags: e.detail.selectedOptions.map((o) => o.value ?? "") })}
                options={tagOptions}
                placeholder="Any tag"
                filteringType="auto"
                ariaLabel="Tags"
                tokenLimit={2}
              />
            </FormField>
            <FormField label="Permission sets">
              <Multiselect
                selectedOptions={psOptions.filter((o) => filter.permissionSets.includes(o.value))}
                onChange={(e) =>
                  setFilter({ ...filter, permissionSets: e.detail.selectedOptions.map((o) => o.value ?? "") })
                }
                options={psOptions}
                placeholder="Any permission set"
                filteringType="auto"
                ariaLabel="Permission sets"
                tokenLimit={2}
              />
            </FormField>
          </SpaceBetween>
        }
        pagination={
          <Pagination
            {...catalog.paginationProps}
            ariaLabels={{
              nextPageLabel: "Next page",
              previousPageLabel: "Previous page",
              pageLabel: (n) => `Page ${n}`,
            }}
          />
        }
        empty={
          <Box textAlign="center">
            {catalog.error
              ? catalog.error.message
              : catalog.accountIds.length
                ? "Nothing you may request matches."
                : "Choose one or more accounts above."}
          </Box>
        }
        columnDefinitions={[
          { id: "account", header: "Account", cell: accountLabel, sortingField: undefined },
          { id: "ou", header: "Organizational unit", cell: (t) => ouPathText(t.account.organizationalUnitPath) },
          { id: "ps", header: "Permission set or group", cell: (t) => choiceName(t) },
          {
            id: "rule",
            header: "Approval rule",
            cell: (t) => `${t.ruleName}${t.autoApproved ? " (auto-approved)" : ""}`,
          },
          { id: "max", header: "Longest", cell: (t) => formatDuration(t.maxDurationSeconds) },
          {
            id: "tags",
            header: "Tags",
            cell: (t) => t.account.tags.map((x) => `${x.key}=${x.value}`).join(", ") || "-",
          },
        ]}
      />
    </SpaceBetween>
  );
}
