// Single sign-on in a real browser: the console's sign-in page, the oidc-provider
// package's login and consent pages, and back to the console on a session cookie.
//
// Started by tests/e2e/test_console_browser.py (test_console_oidc_sign_in_...), which passes
//   JIT_E2E_CONFIG  JSON {baseUrl, login, ticketId}
//   JIT_E2E_ARTIFACTS  folder for screenshots
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { launch } from "./support.mjs";

const config = JSON.parse(process.env.JIT_E2E_CONFIG ?? "{}");
const artifacts = process.env.JIT_E2E_ARTIFACTS ?? path.resolve("artifacts/e2e");
mkdirSync(artifacts, { recursive: true });

test("sign in through the identity provider, use the console on the cookie, sign out", async (t) => {
  const browser = await launch();
  t.after(() => browser.close());
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  const cspViolations = [];
  page.on("console", (m) => {
    if (m.type() === "error" && page.url().startsWith(config.baseUrl) && m.text().includes("Content Security Policy"))
      cspViolations.push(m.text());
  });
  const acks = [];
  page.on("websocket", (ws) =>
    ws.on("framereceived", (f) => String(f.payload).includes("connection_ack") && acks.push(ws.url())),
  );
  const shot = (name) => page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });

  try {
    await page.goto(`${config.baseUrl}/tickets/${config.ticketId}`);
    await page
      .getByRole("link", { name: "Sign in with single sign-on" })
      .or(page.getByRole("button", { name: "Sign in with single sign-on" }))
      .first()
      .click();

    // oidc-provider's development login and consent pages.
    await page.waitForURL((url) => !url.href.startsWith(config.baseUrl));
    await page.locator('input[name="login"]').fill(config.login);
    await page.locator('input[name="password"]').fill("any");
    await shot("30-oidc-provider-login");
    await page.locator('button[type="submit"]').first().click();
    await page.waitForLoadState();
    if (!page.url().startsWith(config.baseUrl)) {
      await page.locator('button[type="submit"]').first().click(); // consent
    }

    // Back on the page we started from, signed in by cookie.
    await page.waitForURL(`${config.baseUrl}/tickets/${config.ticketId}`);
    await page.getByRole("heading", { name: `Ticket ${config.ticketId.slice(0, 8)}`, level: 1 }).waitFor();
    await shot("31-oidc-signed-in-ticket");
    const cookies = await context.cookies(config.baseUrl);
    const session = cookies.find((c) => c.name === "jit_session");
    const csrf = cookies.find((c) => c.name === "jit_csrf");
    assert.ok(session && session.httpOnly, "the session cookie is missing or readable by scripts");
    assert.ok(csrf && !csrf.httpOnly, "the CSRF cookie is missing");
    assert.equal(await page.evaluate(() => sessionStorage.getItem("jit.token")), null, "a token was stored");
    // The ticket page subscribes: the websocket was accepted on the cookie and csrfToken.
    for (let i = 0; i < 50 && !acks.length; i++) await page.waitForTimeout(100);
    assert.ok(acks.length > 0, "the websocket was not acknowledged");

    // A mutation over HTTP on the cookie (the CSRF header goes with it).
    await page.goto(`${config.baseUrl}/settings`);
    await page.locator('input[aria-label="Token name"]').fill("from-the-browser");
    await page.getByRole("button", { name: "Create token" }).click();
    await page.getByText("Copy the token now").first().waitFor();
    await shot("32-oidc-settings-token");

    // Sign out ends the session on the server.
    await page
      .getByRole("button", { name: /Alice|alice/ })
      .first()
      .click();
    await page.getByRole("menuitem", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in to JIT", level: 1 }).waitFor();
    const after = await page.evaluate(async () => (await fetch("/auth/session")).status);
    assert.equal(after, 401, "the session still works after signing out");
    await shot("33-oidc-signed-out");
  } catch (e) {
    await shot("failed-oidc").catch(() => {});
    throw e;
  }
  assert.deepEqual(cspViolations, [], "the console broke the server's Content Security Policy");
});
