// Drives a new business's first steps in headless Chromium (Debian's /usr/bin/chromium, through
// playwright-core): sign in to an empty business whose dashboard is the onboarding checklist,
// make a write key from it (the key and the website snippet shown once), send a page view with
// that key through the tracking API and watch the page say "Last event received … ago" without a
// reload (onboarding.js polls) and the key listed with that last use, see the dashboard tick the website step, start a map from a
// template from the checklist, and comment on one of its cards (the count goes to 1).
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
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  const shot = (name) => page.screenshot({ path: join(shots, `onboarding-${name}.png`), fullPage: true });
  const stepDone = (key) => page.getAttribute(`[data-step=${key}]`, "data-done");

  await page.goto(`${base}/login`);
  await page.fill("input[name=email]", email);
  await page.fill("input[name=password]", password);
  await Promise.all([page.waitForURL(`${base}/b/${business}/`), page.click("button[type=submit]")]);
  await page.waitForSelector("[data-testid=checklist]");
  const counted = (await page.textContent("[data-done-count]")).trim();
  if (counted !== "0") throw new Error(`a new business has ${counted} steps done`);
  if (await page.$("[data-testid=metrics]")) throw new Error("the empty dashboard shows empty numbers");
  const touchpoints = await page.getAttribute("[data-testid=touchpoints-link]", "href");
  if (touchpoints !== `/b/${business}/touchpoints`) throw new Error(`touchpoints link: ${touchpoints}`);
  await shot("1-empty");
  await checkAccessibility(page, "onboarding checklist");
  console.log("step: empty dashboard is the checklist, 0 of 5 done");

  await Promise.all([page.waitForURL(`${base}/b/${business}/settings/sources`), page.click("[data-testid=create-key] button[type=submit]")]);
  const key = (await page.textContent("[data-testid=secret]")).trim();
  const snippet = await page.textContent("[data-testid=snippet]");
  if (!/^[0-9a-f]{64}$/.test(key)) throw new Error(`the key shown: ${key}`);
  if (!snippet.includes(`trailmap.init("${key}"`) || !snippet.includes(`${base}/t.js`)) throw new Error(`the snippet: ${snippet}`);
  if (!(await page.isVisible("[data-waiting]"))) throw new Error("no 'waiting for the first event' line");
  await shot("2-key");
  console.log("step: made a write key with its snippet");

  // A page view with the key, as the snippet on the website would send it.
  const sent = await fetch(`${base}/v1/page`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Basic ${Buffer.from(`${key}:`).toString("base64")}` },
    body: JSON.stringify({ type: "page", anonymousId: "first-visitor", properties: { path: "/" } }),
  });
  if (sent.status !== 200) throw new Error(`the tracking API answered ${sent.status}`);
  // The page learns of it by itself: wait for the line, no reload.
  await page.waitForFunction(() => {
    const line = document.querySelector("[data-testid=last-event]");
    return line && !line.hidden && /^Last event received \d+ s ago$/.test(line.textContent.trim());
  });
  if (await page.isVisible("[data-waiting]")) throw new Error("still waiting after the event arrived");
  await page.waitForFunction(() => /^\d+ s ago \(/.test(document.querySelector("[data-testid=last-used]").textContent.trim()));
  const events = (await page.textContent("[data-events]")).trim();
  if (events !== "1") throw new Error(`events received: ${events}`);
  await shot("3-received");
  await checkAccessibility(page, "write keys with a key just made");
  console.log("step: the page saw the event arrive");

  await page.goto(`${base}/b/${business}/`);
  if ((await stepDone("website")) !== "true") throw new Error("the website step is not done");
  if ((await stepDone("import")) !== "false") throw new Error("the import step is done without an import");
  const line = (await page.textContent("[data-testid=checklist] [data-testid=last-event]")).trim();
  if (!/^Last event received \d+ s ago$/.test(line)) throw new Error(`the dashboard says: ${line}`);
  await shot("4-ticked");
  console.log("step: the dashboard ticked the website step");

  await page.selectOption("[data-testid=create-map] select[name=template]", "coffee-shop");
  await Promise.all([page.waitForURL(/\/maps\/\d+$/), page.click("[data-testid=create-map] button[type=submit]")]);
  console.log("step: started a map from the checklist");

  const thread = page.locator("[data-testid=card-comments]").first();
  const before = (await thread.locator("[data-testid=comment-count]").textContent()).trim();
  if (before !== "0") throw new Error(`a new card has ${before} comments`);
  await thread.locator("summary").first().click();
  await thread.locator("textarea[name=text]").last().fill("Do we have numbers for this?");
  await Promise.all([page.waitForURL(/\?comments=\d+/), thread.locator("[data-testid=comment-form] button[type=submit]").click()]);
  const open = page.locator("details[data-testid=card-comments][open]");
  const after = (await open.locator("[data-testid=comment-count]").textContent()).trim();
  if (after !== "1") throw new Error(`after commenting the card has ${after} comments`);
  const text = (await open.locator("[data-testid=comment-text]").textContent()).trim();
  const author = (await open.locator("[data-testid=comment-author]").textContent()).trim();
  if (text !== "Do we have numbers for this?" || author !== "Bea Baker") throw new Error(`the comment: ${author}: ${text}`);
  await open.scrollIntoViewIfNeeded();
  await shot("5-comment");
  await checkAccessibility(page, "map with a comment thread open");
  console.log(`step: commented on a card, count ${after}`);
});
