// The console's browser flows against a running gateway (tests/e2e/test_console.py runs each):
//
//   CASEWIRE_URL=http://127.0.0.1:8080 node console/e2e/flows.mjs <flow> '<json arguments>'
//
// A flow drives Debian's Chromium through the console, checks each screen it shows with axe-core and
// the keyboard, saves its screenshots (CONSOLE_SCREENSHOTS) and prints one JSON line of what it saw.
// It exits non-zero when anything it expects does not happen.
import { api, browser, checkScreen, CONSOLE, openTriage, screenshot, signIn } from "./browser.mjs";
import { detectiveFlows } from "./flows-detective.mjs";
import { escalateFlows } from "./flows-escalate.mjs";
import { platesFlows } from "./flows-plates.mjs";

const flows = {
  ...detectiveFlows,
  /** Development sign-in as an analyst: the queue is the first screen; supervisor and auditor screens are not offered. */
  async signin(b) {
    const page = await b.page();
    await page.goto(CONSOLE);
    await page.getByRole("heading", { name: "Development sign-in" }).waitFor();
    await checkScreen(page, "sign-in");
    await signIn(page, { sub: "ann", role: "analyst" });
    await page.getByRole("heading", { name: "Alert queue" }).waitFor();
    const who = await page.getByTestId("who").textContent();
    const screens = await page.getByRole("navigation", { name: "Screens" }).getByRole("link").allTextContents();
    const agingQueue = await page.getByLabel("Overdue only").count();
    await page.goto(`${CONSOLE}#/supervisor`);
    await page.getByText("Your roles may not use this screen.").waitFor();
    const reviews = await page.getByRole("button", { name: "Record review" }).count();
    return { who, screens, aging_queue_filter: agingQueue, review_buttons: reviews };
  },

  /** Sign-in through the agency's OpenID Connect provider (Keycloak): authorization code with PKCE. */
  async oidc(b, { user, password }) {
    const page = await b.page();
    await page.goto(CONSOLE);
    await page.getByRole("button", { name: "Sign in with your agency" }).click();
    await page.locator("#username").waitFor();
    const wentTo = page.url();
    await page.locator("#username").fill(user);
    await page.locator("#password").fill(password);
    await page.locator("#kc-login").click();
    await page.getByTestId("who").waitFor();
    const who = await page.getByTestId("who").textContent();
    const screens = await page.getByRole("navigation", { name: "Screens" }).getByRole("link").allTextContents();
    await page.getByRole("heading", { name: "Alert queue" }).waitFor();
    return { who, screens, went_to: wentTo, back_at: page.url() };
  },

  /**
   * A supervisor's screen: the 28 CFR Part 23 review queue (a review states its purpose, C9), the overdue
   * queue and the outcome charts; the case under review asks for a purpose before it opens.
   */
  async supervisor(b, { unit, case_id, title }) {
    const page = await b.page();
    await signIn(page, { sub: "sam", role: "supervisor", unit });
    await page.getByRole("link", { name: "Supervisor" }).click();
    await page.getByText("Alerts by detection source").waitFor();
    const review = page.getByRole("form", { name: `Review case ${case_id}` });
    await review.getByLabel("Decision").selectOption("approve");
    await review.getByLabel("Justification").fill("Predicate and labels checked; the informant was re-debriefed.");
    await review.getByLabel("Purpose of use").fill("28 CFR Part 23 review");
    await review.getByLabel("Case or incident number").fill("REV-2026-17");
    await checkScreen(page, "supervisor");
    await review.getByRole("button", { name: "Record review" }).click();
    await page.getByText("Recorded: approve").waitFor();
    await page.getByRole("link", { name: title }).click();
    const purpose = page.getByRole("form", { name: "Purpose of use" });
    await purpose.getByLabel("Purpose of use").fill("28 CFR Part 23 review");
    await purpose.getByLabel("Case or incident number").fill("REV-2026-17");
    await purpose.getByRole("button", { name: "Continue" }).click();
    await page.getByRole("heading", { name: title }).waitFor();
    await page.getByRole("link", { name: "Alert queue" }).click();
    const agingQueue = await page.getByLabel("Overdue only").count();
    return { aging_queue_filter: agingQueue };
  },

  /**
   * A detective's case file: a note, a report, an interview and a task added (an empty note first, which
   * the API refuses naming the field), evidence logged and handed on, a file attached with its SHA-256
   * shown, then downloaded, shared and exported.
   */
  async case(b, { case_id, title, filename, content, sha256, added }) {
    const page = await b.page();
    await signIn(page, { sub: "dana", role: "detective" });
    await page.goto(`${CONSOLE}#/cases/${case_id}`);
    await page.getByRole("heading", { name: title }).waitFor();
    const adding = page.getByRole("form", { name: "Add to the case file" });
    const items = page.getByTestId("case-items");
    await adding.getByRole("button", { name: "Add note" }).click();
    const text = adding.getByLabel("Text", { exact: true });
    await adding.locator(".field .error").waitFor();
    const refusal = {
      said: await adding.locator(".field .error").textContent(),
      invalid: await text.getAttribute("aria-invalid"),
      described: await text.evaluate((el) => document.getElementById(el.getAttribute("aria-describedby"))?.textContent),
    };
    await text.fill(added.note);
    await adding.getByRole("button", { name: "Add note" }).click();
    await items.getByText(added.note).waitFor();
    await adding.getByLabel("What to add").selectOption("reports");
    await adding.getByLabel("Title").fill(added.report.title);
    await adding.getByLabel("Report", { exact: true }).fill(added.report.body);
    await adding.getByRole("button", { name: "Add report" }).click();
    await items.getByText(added.report.title).waitFor();
    await adding.getByLabel("What to add").selectOption("interviews");
    await adding.getByLabel("Interviewee").fill(added.interview.interviewee);
    await adding.getByLabel("Held at").fill(added.interview.held_at);
    await adding.getByLabel("Location").fill(added.interview.location);
    await adding.getByLabel("Summary").fill(added.interview.summary);
    await adding.getByRole("button", { name: "Add interview" }).click();
    await items.getByText(added.interview.summary).waitFor();
    await adding.getByLabel("What to add").selectOption("tasks");
    await adding.getByLabel("Task", { exact: true }).fill(added.task.title);
    await adding.getByLabel("Assigned to").fill(added.task.assignee);
    await adding.getByLabel("Due").fill(added.task.due);
    await adding.getByRole("button", { name: "Add task" }).click();
    await items.getByText(added.task.title).waitFor();
    // What the browser meant by the local times it was given, to compare with what the API stored.
    const times = await page.evaluate(
      ([at, due]) => ({ held_at: new Date(at).toISOString(), due: new Date(due).toISOString() }),
      [added.interview.held_at, added.task.due],
    );
    const logging = page.getByRole("form", { name: "Log evidence" });
    await logging.getByLabel("Description").fill("Crowbar");
    await logging.getByRole("button", { name: "Log evidence" }).click();
    const transfer = page.getByRole("form", { name: "Transfer Crowbar" });
    await transfer.getByLabel("To").fill("Property room");
    await transfer.getByLabel("Reason").fill("booked in");
    await transfer.getByLabel("Condition").fill("sealed bag 4471");
    await transfer.getByRole("button", { name: "Record transfer" }).click();
    await page.getByText("dana → Property room, booked in; sealed bag 4471").waitFor();
    await page.getByLabel("Attach a file").setInputFiles({ name: filename, mimeType: "text/plain", buffer: Buffer.from(content) });
    await page.getByRole("button", { name: "Upload" }).click();
    const row = page.getByTestId("attachments").getByRole("row").filter({ hasText: filename });
    await row.getByText(sha256).waitFor();
    await checkScreen(page, "case");
    const [download] = await Promise.all([page.waitForEvent("download"), row.getByRole("button").click()]);
    const { readFileSync } = await import("node:fs");
    const downloaded = readFileSync(await download.path(), "utf8");
    const share = page.getByRole("form", { name: "Share or export" });
    await share.getByLabel("Recipient", { exact: true }).fill("Det. Ruiz");
    await share.getByLabel("Recipient agency (ORI)").fill("TX1010000");
    await share.getByLabel("Need to know").fill("joint burglary task force");
    await share.getByLabel("Purpose").fill("pharmacy burglary series");
    await share.getByRole("button", { name: "Record share" }).click();
    await page.getByText("to Det. Ruiz (TX1010000)").first().waitFor();
    const [pdf] = await Promise.all([page.waitForEvent("download"), share.getByRole("button", { name: "Export PDF" }).click()]);
    const exported = readFileSync(await pdf.path()).subarray(0, 5).toString("latin1");
    return {
      shown: await row.locator(".sha").textContent(),
      downloaded,
      pdf: exported,
      pdf_name: pdf.suggestedFilename(),
      refusal,
      times,
      listed: await items.getByRole("listitem").allTextContents(),
    };
  },

  /** Plate search with an OCR-confused plate (8 for B): the fuzzy search finds the vehicle; the purpose is asked for. */
  async plates(b, { typed, plate }) {
    const page = await b.page();
    await signIn(page, { sub: "ann", role: "analyst" });
    await page.getByRole("link", { name: "Plate search" }).click();
    const form = page.getByRole("form", { name: "Search plates" });
    await form.getByLabel("Plate (? for an unknown character)").fill(typed);
    await form.getByLabel("Purpose of use (required for ALPR queries)").fill("burglary series follow-up");
    await form.getByRole("button", { name: "Search" }).click();
    const results = page.getByTestId("plate-results");
    const found = results.getByRole("row").filter({ hasText: plate });
    await found.waitFor();
    await checkScreen(page, "plates");
    return { row: await found.textContent() };
  },

  /** An entity: identity, sightings on the map, the link graph. */
  async entity(b, { entity_id, display }) {
    const page = await b.page();
    await signIn(page, { sub: "ann", role: "analyst" });
    await page.goto(`${CONSOLE}#/entities/${entity_id}`);
    await page.getByRole("heading", { name: display }).first().waitFor();
    await page.locator(".graph canvas").first().waitFor();
    await page.locator(".map-canvas").waitFor();
    await checkScreen(page, "entity");
    return { caption: await page.locator("#graph ~ figure figcaption, .graph + figcaption").first().textContent() };
  },

  /** An auditor verifies the audit chain, filters the event log and runs the compliance report. */
  async auditor(b, { actor }) {
    const page = await b.page();
    await signIn(page, { sub: "audra", role: "auditor", unit: "" });
    const screens = await page.getByRole("navigation", { name: "Screens" }).getByRole("link").allTextContents();
    await page.getByRole("link", { name: "Auditor" }).click();
    await page.getByRole("button", { name: "Verify the chain" }).click();
    // Verification reads the whole chain: a long log (the full suite's) takes a while.
    const verification = await page.getByTestId("verification").textContent({ timeout: 120_000 });
    const filter = page.getByRole("form", { name: "Filter events" });
    await filter.getByLabel("Actor").fill(actor);
    await filter.getByRole("button", { name: "Show events" }).click();
    await page.getByTestId("events").getByRole("cell", { name: actor, exact: true }).first().waitFor();
    await page.getByRole("button", { name: "Run the compliance report" }).click();
    const purpose = page.getByRole("form", { name: "Purpose of use" });
    const report = page.getByTestId("compliance");
    await Promise.race([purpose.waitFor(), report.waitFor()]);
    if (await purpose.isVisible()) {
      await purpose.getByLabel("Purpose of use").fill("quarterly compliance audit");
      await purpose.getByLabel("Case or incident number").fill("AUD-2026-Q1");
      await purpose.getByRole("button", { name: "Continue" }).click();
    }
    await report.waitFor();
    await checkScreen(page, "auditor");
    return { screens, verification, report: await report.textContent() };
  },

  /**
   * The seed's story: a detective of the homicide unit watches the queue; the March read arrives live,
   * already naming the homicide case of the January read; the alert screen shows the case.
   */
  async story(b, { plate, case_title, source_token, march, agency }) {
    const page = await b.page();
    await signIn(page, { sub: "dana", role: "detective", unit: "homicide", agency });
    await page.getByTestId("live").getByText("Live").waitFor();
    const posted = await api("/api/v1/alerts", { token: source_token, method: "POST", body: march });
    const row = page.locator(`[data-alert="${posted.id}"]`);
    await row.waitFor();
    await row.getByTestId("links").getByText(case_title).waitFor();
    await checkScreen(page, "queue");
    await row.getByRole("link").click();
    const related = page.getByTestId("related-cases");
    await related.getByRole("link", { name: case_title }).waitFor();
    await page.locator(".map-canvas").waitFor();
    await checkScreen(page, "alert");
    return { march: posted.id, plate, related: await related.textContent() };
  },

  /** A queue of many alerts: pages load as it scrolls, and only the rows on screen are drawn. */
  async bigqueue(b, { agency, total }) {
    const page = await b.page();
    await signIn(page, { sub: "ann", role: "analyst", agency });
    const rows = page.getByTestId("rows");
    await rows.locator("li").first().waitFor();
    const count = page.locator(".count");
    for (let step = 0; step < 100 && (await count.textContent()) !== `${total} alerts`; step += 1) {
      await rows.evaluate((element) => element.scrollTo(0, element.scrollHeight));
      await page.waitForTimeout(200);
    }
    const shown = await count.textContent();
    const drawn = await rows.locator("li").count();
    await rows.evaluate((element) => element.scrollTo(0, element.scrollHeight));
    await rows.locator("li").last().waitFor();
    return { shown, drawn };
  },

  /** Triage in place, by keyboard: assign to me, a note, then dismiss with a reason. */
  async triage(b, { alert_id, summary, agency }) {
    const { page, row, panel } = await openTriage(b, { alert_id, summary, agency });
    await panel.getByRole("button", { name: "Assign to me" }).focus();
    await page.keyboard.press("Enter");
    await page.getByText("Assigned to ann").waitFor();
    await panel.getByText("assigned · ann").waitFor();
    await panel.getByRole("button", { name: "Note" }).click();
    await panel.getByLabel("Note").fill("Checked the camera: a good read.");
    await panel.getByRole("button", { name: "Add note" }).click();
    await page.getByText("Note added").waitFor();
    await panel.getByRole("button", { name: "Dismiss" }).click();
    await checkScreen(page, "triage");
    await panel.getByLabel("Reason").selectOption("handled_by_patrol");
    await panel.getByLabel("Why").fill("Unit 12 stopped the vehicle.");
    await panel.getByRole("button", { name: "Dismiss alert" }).click();
    await page.getByText("Dismissed: handled by patrol").waitFor();
    await row.getByText("dismissed").waitFor();
    return { alert_id };
  },

  ...escalateFlows,
  ...platesFlows,
};

const [name, given = "{}"] = process.argv.slice(2);
if (!flows[name]) {
  console.error(`no flow ${name}; the flows: ${Object.keys(flows).join(", ")}`);
  process.exit(2);
}
const b = await browser();
try {
  const seen = await flows[name](b, JSON.parse(given));
  if (b.errors.length) throw new Error(`the page raised errors:\n${b.errors.join("\n")}`);
  console.log(JSON.stringify(seen));
} catch (error) {
  console.error(error instanceof Error ? error.stack : String(error));
  if (b.errors.length) console.error(`the page raised:\n${b.errors.join("\n")}`);
  for (const [index, page] of b.context.pages().entries()) await screenshot(page, `failed-${name}-${index}`);
  process.exitCode = 1;
} finally {
  await b.close();
}
