// The console in a real browser against a live `jit serve` + `jit worker` + moto.
//
// Started by tests/e2e/test_console_browser.py, which brings the stack up and passes:
//   JIT_E2E_CONFIG  JSON {baseUrl, tokens: {alice, bob}, account: {id, name}, permissionSet}
//   JIT_E2E_CHECK   a command that checks the AWS assignment through boto3: `<cmd> present|absent`
//   JIT_E2E_ARTIFACTS  folder for screenshots and the accessibility report
// Run alone with `node --test e2e/console.e2e.mjs` once those are set.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { launch } from "./support.mjs";

const require = createRequire(import.meta.url);
const config = JSON.parse(process.env.JIT_E2E_CONFIG ?? "{}");
const artifacts = process.env.JIT_E2E_ARTIFACTS ?? path.resolve("artifacts/e2e");
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
// Generous: the worker grants for real, and CI machines (and this one) are often loaded.
const LIVE_TIMEOUT = 90_000;

mkdirSync(artifacts, { recursive: true });
const axeReport = [];
const cspViolations = [];

function checkAws(expect) {
  const [cmd, ...args] = JSON.parse(process.env.JIT_E2E_CHECK);
  const out = execFileSync(cmd, [...args, expect], { encoding: "utf8" });
  return out.trim();
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
}

/** axe-core on the page as it is; serious and critical violations fail the run. */
async function audit(page, name) {
  // evaluate, not a script tag: the console's CSP (rightly) refuses inline scripts.
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const result = await axe.run(document, { resultTypes: ["violations"] });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 5),
    }));
  });
  const serious = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  axeReport.push({ page: name, violations: violations.length, serious: serious.length, details: violations });
  return serious;
}

async function visit(page, name) {
  await shot(page, name);
  const serious = await audit(page, name);
  assert.deepEqual(serious, [], `${name}: serious accessibility violations ${JSON.stringify(serious, null, 1)}`);
}

async function signIn(browser, token, name) {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await signInPage(context, token, name, "/");
  return { context, page };
}

/** A new tab signs in on its own: the token lives in sessionStorage, which is per tab. */
const openPages = new Map();

async function signInPage(context, token, name, where) {
  const page = await context.newPage();
  openPages.set(name, page);
  page.on("pageerror", (e) => console.error(`[${name}] page error:`, e.message));
  page.on("console", (m) => {
    if (m.type() !== "error") return;
    console.error(`[${name}] console:`, m.text().slice(0, 300));
    // The console must work under the server's CSP as deployed: any violation fails the run.
    if (m.text().includes("Content Security Policy")) cspViolations.push(`[${name}] ${m.text().slice(0, 300)}`);
  });
  await page.goto(config.baseUrl + where);
  await page.locator('input[type="password"]').waitFor();
  if (name === "alice" && where === "/") await visit(page, "00-sign-in");
  await page.locator('input[type="password"]').fill(token);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  const landed =
    where === "/" ? page.getByRole("heading", { name: "My access", level: 1 }) : page.locator("main h1, h1").first();
  await landed.waitFor().catch(async (e) => {
    await shot(page, `failed-sign-in-${name}`);
    throw e;
  });
  return page;
}

// Each step needs the one before it: after a failure the rest are skipped, not run blind.
let failed = false;
function step(t, name, fn) {
  return t.test(name, async (s) => {
    if (failed) return s.skip("an earlier step failed");
    try {
      await fn();
    } catch (e) {
      failed = true;
      // What every open page showed when the step failed.
      for (const [who, page] of openPages) await shot(page, `failed-${who}`).catch(() => {});
      throw e;
    }
  });
}

function statusIn(scope, status) {
  return scope.locator(`[data-testid="ticket-status"][data-status="${status}"]`);
}

test("request, approve in a second browser, watch it go ACTIVE and ENDED live", async (t) => {
  const browser = await launch();
  t.after(() => browser.close());
  const alice = await signIn(browser, config.tokens.alice, "alice");
  const a = alice.page;
  let ticketId = "";

  await step(t, "the server's typed validation error shows on the wizard's field", async () => {
    await a.goto(config.baseUrl + "/request");
    // Accounts come a page at a time from the server; targets load for the chosen ones.
    await a.locator('input[aria-label="Select all accounts on this page"]').check();
    await a.locator('input[aria-label="Select all targets on this page"]').check();
    await a.getByRole("button", { name: "Next page", exact: true }).click();
    await a
      .getByRole("table", { name: "Requestable targets" })
      .locator('input[aria-label^="Select "]:not([aria-label="Select all targets on this page"])')
      .first()
      .check();
    await a.getByText("(21 selected of").first().waitFor();
    for (let i = 0; i < 3; i++) await a.getByRole("button", { name: "Next", exact: true }).click();
    await a.locator('textarea[aria-label="Justification"]').fill("too many");
    await a.getByRole("button", { name: "Next", exact: true }).click();
    await a.getByRole("button", { name: "Request access" }).click();
    // The server refuses (more than its 20 targets per ticket) with a ValidationError on
    // `targets`; the wizard goes back to the first step and shows it there.
    await a.getByText("at most 20 targets per ticket").first().waitFor();
    await a.getByRole("heading", { name: "Choose targets" }).waitFor();
    await visit(a, "02a-request-server-error");
  });

  await step(t, "alice requests access with the wizard", async () => {
    await visit(a, "01-my-access-empty");
    await a.goto(config.baseUrl + "/request");
    await a.getByRole("button", { name: "Next", exact: true }).click();
    await a.getByText("Choose at least one account and permission set.").first().waitFor();
    await a.locator('input[aria-label="Find accounts"]').fill(config.account.name);
    await a.getByText("1 matches").first().waitFor();
    await a.locator(`input[aria-label="Select account ${config.account.name}"]`).check();
    await a.locator(`input[aria-label="Select ${config.account.name} ${config.permissionSet}"]`).check();
    await visit(a, "02-request-targets");
    await a.getByRole("button", { name: "Next", exact: true }).click();
    await a.getByText(`Me (alice)`).first().waitFor();
    await a.getByRole("button", { name: "Next", exact: true }).click();
    await a.locator('input[aria-label="Duration amount"]').fill("10");
    await a.getByRole("button", { name: "Next", exact: true }).click();
    await visit(a, "03-request-time-window-error");
    await a
      .getByText(/At most 4h/)
      .first()
      .waitFor();
    await a.locator('input[aria-label="Duration amount"]').fill("1");
    await a.getByRole("button", { name: "Next", exact: true }).click();
    await a.locator('textarea[aria-label="Justification"]').fill("e2e: incident 42");
    await a.locator('input[aria-label="External reference"]').fill("INC-42");
    await a.getByRole("button", { name: "Next", exact: true }).click();
    await a.getByText("Rule prod-read-only").first().waitFor();
    await visit(a, "04-request-review");
    await a.getByRole("button", { name: "Request access" }).click();
    await a.waitForURL(/\/tickets\/[0-9a-f-]+$/);
    ticketId = a.url().split("/").pop();
    await statusIn(a, "PENDING_APPROVAL").first().waitFor();
    await visit(a, "05-ticket-pending");
  });

  await step(t, "alice's My access shows it, and bob approves it in his own browser context", async () => {
    // The side navigation may be collapsed on a page as wide as the wizard: go by URL.
    await a.goto(config.baseUrl + "/");
    await a.getByRole("heading", { name: "My access", level: 1 }).waitFor();
    await statusIn(a, "PENDING_APPROVAL").first().waitFor();
    // A reload would drop this marker: its survival proves the updates below came live.
    await a.evaluate(() => {
      window.__jitNoReload = true;
    });

    const bob = await signIn(browser, config.tokens.bob, "bob");
    const b = bob.page;
    await b.goto(config.baseUrl + "/approvals");
    const short = ticketId.slice(0, 8);
    await b.locator(`input[aria-label="Select ticket ${short}"]`).check();
    await visit(b, "06-approvals");
    await b.getByRole("button", { name: "Approve", exact: true }).first().click();
    const dialog = b.getByRole("dialog");
    await dialog.locator('textarea[aria-label="Comment"]').fill("looks fine");
    await shot(b, "07-approve-dialog");
    await dialog.getByRole("button", { name: "Approve" }).click();
    await b.getByText("Approved 1 ticket.").first().waitFor();
    await bob.context.close();
  });

  await step(t, "alice's page turns ACTIVE without a reload, and AWS has the assignment", async () => {
    await statusIn(a, "ACTIVE").first().waitFor({ timeout: LIVE_TIMEOUT });
    assert.equal(await a.evaluate(() => window.__jitNoReload), true, "the page was reloaded");
    await a
      .getByText(/\d+m( \d+s)? left/)
      .first()
      .waitFor();
    await visit(a, "08-my-access-active");
    assert.equal(checkAws("present"), "present");
  });

  let detail;
  await step(t, "the ticket detail shows steps, decisions and the resource stack", async () => {
    detail = await signInPage(alice.context, config.tokens.alice, "alice-detail", `/tickets/${ticketId}`);
    await statusIn(detail, "ACTIVE").first().waitFor();
    await detail.getByText("looks fine").first().waitFor();
    await detail.locator('[data-testid="stack-status"]', { hasText: "Succeeded" }).first().waitFor();
    const stack = detail.getByRole("table", { name: "Resource stack" });
    assert.match(await stack.innerText(), /[0-9a-f-]{8,}/, "no AWS request id on the stack");
    await visit(detail, "09-ticket-detail-active");
  });

  await step(t, "alice asks for more time; bob approves the extension from his inbox", async () => {
    await a.bringToFront();
    await a.locator(`button[aria-label="Extend ticket ${ticketId}"]`).click();
    const dialog = a.getByRole("dialog");
    await dialog.locator('input[aria-label="Additional time amount"]').fill("1");
    await dialog.locator('textarea[aria-label="Reason"]').fill("the fix takes longer");
    await shot(a, "10a-extend-dialog");
    await dialog.getByRole("button", { name: "Request extension" }).click();
    await a
      .getByText(/waits for approval/)
      .first()
      .waitFor();

    const bob = await signIn(browser, config.tokens.bob, "bob");
    const b = bob.page;
    await b.goto(config.baseUrl + "/approvals");
    const extensions = b.getByRole("table", { name: "Extensions awaiting a decision" });
    await extensions.getByRole("link", { name: ticketId.slice(0, 8) }).waitFor();
    await visit(b, "10b-approvals-extension");
    await extensions.locator('button[aria-label^="Approve extension"]').first().click();
    const approve = b.getByRole("dialog");
    await approve.locator('textarea[aria-label="Comment"]').fill("ok, one more hour");
    await approve.getByRole("button", { name: "Approve" }).click();
    await b.getByText("Extension approved.").first().waitFor();
    await bob.context.close();

    await detail.reload();
    const history = detail.getByRole("table", { name: "Extensions" });
    await history.getByText("Approved").first().waitFor();
    await history.getByText("ok, one more hour", { exact: false }).first().waitFor();
    await visit(detail, "10c-ticket-detail-extended");
  });

  await step(t, "alice revokes; both pages turn ENDED live and AWS no longer has it", async () => {
    await a.bringToFront();
    await a.locator(`button[aria-label="Revoke ticket ${ticketId}"]`).click();
    const dialog = a.getByRole("dialog");
    await dialog.locator('textarea[aria-label="Reason"]').fill("done");
    await dialog.getByRole("button", { name: "Revoke" }).click();
    await statusIn(a, "ENDED").first().waitFor({ timeout: LIVE_TIMEOUT });
    assert.equal(await a.evaluate(() => window.__jitNoReload), true, "the page was reloaded");
    await visit(a, "10-my-access-ended");
    await statusIn(detail, "ENDED").first().waitFor({ timeout: LIVE_TIMEOUT });
    await detail.locator('[data-testid="ticket-status"]', { hasText: "Ended (revoked)" }).first().waitFor();
    await visit(detail, "11-ticket-detail-ended");
    assert.equal(checkAws("absent"), "absent");
  });

  await step(t, "every other page renders and passes axe-core", async () => {
    await a.goto(config.baseUrl + "/tickets");
    await a.getByRole("link", { name: ticketId.slice(0, 8) }).waitFor();
    await visit(a, "12-tickets");
    const download = a.waitForEvent("download");
    await a.getByRole("button", { name: "Export CSV" }).click();
    const csv = readFileSync(await (await download).path(), "utf8");
    assert.match(csv, /^id,status,end_reason,/);
    assert.ok(csv.includes(ticketId), "the export holds the ticket");

    await a.goto(config.baseUrl + "/approvals");
    await a.getByText("Nothing to decide").first().waitFor();
    await visit(a, "13-approvals-empty");
    await a.goto(config.baseUrl + "/admin/rules");
    await a.getByRole("link", { name: "prod-change" }).waitFor();
    await visit(a, "14-rules");
    await a.getByRole("button", { name: "YAML" }).click();
    await a.getByText("max_duration_seconds").first().waitFor();
    await visit(a, "15-rules-yaml");
    await a.goto(config.baseUrl + "/admin/rules/prod-change");
    await a.getByRole("table", { name: "Approval steps" }).waitFor();
    await visit(a, "16-rule-detail");
    await a.goto(config.baseUrl + "/admin/accounts");
    await a.getByText(config.account.name).first().waitFor();
    await visit(a, "17-accounts");
    await a.goto(config.baseUrl + "/delegations");
    await a.getByRole("table", { name: "Given to me" }).waitFor();
    await visit(a, "17a-delegations");
    await a.goto(config.baseUrl + "/admin/groups");
    await a.getByRole("table", { name: "Permission set groups" }).getByText("DBA").first().waitFor();
    await visit(a, "17b-permission-set-groups");
    await a.goto(config.baseUrl + "/settings");
    await a.getByRole("table", { name: "My API tokens" }).getByText("browser-e2e").first().waitFor();
    await visit(a, "17c-settings");
    await a.goto(config.baseUrl + "/tickets");
    await a
      .getByRole("button", { name: /Time range/ })
      .first()
      .click();
    await a.getByText("Last 7 days").first().click();
    await a.getByRole("button", { name: "Apply" }).click();
    await a.getByRole("link", { name: ticketId.slice(0, 8) }).waitFor();
    await visit(a, "17d-tickets-time-filter");
    // Dark mode and density are remembered across a reload.
    await a.getByRole("button", { name: "Switch to dark mode" }).click();
    await a.getByRole("button", { name: "Switch to compact density" }).click();
    await a.reload();
    await a.getByRole("button", { name: "Switch to light mode" }).waitFor();
    assert.ok(await a.evaluate(() => document.body.classList.contains("awsui-dark-mode")), "dark mode not applied");
    await a.goto(config.baseUrl + "/");
    await a.getByRole("heading", { name: "My access", level: 1 }).waitFor();
    await visit(a, "18-my-access-dark-compact");
  });

  await step(t, "bob delegates to erin and revokes it", async () => {
    const bob = await signIn(browser, config.tokens.bob, "bob");
    const b = bob.page;
    await b.goto(config.baseUrl + "/delegations");
    await b.getByRole("button", { name: "Create delegation" }).click();
    const dialog = b.getByRole("dialog");
    await dialog.getByRole("button", { name: "Create", exact: true }).click();
    await dialog.getByText("Choose who may decide in your name.").waitFor();
    await dialog
      .getByRole("button", { name: /Delegate/ })
      .first()
      .click();
    await b.getByRole("option", { name: /erin/ }).first().click();
    // Within JIT_DELEGATION_MAX_DAYS (90) of today.
    const end = new Date(Date.now() + 30 * 86400_000);
    const ymd = `${end.getFullYear()}/${String(end.getMonth() + 1).padStart(2, "0")}/${String(end.getDate()).padStart(2, "0")}`;
    await dialog.locator('input[aria-label="End date"]').fill(ymd);
    await dialog.locator('textarea[aria-label="Reason"]').fill("holiday");
    await shot(b, "19a-delegation-dialog");
    await dialog.getByRole("button", { name: "Create", exact: true }).click();
    await b
      .getByText(/erin may now decide in your name/)
      .first()
      .waitFor();
    const given = b.getByRole("table", { name: "Given by me" });
    await given.getByText("Active").first().waitFor();
    await visit(b, "19b-delegations-given");
    await given.locator('button[aria-label="Revoke delegation to erin"]').click();
    await b.getByText("Delegation to erin revoked.").first().waitFor();
    await bob.context.close();
  });

  await step(t, "the admin pages render and pass axe-core", async () => {
    const admin = await signIn(browser, config.tokens.admin, "admin");
    const m = admin.page;
    await m.goto(config.baseUrl + "/admin/accounts");
    await m
      .getByTestId("last-sync")
      .getByText(/Last sync: \w/)
      .waitFor();
    await m.getByRole("button", { name: "Sync now" }).click();
    await m
      .getByText(/Directory sync queued|already started/)
      .first()
      .waitFor();
    await visit(m, "20-accounts-sync");
    await m.goto(config.baseUrl + "/admin/rule-changes");
    await m.getByRole("heading", { name: "Pending rule changes", level: 1 }).waitFor();
    await visit(m, "21-rule-changes");
    await m.goto(config.baseUrl + "/admin/drift");
    await m.getByRole("table", { name: "Open drift findings" }).waitFor();
    await visit(m, "22-drift");
    await m.goto(config.baseUrl + "/admin/rules");
    await m.getByRole("button", { name: "Preview" }).click();
    await m
      .getByRole("button", { name: /Preview account/ })
      .first()
      .click();
    await m
      .getByRole("option", { name: new RegExp(config.account.name) })
      .first()
      .click();
    await m
      .getByRole("button", { name: /Preview permission set/ })
      .first()
      .click();
    await m.getByRole("option", { name: config.permissionSet, exact: true }).first().click();
    await m
      .getByRole("table", { name: "Who can request and who approves" })
      .getByText("prod-read-only")
      .first()
      .waitFor();
    await visit(m, "23-rules-preview");
    await m.goto(config.baseUrl + "/admin/rules/prod-read-only");
    await m.getByRole("tab", { name: "Edit" }).click();
    await m.locator('textarea[aria-label="Rule as YAML"]').waitFor();
    await visit(m, "24-rule-edit");
    await m.goto(config.baseUrl + "/admin/rules/new");
    await m.locator('textarea[aria-label="Rule as YAML"]').fill("name: x\nsteps: 3");
    await m.getByRole("button", { name: "Create rule" }).click();
    await m.getByText("steps must be a list").first().waitFor();
    await visit(m, "25-rule-new-error");
    await m.goto(config.baseUrl + "/settings");
    await m.getByRole("heading", { name: "Settings", level: 1 }).waitFor();
    await visit(m, "26-settings-admin");
    await admin.context.close();
  });

  writeFileSync(path.join(artifacts, "axe-report.json"), JSON.stringify(axeReport, null, 2));
  console.log("axe-core: page, violations (any impact), serious+critical");
  for (const r of axeReport)
    console.log(`  ${r.page.padEnd(32)} ${String(r.violations).padStart(3)} ${String(r.serious).padStart(3)}`);
  assert.deepEqual(cspViolations, [], "the console broke the server's Content Security Policy");
});
