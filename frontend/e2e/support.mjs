// Shared by the browser scripts: screenshots, axe-core, signing in with a pasted token.
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

export const config = JSON.parse(process.env.JIT_E2E_CONFIG ?? "{}");
export const artifacts = process.env.JIT_E2E_ARTIFACTS ?? path.resolve("artifacts/e2e");
mkdirSync(artifacts, { recursive: true });

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

export async function shot(page, name) {
  await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
}

/** axe-core on the page as it is; returns every violation, with its impact. */
export async function axe(page) {
  await page.evaluate(axeSource);
  return page.evaluate(async () => {
    const result = await axe.run(document, { resultTypes: ["violations"] });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 5),
    }));
  });
}

/** A screenshot and axe-core; `report` collects every page's result. */
export async function visit(page, name, report) {
  await shot(page, name);
  const violations = await axe(page);
  const serious = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  report.push({ page: name, violations: violations.length, serious: serious.length, details: violations });
  assert.deepEqual(violations, [], `${name}: accessibility violations ${JSON.stringify(violations, null, 1)}`);
}

/** A fresh context signed in with a pasted token (kept in the tab's sessionStorage). */
export async function signIn(browser, token, name) {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  page.on("pageerror", (e) => console.error(`[${name}] page error:`, e.message));
  page.on("console", (m) => {
    if (m.type() === "error") console.error(`[${name}] console:`, m.text().slice(0, 300));
  });
  await page.goto(config.baseUrl + "/");
  await page.locator('input[type="password"]').waitFor();
  await page.locator('input[type="password"]').fill(token);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  // The sign-in page has its own heading: wait for the signed-in page's.
  await page.locator('input[type="password"]').waitFor({ state: "detached" });
  await page.getByRole("heading", { name: "My access", level: 1 }).waitFor();
  return { context, page };
}
