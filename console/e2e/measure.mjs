// The console's first load on a running gateway, as a report (not a test: timings vary by machine).
//
//   CASEWIRE_URL=http://127.0.0.1:8080 node console/e2e/measure.mjs [runs]
//
// Each run opens /console/ in a fresh Chromium profile (nothing cached) and records the navigation's
// timings and when the sign-in screen is on the page; prints one JSON object with the median and the
// worst run. The budget of issue 20 is 1 s on loopback.
import { browser, CONSOLE } from "./browser.mjs";

const runs = Number(process.argv[2] ?? 5);
const seen = [];
for (let run = 0; run < runs; run += 1) {
  const b = await browser();
  try {
    const page = await b.page();
    const started = Date.now();
    await page.goto(CONSOLE);
    await page.getByRole("heading", { name: "Casewire console" }).waitFor();
    const ready = Date.now() - started;
    const timing = await page.evaluate(() => {
      const [nav] = performance.getEntriesByType("navigation");
      const bytes = performance.getEntriesByType("resource").reduce((sum, r) => sum + (r.transferSize || 0), nav.transferSize || 0);
      return { dom_content_loaded_ms: nav.domContentLoadedEventEnd, load_ms: nav.loadEventEnd, transferred_bytes: bytes };
    });
    seen.push({ sign_in_visible_ms: ready, ...timing });
  } finally {
    await b.close();
  }
}
const ordered = (key) => seen.map((run) => run[key]).sort((a, b) => a - b);
const report = { runs, budget_ms: 1000 };
for (const key of Object.keys(seen[0])) {
  const values = ordered(key);
  report[key] = { median: Math.round(values[Math.floor(values.length / 2)]), worst: Math.round(values[values.length - 1]) };
}
console.log(JSON.stringify(report, null, 2));
