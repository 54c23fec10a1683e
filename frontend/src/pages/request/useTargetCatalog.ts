import { useCallback, useMemo } from "react";
import { useQuery } from "urql";
import { useCollection } from "@cloudscape-design/collection-hooks";
import type { SelectProps } from "@cloudscape-design/components/select";
import {
  OrganizationalUnitsDocument,
  RequestableTargetsDocument,
  type RequestableAccountFieldsFragment,
} from "../../graphql/generated/graphql";
import { filterIndexed, indexTargets, keepOnAccounts, targetKey, type TargetFilter } from "../../lib/targets";

/**
 * What may be requested on the chosen accounts, filtered and paged for the targets step, and
 * the organizational units to name and filter by. Used above the wizard, so the table's page
 * and sorting survive going to another step and back.
 */
export function useTargetCatalog(accounts: RequestableAccountFieldsFragment[], filter: TargetFilter) {
  const accountIds = useMemo(() => accounts.map((a) => a.id), [accounts]);
  // Targets only for the chosen accounts: never the whole organization at once.
  const [{ data, fetching, error }] = useQuery({
    query: RequestableTargetsDocument,
    variables: { accountIds },
    pause: !accountIds.length,
  });
  const [{ data: ouData }] = useQuery({ query: OrganizationalUnitsDocument });

  const all = useMemo(
    () => (accountIds.length ? keepOnAccounts(data?.requestableTargets ?? [], accountIds) : []),
    [data, accountIds],
  );
  const ous = useMemo(() => ouData?.organizationalUnits ?? [], [ouData]);
  const ouName = useMemo(() => Object.fromEntries(ous.map((o) => [o.id, o.name])), [ous]);
  const ouPathText = useCallback(
    (path: string) =>
      "/" +
      path
        .split("/")
        .filter(Boolean)
        .slice(1)
        .map((id) => ouName[id] ?? id)
        .join("/"),
    [ouName],
  );
  const ouOptions: SelectProps.Option[] = useMemo(
    () => [
      { value: "", label: "All organizational units" },
      ...ous
        .filter((o) => o.parentId !== null || o.path.split("/").filter(Boolean).length > 1)
        .map((o) => ({ value: o.id, label: ouPathText(o.path) }))
        .sort((a, b) => a.label.localeCompare(b.label)),
    ],
    [ous, ouPathText],
  );
  const index = useMemo(() => indexTargets(all), [all]);
  // Distinct tags and permission sets, computed once per load rather than per keystroke.
  const { tagOptions, psOptions } = useMemo(() => {
    const tags = new Set<string>();
    const sets = new Set<string>();
    for (const name of index.permissionSetNames.values()) sets.add(name);
    for (const g of index.groups) for (const tag of g.tags) tags.add(tag);
    return {
      tagOptions: [...tags].sort().map((v) => ({ value: v, label: v })),
      psOptions: [...sets].sort().map((v) => ({ value: v, label: v })),
    };
  }, [index]);

  const filtered = useMemo(() => filterIndexed(index, filter), [index, filter]);
  const { items, collectionProps, paginationProps } = useCollection(filtered, {
    pagination: { pageSize: 20 },
    sorting: {},
    selection: { trackBy: targetKey },
  });

  return {
    accountIds,
    all,
    fetching,
    error,
    ouOptions,
    ouPathText,
    tagOptions,
    psOptions,
    filtered,
    items,
    collectionProps,
    paginationProps,
  };
}

export type TargetCatalog = ReturnType<typeof useTargetCatalog>;
