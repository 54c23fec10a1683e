import { useEffect, useEffectEvent, useRef, useState } from "react";
import { useMutation, useQuery } from "urql";
import Box from "@cloudscape-design/components/box";
import Button from "@cloudscape-design/components/button";
import ContentLayout from "@cloudscape-design/components/content-layout";
import Header from "@cloudscape-design/components/header";
import Modal from "@cloudscape-design/components/modal";
import ProgressBar from "@cloudscape-design/components/progress-bar";
import SpaceBetween from "@cloudscape-design/components/space-between";
import Table from "@cloudscape-design/components/table";
import {
  DriftDocument,
  LastDriftScanDocument,
  RemoveDriftDocument,
  ScanDriftDocument,
  type DriftFindingFieldsFragment,
} from "../../graphql/generated/graphql";
import { isAdmin, useMe } from "../../app/me";
import { useNotifications } from "../../app/notifications";
import { isResultError } from "../../lib/errors";
import { principalLabel, scanView } from "../../lib/driftScan";
import { formatDateTime } from "../../lib/time";

/** How often the page asks how a running scan is doing. */
const POLL_MS = 2000;

/** Assignments in AWS that no live ticket or standing assignment explains. */
export function DriftPage() {
  const admin = isAdmin(useMe());
  const { notify } = useNotifications();
  const [{ data, fetching, error }, refetch] = useQuery({ query: DriftDocument });
  const [scanState, scan] = useMutation(ScanDriftDocument);
  const [, remove] = useMutation(RemoveDriftDocument);
  const [confirmAll, setConfirmAll] = useState(false);
  const [busy, setBusy] = useState(false);
  const [lastScan, refetchScan] = useQuery({ query: LastDriftScanDocument });
  const items = data?.drift ?? [];
  const reload = () => refetch({ requestPolicy: "network-only" });
  const current = lastScan.data?.lastDriftScan ?? null;
  const view = current ? scanView(current) : null;

  // A scan runs as a job for up to minutes: poll it while it is queued or running, and
  // reload the findings once it is done.
  const wasActive = useRef(false);
  const active = view?.active;
  const poll = useEffectEvent(() => refetchScan({ requestPolicy: "network-only" }));
  const reloadFindings = useEffectEvent(() => reload());
  useEffect(() => {
    if (active) {
      wasActive.current = true;
      const id = window.setInterval(() => poll(), POLL_MS);
      return () => window.clearInterval(id);
    }
    if (wasActive.current) {
      wasActive.current = false;
      reloadFindings();
    }
    return undefined;
  }, [active, current?.id]);

  const onScan = async () => {
    const res = await scan({});
    const out = res.data?.scanDrift;
    if (res.error || !out) notify({ type: "error", content: res.error?.message ?? "The scan could not be started." });
    else if (isResultError(out)) notify({ type: "error", content: out.message });
    else if (out.__typename === "DriftScanRequested") {
      notify({
        type: "info",
        content: out.queued ? "Scan started." : "A scan is already running; showing its progress.",
      });
    }
    refetchScan({ requestPolicy: "network-only" });
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
    <ContentLayout
      header={
        <Header
          variant="h1"
          description="Account assignments in AWS that no live ticket and no declared standing assignment explains."
        >
          Drift
        </Header>
      }
    >
      <SpaceBetween size="l">
        {view && current && (
          <ProgressBar
            value={view.value}
            status={view.status}
            label={view.label}
            description={view.description}
            additionalInfo={`Requested ${formatDateTime(current.requestedAt)}${current.finishedAt ? `, finished ${formatDateTime(current.finishedAt)}` : ""}`}
            resultText={view.description}
          />
        )}
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
                  {admin && (
                    <Button loading={scanState.fetching || !!view?.active} onClick={onScan}>
                      Scan now
                    </Button>
                  )}
                  {admin && (
                    <Button disabled={!items.length} onClick={() => setConfirmAll(true)}>
                      Remove all
                    </Button>
                  )}
                </SpaceBetween>
              }
            >
              Open findings
            </Header>
          }
          empty={
            <Box textAlign="center" color="inherit">
              {error ? error.message : "No drift: AWS matches the tickets."}
            </Box>
          }
          columnDefinitions={[
            { id: "account", header: "Account", cell: (d) => `${d.account?.name ?? ""} (${d.accountId})` },
            { id: "ps", header: "Permission set", cell: (d) => d.permissionSet?.name ?? d.permissionSetArn },
            { id: "principal", header: "Principal", cell: (d) => principalLabel(d) },
            { id: "first", header: "First seen", cell: (d) => formatDateTime(d.firstSeenAt) },
            { id: "last", header: "Last seen", cell: (d) => formatDateTime(d.lastSeenAt) },
            ...(admin
              ? [
                  {
                    id: "actions",
                    header: "Actions",
                    cell: (d: DriftFindingFieldsFragment) => (
                      <Button
                        variant="inline-link"
                        ariaLabel={`Remove drift ${d.id.slice(0, 8)} in ${d.accountId}`}
                        onClick={() => onRemove(d.id)}
                      >
                        Remove
                      </Button>
                    ),
                  },
                ]
              : []),
          ]}
        />
      </SpaceBetween>
      <Modal
        visible={confirmAll}
        onDismiss={() => setConfirmAll(false)}
        header="Remove all drifted assignments"
        footer={
          <Box float="right">
            <SpaceBetween direction="horizontal" size="xs">
              <Button variant="link" onClick={() => setConfirmAll(false)}>
                Back
              </Button>
              <Button variant="primary" loading={busy} onClick={() => onRemove(null)}>
                Remove all
              </Button>
            </SpaceBetween>
          </Box>
        }
      >
        Deletes {items.length} account assignment{items.length === 1 ? "" : "s"} from AWS. Findings a live ticket now
        explains are kept.
      </Modal>
    </ContentLayout>
  );
}
