// A business made from zero with nothing but the web app, in headless Chromium (Debian's
// /usr/bin/chromium, through playwright-core), as issue 18 asks: on a fresh store, the setup page
// makes the first account and names the business; the checklist's link opens the Import page,
// where an orders CSV and then an events CSV are uploaded, previewed and imported; the touchpoints
// the data suggests are all accepted; a persona is made with a rule and its live count; a map is
// started from a template on the checklist, and every stage of it shows its live numbers; a card
// gets a comment.
// Env: BASE_URL, ORDERS_CSV and EVENTS_CSV (file paths), SCREENSHOT_DIR.
// Prints one "step: ..." line per step (the Rust test checks the figures in them) and "ok" at the
// end; exits 1 on the first failure.
import { checkAccessibility, need, runSteps } from "./common.mjs";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const base = need("BASE_URL").replace(/\/$/, "");
const orders = need("ORDERS_CSV");
const events = need("EVENTS_CSV");
const shots = need("SCREENSHOT_DIR");
mkdirSync(shots, { recursive: true });

await runSteps(async (browser) => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(15000);
  const shot = (name) => page.screenshot({ path: join(shots, `from-zero-${name}.png`), fullPage: true });
  const text = async (selector) => (await page.textContent(selector)).replace(/\s+/g, " ").trim();

  // A fresh store sends its first visitor to the setup page.
  await page.goto(`${base}/`);
  await page.waitForURL(`${base}/setup`);
  await checkAccessibility(page, "setup page");
  await page.fill("input[name=name]", "Cora Cole");
  await page.fill("input[name=email]", "cora@example.com");
  await page.fill("input[name=password]", "a long enough password");
  await page.fill("input[name=business]", "Corner Coffee");
  await Promise.all([page.waitForURL(/\/b\/\d+\/$/), page.click("button[type=submit]")]);
  const business = page.url().match(/\/b\/(\d+)\/$/)[1];
  await page.waitForSelector("[data-testid=checklist]");
  if ((await text("[data-done-count]")) !== "0") throw new Error("a new business has steps done");
  await shot("1-checklist");
  console.log(`step: set up Corner Coffee (business ${business}), its dashboard the checklist`);

  // Orders, from the checklist's link.
  const upload = async (kind, file) => {
    if ((await page.inputValue("[data-testid=kind]")) !== kind) await page.selectOption("[data-testid=kind]", kind);
    await page.setInputFiles("[data-testid=file]", file);
    await Promise.all([page.waitForURL(/\/import\/[0-9a-f]{32}$/), page.click("#upload-form button[type=submit]")]);
    if (await page.$("[data-testid=missing]")) throw new Error(`the ${kind} file lacks: ${await text("[data-testid=missing]")}`);
    const rows = await page.locator("[data-testid=preview-rows] tbody tr").count();
    const bad = await page.locator("[data-testid=preview-rows] tr.row-error").count();
    const layout = await text("[data-testid=layout]");
    await shot(`${kind === "orders" ? 2 : 4}-${kind}-preview`);
    await checkAccessibility(page, `${kind} import preview`);
    await Promise.all([page.waitForSelector("[data-testid=import-report]"), page.click("[data-testid=import]")]);
    const read = await text("[data-testid=rows-read]");
    const landed = await text("[data-testid=landed]");
    await shot(`${kind === "orders" ? 3 : 5}-${kind}-imported`);
    await checkAccessibility(page, `${kind} import report`);
    console.log(`step: ${kind}: preview of ${rows} rows (${bad} bad, layout ${layout}), imported ${read} read, ${landed} landed`);
  };
  await Promise.all([page.waitForURL(/\/import\?kind=orders$/), page.click("[data-testid=import-link]")]);
  await checkAccessibility(page, "import page");
  await upload("orders", orders);
  await Promise.all([page.waitForURL(/\/import$/), page.click("a:has-text('Import another file')")]);
  await upload("events", events);

  // The checklist ticks the import; the touchpoints step leads to the suggestions.
  await Promise.all([page.waitForURL(`${base}/b/${business}/`), page.click("a:has-text('See the dashboard')")]);
  if ((await page.getAttribute("[data-step=import]", "data-done")) !== "true") throw new Error("the import step is not done");
  await shot("6-dashboard");
  await checkAccessibility(page, "dashboard after the first imports");
  console.log(`step: the dashboard ticked the import, ${await text("[data-done-count]")} done`);
  await Promise.all([page.waitForURL(/\/touchpoints$/), page.click("[data-testid=touchpoints-link]")]);
  await Promise.all([page.waitForSelector("[data-testid=suggestions]"), page.click("[data-testid=suggestions-link]")]);
  const suggested = await page.$$eval("[data-testid=suggestions] tbody tr", (rows) =>
    rows.map((r) => `${r.dataset.key} ${r.querySelector("[data-testid=volume]").dataset.volume}`));
  await shot("7-suggestions");
  console.log(`step: ${suggested.length} suggestions: ${suggested.join(", ")}`);
  await Promise.all([page.waitForSelector("[data-testid=accepted]"), page.click("[data-testid=accept-all]")]);
  if (await page.$("[data-testid=suggestions] tbody tr")) throw new Error("suggestions are left after accepting all");
  await shot("8-accepted");
  console.log(`step: ${await text("[data-testid=accepted]")}`);

  // A persona whose rule is built in the page, with its live count.
  await Promise.all([page.waitForURL(/\/personas$/), page.click(".sections a:has-text('Personas')")]);
  await Promise.all([page.waitForURL(/\/personas\/new$/), page.click("[data-testid=new-persona]")]);
  await page.fill("input[name=name]", "Buyers");
  await page.selectOption("select[name=field_1]", "orders");
  await page.selectOption("select[name=op_1]", ">=");
  await page.fill("input[name=value_1]", "1");
  await page.waitForFunction(() => /^\d+$/.test(document.querySelector("[data-testid=live-count] [data-testid=live-matches]")?.textContent.trim() ?? ""));
  const matches = await text("[data-testid=live-count] [data-testid=live-matches]");
  await page.fill("textarea[name=goals]", "Good coffee on the way to work");
  await page.fill("input[name=quote]", "Same as yesterday, please.");
  await shot("9-persona-form");
  await Promise.all([page.waitForURL(/\/personas#persona-\d+$/), page.click("[data-testid=save]")]);
  const covers = await text("[data-testid=persona] [data-testid=coverage-n]");
  await shot("10-personas");
  console.log(`step: persona Buyers: the live count said ${matches}, the card covers ${covers}`);

  // A map from a template, started on the checklist: every stage is measured, and each one the
  // data reaches links its customers.
  await page.goto(`${base}/b/${business}/`);
  await page.selectOption("[data-testid=create-map] select[name=template]", "coffee-shop");
  await Promise.all([page.waitForURL(/\/maps\/\d+$/), page.click("[data-testid=create-map] button[type=submit]")]);
  await page.waitForSelector("[data-testid=stage-numbers]");
  const stages = await page.$$eval(".stage-head", (heads) =>
    heads.map((h) => {
      const get = (id) => h.querySelector(`[data-testid=${id}]`);
      const next = get("stage-to-next");
      return {
        name: get("stage-name").textContent.trim(),
        reach: get("stage-reach") ? Number(get("stage-reach").dataset.n) : null,
        next: next ? `${next.dataset.converted} of ${next.dataset.n}` : "none",
        revenue: get("stage-revenue") ? get("stage-revenue").textContent.trim() : null,
        linked: Boolean(get("stage-reach")?.querySelector("a[href*='/customers?ids=']")),
      };
    }));
  await shot("11-map");
  await checkAccessibility(page, "map with live numbers");
  // The map scrolls sideways; the last stages, scrolled into view.
  await page.$eval(".map-scroll", (el) => { el.scrollLeft = el.scrollWidth; });
  await shot("11b-map-last-stages");
  for (const s of stages) {
    if (s.reach === null) throw new Error(`${s.name} is not measured`);
    // A stage the data gives nobody (Advocacy: no referral code names a known customer) says 0;
    // the Rust side checks which stages reach whom.
    if (s.reach > 0 && !s.linked) throw new Error(`${s.name}'s reach does not link its customers`);
    console.log(`step: stage ${s.name}: reach ${s.reach}, to next ${s.next}, revenue ${s.revenue}`);
  }
  await page.selectOption("[data-testid=numbers-form] select[name=persona]", { label: "Buyers" });
  await Promise.all([page.waitForURL(/persona=/), page.click("[data-testid=numbers-form] button[type=submit]")]);
  const theirs = await page.$$eval("[data-testid=stage-reach]", (dds) => dds.map((d) => d.dataset.n));
  await shot("12-map-persona");
  console.log(`step: the map for Buyers reaches ${theirs.join(", ")}`);

  // A comment on the first card.
  const thread = page.locator("[data-testid=card-comments]").first();
  await thread.locator("summary").first().click();
  await thread.locator("textarea[name=text]").last().fill("Instagram brings half of our first visits.");
  await Promise.all([page.waitForURL(/\?comments=\d+/), thread.locator("[data-testid=comment-form] button[type=submit]").click()]);
  const open = page.locator("details[data-testid=card-comments][open]");
  const count = (await open.locator("[data-testid=comment-count]").textContent()).trim();
  const said = (await open.locator("[data-testid=comment-text]").textContent()).trim();
  const author = (await open.locator("[data-testid=comment-author]").textContent()).trim();
  await open.scrollIntoViewIfNeeded();
  await shot("13-comment");
  console.log(`step: ${author} commented "${said}", count ${count}`);

  // The analysis pages of the new business: each answers in a sentence with its n and names its
  // period; the funnel's steps are picked from the business's own touchpoints and events.
  for (const slug of ["funnel", "flows", "attribution", "retention", "clv"]) {
    await page.goto(`${base}/b/${business}/analysis/${slug}`);
    const body = await page.textContent("main");
    if (/\btrailmap [a-z]|--[a-z]/.test(body)) throw new Error(`${slug}: a CLI command or flag on the page: ${body.match(/\btrailmap [a-z].{0,40}|--[a-z].{0,40}/)[0]}`);
    const answer = page.locator("[data-testid=analysis-summary]");
    if (await answer.count()) {
      const period = (await text("[data-testid=analysis-period]")).trim();
      if (!/^(Period|Values as of)/.test(period)) throw new Error(`${slug}: no period named: ${period}`);
      console.log(`step: ${slug}: ${(await answer.textContent()).trim()}`);
    } else {
      console.log(`step: ${slug}: ${(await text("p.error")).trim()}`);
    }
    await checkAccessibility(page, `${slug} page`);
  }
  await page.goto(`${base}/b/${business}/analysis/funnel`);
  const choices = await page.$$eval("[data-testid=picker-add_step] option", (os) => os.map((o) => o.value).filter(Boolean));
  const picked = choices.find((c) => c.startsWith("touchpoint:")) ?? choices[0];
  if (!picked) throw new Error("the funnel's step picker is empty");
  await page.selectOption("[data-testid=picker-add_step]", picked);
  await Promise.all([page.waitForURL(/add_step=/), page.click("form.analysis-form button[type=submit]")]);
  const steps = await page.inputValue("input[name=steps]");
  if (!steps.endsWith(picked)) throw new Error(`the picked step ${picked} is not in the steps: ${steps}`);
  await shot("14-funnel-picked");
  console.log(`step: picked ${picked} from ${choices.length} choices: ${(await text("[data-testid=analysis-summary]")).trim()}`);
});
