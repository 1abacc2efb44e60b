// Browser flows of the plate search's time and place filters, the supervisor's outcome charts and face
// identification on the alert screen (tests/e2e/test_console_plates.py runs each).
import { api, checkScreen, CONSOLE, signIn } from "./browser.mjs";

/** The alert ids a plate's row links to, in the order shown. */
async function sightingsShown(row) {
  const links = await row.getByRole("link").evaluateAll((anchors) => anchors.map((a) => a.getAttribute("href")));
  return links.filter((link) => link.startsWith("#/alerts/")).map((link) => link.slice("#/alerts/".length));
}

export const platesFlows = {
  /**
   * A plate search filtered by time and place: a range that ends before it starts is refused by the API,
   * named next to its field; then the reads of the window near the point are shown, the others left out.
   */
  async platesFiltered(b, { agency, plate, purpose, since, until, lat, lon, km }) {
    const page = await b.page();
    await signIn(page, { sub: "ann", role: "analyst", agency });
    await page.getByRole("link", { name: "Plate search" }).click();
    const form = page.getByRole("form", { name: "Search plates" });
    await form.getByLabel("Plate (? for an unknown character)").fill(plate);
    await form.getByLabel("Purpose of use (required for ALPR queries)").fill(purpose);
    await form.getByLabel("Seen from").fill(until);
    await form.getByLabel("Seen before").fill(since);
    await form.getByRole("button", { name: "Search" }).click();
    const before = form.getByLabel("Seen before");
    await page.locator("#plates-until-error").waitFor();
    const refusal = {
      invalid: await before.getAttribute("aria-invalid"),
      said: await before.evaluate((el) => document.getElementById(el.getAttribute("aria-describedby"))?.textContent),
    };
    await form.getByLabel("Seen from").fill(since);
    await form.getByLabel("Seen before").fill(until);
    await form.getByLabel("Near latitude").fill(String(lat));
    await form.getByLabel("Near longitude").fill(String(lon));
    await form.getByLabel("Within km").fill(String(km));
    await form.getByRole("button", { name: "Search" }).click();
    const row = page.getByTestId("plate-results").getByRole("row").filter({ hasText: plate });
    await row.getByRole("listitem").first().waitFor();
    await checkScreen(page, "plates-filtered");
    // What the browser meant by the local times it was given, to compare with what the API was sent.
    const times = await page.evaluate(
      ([from, to]) => ({ since: new Date(from).toISOString(), until: new Date(to).toISOString() }),
      [since, until],
    );
    return { refusal, shown: await sightingsShown(row), times };
  },

  /**
   * The supervisor's outcome charts (their figures are in each chart's label) and what they count and
   * when they were read; an alert received meanwhile is counted after "Refresh figures".
   */
  async funnel(b, { agency, source_token, another }) {
    const page = await b.page();
    await signIn(page, { sub: "sam", role: "supervisor", agency });
    await page.getByRole("link", { name: "Supervisor" }).click();
    await page.getByText("Alerts by detection source").waitFor();
    const charts = () => page.locator("figure.bars svg").evaluateAll((svgs) => svgs.map((svg) => svg.getAttribute("aria-label")));
    const first = await charts();
    const freshness = await page.getByTestId("funnel-freshness").textContent();
    await checkScreen(page, "supervisor-funnel");
    await api("/api/v1/alerts", { token: source_token, method: "POST", body: another });
    // The tallies fold new records every few seconds: read again until the new alert is counted.
    for (let step = 0; step < 60 && !(await charts())[0].includes("alerts 3,"); step += 1) {
      await page.getByRole("button", { name: "Refresh figures" }).click();
      await page.waitForTimeout(500);
    }
    return { first, freshness, refreshed: await charts() };
  },

  /**
   * Face identification on the alert screen (C26): an analyst sees the notice but is not offered the form;
   * a detective offering the match's own probe image as evidence is refused, the field named; then records
   * an identification with independent evidence.
   */
  async identify(b, { agency, alert_id, probe, evidence, note }) {
    const analyst = await b.page();
    await signIn(analyst, { sub: "ann", role: "analyst", agency });
    await analyst.goto(`${CONSOLE}#/alerts/${alert_id}`);
    const shown = analyst.getByTestId("face-identification");
    await shown.getByText("Not identified.").waitFor();
    const analystNotice = await shown.locator(".warning").textContent();
    const analystForms = await shown.getByRole("form").count();

    const page = await b.page();
    await signIn(page, { sub: "dana", role: "detective", agency });
    await page.goto(`${CONSOLE}#/alerts/${alert_id}`);
    const form = page.getByRole("form", { name: "Identify the candidate" });
    const first = form.getByRole("group", { name: "Evidence 1, independent of the face match" });
    await first.getByLabel("Evidence type").selectOption("document");
    await first.getByLabel("Reference (where it is recorded)").fill(probe);
    await form.getByLabel("I reviewed the candidate against this evidence myself").check();
    await form.getByRole("button", { name: "Record identification" }).click();
    const reference = first.getByLabel("Reference (where it is recorded)");
    await page.locator("#identify-0-reference-error").waitFor();
    const refusal = {
      invalid: await reference.getAttribute("aria-invalid"),
      said: await reference.evaluate((el) => document.getElementById(el.getAttribute("aria-describedby"))?.textContent),
    };
    await first.getByLabel("Evidence type").selectOption(evidence[0].type);
    await reference.fill(evidence[0].reference);
    await form.getByRole("button", { name: "Add evidence" }).click();
    const second = form.getByRole("group", { name: "Evidence 2, independent of the face match" });
    await second.getByLabel("Evidence type").selectOption(evidence[1].type);
    await second.getByLabel("Reference (where it is recorded)").fill(evidence[1].reference);
    await second.getByLabel("Description").fill(evidence[1].description);
    await form.getByLabel("Note").fill(note);
    await checkScreen(page, "identify");
    await form.getByRole("button", { name: "Record identification" }).click();
    const done = page.getByTestId("identification");
    await done.getByText("Identified by dana").waitFor();
    return {
      analyst: { notice: analystNotice, forms: analystForms },
      notice: await page.getByTestId("face-identification").locator(".warning").textContent(),
      refusal,
      identification: await done.textContent(),
    };
  },
};
