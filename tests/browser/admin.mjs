// The admin console story (issue 8): the platform admin signs in with the admin
// token (a wrong one is refused), verifies a café that applied for verification,
// rejects a look-alike of its name held for review, approves its message template,
// opens the café to see its usage and invoice, downloads the invoice as CSV, and
// signs out (the console is closed again). One page in German, one phone-sized.
// The businesses are set up through the API first, as their owners would.
import { base, launch, person, signIn, shot, expect, failed } from "./lib.mjs";

const ADMIN = process.env.ADMIN_TOKEN;
const OWNER = "+4915800000301";
const COPYCAT = "+4915800000302";
const GUEST = "+4915800000303";
const NAME = "Lindenhof Café";
// A Cyrillic "о" in place of the Latin "o": looks the same, is another name.
const LOOKALIKE = "Lindenh\u043ef Café";

async function api(token, method, path, body) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body) headers["Content-Type"] = "application/json";
  const r = await fetch(base + path, { method, headers, body: body ? JSON.stringify(body) : undefined });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${path} → ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

async function account(phone) {
  const reg = await api(null, "POST", "/v1/accounts/register", { phone });
  const v = await api(null, "POST", "/v1/accounts/verify", {
    registration_id: reg.registration_id,
    code: reg.dev_code,
    device_name: "setup",
  });
  return v.token;
}

// --- the café applies for verification and submits a template ---
const owner = await account(OWNER);
const cafe = await api(owner, "POST", "/v1/biz", { name: NAME, vertical: "RESTAURANT" });
await api(owner, "POST", `/v1/biz/${cafe.waba_id}/verification`, {
  legal_name: "Lindenhof Gastro GmbH",
  registration_number: "HRB 98765",
  country: "DE",
  address: "Lindenstraße 5, 10969 Berlin",
  website: "https://lindenhof.example",
});
await api(owner, "POST", `/v1/biz/${cafe.waba_id}/templates`, {
  name: "table_ready",
  language: "en",
  category: "UTILITY",
  components: [
    { type: "HEADER", format: "TEXT", text: "Lindenhof" },
    { type: "BODY", text: "Your table is ready, welcome!" },
    { type: "FOOTER", text: "Reply STOP to opt out" },
  ],
});
await account(GUEST);

const browser = await launch();
const admin = await person(browser);
const phone = await person(browser, { phone: true });
const german = await person(browser, { locale: "de-DE" });
const guest = await person(browser);
try {
  const page = admin.page;
  // --- the console is closed without the token ---
  await page.goto(`${base}/app/admin`);
  await page.waitForURL(/\/app\/admin\/login/);
  await page.getByRole("heading", { name: "Admin console" }).waitFor();
  await page.getByLabel("Admin token").fill("not-the-admin-token");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("alert").getByText("That admin token is not right.").waitFor();
  await shot(page, "admin-1-wrong-token");
  await page.getByLabel("Admin token").fill(ADMIN);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((u) => u.pathname === "/app/admin");
  const cookies = await admin.context.cookies();
  const cookie = cookies.find((c) => c.name === "sb_admin");
  expect(cookie && cookie.httpOnly && cookie.sameSite === "Strict" && cookie.path === "/app/admin",
    `the admin cookie is HttpOnly, SameSite=Strict, on /app/admin: ${JSON.stringify(cookie)}`);
  expect(!page.url().includes(ADMIN), "no token in the URL");

  // --- verification queue: approve the café ---
  await page.getByRole("heading", { name: "Verification queue" }).waitFor();
  const application = page.getByTestId("application").filter({ hasText: NAME });
  const text = await application.textContent();
  for (const part of ["Lindenhof Gastro GmbH", "HRB 98765", "DE", "Lindenstraße 5, 10969 Berlin", "https://lindenhof.example"]) {
    expect(text.includes(part), `the application shows ${part}`);
  }
  // A rejection needs a reason: the API's refusal is shown on the page.
  await application.getByRole("button", { name: "Reject" }).click();
  await page.getByRole("alert").getByText(/a rejection needs a reason/).waitFor();
  await shot(page, "admin-2-verifications");
  await application.getByRole("button", { name: "Verify" }).click();
  await page.getByRole("status").getByText("The business is verified.").waitFor();
  expect((await page.getByTestId("application").filter({ hasText: NAME }).count()) === 0, "the application left the queue");

  // --- a look-alike of the now verified name is held ---
  const copycat = await account(COPYCAT);
  const fake = await api(copycat, "POST", "/v1/biz", { name: LOOKALIKE });
  await page.getByRole("link", { name: "Held business names" }).click();
  const held = page.getByTestId("held-name").filter({ hasText: LOOKALIKE });
  expect((await held.textContent()).includes(NAME), "the held name shows the name it looks like");
  expect((await held.getByTestId("other-scripts").textContent()).includes("U+043E"), "the Cyrillic letter is pointed out");
  // Rejecting needs no reason, but the business sees one.
  await held.getByLabel(/Reason/).fill("Too close to the verified Lindenhof Café.");
  await shot(page, "admin-3-held-name");
  await held.getByRole("button", { name: "Reject name" }).click();
  await page.getByRole("status").getByText(/The name is rejected/).waitFor();
  const review = await api(copycat, "GET", `/v1/biz/${fake.waba_id}/name`);
  expect(review.review.status === "rejected" && review.review.reason === "Too close to the verified Lindenhof Café.",
    `the business sees the rejection and reason: ${JSON.stringify(review)}`);

  // --- template review: approve ---
  await page.getByRole("link", { name: "Template review" }).click();
  const template = page.getByTestId("template").filter({ hasText: "table_ready" });
  const shown = await template.textContent();
  for (const part of ["Your table is ready, welcome!", "Reply STOP to opt out", "UTILITY"]) {
    expect(shown.includes(part), `the template shows ${part}`);
  }
  await shot(page, "admin-4-templates");
  await template.getByRole("button", { name: "Approve template" }).click();
  await page.getByRole("status").getByText("The template is approved.").waitFor();
  const mine = await api(owner, "GET", `/v1/biz/${cafe.waba_id}/templates`);
  const list = mine.data || mine.templates || mine;
  expect(JSON.stringify(list).includes('"APPROVED"'), `the template is approved: ${JSON.stringify(mine)}`);

  // --- the café sends the template: billable usage ---
  const details = await api(ADMIN, "GET", `/admin/v1/businesses/${cafe.waba_id}`);
  const tok = await api(ADMIN, "POST", `/admin/v1/businesses/${cafe.waba_id}/tokens`, {});
  await api(tok.token, "POST", `/v21.0/${details.phone_number_id}/messages`, {
    messaging_product: "whatsapp",
    to: GUEST,
    type: "template",
    template: { name: "table_ready", language: { code: "en" } },
  });
  // The guest reads it: a delivered message is billable.
  await signIn(guest.page, GUEST, "/app");
  await guest.page.getByTestId("chat-link").filter({ hasText: NAME }).click();
  await guest.page.locator("li.msg").first().waitFor();
  // The page's live connection sends the read receipt once synced; the delivery
  // worker then records the billable delivery. Wait for it with the page open.
  await guest.page.locator("#status:empty").waitFor({ state: "attached" });
  let billed = "";
  for (let i = 0; i < 60 && !/utility/i.test(billed); i++) {
    billed = JSON.stringify(await api(ADMIN, "GET", `/admin/v1/businesses/${cafe.waba_id}/usage`));
    if (!/utility/i.test(billed)) await guest.page.waitForTimeout(500);
  }
  expect(/utility/i.test(billed), `the delivery is billed: ${billed}`);
  // A user's session opens no admin page.
  await guest.page.goto(`${base}/app/admin/businesses`);
  await guest.page.waitForURL(/\/app\/admin\/login/);

  // --- the businesses, the café's usage and invoice ---
  await page.getByRole("link", { name: "Businesses" }).click();
  const row = page.getByTestId("business-row").filter({ hasText: NAME });
  expect((await row.textContent()).includes("Verified"), "the café is verified in the list");
  const other = page.getByTestId("business-row").filter({ hasText: COPYCAT });
  expect((await other.textContent()).includes("Not verified"), "the look-alike keeps its number as its name, unverified");
  await shot(page, "admin-5-businesses");
  const listing = await page.request.get(`${base}/app/admin/businesses`);
  expect(listing.headers()["cache-control"] === "no-store", "admin pages are not cached");
  await row.getByRole("link", { name: NAME }).click();
  await page.getByRole("heading", { name: NAME, level: 1 }).waitFor();
  expect((await page.getByTestId("verification").textContent()) === "Verified", "verified on the detail page");
  // Usage is recorded by the delivery worker: wait for its pass.
  for (let i = 0; i < 60 && !(await page.getByTestId("usage").count()); i++) {
    await page.waitForTimeout(1000);
    await page.reload();
  }
  const usage = await page.getByTestId("usage").textContent();
  expect(/utility/i.test(usage), `the usage shows the template message: ${usage}`);
  expect(/utility/i.test(await page.getByTestId("invoice").textContent()), "the invoice has the line");
  // Throughput and tier, set by hand.
  await page.getByLabel("Throughput (messages per second)").fill("20");
  await page.getByRole("button", { name: "Save throughput" }).click();
  await page.getByRole("status").getByText("Throughput saved.").waitFor();
  await page.getByLabel("Messaging tier", { exact: true }).selectOption("TIER_10K");
  await page.getByRole("button", { name: "Save tier" }).click();
  await page.getByRole("status").getByText("Messaging tier saved.").waitFor();
  const standing = await api(ADMIN, "GET", `/admin/v1/businesses/${cafe.waba_id}`);
  expect(standing.throughput_mps === 20 && standing.messaging_limit_tier === "TIER_10K",
    `throughput and tier saved: ${standing.throughput_mps} ${standing.messaging_limit_tier}`);
  await shot(page, "admin-6-business");

  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("link", { name: "Download the invoice (CSV)" }).click(),
  ]);
  expect(/^invoice-\d+-\d{4}-\d{2}\.csv$/.test(download.suggestedFilename()), `the CSV's name: ${download.suggestedFilename()}`);
  const csvUrl = download.url();
  const csv = await page.request.get(csvUrl);
  expect(csv.headers()["content-type"].startsWith("text/csv"), `text/csv, got ${csv.headers()["content-type"]}`);
  const body = await csv.text();
  expect(body.startsWith("business_name,waba_id,period") && body.includes(cafe.waba_id), `the CSV: ${body}`);

  // --- phone-sized: the admin's cookie in another profile ---
  await phone.context.addCookies([{ ...cookie }]);
  await phone.page.goto(`${base}/app/admin/businesses/${cafe.waba_id}`);
  await phone.page.getByRole("heading", { name: NAME, level: 1 }).waitFor();
  const width = await phone.page.evaluate(() => document.documentElement.scrollWidth);
  expect(width <= 390, `no sideways scrolling on a phone (${width}px)`);
  await shot(phone.page, "admin-7-phone");

  // --- German ---
  await german.context.addCookies([{ ...cookie }]);
  await german.page.goto(`${base}/app/admin/businesses/${cafe.waba_id}`);
  await german.page.getByRole("heading", { name: "Nutzung" }).waitFor();
  await german.page.getByRole("heading", { name: /^Rechnung \d{4}-\d{2}$/ }).waitFor();
  expect((await german.page.getByTestId("verification").textContent()) === "Verifiziert", "verified, in German");
  await german.page.getByRole("link", { name: "Rechnung herunterladen (CSV)" }).waitFor();
  await german.page.getByRole("button", { name: "Abmelden" }).waitFor();
  await shot(german.page, "admin-8-german");

  // --- sign out: the console is closed ---
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(/\/app\/admin\/login/);
  expect(!(await admin.context.cookies()).some((c) => c.name === "sb_admin"), "the admin cookie is gone");
  for (const path of ["/app/admin", "/app/admin/names", `/app/admin/businesses/${cafe.waba_id}`]) {
    await page.goto(base + path);
    await page.waitForURL(/\/app\/admin\/login/);
  }
  const after = await page.request.get(`${base}/app/admin/businesses/${cafe.waba_id}/invoice.csv?month=2026-01`, { maxRedirects: 0 });
  expect(after.status() === 303 || after.status() === 302 || after.status() === 307, `the CSV needs the admin, got ${after.status()}`);

  for (const p of [admin, phone, german, guest]) expect(p.errors.length === 0, `no script errors: ${p.errors}`);
  console.log("admin story: ok");
} catch (e) {
  await failed({ admin, phone, german, guest });
  throw e;
} finally {
  await browser.close();
}
