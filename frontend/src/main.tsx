import "@cloudscape-design/global-styles/index.css";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { BrowserRouter } from "react-router-dom";
import { I18nProvider } from "@cloudscape-design/components/i18n";
import messages from "@cloudscape-design/components/i18n/messages/all.en";
import { App } from "./app/App";
import { applyPreferences, loadPreferences } from "./lib/preferences";

applyPreferences(loadPreferences());

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    {/* Cloudscape's own English strings: every built-in button and control gets its label. */}
    <I18nProvider locale="en" messages={[messages]}>
      <BrowserRouter>
        <App />
      </BrowserRouter>
    </I18nProvider>
  </StrictMode>,
);
