// Drives the Import page in headless Chromium (Debian's /usr/bin/chromium, through
// playwright-core): from the onboarding checklist's link, upload an orders CSV through the form
// (sent by imports.js with XHR for its progress), see the preview with the column it lacks named,
// pick that column in the mapping's select, preview again, import, and read the counts.
// A file over the server's limit is refused by the page before it is sent.
// Env: BASE_URL, TRAILMAP_EMAIL, TRAILMAP_PASSWORD, BUSINESS_ID, ORDERS_CSV and BIG_CSV (file
// paths; BIG_CSV over the server's limit), SCREENSHOT_DIR.
// Prints one "step: ..." line per step and "ok" at the end; exits 1 on the first failure.
import { checkAccessibility, need, runSteps } from "./common.mjs";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const base = need("BASE_URL").replace(/\/$/, "");
const email = need("TRAILMAP_EMAIL");
const password = need("TRAILMAP_PASSWORD");
const business = need("BUSINESS_ID");
const orders = need("ORDERS_CSV");
const big = need("BIG_CSV");
const shots = need("SCREENSHOT_DIR");
mkdirSync(shots, { recursive: true });

await runSteps(async (browser) => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(15000);
  const shot = (name) => page.screenshot({ path: join(shots, `imports-${name}.png`), fullPage: true });
  const xhrPosts = [];
  page.on("request", (r) => {
    if (r.method() === "POST" && r.resourceType() === "xhr") xhrPosts.push(r.url());
  });

  await page.goto(`${base}/login`);
  await page.fill("input[name=email]", email);
  await page.fill("input[name=password]", password);
  await Promise.all([page.waitForURL(`${base}/b/${business}/`), page.click("button[type=submit]")]);
  const link = await page.getAttribute("[data-testid=import-link]", "href");
  if (link !== `/b/${business}/import?kind=orders`) throw new Error(`the checklist's import link: ${link}`);
  await Promise.all([page.waitForURL(/\/import\?kind=orders$/), page.click("[data-testid=import-link]")]);
  console.log("step: the checklist links the Import page");
  if ((await page.inputValue("[data-testid=kind]")) !== "orders") throw new Error("the kind is not preselected");
  await page.setInputFiles("[data-testid=file]", big);
  await page.click("#upload-form button[type=submit]");
  await page.waitForFunction(() => /over the .* this server imports/.test(document.querySelector("[data-testid=upload-progress]").textContent));
  if (xhrPosts.length) throw new Error(`a file over the limit was sent: ${xhrPosts}`);
  await shot("0-too-big");
  console.log("step: a file over the limit is refused before it is sent");
  await page.setInputFiles("[data-testid=file]", orders);
  await shot("1-form");
  await checkAccessibility(page, "import page with a file chosen");

  await Promise.all([page.waitForURL(/\/import\/[0-9a-f]{32}$/), page.click("#upload-form button[type=submit]")]);
  if (!xhrPosts.some((u) => u.endsWith(`/b/${business}/import`))) throw new Error(`the upload was not sent by imports.js: ${xhrPosts}`);
  const rows = await page.$$("[data-testid=preview-rows] tbody tr");
  console.log(`step: uploaded with progress, preview of ${rows.length} rows`);
  const missing = await page.textContent("[data-testid=missing]");
  if (!missing.includes("time")) throw new Error(`missing: ${missing}`);
  const errors = await page.$$("[data-testid=preview-rows] tr.row-error");
  if (errors.length !== 3) throw new Error(`${errors.length} rows highlighted, expected 3`);
  if (await page.$("[data-testid=import]")) throw new Error("the import button is offered while time has no column");
  await shot("2-preview");
  console.log("step: the time column is missing and named");

  await page.selectOption("select[name='map.time']", "Placed");
  await Promise.all([page.waitForLoadState("load"), page.click("[data-testid=preview-again]")]);
  await page.waitForSelector("[data-testid=import]");
  if (await page.$("[data-testid=missing]")) throw new Error("time is still missing after picking Placed");
  const good = await page.$$("[data-testid=preview-rows] tbody tr:not(.row-error)");
  const chosen = await page.inputValue("select[name='map.time']");
  if (chosen !== "Placed") throw new Error(`the select shows ${chosen}`);
  const cells = await page.$$eval("[data-testid=preview-rows] tbody tr:first-child td", (tds) => tds.map((td) => td.textContent.trim()));
  if (!cells.includes("2026-03-01T10:00:00.000Z") || !cells.includes("24.50 EUR")) throw new Error(`the first row: ${cells}`);
  await shot("3-mapped");
  await checkAccessibility(page, "import preview with a column picked");
  console.log(`step: picked Placed for time, ${good.length} rows read`);

  await Promise.all([page.waitForSelector("[data-testid=import-report]"), page.click("[data-testid=import]")]);
  const read = (await page.textContent("[data-testid=rows-read]")).trim();
  const landed = (await page.textContent("[data-testid=landed]")).trim();
  await shot("4-done");
  console.log(`step: imported: ${read} read, ${landed} landed`);
});
