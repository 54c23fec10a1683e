import { useEffect, useState } from "react";
import { useMutation, useQuery } from "urql";
import Box from "@cloudscape-design/components/box";
import Button from "@cloudscape-design/components/button";
import Checkbox from "@cloudscape-design/components/checkbox";
import Form from "@cloudscape-design/components/form";
import Header from "@cloudscape-design/components/header";
import SpaceBetween from "@cloudscape-design/components/space-between";
import StatusIndicator from "@cloudscape-design/components/status-indicator";
import Table from "@cloudscape-design/components/table";
import { NotificationPreferencesDocument, SetNotificationPreferencesDocument } from "../graphql/generated/graphql";
import { useNotifications } from "../app/notifications";
import { isResultError } from "../lib/errors";
import { changes, errorKind, kindLabel, toggle, toMatrix, type Matrix } from "../lib/notifyPrefs";

const CHANNEL_LABELS: Record<string, string> = { EMAIL: "Email", SLACK: "Slack" };

/** Settings: which notifications reach me on which configured channel (kind x channel). */
export function NotificationPreferences() {
  const { notify } = useNotifications();
  const [{ data, fetching, error }] = useQuery({ query: NotificationPreferencesDocument });
  const [, save] = useMutation(SetNotificationPreferencesDocument);
  const prefs = data?.notificationPreferences.preferences ?? [];
  const channels = data?.notificationPreferences.configuredChannels ?? [];
  const [original, setOriginal] = useState<Matrix>({});
  const [matrix, setMatrix] = useState<Matrix>({});
  const [rowErrors, setRowErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (data) {
      const m = toMatrix(data.notificationPreferences.preferences);
      setOriginal(m);
      setMatrix(m);
    }
  }, [data]);
  const kinds = prefs.map((p) => p.kind as string);
  const pending = changes(original, matrix, kinds);

  const submit = async () => {
    setRowErrors({});
    setFormError(null);
    if (!pending.length) return;
    setBusy(true);
    const res = await save({ preferences: pending });
    setBusy(false);
    const out = res.data?.setNotificationPreferences;
    if (res.error || !out) return setFormError(res.error?.message ?? "The request failed.");
    if (isResultError(out)) {
      const kind = errorKind(out.field, pending);
      if (kind) setRowErrors({ [kind]: out.message });
      else setFormError(out.message);
      return;
    }
    if (out.__typename === "NotificationPreferences") {
      const m = toMatrix(out.preferences);
      setOriginal(m);
      setMatrix(m);
      notify({ type: "success", content: "Notification preferences saved." });
    }
  };

  const defaults = new Set(prefs.filter((p) => p.isDefault).map((p) => p.kind as string));
  return (
    <Form
      errorText={formError}
      actions={
        <SpaceBetween direction="horizontal" size="xs">
          <Button
            variant="link"
            disabled={!pending.length}
            onClick={() => {
              setMatrix(original);
              setRowErrors({});
            }}
          >
            Discard changes
          </Button>
          <Button variant="primary" loading={busy} disabled={!pending.length || !channels.length} onClick={submit}>
            Save preferences
          </Button>
        </SpaceBetween>
      }
    >
      <Table
        variant="container"
        items={channels.length ? prefs : []}
        trackBy="kind"
        loading={fetching && !data}
        loadingText="Loading preferences"
        wrapLines
        ariaLabels={{ tableLabel: "Notification preferences" }}
        header={
          <Header
            counter={pending.length ? `(${pending.length} changed)` : undefined}
            description="Which notifications reach you, on each channel your admins configured. Until you choose, you get every kind on every channel."
          >
            Notifications
          </Header>
        }
        empty={
          <Box textAlign="center" color="inherit" padding="m">
            <b>{error ? "Preferences could not be read" : "No personal channel is configured"}</b>
            <Box variant="p" color="inherit">
              {error
                ? error.message
                : "An admin configures email (JIT_SMTP_HOST) or Slack (JIT_SLACK_TOKEN) first; see docs/notifications.md."}
            </Box>
          </Box>
        }
        columnDefinitions={[
          {
            id: "kind",
            header: "Notification",
            cell: (p) => (
              <SpaceBetween size="xxxs">
                <span>{kindLabel(p.kind)}</span>
                {defaults.has(p.kind) && !pending.some((c) => c.kind === p.kind) && (
                  <Box variant="small" color="text-status-inactive">
                    default
                  </Box>
                )}
                {rowErrors[p.kind] && <StatusIndicator type="error">{rowErrors[p.kind]}</StatusIndicator>}
              </SpaceBetween>
            ),
          },
          ...channels.map((c) => ({
            id: c,
            header: CHANNEL_LABELS[c] ?? c,
            cell: (p: (typeof prefs)[number]) => (
              <Checkbox
                checked={(matrix[p.kind] ?? []).includes(c)}
                onChange={(e) => setMatrix((m) => toggle(m, p.kind, c, e.detail.checked))}
                ariaLabel={`${kindLabel(p.kind)} by ${CHANNEL_LABELS[c] ?? c}`}
              />
            ),
          })),
        ]}
      />
    </Form>
  );
}
