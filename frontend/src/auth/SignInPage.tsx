import { useState } from "react";
import Box from "@cloudscape-design/components/box";
import Button from "@cloudscape-design/components/button";
import Container from "@cloudscape-design/components/container";
import Form from "@cloudscape-design/components/form";
import FormField from "@cloudscape-design/components/form-field";
import Header from "@cloudscape-design/components/header";
import Input from "@cloudscape-design/components/input";
import { graphqlUrl } from "../graphql/client";
import { signIn } from "./session";

/** Token sign-in until OIDC lands: the token is checked against the API before it is kept. */
export function SignInPage({ onSignedIn, reason }: { onSignedIn: () => void; reason?: string }) {
  const [token, setToken] = useState("");
  const [error, setError] = useState(reason ?? "");
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
    <main style={{ maxWidth: 560, margin: "10vh auto", padding: "0 16px" }}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}
      >
        <Form
          header={<Header variant="h1" description="Just-in-time access to your AWS accounts.">Sign in to JIT</Header>}
          actions={
            <Button variant="primary" loading={busy} formAction="submit">
              Sign in
            </Button>
          }
        >
          <Container>
            <FormField
              label="API token"
              description="A bearer token: `jit demo` prints one per demo user; `jit token create USERNAME` makes one."
              errorText={error || undefined}
              stretch
            >
              <Input type="password" value={token} onChange={(e) => setToken(e.detail.value)} ariaLabel="API token" placeholder="jit_..." autoFocus />
            </FormField>
            <Box variant="small" color="text-body-secondary" margin={{ top: "s" }}>
              The token is kept in this browser tab only and forgotten when you close it.
            </Box>
          </Container>
        </Form>
      </form>
    </main>
  );
}
