// Browser flows of the plate search's time and place filters, the supervisor's outcome charts and face
// identification on the alert screen (tests/e2e/test_console_plates.py runs each).
import { checkScreen, signIn } from "./browser.mjs";

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
};
