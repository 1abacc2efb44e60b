// The console's browser flows against a running gateway (tests/e2e/test_console.py runs each):
//
//   CASEWIRE_URL=http://127.0.0.1:8080 node console/e2e/flows.mjs <flow> '<json arguments>'
//
// A flow drives Debian's Chromium through the console, checks each screen it shows with axe-core and
// the keyboard, saves its screenshots (CONSOLE_SCREENSHOTS) and prints one JSON line of what it saw.
// It exits non-zero when anything it expects does not happen.
import { api, browser, checkScreen, CONSOLE, screenshot, signIn } from "./browser.mjs";

const flows = {
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
    return { who, screens };
  },

  /**
   * The seed's story: a detective of the homicide unit watches the queue; the March read arrives live,
   * already naming the homicide case of the January read; the alert screen shows the case.
   */
  async story(b, { plate, case_title, source_token, march }) {
    const page = await b.page();
    await signIn(page, { sub: "dana", role: "detective", unit: "homicide" });
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

  /** Triage in place, by keyboard: assign to me, a note, then dismiss with a reason. */
  async triage(b, { alert_id, summary }) {
    const page = await b.page();
    await signIn(page, { sub: "ann", role: "analyst" });
    const row = page.locator(`[data-alert="${alert_id}"]`);
    await row.waitFor();
    await row.getByRole("button", { name: `Triage ${summary}` }).focus();
    await page.keyboard.press("Enter");
    const panel = page.getByRole("complementary", { name: "Triage the selected alert" });
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
  for (const [index, page] of b.context.pages().entries()) await screenshot(page, `failed-${name}-${index}`);
  process.exitCode = 1;
} finally {
  await b.close();
}
