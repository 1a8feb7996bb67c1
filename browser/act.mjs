// Drives the "act and review" pages in headless Chromium (Debian's /usr/bin/chromium, through
// playwright-core): sign in, open the boutique's change log and action board from the menu, open the planted
// change's impact (verdict with its n, the windows, the chart), record a change with a metric
// that does not exist (refused, with what was typed kept), fix it (lands on its impact page), then
// open the insights and follow the first finding to the customers behind it.
// Env: BASE_URL, TRAILMAP_EMAIL, TRAILMAP_PASSWORD, BUSINESS_ID, SCREENSHOT_DIR.
// Prints one "step: ..." line per step and "ok" at the end; exits 1 on the first failure.
import { checkAccessibility, need, runSteps } from "./common.mjs";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const base = need("BASE_URL").replace(/\/$/, "");
const email = need("TRAILMAP_EMAIL");
const password = need("TRAILMAP_PASSWORD");
const business = need("BUSINESS_ID");
const shots = need("SCREENSHOT_DIR");
mkdirSync(shots, { recursive: true });

await runSteps(async (browser) => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(15000);
  const shot = (name) => page.screenshot({ path: join(shots, `act-${name}.png`), fullPage: true });

  await page.goto(`${base}/login`);
  await page.fill("input[name=email]", email);
  await page.fill("input[name=password]", password);
  await Promise.all([page.waitForURL(/\/b\/\d+\/$/), page.click("button[type=submit]")]);
  await page.goto(`${base}/b/${business}/`);
  await Promise.all([page.waitForSelector("[data-testid=changes]"), page.click(".sections a:has-text('Changes')")]);
  const rows = await page.locator("[data-testid=changes] tbody tr").count();
  await shot("1-changes");
  await checkAccessibility(page, "change log");
  console.log(`step: change log with ${rows} changes`);

  // The action board, from the menu: the planted action with its pain point and its change's
  // verdict with n.
  await Promise.all([page.waitForSelector("[data-testid=actions]"), page.click(".sections a:has-text('Actions')")]);
  const action = (await page.textContent("[data-testid=actions] tbody tr:first-child")).replace(/\s+/g, " ");
  if (!/n = [\d,]+ before, [\d,]+ after/.test(action)) throw new Error(`the action's change gives no n: ${action}`);
  await shot("1b-actions");
  await checkAccessibility(page, "action board");
  await page.goto(`${base}/b/${business}/changes`);
  console.log(`step: action board (${action.slice(0, 80)})`);

  await Promise.all([page.waitForSelector("[data-testid=verdict]"), page.click("[data-testid=impact-link] >> nth=0")]);
  const verdict = (await page.textContent("[data-testid=verdict]")).trim();
  if (!/n = [\d,]+/.test(verdict)) throw new Error(`the verdict gives no n: ${verdict}`);
  if ((await page.locator("[data-testid=windows] tbody tr").count()) !== 2) throw new Error("no before and after rows");
  if ((await page.locator("figure.chart svg").count()) !== 1) throw new Error("no chart");
  await shot("2-impact");
  await checkAccessibility(page, "change impact");
  console.log(`step: impact verdict: ${verdict}`);

  await page.goto(`${base}/b/${business}/changes`);
  await page.fill("[data-testid=change-form] input[name=title]", "Shipping cost shown in the cart");
  await page.fill("[data-testid=change-form] input[name=date]", "2026-08-01");
  await page.fill("[data-testid=change-form] input[name=touchpoints]", "cart");
  await page.fill("[data-testid=change-form] input[name=metric]", "conversion:checkout_begun>purchase");
  await Promise.all([page.waitForLoadState("load"), page.click("[data-testid=change-form] button[type=submit]")]);
  const refused = (await page.textContent("[data-testid=refused]")).trim();
  if (!refused.startsWith("metric")) throw new Error(`the refusal does not name the metric: ${refused}`);
  if ((await page.inputValue("[data-testid=change-form] input[name=title]")) !== "Shipping cost shown in the cart") throw new Error("the title typed was lost");
  await shot("3-refused");
  await checkAccessibility(page, "change log with a refused change");
  console.log(`step: refused naming the field (${refused.slice(0, 60)})`);

  await page.fill("[data-testid=change-form] input[name=metric]", "conversion:checkout_started>purchase:7d");
  await Promise.all([page.waitForURL(/\/changes\/\d+$/), page.click("[data-testid=change-form] button[type=submit]")]);
  const recorded = (await page.textContent("h1")).trim();
  if (recorded !== "Shipping cost shown in the cart") throw new Error(`landed on ${recorded}`);
  console.log("step: recorded, on its impact page");

  await Promise.all([page.waitForSelector("[data-testid=insights]"), page.click(".sections a:has-text('Insights')")]);
  const first = (await page.textContent("[data-testid=insights] li:first-child h3")).trim();
  const value = (await page.textContent("[data-testid=insights] li:first-child [data-testid=value]")).trim();
  await shot("4-insights");
  await checkAccessibility(page, "insights");
  console.log(`step: top insight: ${first} (${value})`);
  await Promise.all([page.waitForSelector("[data-testid=customers]"), page.click("[data-testid=insights] li:first-child a[data-testid=customers]")]);
  const count = (await page.textContent("[data-testid=customer-count]")).trim();
  console.log(`step: followed the top insight to its customers (${count})`);

  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${base}/b/${business}/insights`);
  await shot("5-phone-insights");
  await checkAccessibility(page, "insights on a phone");
  console.log("step: phone width");
});
