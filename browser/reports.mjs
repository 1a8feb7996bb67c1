// Drives the report, the digests and alerts page and the portfolio in headless Chromium (Debian's
// /usr/bin/chromium, through playwright-core): sign in, open Report from the menu, pick October
// 2026 (the key numbers with their n show in the page), download the PDF (a real PDF arrives),
// open Digests and alerts, try a webhook that is not http(s) (the reason shows, nothing saved), add a good
// one (its signing secret shows once), and open the portfolio from the business menu and sort
// it by new customers.
// Env: BASE_URL, TRAILMAP_EMAIL, TRAILMAP_PASSWORD, BUSINESS_ID, SCREENSHOT_DIR.
// Prints one "step: ..." line per step and "ok" at the end; exits 1 on the first failure.
import { checkAccessibility, need, runSteps } from "./common.mjs";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const base = need("BASE_URL").replace(/\/$/, "");
const email = need("TRAILMAP_EMAIL");
const password = need("TRAILMAP_PASSWORD");
const business = need("BUSINESS_ID");
const shots = need("SCREENSHOT_DIR");
mkdirSync(shots, { recursive: true });

await runSteps(async (browser) => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  page.setDefaultTimeout(20000);
  const shot = (name) => page.screenshot({ path: join(shots, `reports-${name}.png`), fullPage: true });

  await page.goto(`${base}/login`);
  await page.fill("input[name=email]", email);
  await page.fill("input[name=password]", password);
  await Promise.all([page.waitForURL(/\/b\/\d+\/$/), page.click("button[type=submit]")]);
  await page.goto(`${base}/b/${business}/`);

  await Promise.all([page.waitForSelector("[data-testid=report]"), page.click(".sections a:has-text('Report')")]);
  await page.fill("input[name=period]", "2026-10");
  await Promise.all([page.waitForURL(/period=2026-10/), page.click("[data-testid=report-period] button")]);
  const report = await page.textContent("[data-testid=report]");
  if (!report.includes("report for 2026-10-01 to 2026-10-31")) throw new Error(`not October's report: ${report.slice(0, 200)}`);
  if (!report.includes("14 / 0 customers")) throw new Error("the new customers' n is not shown");
  await shot("1-report");
  await checkAccessibility(page, "report");
  console.log("step: October's report reads in the page with its n");

  const [download] = await Promise.all([page.waitForEvent("download"), page.click("[data-testid=report-pdf]")]);
  const file = await download.path();
  const bytes = readFileSync(file);
  if (bytes.subarray(0, 5).toString() !== "%PDF-") throw new Error("the download is not a PDF");
  console.log(`step: the PDF downloads (${download.suggestedFilename()}, ${bytes.length} bytes)`);

  await Promise.all([page.waitForSelector("[data-testid=alert-form]"), page.click("a:has-text('Digests and alerts')")]);
  await page.fill("[data-testid=alert-form] input[name=kpi]", "new-customers");
  await page.selectOption("[data-testid=alert-form] select[name=channel]", "webhook");
  await page.fill("[data-testid=alert-form] input[name=target]", "ftp://hooks.example/x");
  await Promise.all([page.waitForSelector("[data-testid=form-error]"), page.click("[data-testid=alert-form] button[type=submit]")]);
  const refused = (await page.textContent("[data-testid=form-error]")).trim();
  if (!refused.includes("http:// or https://")) throw new Error(`unclear error: ${refused}`);
  console.log(`step: a webhook outside http(s) is refused: ${refused}`);
  await page.fill("[data-testid=alert-form] input[name=kpi]", "new-customers");
  await page.selectOption("[data-testid=alert-form] select[name=channel]", "webhook");
  await page.fill("[data-testid=alert-form] input[name=target]", "https://hooks.example/trailmap");
  await Promise.all([page.waitForSelector("[data-testid=notice]"), page.click("[data-testid=alert-form] button[type=submit]")]);
  const notice = (await page.textContent("[data-testid=notice]")).trim();
  if (!notice.includes("whsec_")) throw new Error(`no secret shown: ${notice}`);
  if ((await page.locator("[data-testid=alerts] tbody tr").count()) !== 1) throw new Error("the rule is not listed");
  await shot("2-delivery");
  await checkAccessibility(page, "digests and alerts");
  console.log("step: the alert is saved with its signing secret shown once");

  await page.click("[data-testid=business-switcher]");
  await Promise.all([page.waitForSelector("[data-testid=portfolio]"), page.click("a:has-text('Portfolio')")]);
  await Promise.all([page.waitForURL(/sort=new_customers/), page.click("[data-testid=sort-new_customers]")]);
  const first = await page.getAttribute("[data-testid=portfolio] tbody tr:first-child", "data-business");
  if (first !== "Corner Shop") throw new Error(`sorted by new customers, the first is ${first}`);
  await shot("3-portfolio");
  await checkAccessibility(page, "portfolio");
  console.log("step: the portfolio sorts by new customers");
});
