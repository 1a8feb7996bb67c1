// What every browser script starts with: reading its settings from the environment, and
// launching Debian's Chromium (or CHROMIUM=path) headless through playwright-core with the flags
// that keep it from reaching the network or a GPU.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

// The value of environment variable `name`; a missing one ends the script with status 2.
export const need = (name) => {
  const value = process.env[name];
  if (!value) {
    console.error(`missing environment variable ${name}`);
    process.exit(2);
  }
  return value;
};

export const launchChromium = () =>
  chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });

// Launches Chromium, runs a script's steps, and ends the process: status 0 after printing "ok"
// when they all pass, status 1 after printing the first failure; the browser is closed either way.
// Every page of every script is watched for Content-Security-Policy violations (an inline style
// or script the policy refuses): any one fails the script, since the page would look or work
// differently than written; so do the accessibility violations `checkAccessibility` found.
export const runSteps = async (steps) => {
  const browser = await launchChromium();
  const violations = [];
  const watched = new WeakSet();
  const watch = (context) => {
    if (!watched.has(context)) {
      watched.add(context);
      context.on("console", (message) => {
        if (/Content Security Policy/i.test(message.text())) violations.push(`${message.location()?.url ?? ""}: ${message.text()}`);
      });
    }
    return context;
  };
  const newContext = browser.newContext.bind(browser);
  browser.newContext = async (...args) => watch(await newContext(...args));
  const newPage = browser.newPage.bind(browser);
  browser.newPage = async (...args) => {
    const page = await newPage(...args);
    watch(page.context());
    return page;
  };
  let failed = false;
  try {
    await steps(browser);
    const problems = [];
    if (violations.length > 0) problems.push(`Content-Security-Policy violations:\n${violations.join("\n")}`);
    if (accessibilityViolations.length > 0) problems.push(`accessibility violations (axe-core, critical or serious) on ${accessibilityViolations.join("\n")}`);
    if (problems.length > 0) throw new Error(problems.join("\n"));
    console.log("ok");
  } catch (error) {
    failed = true;
    console.error(`failed: ${error.message}`);
  } finally {
    await browser.close();
  }
  process.exit(failed ? 1 : 0);
};

// axe-core's source, read once. It is evaluated in the page over the DevTools protocol rather
// than added as a <script> tag, which the pages' Content-Security-Policy (script-src 'self')
// would refuse.
let axeSource;
const axe = () => (axeSource ??= readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8"));

// The critical and serious accessibility violations found so far by `checkAccessibility`; runSteps
// fails the script when any were found, after its steps ran, so that one run lists every page's.
const accessibilityViolations = [];

// Runs axe-core on the page as it is now and records, naming `label`, any violation of impact
// "critical" or "serious" (each with its rule, the elements' selectors, what is wrong and the
// rule's help text and address), which fails the script at its end. Lesser ("moderate",
// "minor") findings are printed, not failed.
export const checkAccessibility = async (page, label) => {
  if (!(await page.evaluate(() => typeof window.axe === "object"))) await page.evaluate(axe());
  const { violations } = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  const describe = (v) =>
    `  ${v.id} (${v.impact}): ${v.help} ${v.helpUrl}\n` + v.nodes.map((n) => `    ${n.target.join(" ")}: ${(n.failureSummary ?? "").split("\n")[1]?.trim() ?? ""}`).join("\n");
  const blocking = violations.filter((v) => v.impact === "critical" || v.impact === "serious");
  const minor = violations.filter((v) => !blocking.includes(v));
  if (minor.length > 0) console.error(`accessibility notes on ${label} (${page.url()}):\n${minor.map(describe).join("\n")}`);
  if (blocking.length > 0) accessibilityViolations.push(`${label} (${page.url()}):\n${blocking.map(describe).join("\n")}`);
};
