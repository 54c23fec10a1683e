import { useEffect, useState } from "react";
import Alert from "@cloudscape-design/components/alert";
import Box from "@cloudscape-design/components/box";
import Button from "@cloudscape-design/components/button";
import Container from "@cloudscape-design/components/container";
import ExpandableSection from "@cloudscape-design/components/expandable-section";
import FormField from "@cloudscape-design/components/form-field";
import Header from "@cloudscape-design/components/header";
import Input from "@cloudscape-design/components/input";
import Select from "@cloudscape-design/components/select";
import SpaceBetween from "@cloudscape-design/components/space-between";
import { graphqlUrl } from "../graphql/client";
import { demoSignIn, demoUsers, signIn, ssoAvailable, ssoLoginUrl, type DemoUser } from "./session";

/**
 * Single sign-on (OIDC) when configured, the demo user picker in demo mode, and an API
 * token for scripts and debugging. The server decides which of these exist.
 */
export function SignInPage({ onSignedIn, reason }: { onSignedIn: () => void; reason?: string }) {
  const [sso, setSso] = useState<boolean | null>(null);
  const [demo, setDemo] = useState<DemoUser[] | null>(null);
  const [probed, setProbed] = useState(0);
  const [tokenOpen, setTokenOpen] = useState<boolean | null>(null);
  useEffect(() => {
    Promise.allSettled([ssoAvailable().then(setSso), demoUsers().then(setDemo)]).then(() => setProbed(1));
  }, []);
  const returnTo = window.location.pathname + window.location.search;

  return (
    <main style={{ maxWidth: 560, margin: "10vh auto", padding: "0 16px" }}>
      <SpaceBetween size="l">
        <Header variant="h1" description="Just-in-time access to your AWS accounts.">
          Sign in to JIT
        </Header>
        {reason && <Alert type="warning">{reason}</Alert>}
        {sso && (
          <Container>
            <SpaceBetween size="s">
              <Button variant="primary" href={ssoLoginUrl(returnTo)}>
                Sign in with single sign-on
              </Button>
              <Box variant="small" color="text-body-secondary">
                Your organization's identity provider signs you in; JIT keeps a session cookie.
              </Box>
            </SpaceBetween>
          </Container>
        )}
        {demo && <DemoPicker users={demo} onSignedIn={onSignedIn} />}
        {sso === false && !demo && (
          <Alert type="info">Single sign-on is not configured on this server: sign in with an API token.</Alert>
        )}
        <Container>
          <ExpandableSection
            headerText="Sign in with an API token"
            // Open by default only when it is the only way in.
            expanded={tokenOpen ?? (probed > 0 && !sso && !demo)}
            onChange={(e) => setTokenOpen(e.detail.expanded)}
          >
            <TokenForm onSignedIn={onSignedIn} />
          </ExpandableSection>
        </Container>
      </SpaceBetween>
    </main>
  );
}

function DemoPicker({ users, onSignedIn }: { users: DemoUser[]; onSignedIn: () => void }) {
  const [chosen, setChosen] = useState<string | null>(null);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const options = users.map((u) => ({ value: u.userName, label: u.userName, description: u.displayName }));
  const submit = async () => {
    if (!chosen) return setError("Choose a demo user.");
    setBusy(true);
    const failed = await demoSignIn(chosen);
    setBusy(false);
    if (failed) setError(failed);
    else onSignedIn();
  };
  return (
    <Container
      header={
        <Header variant="h2" description="Demo mode: sign in as any demo user, without a password.">
          Demo users
        </Header>
      }
    >
      <form
        onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}
      >
        <SpaceBetween size="s">
          <FormField label="Demo user" errorText={error || undefined} stretch>
            <Select
              selectedOption={options.find((o) => o.value === chosen) ?? null}
              onChange={(e) => setChosen(e.detail.selectedOption.value ?? null)}
              options={options}
              placeholder="Choose a user"
              ariaLabel="Demo user"
            />
          </FormField>
          <Button loading={busy} formAction="submit">
            Sign in as this user
          </Button>
        </SpaceBetween>
      </form>
    </Container>
  );
}

/** The token is checked against the API before it is kept. */
function TokenForm({ onSignedIn }: { onSignedIn: () => void }) {
  const [token, setToken] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  const submit = async () => {
    if (!token.trim()) {
      setError("Enter a token.");
      return;
    }
    setBusy(true);
    try {
      const res = await fetch(graphqlUrl(), {
        method: "POST",
        credentials: "omit",
        headers: { "content-type": "application/json", Authorization: `Bearer ${token.trim()}` },
        body: JSON.stringify({ query: "{ me { user { userName } } }" }),
      });
      if (res.status === 401) {
        setError("That token is not valid or has expired.");
        return;
      }
      if (!res.ok) {
        setError(`The API answered ${res.status}.`);
        return;
      }
      signIn(token);
      onSignedIn();
    } catch (e) {
      setError(`Cannot reach the API: ${(e as Error).message}`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <SpaceBetween size="s">
        <FormField
          label="API token"
          description="A bearer token: `jit demo` prints one per demo user; `jit token create USERNAME` makes one."
          errorText={error || undefined}
          stretch
        >
          <Input
            type="password"
            value={token}
            onChange={(e) => setToken(e.detail.value)}
            ariaLabel="API token"
            placeholder="jit_..."
          />
        </FormField>
        <Button variant="primary" loading={busy} formAction="submit">
          Sign in
        </Button>
        <Box variant="small" color="text-body-secondary">
          The token is kept in this browser tab only and forgotten when you close it.
        </Box>
      </SpaceBetween>
    </form>
  );
}
