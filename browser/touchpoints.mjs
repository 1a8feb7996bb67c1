// Drives the touchpoint pages in headless Chromium (Debian's /usr/bin/chromium, through
// playwright-core): sign in, open Touchpoints from the menu, start a new touchpoint, type a rule
// that does not read (the reason shows under the field as it is typed, with the place marked),
// finish it (the live preview counts the events and customers it matches, with examples), try one
// that matches nothing (said so), save it (listed with its count), accept a suggestion (on its
// stage), and preview a rule with JavaScript off (the Preview button answers through a page load).
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

const signIn = async (page) => {
  await page.goto(`${base}/login`);
  await page.fill("input[name=email]", email);
  await page.fill("input[name=password]", password);
  await Promise.all([page.waitForURL(/\/b\/\d+\/$/), page.click("button[type=submit]")]);
};

await runSteps(async (browser) => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(15000);
  const shot = (name) => page.screenshot({ path: join(shots, `touchpoints-${name}.png`), fullPage: true });
  const summary = async () => (await page.textContent("[data-testid=preview-summary]")).trim();

  await signIn(page);
  await page.goto(`${base}/b/${business}/`);
  await Promise.all([page.waitForSelector("[data-testid=new-touchpoint]"), page.click(".sections a:has-text('Touchpoints')")]);
  await Promise.all([page.waitForSelector("[data-testid=touchpoint-form]"), page.click("[data-testid=new-touchpoint]")]);
  await page.fill("input[name=name]", "Checkout page");
  await page.selectOption("select[name=channel]", "web");
  await page.selectOption("select[name=stage]", "Purchase");

  // Typed, not filled: the preview follows the keystrokes.
  await page.locator("input[name=rule]").pressSequentially("page_view[page^=/checkout", { delay: 10 });
  await page.waitForFunction(() => document.querySelector("[data-testid=rule-error]").textContent.includes("At offset 25"));
  const error = (await page.textContent("[data-testid=rule-error]")).trim();
  if ((await page.locator("[data-testid=rule-error] mark").count()) !== 1) throw new Error("the place of the error is not marked");
  await shot("1-rule-error");
  await checkAccessibility(page, "new touchpoint with a rule error");
  console.log(`step: the rule error shows live: ${error.split("page_view")[0].trim()}`);

  await page.locator("input[name=rule]").press("End");
  await page.locator("input[name=rule]").pressSequentially("]");
  await page.waitForFunction(() => document.querySelector("[data-testid=preview-summary]").textContent.startsWith("Matches 2"));
  if ((await page.textContent("[data-testid=rule-error]")).trim() !== "") throw new Error("the error stayed after the rule was fixed");
  const examples = await page.locator("[data-testid=preview-examples] tbody tr").count();
  if (examples !== 2) throw new Error(`expected 2 examples, saw ${examples}`);
  const customers = await page.getAttribute("[data-testid=preview-customers]", "href");
  if (!customers || !customers.includes("/customers?ids=")) throw new Error(`the customers are not linked: ${customers}`);
  await shot("2-preview");
  await checkAccessibility(page, "new touchpoint with its preview");
  console.log(`step: live preview: ${await summary()}`);

  await page.fill("input[name=rule]", "page_view[page^=/nowhere]");
  await page.waitForFunction(() => document.querySelector("[data-testid=preview-summary]").textContent.startsWith("Matches nothing"));
  console.log(`step: a rule matching nothing says so: ${await summary()}`);
  await page.fill("input[name=rule]", "page_view[page^=/checkout]");
  await page.waitForFunction(() => document.querySelector("[data-testid=preview-summary]").textContent.startsWith("Matches 2"));

  await Promise.all([page.waitForURL(/\/touchpoints$/), page.click("[data-testid=save]")]);
  const row = page.locator("tr[data-name='Checkout page']");
  const events = (await row.locator("[data-testid=events]").textContent()).trim();
  await shot("3-list");
  await checkAccessibility(page, "touchpoints list");
  console.log(`step: saved, listed with ${events} events`);

  await Promise.all([page.waitForSelector("[data-testid=suggestions]"), page.click("[data-testid=suggestions-link]")]);
  await shot("4-suggestions");
  await checkAccessibility(page, "touchpoint suggestions");
  const social = page.locator("tr[data-key='channel:Paid Social']");
  await Promise.all([page.waitForSelector("[data-testid=accepted]"), social.locator("[data-testid=accept]").click()]);
  const accepted = (await page.textContent("[data-testid=accepted]")).trim();
  if ((await page.locator("tr[data-key='channel:Paid Social']").count()) !== 0) throw new Error("the accepted suggestion is still listed");
  await shot("5-accepted");
  console.log(`step: accepted ${accepted.replace(/^Added /, "").replace(/\.$/, "")}`);

  // Without JavaScript: the Preview button posts the form and the page comes back with the answer.
  const plain = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1280, height: 900 } });
  const noscript = await plain.newPage();
  noscript.setDefaultTimeout(15000);
  await signIn(noscript);
  await noscript.goto(`${base}/b/${business}/touchpoints/new`);
  await noscript.fill("input[name=name]", "Checkout again");
  await noscript.fill("input[name=rule]", "page_view[page*=checkout]");
  await Promise.all([noscript.waitForLoadState("load"), noscript.click("[data-testid=preview-button]")]);
  const answer = (await noscript.textContent("[data-testid=preview-summary]")).trim();
  if ((await noscript.inputValue("input[name=name]")) !== "Checkout again") throw new Error("the name typed was lost");
  await noscript.screenshot({ path: join(shots, "touchpoints-6-noscript-preview.png"), fullPage: true });
  console.log(`step: no-script preview: ${answer}`);

  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${base}/b/${business}/touchpoints/new`);
  await shot("7-phone-form");
  await checkAccessibility(page, "new touchpoint on a phone");
  console.log("step: phone width");
});
