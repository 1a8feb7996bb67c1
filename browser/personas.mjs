// Drives the personas pages in headless Chromium (Debian's /usr/bin/chromium, through
// playwright-core) on a business made from zero: sign in, find no personas, make one with a rule
// built from the rule rows while the live count follows each change, upload a photo, save (the
// board shows the photo and the coverage), type a rule that does not read (the count names the
// character), edit the persona, start a second one from a suggested cluster and save it, then
// read each card's coverage and follow it to the customers.
// Env: BASE_URL, TRAILMAP_EMAIL, TRAILMAP_PASSWORD, BUSINESS_ID, PHOTO (a PNG file), SCREENSHOT_DIR.
// Prints one "step: ..." line per step and "ok" at the end; exits 1 on the first failure.
import { checkAccessibility, need, runSteps } from "./common.mjs";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const base = need("BASE_URL").replace(/\/$/, "");
const email = need("TRAILMAP_EMAIL");
const password = need("TRAILMAP_PASSWORD");
const business = need("BUSINESS_ID");
const photo = need("PHOTO");
const shots = need("SCREENSHOT_DIR");
mkdirSync(shots, { recursive: true });

await runSteps(async (browser) => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(15000);
  const shot = (name) => page.screenshot({ path: join(shots, `personas-${name}.png`), fullPage: true });
  const number = async (selector) => Number((await page.textContent(selector)).trim());
  // Waits until the live count's `testid` number differs from `before`, and returns it.
  const changed = async (testid, before) => {
    await page.waitForFunction(
      ([id, old]) => {
        const el = document.querySelector(`[data-testid=live-count] [data-testid=${id}]`);
        return el && el.textContent.trim() !== String(old);
      },
      [testid, before],
    );
    return number(`[data-testid=live-count] [data-testid=${testid}]`);
  };

  await page.goto(`${base}/login`);
  await page.fill("input[name=email]", email);
  await page.fill("input[name=password]", password);
  await Promise.all([page.waitForURL(/\/b\/\d+\/$/), page.click("button[type=submit]")]);
  await page.goto(`${base}/b/${business}/`);
  await Promise.all([page.waitForURL(/\/personas$/), page.click(".sections a:has-text('Personas')")]);
  await page.waitForSelector("[data-testid=no-personas]");
  await shot("1-empty");
  await checkAccessibility(page, "personas board, empty");
  console.log("step: no personas yet");

  // A rule built from rows: the text and the count follow every change.
  await Promise.all([page.waitForURL(/\/personas\/new$/), page.click("[data-testid=new-persona]")]);
  await page.fill("input[name=name]", "Referral regulars");
  await page.selectOption("select[name=field_1]", "orders");
  await page.selectOption("select[name=op_1]", ">=");
  await page.fill("input[name=value_1]", "1");
  const buyers = await changed("live-matches", "");
  await page.fill("input[name=value_1]", "2");
  const repeat = await changed("live-matches", buyers);
  await page.selectOption("select[name=field_2]", "first_channel");
  await page.selectOption("select[name=op_2]", "=");
  await page.fill("input[name=value_2]", "Referral");
  const referrals = await changed("live-matches", repeat);
  const text = await page.inputValue("[data-testid=rule-text]");
  if (text !== "orders>=2 & first_channel=Referral") throw new Error(`the rows wrote ${text}`);
  if (!(buyers > repeat && repeat > referrals && referrals > 0)) throw new Error(`counts ${buyers}, ${repeat}, ${referrals}`);
  await page.fill("textarea[name=goals]", "Bring friends along\nA quiet corner to work");
  await page.fill("textarea[name=demographics]", "Age: 30-45\nLives: in town");
  await page.fill("input[name=quote]", "The barista knows my order.");
  await page.setInputFiles("input[name=photo]", photo);
  await shot("2-counting");
  await checkAccessibility(page, "new persona with its live count");
  console.log(`step: live count follows the rule (${buyers} with an order, ${repeat} with two, ${referrals} of them by referral)`);

  await Promise.all([page.waitForURL(/\/personas#persona-\d+$/), page.click("[data-testid=save]")]);
  const card = page.locator("[data-testid=persona]").first();
  const loaded = await card.locator("img[data-testid=photo]").evaluate((img) => img.complete && img.naturalWidth > 0);
  if (!loaded) throw new Error("the photo does not show");
  const covers = await number("[data-testid=persona] [data-testid=coverage-n]");
  if (covers !== referrals) throw new Error(`the card covers ${covers}, the count said ${referrals}`);
  await shot("3-board");
  console.log(`step: saved with its photo, covering ${covers}`);

  // Edit: a typed rule that does not read is shown with its character, then fixed.
  await Promise.all([page.waitForURL(/\/edit$/), card.locator("[data-testid=edit]").click()]);
  if ((await page.inputValue("select[name=field_2]")) !== "first_channel") throw new Error("the edit form lost the rule's rows");
  await page.fill("[data-testid=rule-text]", "orders>=2 & first_channel=Referral & revenue>");
  await page.waitForSelector("[data-testid=live-count] [data-testid=rule-error]");
  const error = (await page.textContent("[data-testid=rule-error]")).trim();
  if (!/at character 46/.test(error)) throw new Error(`the error does not give the character: ${error}`);
  await shot("4-bad-rule");
  await checkAccessibility(page, "persona edit with a rule error");
  console.log(`step: a rule that does not read names its character (${error.slice(0, 70)})`);
  await page.fill("[data-testid=rule-text]", "orders>=2 & first_channel=Referral & revenue>30");
  const richer = await changed("live-matches", referrals);
  await page.fill("input[name=quote]", "Same again, and one for my friend.");
  await Promise.all([page.waitForURL(/\/personas#persona-\d+$/), page.click("[data-testid=save]")]);
  const quote = (await page.textContent("[data-testid=persona] blockquote")).trim();
  if (!quote.includes("one for my friend")) throw new Error(`the quote is ${quote}`);
  if ((await number("[data-testid=persona] [data-testid=coverage-n]")) !== richer) throw new Error("the card's coverage is not the edited rule's");
  await shot("5-edited");
  console.log(`step: edited (now covering ${richer})`);

  // A suggested persona: started from a cluster, counted, saved.
  await Promise.all([page.waitForURL(/\/suggestions$/), page.click("[data-testid=suggest]")]);
  const suggestions = await page.locator("[data-testid=suggestion]").count();
  if (suggestions < 2) throw new Error(`${suggestions} suggestions`);
  await shot("6-suggestions");
  await checkAccessibility(page, "persona suggestions");
  const suggested = (await page.textContent("[data-testid=suggestion] h2")).trim();
  await Promise.all([page.waitForURL(/\/personas\/new\?suggestion=1/), page.click("[data-testid=use-suggestion] >> nth=0")]);
  if ((await page.inputValue("input[name=name]")) !== suggested) throw new Error("the suggestion's name is not in the form");
  await page.waitForSelector("[data-testid=live-count] [data-testid=live-matches]");
  const matched = await number("[data-testid=live-count] [data-testid=live-matches]");
  await shot("7-from-suggestion");
  await Promise.all([page.waitForURL(/\/personas#persona-\d+$/), page.click("[data-testid=save]")]);
  console.log(`step: suggestion accepted (${suggested}, matching ${matched})`);

  // Coverage: each card's count out of every customer, the overlap named, the customers behind.
  const cards = await page.locator("[data-testid=persona]").count();
  if (cards !== 2) throw new Error(`${cards} cards`);
  const second = page.locator("[data-testid=persona]").nth(1);
  const secondCovers = Number((await second.locator("[data-testid=coverage-n]").textContent()).trim());
  const overlaps = await second.locator("[data-testid=overlap]").count();
  const summary = (await page.textContent("[data-testid=board-summary]")).replace(/\s+/g, " ").trim();
  await shot("8-coverage");
  await checkAccessibility(page, "personas board");
  await Promise.all([page.waitForURL(/\/customers\?ids=/), page.locator("[data-testid=persona] [data-testid=coverage]").first().locator("a").click()]);
  const listed = (await page.textContent("[data-testid=customer-count]")).trim();
  console.log(`step: coverage (${summary}; the suggestion covers ${secondCovers} of ${matched}${overlaps ? ", the rest counted for the first" : ""}; the first card's link lists ${listed})`);

  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${base}/b/${business}/personas`);
  await shot("9-phone");
  await checkAccessibility(page, "personas board on a phone");
  console.log("step: phone width");
});
