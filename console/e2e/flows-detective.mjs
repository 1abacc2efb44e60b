// A detective's and a supervisor's day in the console (tests/e2e/test_console_detective.py runs each):
// an alert added to an existing case, an entity named in it, another case merged in, the case closed
// with its disposition; legal holds placed and released; the purge authority's purge; entity merges.
import { checkScreen, CONSOLE, signIn } from "./browser.mjs";

export const detectiveFlows = {
  /**
   * A detective adds an alert to an existing case from the alert screen, then in the case file names the
   * alert's vehicle with a role, merges another case in and closes the case with its disposition.
   */
  async detective(b, { agency, alert_id, case_id, title, other_id, other_title, plate, vehicle_id, display }) {
    const page = await b.page();
    await signIn(page, { sub: "dana", role: "detective", agency });
    await page.goto(`${CONSOLE}#/alerts/${alert_id}`);
    await page.getByRole("button", { name: "Add to a case" }).click();
    const adding = page.getByRole("form", { name: "Add this alert to a case" });
    await adding.getByLabel("Assigned to me").uncheck();
    await adding.getByLabel("Title contains").fill(title);
    const picker = adding.getByLabel("Case");
    await picker.locator(`option[value="${case_id}"]`).waitFor({ state: "attached" });
    const offered = await picker.locator("option").count(); // the prompt and the one case matching
    await picker.selectOption(case_id);
    await adding.getByLabel("Why it belongs there").fill("Same plate seen leaving the pharmacy alley");
    await checkScreen(page, "alert-add-to-case");
    await adding.getByRole("button", { name: "Add to case" }).click();
    await page.getByText(`Added to case ${title}`).waitFor();
    const related = page.getByTestId("related-cases");
    await related.getByRole("link", { name: title }).click();

    await page.getByRole("heading", { name: title }).waitFor();
    const records = page.getByTestId("case-records");
    await records.locator(`a[href="#/alerts/${alert_id}"]`).waitFor();
    const find = page.getByRole("form", { name: "Find an entity" });
    await find.getByLabel("Type").selectOption("vehicle");
    await find.getByLabel("Name, plate or other key").fill(plate);
    await find.getByRole("button", { name: "Find" }).click();
    const naming = page.getByRole("form", { name: "Name the entity in this case" });
    await naming.getByLabel("Entity").selectOption(vehicle_id);
    await naming.getByLabel("Role in the case").selectOption("vehicle_of_interest");
    await naming.getByLabel("Note").fill("Grey pickup seen in the alley at 02:55");
    await naming.getByRole("button", { name: "Name in case" }).click();
    await records.getByText(`${display} (vehicle of interest)`).waitFor();

    await page.getByRole("button", { name: "Merge another case into this one" }).click();
    const merging = page.getByRole("form", { name: "Merge a case into this one" });
    await merging.getByLabel("Assigned to me").uncheck();
    await merging.getByLabel("Title contains").fill(other_title);
    const other = merging.getByLabel("Case");
    await other.locator(`option[value="${other_id}"]`).waitFor({ state: "attached" });
    await other.selectOption(other_id);
    await merging.getByLabel("Reason").fill("Same burglary crew, same night");
    await checkScreen(page, "case-work");
    await merging.getByRole("button", { name: "Merge" }).click();
    await page.getByText(`Merged ${other_title} into this case`).waitFor();
    await page.getByTestId("merged-from").getByText(other_title).waitFor();

    const holdActions = await page.getByRole("form", { name: "Place a legal hold" }).count();
    const closing = page.getByRole("form", { name: "Close with a disposition" });
    await closing.getByLabel("Outcome").selectOption("arrest");
    await closing.getByLabel("Note").fill("Both arrested at the storage unit");
    const date = await closing.getByLabel("Date").inputValue();
    await closing.getByRole("button", { name: "Close case" }).click();
    await page.getByText("Closed: arrest").waitFor();
    const disposition = await page.getByTestId("disposition").textContent();
    return { offered, disposition, date, hold_actions: holdActions };
  },

  /**
   * A detective adds an alert to criminal intelligence of the unit: the list shows it once a purpose and a
   * case number are stated (C9), and the link needs a narrative of its own (C7): a short one is refused.
   */
  async intelligence(b, { agency, unit, alert_id, case_id, title, narrative }) {
    const page = await b.page();
    await signIn(page, { sub: "dana", role: "detective", agency, unit });
    await page.goto(`${CONSOLE}#/alerts/${alert_id}`);
    await page.getByRole("button", { name: "Add to a case" }).click();
    const adding = page.getByRole("form", { name: "Add this alert to a case" });
    await adding.getByLabel("Title contains").fill(title);
    await adding.locator('fieldset[aria-busy="false"]').waitFor();
    const unlisted = await adding.getByLabel("Case").locator(`option[value="${case_id}"]`).count();
    await page.getByRole("button", { name: "Also list criminal intelligence" }).click();
    const purpose = page.getByRole("form", { name: "Purpose of use" });
    await purpose.getByLabel("Purpose of use").fill("Linking the plate read to the distribution investigation");
    await purpose.getByLabel("Case or incident number").fill("INT-2026-31");
    await purpose.getByRole("button", { name: "Continue" }).click();
    await adding.getByLabel("Assigned to me").uncheck();
    await adding.getByLabel("Title contains").fill(title);
    const picker = adding.getByLabel("Case");
    await picker.locator(`option[value="${case_id}"]`).waitFor({ state: "attached" });
    await picker.selectOption(case_id);
    const suspicion = adding.getByLabel("Reasonable suspicion (C7: the hit alone is not enough)");
    await suspicion.fill("Plate read.");
    await adding.getByRole("button", { name: "Add to case" }).click();
    const refused = await adding.getByRole("alert").textContent();
    await suspicion.fill(narrative);
    await checkScreen(page, "alert-add-to-intelligence");
    await adding.getByRole("button", { name: "Add to case" }).click();
    await page.getByText(`Added to case ${title}`).waitFor();
    return { unlisted, refused };
  },

  /** A supervisor of the owning unit places a legal hold on a case file and releases it. */
  async holds(b, { agency, unit, case_id, title, reference }) {
    const page = await b.page();
    await signIn(page, { sub: "sam", role: "supervisor", agency, unit });
    await page.goto(`${CONSOLE}#/cases/${case_id}`);
    await page.getByRole("heading", { name: title }).waitFor();
    const placing = page.getByRole("form", { name: "Place a legal hold" });
    await placing.getByLabel("Reference (court order, litigation)").fill(reference);
    await placing.getByLabel("Reason").fill("Civil suit over the arrest: preserve everything");
    await placing.getByRole("button", { name: "Place hold" }).click();
    await page.getByText(`Legal hold ${reference} placed`).first().waitFor();
    const releasing = page.getByRole("form", { name: `Release hold ${reference}` });
    await releasing.waitFor();
    await checkScreen(page, "holds");
    await releasing.getByLabel("Why it is released").fill("Suit settled; counsel released the hold");
    await releasing.getByRole("button", { name: "Release hold" }).click();
    await page.getByText(`Legal hold ${reference} released`).first().waitFor();
    return { holds: await page.getByTestId("holds").textContent() };
  },

  /**
   * The purge authority opens a criminal intelligence record by its id with a purpose, places a hold
   * (a purge is then refused), releases it and purges the record with a reason and a confirmation.
   */
  async purge(b, { agency, case_id, reference }) {
    const page = await b.page();
    await signIn(page, { sub: "pat", role: "purge_authority", agency, unit: "" });
    const screens = await page.getByRole("navigation", { name: "Screens" }).getByRole("link").allTextContents();
    await page.getByRole("link", { name: "Holds and purges" }).click();
    const opening = page.getByRole("form", { name: "Open a record" });
    await opening.getByLabel("Record id").fill(case_id);
    await opening.getByLabel("Purpose of use").fill("Court-ordered purge review");
    await opening.getByLabel("Case or incident number").fill("PUR-2026-4");
    await opening.getByRole("button", { name: "Open" }).click();
    await page.getByText("No legal hold, now or before.").waitFor();
    const placing = page.getByRole("form", { name: "Place a legal hold" });
    await placing.getByLabel("Reference (court order, litigation)").fill(reference);
    await placing.getByLabel("Reason").fill("Subpoena for the informant file");
    await placing.getByRole("button", { name: "Place hold" }).click();
    await page.getByRole("form", { name: `Release hold ${reference}` }).waitFor();
    const purging = page.getByRole("form", { name: "Purge the record" });
    await purging.getByLabel("Reason (at least 10 characters)").fill("Predicate no longer supported after review");
    await purging.getByLabel(`I confirm the purge of record ${case_id}`).check();
    await checkScreen(page, "purge");
    await purging.getByRole("button", { name: "Purge record" }).click();
    const refused = await page.getByRole("alert").filter({ hasText: "hold" }).textContent();
    const releasing = page.getByRole("form", { name: `Release hold ${reference}` });
    await releasing.getByLabel("Why it is released").fill("Subpoena withdrawn");
    await releasing.getByRole("button", { name: "Release hold" }).click();
    await page.getByText(`Legal hold ${reference} released`).waitFor();
    await purging.getByRole("button", { name: "Purge record" }).click();
    const tombstone = await page.getByTestId("tombstone").textContent();
    return { screens, refused, tombstone };
  },

  /** An analyst merges one entity into another on the entity screen, then undoes it. */
  async entitymerge(b, { agency, survivor_id, display, merged_id }) {
    const page = await b.page();
    await signIn(page, { sub: "ann", role: "analyst", agency });
    await page.goto(`${CONSOLE}#/entities/${survivor_id}`);
    await page.getByRole("heading", { name: display }).first().waitFor();
    await page.getByLabel("Entity id to merge into this one").fill(merged_id);
    await page.getByRole("button", { name: "Merge", exact: true }).click();
    await page.getByText(`Merged ${merged_id} into this entity`).waitFor();
    const unmerge = page.getByRole("button", { name: `Unmerge ${merged_id}` });
    await unmerge.waitFor();
    const aliases = await page.getByTestId("aliases").textContent();
    await checkScreen(page, "entity-merge");
    await unmerge.click();
    await page.getByText(`Unmerged ${merged_id}`).waitFor();
    await page.getByText(/undone/).waitFor();
    return { aliases, after: await page.getByTestId("aliases").textContent() };
  },
};
