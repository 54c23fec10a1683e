import { useState } from "react";
import { Navigate, Route, Routes, useLocation } from "react-router-dom";
import { Provider, useQuery } from "urql";
import Spinner from "@cloudscape-design/components/spinner";
import Box from "@cloudscape-design/components/box";
import { makeClient } from "../graphql/client";
import { MeDocument } from "../graphql/generated/graphql";
import { isSignedIn, signOut } from "../auth/session";
import { SignInPage } from "../auth/SignInPage";
import { MeContext } from "./me";
import { NotificationsProvider } from "./notifications";
import { Shell } from "./Shell";
import { MyAccessPage } from "../pages/MyAccess";
import { RequestAccessPage } from "../pages/RequestAccess";
import { ApprovalsPage } from "../pages/Approvals";
import { TicketsPage } from "../pages/Tickets";
import { TicketDetailPage } from "../pages/TicketDetail";
import { NewRulePage, RuleDetailPage, RulesPage } from "../pages/admin/Rules";
import { AccountsPage } from "../pages/admin/Accounts";
import { DelegationsPage } from "../pages/Delegations";
import { SettingsPage } from "../pages/Settings";
import { PermissionSetGroupsPage } from "../pages/admin/PermissionSetGroups";
import { RuleChangesPage } from "../pages/admin/RuleChanges";
import { DriftPage } from "../pages/admin/Drift";
import { AuditLogPage } from "../pages/audit/AuditLog";
import { InsightsPage } from "../pages/Insights";

export function App() {
  // Bumped on sign-in and sign-out so the client, and its websocket, start afresh.
  const [session, setSession] = useState(0);
  const [reason, setReason] = useState<string | undefined>();
  if (!isSignedIn()) {
    return (
      <SignInPage
        reason={reason}
        onSignedIn={() => {
          setReason(undefined);
          setSession((s) => s + 1);
        }}
      />
    );
  }
  return (
    <Session
      key={session}
      onExpired={() => {
        setReason("Your session has ended. Sign in again.");
        setSession((s) => s + 1);
      }}
      onSignOut={() => {
        signOut().finally(() => setSession((s) => s + 1));
      }}
    />
  );
}

/** One sign-in: its own client (keyed by the session counter, so a new sign-in gets a new one). */
function Session({ onExpired, onSignOut }: { onExpired: () => void; onSignOut: () => void }) {
  const [client] = useState(() => makeClient(onExpired));
  return (
    <Provider value={client}>
      <NotificationsProvider>
        <SignedIn onSignOut={onSignOut} />
      </NotificationsProvider>
    </Provider>
  );
}

function SignedIn({ onSignOut }: { onSignOut: () => void }) {
  const [{ data, error }] = useQuery({ query: MeDocument });
  const location = useLocation();
  if (error && !data) return <Box padding="xxl">Cannot load your profile: {error.message}</Box>;
  if (!data)
    return (
      <Box padding="xxl">
        <Spinner size="large" />
      </Box>
    );
  const leaf = location.pathname.startsWith("/tickets/")
    ? `Ticket ${location.pathname.split("/")[2]?.slice(0, 8)}`
    : undefined;
  return (
    <MeContext.Provider value={data.me}>
      <Shell onSignOut={onSignOut} leaf={leaf}>
        <Routes>
          <Route path="/" element={<MyAccessPage />} />
          <Route path="/request" element={<RequestAccessPage />} />
          <Route path="/approvals" element={<ApprovalsPage />} />
          <Route path="/tickets" element={<TicketsPage />} />
          <Route path="/tickets/:id" element={<TicketDetailPage />} />
          <Route path="/admin/rules" element={<RulesPage />} />
          <Route path="/admin/rules/new" element={<NewRulePage />} />
          <Route path="/admin/rules/:name" element={<RuleDetailPage />} />
          <Route path="/admin/accounts" element={<AccountsPage />} />
          <Route path="/admin/groups" element={<PermissionSetGroupsPage />} />
          <Route path="/admin/rule-changes" element={<RuleChangesPage />} />
          <Route path="/admin/drift" element={<DriftPage />} />
          <Route path="/audit" element={<AuditLogPage />} />
          <Route path="/insights" element={<InsightsPage />} />
          <Route path="/delegations" element={<DelegationsPage />} />
          <Route path="/settings" element={<SettingsPage />} />
          <Route path="/console" element={<Navigate to="/" replace />} />
          <Route path="*" element={<Box padding="xxl">No such page.</Box>} />
        </Routes>
      </Shell>
    </MeContext.Provider>
  );
}
