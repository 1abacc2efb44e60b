// What every browser flow shares: Debian's Chromium under Playwright, a fresh profile, development
// sign-in, axe-core on each screen, the keyboard check, and a screenshot of each screen.
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import AxeBuilder from "@axe-core/playwright";
import { chromium } from "playwright-core";

export const CONSOLE = `${process.env.CASEWIRE_URL ?? "http://127.0.0.1:8080"}/console/`;
const SCREENSHOTS = process.env.CONSOLE_SCREENSHOTS ?? "";
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
export const TIMEOUT = 30_000;

export async function browser() {
  const profile = mkdtempSync(join(tmpdir(), "casewire-console-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  context.setDefaultTimeout(TIMEOUT);
  const errors = [];
  context.on("weberror", (error) => errors.push(String(error.error())));
  return {
    context,
    errors,
    async page() {
      const page = await context.newPage();
      page.on("pageerror", (error) => errors.push(String(error)));
      return page;
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export async function signIn(page, { sub, role, agency = "TX0000000", unit = "rtcc" }) {
  await page.goto(CONSOLE);
  await page.getByLabel("User").fill(sub);
  await page.getByLabel("Role").selectOption(role);
  await page.getByLabel("Agency (ORI)").fill(agency);
  await page.getByLabel("Unit").fill(unit);
  await page.getByRole("button", { name: "Sign in as this user" }).click();
  await page.getByTestId("who").waitFor();
}

/** An analyst's queue with the alert's triage panel opened by keyboard: `{ page, row, panel }`. */
export async function openTriage(b, { alert_id, summary, agency }) {
  const page = await b.page();
  await signIn(page, { sub: "ann", role: "analyst", agency });
  const row = page.locator(`[data-alert="${alert_id}"]`);
  await row.waitFor();
  await row.getByRole("button", { name: `Triage ${summary}` }).focus();
  await page.keyboard.press("Enter");
  return { page, row, panel: page.getByRole("complementary", { name: "Triage the selected alert" }) };
}

/** No serious or critical axe-core violation on the page as it is now. */
export async function accessible(page, screen) {
  const { violations } = await new AxeBuilder({ page }).analyze();
  const bad = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  if (bad.length) {
    const told = bad.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")}`);
    throw new Error(`axe on the ${screen} screen:\n${told.join("\n")}`);
  }
}

/** Every visible control of the page is reached by Tab alone. */
export async function keyboardReachable(page, screen) {
  await page.evaluate(() => document.activeElement instanceof HTMLElement && document.activeElement.blur());
  await page.locator("body").focus();
  const controls = await page.evaluate(() => {
    const all = [...document.querySelectorAll("a[href], button, input, select, textarea, [tabindex]")];
    return all
      .filter((el) => el.getAttribute("tabindex") !== "-1" && !el.disabled && el.getClientRects().length > 0)
      .filter((el) => !el.closest(".leaflet-container") && !el.closest(".graph"))
      .map((el, index) => {
        el.dataset.kbd = String(index);
        return index;
      });
  });
  const reached = new Set();
  for (let step = 0; step < controls.length * 2 + 10 && reached.size < controls.length; step += 1) {
    await page.keyboard.press("Tab");
    const at = await page.evaluate(() => document.activeElement?.dataset?.kbd ?? null);
    if (at !== null) reached.add(Number(at));
  }
  const missed = controls.filter((index) => !reached.has(index));
  if (missed.length) {
    const names = await page.evaluate(
      (indexes) => indexes.map((i) => document.querySelector(`[data-kbd="${i}"]`)?.outerHTML.slice(0, 120)),
      missed,
    );
    throw new Error(`on the ${screen} screen, Tab never reaches:\n${names.join("\n")}`);
  }
}

export async function screenshot(page, name) {
  if (!SCREENSHOTS) return;
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.evaluate(() => {
    if (document.activeElement instanceof HTMLElement) document.activeElement.blur();
    window.scrollTo(0, 0);
  });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: false });
}

/** Each screen a flow shows: axe, the keyboard and a screenshot. */
export async function checkScreen(page, name) {
  await accessible(page, name);
  await keyboardReachable(page, name);
  await screenshot(page, name);
}

export async function api(path, { token, method = "GET", body, headers = {} }) {
  const answer = await fetch(`${CONSOLE.replace(/\/console\/$/, "")}${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", ...headers },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await answer.text();
  if (!answer.ok) throw new Error(`${method} ${path}: ${answer.status} ${text}`);
  return JSON.parse(text);
}
