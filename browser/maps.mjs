// Drives the journey map editor in headless Chromium (Debian's /usr/bin/chromium, through
// playwright-core): sign in, create a map from the web-shop template, edit a card inline (no
// navigation; the text survives a reload), move a stage with the keyboard and by dragging, add a
// quote from the quote picker, turn a pain point into an opportunity and an action, rename a
// stage and add a touchpoint (all kept after a reload; /tmp/editor6.png shows the editor), show a
// demo map's live numbers for a period, download the PDF export, open a share link of it signed
// out, and look at it on a phone. Every page is checked with axe-core (see checkAccessibility).
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
  page.setDefaultTimeout(15000);
  const shot = (name) => page.screenshot({ path: join(shots, `maps-${name}.png`), fullPage: true });
  const stageNames = () => page.$$eval("[data-testid=map-grid] .stage-head", (heads) =>
    heads.sort((a, b) => Number(a.dataset.index) - Number(b.dataset.index)).map((h) => h.querySelector("h3").textContent.trim()));

  await page.goto(`${base}/login`);
  await page.fill("input[name=email]", email);
  await page.fill("input[name=password]", password);
  await Promise.all([page.waitForURL(/\/b\/\d+\/$/), page.click("button[type=submit]")]);
  console.log("step: signed in");

  await page.goto(`${base}/b/${business}/maps`);
  await checkAccessibility(page, "maps list");
  await page.fill("input[name=name]", "Web shop journey");
  await page.check("input[name=template][value=web-shop]");
  await Promise.all([page.waitForURL(/\/maps\/\d+$/), page.click("[data-testid=new-map] button[type=submit]")]);
  const mapUrl = page.url();
  const before = await stageNames();
  if (before.join(",") !== "Awareness,Consideration,Purchase,Retention,Advocacy") throw new Error(`template stages: ${before}`);
  await shot("1-editor");
  await checkAccessibility(page, "map editor");
  console.log(`step: created a map from the web-shop template at ${new URL(mapUrl).pathname}`);

  // Inline edit: click, type, Enter; the page must not navigate.
  let navigations = 0;
  page.on("framenavigated", (frame) => {
    if (frame === page.mainFrame()) navigations += 1;
  });
  const card = page.locator(".map-card").first();
  const cardId = await card.getAttribute("data-card");
  await card.locator(".text.editable").click();
  const area = card.locator("textarea.inline-editor");
  await area.fill("Find a dress for a summer wedding");
  await area.press("Enter");
  await page.waitForFunction((id) => {
    const text = document.querySelector(`.map-card[data-card="${id}"] .text`);
    return text && !text.hidden && text.textContent === "Find a dress for a summer wedding";
  }, cardId);
  await page.waitForSelector("[data-testid=map-status]:has-text('Saved.')");
  if (navigations !== 0) throw new Error(`the inline edit navigated ${navigations} time(s)`);
  await shot("2-edited");
  await page.reload();
  const persisted = (await page.textContent(`.map-card[data-card="${cardId}"] .text`)).trim();
  if (persisted !== "Find a dress for a summer wedding") throw new Error(`after reload the card says ${persisted}`);
  console.log("step: edited a card inline without navigating; the text persisted");

  // Keyboard: Tab reaches the first stage's "move right" button; Enter moves the stage.
  navigations = 0;
  const right = page.locator(".stage-head[data-index='0'] button[data-move=right]");
  await page.locator(".stage-head[data-index='0'] h3").click();
  let tabs = 0;
  while (tabs < 10 && !(await right.evaluate((b) => b === document.activeElement))) {
    await page.keyboard.press("Tab");
    tabs += 1;
  }
  if (!(await right.evaluate((b) => b === document.activeElement))) throw new Error("Tab never reached the move-right button");
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => document.querySelector(".stage-head[data-index='0'] h3").textContent.trim() === "Consideration");
  const afterKeys = await stageNames();
  if (afterKeys.join(",") !== "Consideration,Awareness,Purchase,Retention,Advocacy") throw new Error(`after the keyboard move: ${afterKeys}`);
  const focused = await page.evaluate(() => document.activeElement && document.activeElement.getAttribute("aria-label"));
  if (!focused || !focused.startsWith("Move Awareness")) throw new Error(`focus after the move is on ${focused}`);
  console.log(`step: moved a stage with the keyboard (${tabs} Tab presses), focus kept on ${focused}`);

  // Drag the third stage (in view on a laptop) onto the first.
  await page.dragAndDrop(".stage-head[data-index='2']", ".stage-head[data-index='0']", { sourcePosition: { x: 12, y: 10 }, targetPosition: { x: 12, y: 10 } });
  await page.waitForFunction(() => document.querySelector(".stage-head[data-index='0'] h3").textContent.trim() === "Purchase");
  const afterDrag = await stageNames();
  if (afterDrag.join(",") !== "Purchase,Consideration,Awareness,Retention,Advocacy") throw new Error(`after the drag: ${afterDrag}`);
  if (navigations !== 0) throw new Error("reordering navigated");
  await shot("3-reordered");
  await page.reload();
  if ((await stageNames()).join(",") !== afterDrag.join(",")) throw new Error("the order did not persist");
  console.log(`step: dragged a stage; order now ${afterDrag.join(", ")}`);

  // The card and stage controls, through the edits API without navigating: a quote from the
  // picker as evidence, a pain point turned into an opportunity and then an action, a stage
  // renamed, a touchpoint added; then a reload shows all of it kept.
  const stageId = async (name) => page.$$eval("[data-testid=map-grid] .stage-head", (heads, wanted) =>
    heads.find((h) => h.querySelector("h3").textContent.trim() === wanted).dataset.stage, name);
  navigations = 0;
  const purchase = await stageId("Purchase");
  const painCard = page.locator(`.lane-cell[data-stage="${purchase}"][data-lane=pain_points] .map-card`).first();
  const painId = await painCard.getAttribute("data-card");
  const pain = () => page.locator(`.map-card[data-card="${painId}"]`);
  await pain().locator("details.card-tools > summary").click();
  await pain().locator("[data-quote-search]").fill("shipping");
  await page.waitForSelector("[data-testid=map-status]:has-text('quotes match')");
  const options = await pain().locator(".quote-picker select option").count();
  if (options === 0) throw new Error("the quote picker found no checkout quote about shipping");
  const picked = (await pain().locator(".quote-picker select option").first().textContent()).trim();
  if (!/shipping/i.test(picked)) throw new Error(`the searched quote is ${picked}`);
  await pain().locator(".quote-picker button[type=submit]").click();
  await page.waitForSelector(`.map-card[data-card="${painId}"] [data-testid=evidence] li[data-kind=quote]`);
  const quoteShown = (await pain().locator("[data-testid=evidence] li[data-kind=quote]").textContent()).trim();
  console.log(`step: added a quote from the picker (${options} found for "shipping"): ${quoteShown.slice(0, 70)}`);

  await pain().locator("details.card-tools > summary").click();
  await pain().locator(".to-opportunity input[name=text]").fill("Free shipping over $75");
  await pain().locator(".to-opportunity button[type=submit]").click();
  const opportunity = page.locator(`.lane-cell[data-stage="${purchase}"][data-lane=opportunities] .map-card`, { hasText: "Free shipping over $75" });
  await opportunity.waitFor();
  await opportunity.locator("details.card-tools > summary").click();
  await opportunity.locator(".set-action input[name=owner]").fill("Mia");
  await opportunity.locator(".set-action input[name=due]").fill("2026-06-01");
  await opportunity.locator(".set-action input[name=kpi]").fill("checkout conversion");
  await opportunity.locator(".set-action button[type=submit]").click();
  await page.waitForSelector(`.lane-cell[data-stage="${purchase}"] [data-testid=action]:has-text("Mia by 2026-06-01")`);
  console.log("step: turned a pain point into an opportunity and the opportunity into an action");

  const head = page.locator(`.stage-head[data-stage="${purchase}"]`);
  await head.locator("details.stage-edit > summary").click();
  await head.locator(".rename-stage input[name=name]").fill("Checkout");
  await head.locator(".rename-stage button[type=submit]").click();
  await page.waitForFunction((id) => document.querySelector(`.stage-head[data-stage="${id}"] h3`).textContent.trim() === "Checkout", purchase);
  const retention = await stageId("Retention");
  const adder = page.locator(`.lane-cell.touchpoints[data-stage="${retention}"] .add-touchpoint`);
  const added = (await adder.locator("select option").first().textContent()).trim();
  await adder.locator("button[type=submit]").click();
  await page.waitForSelector(`.lane-cell.touchpoints[data-stage="${retention}"] .chip:has-text("${added}")`);
  if (navigations !== 0) throw new Error(`the controls navigated ${navigations} time(s)`);
  await page.locator(`.map-card[data-card="${painId}"]`).scrollIntoViewIfNeeded();
  await page.screenshot({ path: "/tmp/editor6.png", fullPage: true });
  await shot("6-controls");
  await checkAccessibility(page, "map editor with its card tools open");
  console.log(`step: renamed a stage and added the touchpoint ${added} without navigating`);

  await page.reload();
  const kept = await page.evaluate(({ painId, purchase, retention }) => ({
    quote: Boolean(document.querySelector(`.map-card[data-card="${painId}"] [data-testid=evidence] li[data-kind=quote]`)),
    action: [...document.querySelectorAll(`.lane-cell[data-stage="${purchase}"] [data-testid=action]`)].map((a) => a.textContent).join(" "),
    stage: document.querySelector(`.stage-head[data-stage="${purchase}"] h3`).textContent.trim(),
    chips: [...document.querySelectorAll(`.lane-cell.touchpoints[data-stage="${retention}"] .chip`)].map((c) => c.textContent).join(" "),
  }), { painId, purchase, retention });
  if (!kept.quote || !/Mia by 2026-06-01/.test(kept.action) || !/checkout conversion/.test(kept.action) || kept.stage !== "Checkout" || !kept.chips.includes(added)) {
    throw new Error(`after reload: ${JSON.stringify(kept)}`);
  }
  console.log("step: the evidence, opportunity, action, stage name and touchpoint persisted");

  // A demo map has touchpoints on its stages: its live numbers for the demo year.
  await page.goto(`${base}/b/${business}/maps`);
  const demo = page.locator("[data-testid=maps] tbody tr a", { hasNotText: "Web shop journey" }).first();
  await Promise.all([page.waitForURL(/\/maps\/\d+$/), demo.click()]);
  await page.fill("input[name=from]", "2025-11-01");
  await page.fill("input[name=to]", "2026-10-31");
  await Promise.all([page.waitForURL(/from=2025-11-01/), page.click("[data-testid=numbers-form] button")]);
  const reach = page.locator("[data-testid=stage-numbers] a").first();
  const reachText = (await reach.textContent()).trim();
  const href = await reach.getAttribute("href");
  if (!/customers/.test(reachText) || !href.includes("/customers?ids=")) throw new Error(`live numbers: ${reachText} → ${href}`);
  await shot("4-numbers");
  console.log(`step: live numbers (first: ${reachText})`);

  // Each number's definition is one click away, and money reads as the dashboard writes it.
  const define = page.locator("[data-testid=define-to_next]").first();
  await define.locator("summary").click();
  const definition = (await define.locator("p").textContent()).trim();
  if (!(await define.locator("p").isVisible()) || !/never above 100/.test(definition)) throw new Error(`definition: ${definition}`);
  const revenue = (await page.locator("[data-testid=stage-revenue]").allTextContents()).join(" | ");
  if (!/\$\d/.test(revenue) || /USD/.test(revenue)) throw new Error(`revenue: ${revenue}`);
  await shot("4b-definition");
  await checkAccessibility(page, "map with its live numbers");
  console.log(`step: a definition opens on a click (revenue: ${revenue})`);

  // The demo's five stages fit a 1280 px window: the map opens zoomed to fit (every stage in
  // view, no sideways scroll), and 100 % brings back a map that scrolls.
  const fits = () => page.evaluate(() => {
    const scroll = document.querySelector(".map-scroll");
    return { inner: scroll.scrollWidth, box: scroll.clientWidth, zoom: getComputedStyle(document.documentElement).getPropertyValue("--map-zoom") };
  });
  const opened = await fits();
  const level = (await page.locator("[data-testid=map-zoom-level]").textContent()).trim();
  if (opened.inner > opened.box + 1 || !/^\d+ %$/.test(level)) throw new Error(`the map does not fit 1280 px: ${JSON.stringify(opened)}, zoom ${level}`);
  await page.click("[data-testid=map-zoom-reset]");
  const actual = await fits();
  if (actual.zoom.trim() !== "1" || actual.inner <= actual.box) throw new Error(`at 100 % the map should scroll: ${JSON.stringify(actual)}`);
  await page.click("[data-testid=map-zoom-fit]");
  const refit = await fits();
  if (refit.inner > refit.box + 1) throw new Error(`Fit leaves the map wider than its box: ${JSON.stringify(refit)}`);
  console.log(`step: the map opens fitted to the window (${level}), 100 % scrolls, Fit fits again`);

  const [download] = await Promise.all([page.waitForEvent("download"), page.click("[data-testid=export-pdf]")]);
  const file = await download.path();
  const magic = readFileSync(file).subarray(0, 4).toString("latin1");
  if (magic !== "%PDF") throw new Error(`the PDF export starts with ${magic}`);
  console.log(`step: downloaded ${download.suggestedFilename()} (%PDF)`);

  // A share link, and the read-only page it opens for someone signed out.
  const demoUrl = page.url().split("?")[0];
  await page.goto(`${demoUrl}/share`);
  await Promise.all([page.waitForSelector("[data-testid=new-share-link]"), page.click("[data-testid=share-form] button[type=submit]")]);
  await checkAccessibility(page, "share links");
  const shared = await page.getAttribute("[data-testid=new-share-link]", "href");
  const outsider = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await outsider.goto(new URL(shared, base).href);
  if (!(await outsider.locator("[data-testid=map-grid]").count())) throw new Error(`the share link shows no map: ${outsider.url()}`);
  await checkAccessibility(outsider, "shared map");
  await outsider.close();
  console.log("step: a share link opens the map read-only");

  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(mapUrl);
  const widths = await page.evaluate(() => {
    const scroll = document.querySelector(".map-scroll");
    return { page: document.documentElement.scrollWidth, inner: scroll.scrollWidth, box: scroll.clientWidth };
  });
  await shot("5-phone");
  await checkAccessibility(page, "map editor on a phone");
  if (widths.page > 400) {
    const wide = await page.evaluate(() => [...document.querySelectorAll("body *")]
      .filter((e) => e.getBoundingClientRect().right > 400 && !e.closest(".map-scroll"))
      .slice(0, 5).map((e) => `${e.tagName}.${e.className}`).join(", "));
    throw new Error(`the page is ${widths.page}px wide on a 390px phone: ${wide}`);
  }
  if (widths.inner <= widths.box) throw new Error("the grid does not scroll sideways on a phone");
  console.log(`step: phone width, the grid scrolls (${widths.inner}px in ${widths.box}px)`);
});
