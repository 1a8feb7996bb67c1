// What every browser script starts with: reading its settings from the environment, and
// launching Debian's Chromium (or CHROMIUM=path) headless through playwright-core with the flags
// that keep it from reaching the network or a GPU.
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
// differently than written.
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
    if (violations.length > 0) throw new Error(`Content-Security-Policy violations:\n${violations.join("\n")}`);
    console.log("ok");
  } catch (error) {
    failed = true;
    console.error(`failed: ${error.message}`);
  } finally {
    await browser.close();
  }
  process.exit(failed ? 1 : 0);
};
