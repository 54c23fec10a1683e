import { useState } from "react";
import { useMutation, useQuery } from "urql";
import Alert from "@cloudscape-design/components/alert";
import Box from "@cloudscape-design/components/box";
import Button from "@cloudscape-design/components/button";
import ColumnLayout from "@cloudscape-design/components/column-layout";
import Container from "@cloudscape-design/components/container";
import ContentLayout from "@cloudscape-design/components/content-layout";
import CopyToClipboard from "@cloudscape-design/components/copy-to-clipboard";
import Form from "@cloudscape-design/components/form";
import FormField from "@cloudscape-design/components/form-field";
import Header from "@cloudscape-design/components/header";
import Input from "@cloudscape-design/components/input";
import Multiselect from "@cloudscape-design/components/multiselect";
import SpaceBetween from "@cloudscape-design/components/space-between";
import StatusIndicator from "@cloudscape-design/components/status-indicator";
import Table from "@cloudscape-design/components/table";
import Toggle from "@cloudscape-design/components/toggle";
import {
  ApiTokensDocument,
  CreateApiTokenDocument,
  RevokeApiTokenDocument,
  type ApiTokenScope,
} from "../graphql/generated/graphql";
import { usePreferences } from "../app/preferences";
import { NotificationPreferences } from "../components/NotificationPreferences";
import { useNotifications } from "../app/notifications";
import { isResultError } from "../lib/errors";
import { formatDateTime } from "../lib/time";
import { checkTokenForm, TOKEN_SCOPES, tokenState } from "../lib/tokens";

export function SettingsPage() {
  const [prefs, setPrefs] = usePreferences();
  return (
    <ContentLayout
      header={
        <Header variant="h1" description="Appearance is kept in this browser; notifications and tokens on the server.">
          Settings
        </Header>
      }
    >
      <SpaceBetween size="l">
        <Container header={<Header variant="h2">Appearance</Header>}>
          <ColumnLayout columns={2}>
            <FormField label="Visual mode" description="Dark mode is easier on the eyes at night.">
              <Toggle
                checked={prefs.dark}
                onChange={(e) => setPrefs({ ...prefs, dark: e.detail.checked })}
                ariaLabel="Dark mode"
              >
                Dark mode
              </Toggle>
            </FormField>
            <FormField label="Density" description="Compact shows more rows per screen.">
              <Toggle
                checked={prefs.compact}
                onChange={(e) => setPrefs({ ...prefs, compact: e.detail.checked })}
                ariaLabel="Compact density"
              >
                Compact density
              </Toggle>
            </FormField>
          </ColumnLayout>
        </Container>
        <NotificationPreferences />
        <ApiTokens />
      </SpaceBetween>
    </ContentLayout>
  );
}

function ApiTokens() {
  const { notify } = useNotifications();
  const [{ data, fetching, error }, refetch] = useQuery({ query: ApiTokensDocument, variables: { all: false } });
  const [, create] = useMutation(CreateApiTokenDocument);
  const [, revoke] = useMutation(RevokeApiTokenDocument);
  const [name, setName] = useState("");
  const [scopes, setScopes] = useState<string[]>(["READ"]);
  // Empty: the token ends with this sign-in, which it may not outlive (docs/security.md).
  const [days, setDays] = useState("");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [secret, setSecret] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const reload = () => refetch({ requestPolicy: "network-only" });
  const now = new Date();

  const submit = async () => {
    const checked = checkTokenForm({ name, scopes, days }, new Date());
    setErrors(checked.errors);
    setFormError(null);
    if (Object.keys(checked.errors).length) return;
    setBusy(true);
    const res = await create({
      input: { name: name.trim(), scopes: scopes as ApiTokenScope[], expiresAt: checked.expiresAt },
    });
    setBusy(false);
    const out = res.data?.createApiToken;
    if (res.error || !out) return setFormError(res.error?.message ?? "The request failed.");
    if (isResultError(out)) {
      if (out.field === "name" || out.field === "scopes" || out.field === "expiresAt")
        setErrors({ [out.field]: out.message });
      else setFormError(out.message);
      return;
    }
    if (out.__typename === "NewApiToken") {
      setSecret(out.token);
      setName("");
      reload();
    }
  };

  const onRevoke = async (id: string) => {
    const res = await revoke({ id });
    const out = res.data?.revokeApiToken;
    if (res.error || !out) notify({ type: "error", content: res.error?.message ?? "The request failed." });
    else if (isResultError(out)) notify({ type: "error", header: "Could not revoke the token", content: out.message });
    else notify({ type: "success", content: `Token ${out.name} revoked.` });
    reload();
  };

  const items = data?.apiTokens ?? [];
  return (
    <SpaceBetween size="l">
      <Container
        header={
          <Header
            variant="h2"
            description="For scripts and the CLI. A token never does more than you may, only within its scopes, and ends when your sign-in does. For a longer-lived token, ask an operator (jit token create)."
          >
            New API token
          </Header>
        }
      >
        <Form
          errorText={formError}
          actions={
            <Button loading={busy} onClick={submit}>
              Create token
            </Button>
          }
        >
          <SpaceBetween size="m">
            {secret && (
              <Alert
                type="success"
                header="Copy the token now: it is not shown again"
                dismissible
                onDismiss={() => setSecret(null)}
              >
                <SpaceBetween direction="horizontal" size="xs">
                  <Box variant="code">{secret}</Box>
                  <CopyToClipboard
                    textToCopy={secret}
                    copyButtonAriaLabel="Copy token"
                    copySuccessText="Token copied"
                    copyErrorText="Could not copy"
                  />
                </SpaceBetween>
              </Alert>
            )}
            <ColumnLayout columns={3}>
              <FormField label="Name" errorText={errors.name}>
                <Input
                  value={name}
                  onChange={(e) => setName(e.detail.value)}
                  ariaLabel="Token name"
                  placeholder="ci-deploy"
                />
              </FormField>
              <FormField label="Scopes" errorText={errors.scopes}>
                <Multiselect
                  selectedOptions={scopes.map((s) => ({ value: s, label: s.toLowerCase() }))}
                  onChange={(e) => setScopes(e.detail.selectedOptions.map((o) => o.value!))}
                  options={TOKEN_SCOPES.map((s) => ({ value: s, label: s.toLowerCase() }))}
                  ariaLabel="Token scopes"
                  placeholder="Choose scopes"
                />
              </FormField>
              <FormField
                label="Expires after (days)"
                description="Empty: when your sign-in ends. A token never outlives the sign-in that made it."
                errorText={errors.expiresAt}
              >
                <Input
                  type="number"
                  inputMode="numeric"
                  value={days}
                  onChange={(e) => setDays(e.detail.value)}
                  ariaLabel="Expires after days"
                  placeholder="when my sign-in ends"
                />
              </FormField>
            </ColumnLayout>
          </SpaceBetween>
        </Form>
      </Container>
      <Table
        variant="container"
        items={items}
        trackBy="id"
        loading={fetching && !data}
        loadingText="Loading tokens"
        wrapLines
        ariaLabels={{ tableLabel: "My API tokens" }}
        header={<Header counter={`(${items.length})`}>My API tokens</Header>}
        empty={
          <Box textAlign="center" color="inherit">
            {error ? error.message : "You have no API tokens."}
          </Box>
        }
        columnDefinitions={[
          { id: "name", header: "Name", cell: (t) => t.name },
          { id: "scopes", header: "Scopes", cell: (t) => t.scopes.map((s) => s.toLowerCase()).join(", ") },
          {
            id: "state",
            header: "State",
            cell: (t) => {
              const state = tokenState(t, now);
              return <StatusIndicator type={state === "active" ? "success" : "stopped"}>{state}</StatusIndicator>;
            },
          },
          { id: "created", header: "Created", cell: (t) => formatDateTime(t.createdAt) },
          { id: "expires", header: "Expires", cell: (t) => formatDateTime(t.expiresAt) },
          { id: "used", header: "Last used", cell: (t) => formatDateTime(t.lastUsedAt) },
          {
            id: "actions",
            header: "Actions",
            cell: (t) =>
              tokenState(t, now) === "active" ? (
                <Button variant="inline-link" ariaLabel={`Revoke token ${t.name}`} onClick={() => onRevoke(t.id)}>
                  Revoke
                </Button>
              ) : (
                "-"
              ),
          },
        ]}
      />
    </SpaceBetween>
  );
}
