// Drives the research library in headless Chromium (Debian's /usr/bin/chromium, through
// playwright-core): sign in, open Research from the menu, narrow the quotes by words and
// sentiment, tick two quotes and attach them to a pain point of the map in one step, then on the
// map see the card show the two quotes with their source and date beside a live metric with its
// n; back in the library both quotes say where they are cited; tag one and filter by the tag.
// Env: BASE_URL, TRAILMAP_EMAIL, TRAILMAP_PASSWORD, BUSINESS_ID, CARD_TEXT, SCREENSHOT_DIR.
// Prints one "step: ..." line per step and "ok" at the end; exits 1 on the first failure.
import { checkAccessibility, need, runSteps } from "./common.mjs";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const base = need("BASE_URL").replace(/\/$/, "");
const email = need("TRAILMAP_EMAIL");
const password = need("TRAILMAP_PASSWORD");
const business = need("BUSINESS_ID");
const cardText = need("CARD_TEXT");
const shots = need("SCREENSHOT_DIR");
mkdirSync(shots, { recursive: true });

await runSteps(async (browser) => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(15000);
  const shot = (name) => page.screenshot({ path: join(shots, `research-${name}.png`), fullPage: true });

  await page.goto(`${base}/login`);
  await page.fill("input[name=email]", email);
  await page.fill("input[name=password]", password);
  await Promise.all([page.waitForURL(/\/b\/\d+\/$/), page.click("button[type=submit]")]);
  await page.goto(`${base}/b/${business}/`);
  await Promise.all([page.waitForSelector("[data-testid=research-items]"), page.click(".sections a:has-text('Research')")]);
  const all = (await page.textContent("[data-testid=research-n]")).trim();
  console.log(`step: the library lists ${all}`);

  await page.fill("[data-testid=research-filters] input[name=search]", "shipping");
  await page.selectOption("[data-testid=research-filters] select[name=sentiment]", "negative");
  await Promise.all([page.waitForURL(/sentiment=negative/), page.click("[data-testid=research-filters] button[type=submit]")]);
  const narrowed = (await page.textContent("[data-testid=research-n]")).trim();
  const items = page.locator("[data-testid=research-items] > li");
  if ((await items.count()) < 2) throw new Error(`too few negative shipping quotes: ${narrowed}`);
  const texts = [];
  for (const i of [0, 1]) {
    texts.push((await items.nth(i).locator("blockquote").textContent()).trim().replace(/^“|”$/g, ""));
    await items.nth(i).locator("input[type=checkbox]").check();
  }
  console.log(`step: narrowed to ${narrowed}; ticked two quotes`);
  await shot("1-library");
  await checkAccessibility(page, "research library");

  const option = await page.$$eval("[data-testid=cite-card] option", (options, wanted) => options.find((o) => o.textContent.includes(wanted))?.value, cardText);
  if (!option) throw new Error(`no card "${cardText}" in the picker`);
  await page.selectOption("[data-testid=cite-card]", option);
  await Promise.all([page.waitForURL(/\/maps\/\d+/), page.click("[data-testid=cite-form] button[type=submit]")]);
  const card = page.locator(`.map-card[data-card="${option.split(":")[1]}"]`);
  const quotes = await card.locator("[data-testid=card-quote]").allTextContents();
  const shown = quotes.map((q) => q.trim());
  for (const text of texts) {
    if (!shown.some((q) => text.startsWith(q.replace(/…$/, "")))) throw new Error(`the card does not show "${text}": ${JSON.stringify(shown)}`);
  }
  const source = (await card.locator("[data-testid=evidence] li[data-kind=quote]").first().textContent()).trim();
  if (!/\d{4}-\d{2}-\d{2}/.test(source)) throw new Error(`a quote without its date: ${source}`);
  console.log(`step: the card shows the two quotes with source and date: ${source.slice(0, 90)}`);
  const metric = (await page.locator("[data-testid=card-metric]").first().textContent()).trim();
  if (!/n = [\d,]+/.test(metric)) throw new Error(`the live metric has no n: ${metric}`);
  const summary = (await page.textContent("[data-testid=evidence-summary]")).trim();
  console.log(`step: live metric on the map: ${metric}`);
  console.log(`step: ${summary.split(";")[0]}`);
  await card.scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(shots, "research-2-card.png") });

  await page.goto(`${base}/b/${business}/research?search=shipping&sentiment=negative`);
  const cited = await page.locator("[data-testid=research-items] > li", { has: page.locator("[data-testid=cited-by]") }).count();
  if (cited < 2) throw new Error(`only ${cited} quote(s) say where they are cited`);
  console.log(`step: ${cited} quotes say where they are cited`);
  const first = page.locator("[data-testid=research-items] > li").first();
  await first.locator(".add-tag input[name=add]").fill("Fees");
  await Promise.all([page.waitForLoadState("load"), first.locator(".add-tag button[type=submit]").click()]);
  await page.waitForSelector("[data-testid=tag-counts] a[data-tag=fees]");
  await Promise.all([page.waitForURL(/tag=fees/), page.click("[data-testid=tag-counts] a[data-tag=fees]")]);
  const tagged = (await page.textContent("[data-testid=research-n]")).trim();
  if (!tagged.startsWith("1 of")) throw new Error(`the tag filter shows ${tagged}`);
  console.log(`step: tagged a quote #fees and filtered by it: ${tagged}`);
  await shot("3-tagged");
});
