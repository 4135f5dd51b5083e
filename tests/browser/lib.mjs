// Shared by the browser stories: a headless Debian Chromium, sign-in through the
// web app with the dev code, screenshots kept as test artifacts, small assertions.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

export const base = process.env.BASE_URL;
if (!base) throw new Error("BASE_URL is not set");
const artifacts = process.env.ARTIFACTS_DIR || "target/browser-artifacts";
mkdirSync(artifacts, { recursive: true });

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox"],
  });
}

/** A fresh browser profile (its own cookies) in `locale`, phone-sized when `phone`. */
export async function person(browser, { locale = "en-US", phone = false } = {}) {
  const context = await browser.newContext({
    locale,
    viewport: phone ? { width: 390, height: 800 } : { width: 1200, height: 850 },
  });
  context.setDefaultTimeout(30000);
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  return { context, page, errors };
}

/** Signs in with the dev code the development server shows. */
export async function signIn(page, phone, next = "/app") {
  await page.goto(`${base}/app/login?next=${encodeURIComponent(next)}`);
  await page.getByLabel(/Phone number|Telefonnummer/).fill(phone);
  await page.getByRole("button", { name: /Send code|Code senden/ }).click();
  const hint = await page.getByTestId("dev-code").textContent();
  const code = hint.match(/(\d{4,8})/)[1];
  await page.getByLabel(/Verification code|Bestätigungscode/).fill(code);
  await page.getByRole("button", { name: /Sign in|Anmelden/ }).click();
  await page.waitForURL((u) => !u.pathname.startsWith("/app/login") && !u.pathname.startsWith("/app/verify"));
}

export async function shot(page, name) {
  await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
}

export function expect(cond, what) {
  if (!cond) throw new Error(`expected: ${what}`);
}

/** On failure: a screenshot and the URL of every person's page, for the report. */
export async function failed(people) {
  for (const [name, p] of Object.entries(people)) {
    try {
      console.error(`${name} was at ${p.page.url()}; errors: ${JSON.stringify(p.errors)}`);
      await shot(p.page, `FAILED-${name}`);
    } catch (e) {
      console.error(`no screenshot of ${name}: ${e}`);
    }
  }
}
