// Drives the web app in headless Chromium (Debian's /usr/bin/chromium, through playwright-core):
// sign in, open the business home, switch business, open the businesses list and the members page,
// the analysis pages and the account's pages, and take a screenshot of each step (laptop and phone
// widths) into SCREENSHOT_DIR. Every page is checked with axe-core (see checkAccessibility).
// Env: BASE_URL, TRAILMAP_EMAIL, TRAILMAP_PASSWORD, SWITCH_TO (a business name), SCREENSHOT_DIR.
// Prints one "step: ..." line per step and "ok" at the end; exits 1 on the first failure.
import { checkAccessibility, need, runSteps } from "./common.mjs";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const base = need("BASE_URL").replace(/\/$/, "");
const email = need("TRAILMAP_EMAIL");
const password = need("TRAILMAP_PASSWORD");
const switchTo = need("SWITCH_TO");
const shots = need("SCREENSHOT_DIR");
mkdirSync(shots, { recursive: true });

await runSteps(async (browser) => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.setDefaultTimeout(15000);
  const shot = (name) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });

  await page.goto(`${base}/`);
  if (!page.url().includes("/login")) throw new Error(`expected the sign-in page, got ${page.url()}`);
  await shot("1-login");
  await checkAccessibility(page, "sign-in page");
  console.log(`step: login page at ${new URL(page.url()).pathname}`);

  // A wrong password first: the page says so and stays.
  await page.fill("input[name=email]", email);
  await page.fill("input[name=password]", "wrong password here");
  await Promise.all([page.waitForLoadState("load"), page.click("button[type=submit]")]);
  const alert = await page.textContent("[role=alert]");
  if (!alert || !alert.includes("Wrong email or password")) throw new Error(`no error shown for a wrong password: ${alert}`);
  console.log("step: wrong password refused");

  await page.fill("input[name=email]", email);
  await page.fill("input[name=password]", password);
  await Promise.all([page.waitForURL(/\/b\/\d+\/$/), page.click("button[type=submit]")]);
  const first = (await page.textContent("[data-testid=business-name]")).trim();
  await shot("2-home");
  await checkAccessibility(page, "dashboard");
  console.log(`step: signed in, home of ${first}`);

  await page.click("[data-testid=business-switcher]");
  await shot("3-switcher-open");
  await Promise.all([page.waitForURL(/\/b\/\d+\/$/), page.click(`.switcher .dropdown a:has-text("${switchTo}")`)]);
  const second = (await page.textContent("[data-testid=business-name]")).trim();
  if (second !== switchTo) throw new Error(`switched to ${second}, wanted ${switchTo}`);
  await shot("4-switched");
  console.log(`step: switched to ${second}`);

  // Follow a number on the dashboard to the customers behind it, then to one customer's journey.
  const shown = (await page.textContent("[data-testid=metric-new_customers]")).trim();
  await Promise.all([page.waitForSelector("[data-testid=customers]"), page.click("[data-testid=metric-new_customers]")]);
  const count = (await page.textContent("[data-testid=customer-count]")).trim();
  if (!count.startsWith(`${shown.replace(/,/g, "")} customers`)) throw new Error(`the dashboard said ${shown}, the list says ${count}`);
  await shot("4b-customers");
  await checkAccessibility(page, "customers list");
  console.log(`step: followed new customers to their list (${count})`);
  await Promise.all([page.waitForSelector("[data-testid=timeline] svg"), page.click("[data-testid=customers] tbody tr:first-child a")]);
  await shot("4c-customer");
  await checkAccessibility(page, "customer page");
  console.log("step: a customer's timeline");

  await page.goto(`${base}/businesses`);
  const rows = await page.locator("[data-testid=businesses] tbody tr").count();
  await shot("5-businesses");
  await checkAccessibility(page, "businesses list");
  console.log(`step: businesses list with ${rows} rows`);

  await page.goto(`${base}/businesses`);
  await page.click(`[data-testid=businesses] a:has-text("${switchTo}")`);
  await page.click(".sections a:has-text('Members')");
  await page.waitForSelector("[data-testid=members]");
  await shot("6-members");
  await checkAccessibility(page, "members page");
  console.log("step: members page");

  // The analysis pages of this business, each checked for accessibility as it first opens.
  const analyses = new URL(page.url()).pathname.replace(/settings\/members$/, "analysis/");
  for (const analysis of ["", "funnel", "flows", "attribution", "retention", "clv"]) {
    await page.goto(`${base}${analyses}${analysis}`);
    await checkAccessibility(page, `analysis page ${analysis || "index"}`);
  }
  console.log("step: analysis pages");

  // The account's own pages.
  for (const account of ["security", "keys"]) {
    await page.goto(`${base}/account/${account}`);
    await checkAccessibility(page, `account ${account} page`);
  }
  console.log("step: account pages");

  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${base}/`);
  await shot("7-phone-home");
  await checkAccessibility(page, "dashboard on a phone");
  console.log("step: phone width");

  // Signing out ends the session: the home page asks to sign in again.
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.click(".menu.user summary");
  await Promise.all([page.waitForURL(/\/login/), page.click("button:has-text('Sign out')")]);
  await page.goto(`${base}/businesses`);
  if (!page.url().includes("/login?next=")) throw new Error(`still signed in after sign-out: ${page.url()}`);
  console.log("step: signed out");
});
