// The escalation flow (tests/e2e/test_console_escalate.py runs it through flows.mjs): an analyst
// escalates an alert from the queue's triage panel, by keyboard, saying why; the row shows it at once,
// and a supervisor of the unit finds it, with who and why, in the overdue queue of the supervisor screen.
import { checkScreen, openTriage, signIn } from "./browser.mjs";

export const escalateFlows = {
  /** Escalate in place, by keyboard: Triage, Escalate, the reason, Escalate alert; then the supervisor's view. */
  async escalate(b, { alert_id, summary, agency, reason }) {
    const { page, row, panel } = await openTriage(b, { alert_id, summary, agency });
    await panel.getByRole("button", { name: "Escalate", exact: true }).focus();
    await page.keyboard.press("Enter");
    await panel.getByLabel("Why escalate").focus();
    await page.keyboard.type(reason);
    await checkScreen(page, "escalate");
    await panel.getByRole("button", { name: "Escalate alert" }).focus();
    await page.keyboard.press("Enter");
    await page.getByText("Escalated to the supervisors").waitFor();
    await row.getByTestId("links").getByText("escalated by ann").waitFor();
    await panel.getByText(`escalated by ann: ${reason}`).waitFor();
    const offered = await panel.getByRole("button", { name: "Escalate", exact: true }).count();
    await checkScreen(page, "escalated");

    const supervisor = await b.page();
    await signIn(supervisor, { sub: "sara", role: "supervisor", agency });
    await supervisor.getByRole("link", { name: "Supervisor" }).click();
    const overdue = supervisor.getByTestId("overdue").getByRole("listitem").filter({ hasText: "escalated by ann" });
    await overdue.waitFor();
    return { row: await row.textContent(), offered_after: offered, supervisor_sees: await overdue.textContent() };
  },
};
