import { useState } from "react";
import { useMutation, useQuery } from "urql";
import Box from "@cloudscape-design/components/box";
import Button from "@cloudscape-design/components/button";
import ContentLayout from "@cloudscape-design/components/content-layout";
import Header from "@cloudscape-design/components/header";
import Modal from "@cloudscape-design/components/modal";
import SpaceBetween from "@cloudscape-design/components/space-between";
import Table from "@cloudscape-design/components/table";
import { DriftDocument, RemoveDriftDocument, ScanDriftDocument, type DriftFindingFieldsFragment } from "../../graphql/generated/graphql";
import { isAdmin, useMe } from "../../app/me";
import { useNotifications } from "../../app/notifications";
import { isResultError } from "../../lib/errors";
import { formatDateTime } from "../../lib/time";

/** Assignments in AWS that no live ticket or standing assignment explains. */
export function DriftPage() {
  const admin = isAdmin(useMe());
  const { notify } = useNotifications();
  const [{ data, fetching, error }, refetch] = useQuery({ query: DriftDocument });
  const [scanState, scan] = useMutation(ScanDriftDocument);
  const [, remove] = useMutation(RemoveDriftDocument);
  const [confirmAll, setConfirmAll] = useState(false);
  const [busy, setBusy] = useState(false);
  const items = data?.drift ?? [];
  const reload = () => refetch({ requestPolicy: "network-only" });

  const onScan = async () => {
    const res = await scan({});
    const out = res.data?.scanDrift;
    if (res.error || !out) notify({ type: "error", content: res.error?.message ?? "The scan failed." });
    else if (isResultError(out)) notify({ type: "error", content: out.message });
    else if (out.__typename === "DriftScan") notify({ type: "success", content: `Scan done: ${out.open.length} open, ${out.new} new, ${out.resolved} resolved.` });
    reload();
  };

  const onRemove = async (id: string | null) => {
    setBusy(true);
    const res = await remove({ id, all: id === null });
    setBusy(false);
    setConfirmAll(false);
    const out = res.data?.removeDrift;
    if (res.error || !out) notify({ type: "error", content: res.error?.message ?? "The request failed." });
    else if (isResultError(out)) notify({ type: "error", content: out.message });
    else if (out.__typename === "DriftRemoval") {
      notify({
        type: out.failed.length ? "warning" : "success",
        content: `Removed ${out.removed.length}; kept ${out.kept.length} that a ticket now explains.${out.failed.length ? ` Failed: ${out.failed.join("; ")}` : ""}`,
      });
    }
    reload();
  };

  return (
    <ContentLayout header={<Header variant="h1" description="Account assignments in AWS that no live ticket and no declared standing assignment explains.">Drift</Header>}>
      <Table
        variant="container"
        items={items}
        trackBy="id"
        loading={fetching && !data}
        loadingText="Loading drift"
        wrapLines
        ariaLabels={{ tableLabel: "Open drift findings" }}
        header={
          <Header
            counter={`(${items.length})`}
            actions={
              <SpaceBetween direction="horizontal" size="xs">
                <Button iconName="refresh" ariaLabel="Refresh" onClick={reload} />
                {admin && <Button loading={scanState.fetching} onClick={onScan}>Scan now</Button>}
                {admin && <Button disabled={!items.length} onClick={() => setConfirmAll(true)}>Remove all</Button>}
              </SpaceBetween>
            }
          >
            Open findings
          </Header>
        }
        empty={<Box textAlign="center" color="inherit">{error ? error.message : "No drift: AWS matches the tickets."}</Box>}
        columnDefinitions={[
          { id: "account", header: "Account", cell: (d) => `${d.account?.name ?? ""} (${d.accountId})` },
          { id: "ps", header: "Permission set", cell: (d) => d.permissionSet?.name ?? d.permissionSetArn },
          { id: "principal", header: "Principal", cell: (d) => (d.user ? d.user.userName : `${d.principalType.toLowerCase()} ${d.principalId}`) },
          { id: "first", header: "First seen", cell: (d) => formatDateTime(d.firstSeenAt) },
          { id: "last", header: "Last seen", cell: (d) => formatDateTime(d.lastSeenAt) },
          ...(admin
            ? [{ id: "actions", header: "Actions", cell: (d: DriftFindingFieldsFragment) => (
                <Button variant="inline-link" ariaLabel={`Remove drift ${d.id.slice(0, 8)} in ${d.accountId}`} onClick={() => onRemove(d.id)}>Remove</Button>
              ) }]
            : []),
        ]}
      />
      <Modal
        visible={confirmAll}
        onDismiss={() => setConfirmAll(false)}
        header="Remove all drifted assignments"
        footer={
          <Box float="right">
            <SpaceBetween direction="horizontal" size="xs">
              <Button variant="link" onClick={() => setConfirmAll(false)}>Back</Button>
              <Button variant="primary" loading={busy} onClick={() => onRemove(null)}>Remove all</Button>
            </SpaceBetween>
          </Box>
        }
      >
        Deletes {items.length} account assignment{items.length === 1 ? "" : "s"} from AWS. Findings a live ticket now explains are kept.
      </Modal>
    </ContentLayout>
  );
}
