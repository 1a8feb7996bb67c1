// Drives the public survey page and the members' survey pages in headless Chromium (Debian's
// /usr/bin/chromium, through playwright-core): at phone width (390×844) with JavaScript, answer as
// a detractor, forget the required comment, see the message by the question, fix it and get the
// thank-you page; then the same page with JavaScript disabled, as a promoter (the comment is
// skipped); then a member signs in and finds the answers in the results, the surveys list with
// its QR links, and the feedback page. Screenshots of each step go to SCREENSHOT_DIR as survey-*.png.
// Env: BASE_URL, SURVEY_PATH (/s/{token}?customer_id=...), RESULTS_PATH, TRAILMAP_EMAIL,
// TRAILMAP_PASSWORD, SCREENSHOT_DIR. Prints one "step: ..." line per step and "ok" at the end.
import { checkAccessibility, need, runSteps } from "./common.mjs";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const base = need("BASE_URL").replace(/\/$/, "");
const surveyPath = need("SURVEY_PATH");
const resultsPath = need("RESULTS_PATH");
const email = need("TRAILMAP_EMAIL");
const password = need("TRAILMAP_PASSWORD");
const shots = need("SCREENSHOT_DIR");
mkdirSync(shots, { recursive: true });
const COMMENT = "Shipping cost was a nasty surprise <b>at checkout</b>";

const phone = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };
const question = (page, n) => page.locator("fieldset.question").nth(n);
const pick = (page, n, value) => question(page, n).locator(`label:has(input[value="${value}"])`).click();
await runSteps(async (browser) => {
  // 1. A phone with JavaScript.
  const withJs = await browser.newContext(phone);
  let page = await withJs.newPage();
  page.setDefaultTimeout(15000);
  await page.goto(`${base}${surveyPath}`);
  await page.screenshot({ path: join(shots, "survey-1-form-phone.png"), fullPage: true });
  await checkAccessibility(page, "public survey");
  const scroll = await page.evaluate(() => document.documentElement.scrollWidth);
  if (scroll > 390) throw new Error(`the page is wider than the phone: ${scroll}px`);
  console.log("step: the form on a phone");

  await pick(page, 0, "3");
  await Promise.all([page.waitForLoadState("load"), page.click("button.send")]);
  const problem = await question(page, 1).locator(".field-error").textContent();
  if (!problem.includes("needs an answer")) throw new Error(`no message by the comment question: ${problem}`);
  await page.screenshot({ path: join(shots, "survey-2-missing-answer.png"), fullPage: true });
  await checkAccessibility(page, "public survey with a missing answer");
  console.log("step: a missing required answer is named by its question");

  await question(page, 1).locator("textarea").fill(COMMENT);
  await pick(page, 2, "Shipping cost");
  await Promise.all([page.waitForURL(/\/thanks$/), page.click("button.send")]);
  await page.screenshot({ path: join(shots, "survey-3-thanks.png"), fullPage: true });
  await checkAccessibility(page, "survey thanks");
  console.log("step: answered with JavaScript, thanked");

  // 2. The same page with JavaScript disabled, as a promoter: the comment is skipped.
  const noJs = await browser.newContext({ ...phone, javaScriptEnabled: false });
  page = await noJs.newPage();
  page.setDefaultTimeout(15000);
  await page.goto(`${base}${surveyPath}`);
  await pick(page, 0, "10");
  await page.screenshot({ path: join(shots, "survey-4-no-javascript.png"), fullPage: true });
  await Promise.all([page.waitForURL(/\/thanks$/), page.click("button.send")]);
  console.log("step: answered without JavaScript, thanked");

  // 3. A member signs in and reads the answers.
  const desk = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await desk.newPage();
  page.setDefaultTimeout(15000);
  await page.goto(`${base}/login?next=${encodeURIComponent(resultsPath)}`);
  await page.fill("input[name=email]", email);
  await page.fill("input[name=password]", password);
  await Promise.all([page.waitForURL((url) => url.pathname === resultsPath.split("?")[0]), page.click("button[type=submit]")]);
  const answers = await page.textContent("[data-testid=answers]");
  if (!answers.includes(COMMENT)) throw new Error(`the comment is not in the results: ${answers}`);
  const scores = await page.textContent("[data-testid=scores]");
  if (!scores.includes("All")) throw new Error(`no scores: ${scores}`);
  await page.screenshot({ path: join(shots, "survey-5-results.png"), fullPage: true });
  await checkAccessibility(page, "survey results");
  console.log("step: a member sees both answers in the results");

  await page.click("nav.sections a:has-text('Surveys')");
  await page.waitForSelector("[data-testid=surveys]");
  await page.screenshot({ path: join(shots, "survey-6-list.png"), fullPage: true });
  await checkAccessibility(page, "surveys list");
  await page.click("nav.sections a:has-text('Feedback')");
  await page.waitForSelector("[data-testid=themes]", { state: "attached" });
  await page.screenshot({ path: join(shots, "survey-7-feedback.png"), fullPage: true });
  await checkAccessibility(page, "feedback");
  await page.setViewportSize({ width: 390, height: 844 });
  await checkAccessibility(page, "feedback on a phone");
  console.log("step: the surveys list and the feedback page");
});
