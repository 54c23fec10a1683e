// The console's audit pages in a real browser: session activity (from a fake CloudTrail
// that tests/e2e/test_console_browser.py runs), the audit log, insights, notification
// preferences and the approvals inbox, each with axe-core at 0 violations.
//   JIT_E2E_CONFIG  JSON {baseUrl, tokens: {alice, bob, admin}, ticketId, pendingTicketId, events: {all, writes}}
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { artifacts, config, launch, shot, signIn, visit } from "./support.mjs";

const report = [];

test("session activity, audit log, insights, notification preferences, approvals inbox", async (t) => {
  const browser = await launch();
  t.after(async () => {
    writeFileSync(path.join(artifacts, "axe-report-pages.json"), JSON.stringify(report, null, 2));
    await browser.close();
  });
  const alice = await signIn(browser, config.tokens.alice, "alice");
  const a = alice.page;
  const short = config.ticketId.slice(0, 8);

  await t.test("session activity: the fake CloudTrail's calls in the chart and the table", async () => {
    await a.goto(`${config.baseUrl}/tickets/${config.ticketId}`);
    const table = a.getByRole("table", { name: "Session activity" });
    await table.getByText("GetObject").first().waitFor({ timeout: 60_000 });
    await a.getByText("The source has not caught up yet").first().waitFor();
    await a
      .getByText(/Last read at/)
      .first()
      .waitFor();
    // The chart drew its series and marks the ticket's start and end.
    const chart = a
      .getByRole("group", { name: /Calls per minute/ })
      .or(a.locator('[aria-label^="Calls per minute"]'))
      .first();
    await chart.waitFor();
    assert.ok((await a.locator("svg path").count()) > 3, "the chart drew nothing");
    await a.getByText("Ticket starts").first().waitFor();
    await a.getByText("Ticket ends").first().waitFor();
    const rows = await table.locator("tbody tr").count();
    assert.equal(rows, Math.min(config.events.all, 25));
    await visit(a, "30-session-activity", report);
    await a
      .getByRole("switch", { name: "Write calls only" })
      .or(a.locator('input[aria-label="Write calls only"]'))
      .first()
      .check();
    await table.getByText("PutObject").first().waitFor();
    await a.waitForFunction(
      (n) =>
        document.querySelectorAll(
          'table[aria-label="Session activity"] tbody tr, [aria-label="Session activity"] table tbody tr',
        ).length === n,
      config.events.writes,
    );
    assert.equal(await table.getByText("GetObject").count(), 0, "a read call is shown with Write calls only");
    // Six writes are one page: no cursor of the unfiltered pages survives the filter.
    assert.equal(await a.getByRole("button", { name: "Activity page 2" }).count(), 0, "a second page of writes");
    await visit(a, "31-session-activity-writes", report);
  });

  await t.test("a requester cannot read the audit log: a clear empty state", async () => {
    await a.goto(`${config.baseUrl}/audit`);
    await a.getByText("Only admins and auditors read the audit log").waitFor();
    await visit(a, "32-audit-log-refused", report);
  });

  await t.test("insights: a requester sees their own", async () => {
    await a.goto(`${config.baseUrl}/insights`);
    await a.getByText("Your own tickets (admins and auditors see everyone's).").waitFor();
    await a.getByRole("table", { name: "Most requested accounts" }).getByText("payments-prod").waitFor();
    await visit(a, "33-insights-own", report);
  });

  await t.test("notification preferences: kind x channel, saved", async () => {
    await a.goto(`${config.baseUrl}/settings`);
    const table = a.getByRole("table", { name: "Notification preferences" });
    const box = table.locator('input[aria-label="Your access was revoked by Email"]');
    await box.waitFor();
    assert.equal(await box.isChecked(), true, "every kind starts on every configured channel");
    await box.uncheck();
    await a.getByText("(1 changed)").waitFor();
    await visit(a, "34-notification-preferences", report);
    await a.getByRole("button", { name: "Save preferences" }).click();
    await a.getByText("Notification preferences saved.").first().waitFor();
    await a.reload();
    await table.locator('input[aria-label="Your access was revoked by Email"]').waitFor();
    assert.equal(await table.locator('input[aria-label="Your access was revoked by Email"]').isChecked(), false);
    assert.equal(await table.locator('input[aria-label="Your access ended by Email"]').isChecked(), true);
  });
  await alice.context.close();

  await t.test("approvals inbox: waited, still needs, deadline, sorted by deadline", async () => {
    const bob = await signIn(browser, config.tokens.bob, "bob");
    const b = bob.page;
    await b.goto(`${config.baseUrl}/approvals`);
    const table = b.getByRole("table", { name: "Tickets awaiting my decision" });
    await table
      .getByText(/more approvals? from/)
      .first()
      .waitFor();
    await table
      .getByText(/left \(/)
      .first()
      .waitFor();
    const ids = await table.locator("tbody tr td a").allTextContents();
    assert.deepEqual(
      ids.slice(0, config.inboxOrder.length),
      config.inboxOrder.map((id) => id.slice(0, 8)),
      "not sorted by deadline",
    );
    // Every table on the page answers, none with a refusal in place of its rows.
    await b.getByText("No extension is waiting.").waitFor();
    await b.getByText("No break-glass ticket is waiting for review.").waitFor();
    await visit(b, "35-approvals-inbox", report);
    await bob.context.close();
  });

  await t.test("audit log: filter by ticket, links, export, verify now", async () => {
    const admin = await signIn(browser, config.tokens.admin, "admin");
    const m = admin.page;
    await m.goto(`${config.baseUrl}/audit`);
    const table = m.getByRole("table", { name: "Audit events" });
    await table.getByText("ticket.requested").first().waitFor();
    await visit(m, "36-audit-log", report);
    await m.locator('input[aria-label="Ticket id"]').fill("not-a-ticket");
    await m.getByText("A ticket id looks like").waitFor();
    await m.locator('input[aria-label="Ticket id"]').fill(config.ticketId);
    await table.getByText("ticket.active").first().waitFor();
    const links = await table.getByRole("link").allTextContents();
    assert.ok(links.length > 0 && links.every((l) => l === short), `events of another ticket: ${links}`);
    await visit(m, "37-audit-log-ticket", report);

    const [download] = await Promise.all([
      m.waitForEvent("download"),
      m.getByRole("button", { name: "Export CSV" }).click(),
    ]);
    const csv = readFileSync(await download.path(), "utf8")
      .trim()
      .split("\n");
    assert.ok(csv[0].startsWith("seq,at,action,actor_id"), csv[0]);
    assert.ok(
      csv.length > 2 && csv.slice(1).every((line) => line.includes(config.ticketId)),
      "the export is not the filtered set",
    );
    const [json] = await Promise.all([
      m.waitForEvent("download"),
      m.getByRole("button", { name: "Export JSON" }).click(),
    ]);
    const events = JSON.parse(readFileSync(await json.path(), "utf8"));
    assert.equal(events.length, csv.length - 1);

    await m.getByRole("button", { name: "Verify now" }).click();
    await m.getByText(/Intact: \d+ events verified/).waitFor({ timeout: 60_000 });
    await visit(m, "38-audit-log-verified", report);
    await table
      .getByRole("link", { name: `Ticket ${config.ticketId}` })
      .first()
      .click();
    await m.waitForURL(new RegExp(`/tickets/${config.ticketId}$`));

    await m.goto(`${config.baseUrl}/insights`);
    await m.getByText("Every ticket, aggregated on the server.").waitFor();
    await m.getByText(/write slots in use/).waitFor();
    // bob approved after four minutes: the bar chart has a non-zero p50 for prod-read-only.
    await m.getByText("prod-read-only").first().waitFor();
    await visit(m, "39-insights", report);
    await shot(m, "39b-insights-full");
    await admin.context.close();
  });
});
