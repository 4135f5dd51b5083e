// The settings story (issue 8): the owner of a flower shop, set up through the API,
// signs in and runs the business's settings from the browser: opening hours in
// Europe/Berlin, a greeting, a quick reply, a label, an agent added by phone, and a
// message template that goes to the platform's review queue. A bad email shows
// the API's error next to the form; the German UI shows German labels; every page
// is photographed on a desktop and the profile page on a phone.
import { base, launch, person, signIn, shot, expect, failed } from "./lib.mjs";

const ADMIN = process.env.ADMIN_TOKEN;
const OWNER = "+4915800000301";
const AGNES = "+4915800000302";

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

const owner = await account(OWNER);
const shop = await api(owner, "POST", "/v1/biz", { name: "Flora Blumen", vertical: "RETAIL" });
const biz = `/v1/biz/${shop.waba_id}`;
const settings = `${base}/app/biz/${shop.waba_id}/settings`;
await account(AGNES);

/** The settings content fits a 390 px phone without horizontal scrolling. */
async function fits(page) {
  const { scroll, width } = await page.evaluate(() => ({
    scroll: document.querySelector("main").scrollWidth,
    width: window.innerWidth,
  }));
  expect(scroll <= width, `no horizontal scrolling in the content (${scroll} > ${width})`);
}

const browser = await launch();
const desk = await person(browser);
const phone = await person(browser, { phone: true });
const people = { desk, phone };
try {
  const page = desk.page;
  await signIn(page, OWNER, `/app/biz/${shop.waba_id}/settings`);
  await page.waitForURL(/\/settings$/);
  await page.getByRole("heading", { name: "Business profile" }).waitFor();

  // --- a bad email: the API's error next to the form ---
  await page.getByLabel("Description").fill("Fresh flowers every day.");
  await page.getByLabel("Email", { exact: true }).fill("not-an-email");
  await page.getByRole("button", { name: "Save", exact: true }).click();
  const error = page.locator("#profile").getByRole("alert");
  await error.waitFor();
  expect(/email/i.test(await error.textContent()), `the API's email error, got ${await error.textContent()}`);
  expect(
    (await page.getByLabel("Description").inputValue()) === "Fresh flowers every day.",
    "what was typed is kept after a refusal",
  );
  await shot(page, "settings-1-profile-error");

  // --- profile and opening hours in Europe/Berlin ---
  await page.getByLabel("Email", { exact: true }).fill("hallo@flora.example");
  await page.getByLabel("Description").fill("Fresh flowers every day.");
  await page.getByLabel("Category").fill("Florist");
  await page.getByLabel("Time zone").selectOption("Europe/Berlin");
  for (const day of ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]) {
    await page.getByLabel(`${day} Opens (1)`).fill("08:00");
    await page.getByLabel(`${day} Closes (1)`).fill("12:00");
    await page.getByLabel(`${day} Opens (2)`).fill("13:00");
    await page.getByLabel(`${day} Closes (2)`).fill("18:30");
  }
  await page.getByLabel("Saturday Opens (1)").fill("09:00");
  await page.getByLabel("Saturday Closes (1)").fill("14:00");
  await page.getByLabel("Closed dates").fill("2026-12-25, 2026-12-26");
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await page.locator("#profile").getByRole("status").getByText("Saved.").waitFor();
  expect((await page.getByLabel("Monday Closes (2)").inputValue()) === "18:30", "the hours shown again");
  const profile = await api(owner, "GET", `${biz}/profile`);
  expect(profile.email === "hallo@flora.example", "the email saved");
  expect(profile.hours.timezone === "Europe/Berlin", `the zone saved: ${JSON.stringify(profile.hours)}`);
  expect(profile.hours.weekly.mon.length === 2 && !profile.hours.weekly.sun, "two intervals on Monday, closed on Sunday");
  expect(profile.hours.closed_dates.join() === "2026-12-25,2026-12-26", "the closed dates");
  await shot(page, "settings-2-profile");

  // --- greeting and away ---
  await page.getByRole("link", { name: "Greeting and away" }).click();
  const greeting = page.locator("#greeting");
  await greeting.getByLabel("Send a greeting").check();
  await greeting.getByLabel("Message text").fill("Welcome to Flora! How can we help?");
  await greeting.getByRole("button", { name: "Save" }).click();
  await page.locator("#greeting").getByRole("status").waitFor();
  const away = page.locator("#away");
  await away.getByLabel("Send an away message").check();
  await away.getByLabel("Message text").fill("We are closed right now and answer tomorrow.");
  await away.getByLabel("Outside opening hours").check();
  await away.getByRole("button", { name: "Save" }).click();
  await page.locator("#away").getByRole("status").waitFor();
  const g = await api(owner, "GET", `${biz}/automation/greeting`);
  expect(g.enabled && g.text === "Welcome to Flora! How can we help?", "the greeting saved");
  const a = await api(owner, "GET", `${biz}/automation/away`);
  expect(a.enabled && a.schedule === "outside_hours", `the away message saved: ${JSON.stringify(a)}`);
  await shot(page, "settings-3-messages");

  // --- a quick reply ---
  await page.getByRole("link", { name: "Quick replies" }).click();
  await page.getByLabel("Shortcut").fill("/hours");
  await page.locator("#new-reply").getByLabel("Message text").fill("Mon–Fri 8–18:30, Sat 9–14.");
  await page.getByRole("button", { name: "Add quick reply" }).click();
  await page.getByTestId("reply").filter({ hasText: "/hours" }).waitFor();
  expect(
    (await page.getByLabel("Text of /hours").inputValue()) === "Mon–Fri 8–18:30, Sat 9–14.",
    "the quick reply's text",
  );
  await shot(page, "settings-4-replies");

  // --- a label ---
  await page.getByRole("link", { name: "Labels" }).click();
  await page.locator("#new-label").getByLabel("Name").fill("VIP");
  await page.locator("#new-label").getByLabel("Amber").check();
  await page.getByRole("button", { name: "Add label" }).click();
  const vip = page.getByTestId("label").filter({ hasText: "VIP" });
  await vip.waitFor();
  expect((await vip.locator(".settings-swatch.sw-amber").count()) === 1, "an amber swatch");
  await shot(page, "settings-5-labels");

  // --- an agent, added by phone ---
  await page.getByRole("link", { name: "Team" }).click();
  await page.getByLabel("Phone number").fill(AGNES);
  await page.locator("#new-member").getByLabel("Role").selectOption("agent");
  await page.getByRole("button", { name: "Add team member" }).click();
  const agnes = page.getByTestId("member").filter({ hasText: AGNES });
  await agnes.waitFor();
  expect((await agnes.textContent()).includes("Agent"), "Agnes is an agent");
  const team = await api(owner, "GET", `${biz}/team`);
  expect(team.team.some((m) => m.phone === AGNES && m.role === "agent"), "the team has Agnes");
  // The owner cannot be removed: there is no button for it.
  const me = page.getByTestId("member").filter({ hasText: OWNER });
  expect((await me.getByRole("button", { name: /Remove/ }).count()) === 0, "no remove button for the owner");
  await shot(page, "settings-6-team");

  // --- a message template, for review ---
  await page.getByRole("link", { name: "Message templates" }).click();
  await page.getByLabel("Name", { exact: true }).fill("order_ready");
  await page.getByLabel("Category").selectOption("UTILITY");
  await page.getByLabel("Body text").fill("Hello {{1}}, your bouquet is ready.");
  await page.getByLabel(/Example values/).fill("Ada");
  await page.getByRole("button", { name: "Submit for review" }).click();
  const tpl = page.getByTestId("template").filter({ hasText: "order_ready" });
  await tpl.waitFor();
  expect((await tpl.getByTestId("template-status").textContent()) === "Pending review", "pending review");
  const queue = await api(ADMIN, "GET", "/admin/v1/templates?status=PENDING");
  expect(queue.data.some((t) => t.name === "order_ready" && t.waba_id === shop.waba_id), "in the review queue");
  await shot(page, "settings-7-templates");

  // --- the German UI ---
  await page.getByRole("button", { name: "Deutsch" }).click();
  await page.getByRole("heading", { name: "Nachrichtenvorlagen" }).waitFor();
  await page.getByRole("link", { name: "Profil und Öffnungszeiten" }).click();
  await page.getByRole("heading", { name: "Öffnungszeiten" }).waitFor();
  await page.getByLabel("Montag Öffnet (1)").waitFor();
  expect((await page.getByRole("button", { name: "Speichern", exact: true }).count()) === 1, "a German save button");
  await shot(page, "settings-8-profile-de");
  await page.getByRole("button", { name: "English" }).click();
  await page.getByRole("heading", { name: "Opening hours" }).waitFor();

  // --- an agent sees the pages; the API refuses her changes, and says why ---
  const agent = await person(browser);
  people.agnes = agent;
  await signIn(agent.page, AGNES, `/app/biz/${shop.waba_id}/settings/replies`);
  await agent.page.getByTestId("reply").filter({ hasText: "/hours" }).waitFor();
  await agent.page.getByLabel("Shortcut").fill("/mine");
  await agent.page.locator("#new-reply").getByLabel("Message text").fill("Agents may not add this.");
  await agent.page.getByRole("button", { name: "Add quick reply" }).click();
  const refused = agent.page.locator("#new-reply").getByRole("alert");
  await refused.waitFor();
  expect(/admin/.test(await refused.textContent()), `the API's 403 message, got ${await refused.textContent()}`);
  await shot(agent.page, "settings-11-agent-refused");

  // --- on a phone ---
  await signIn(phone.page, OWNER, `/app/biz/${shop.waba_id}/settings`);
  await phone.page.getByRole("heading", { name: "Opening hours" }).waitFor();
  await fits(phone.page);
  await shot(phone.page, "settings-9-profile-phone");
  await phone.page.goto(`${settings}/team`);
  await fits(phone.page);
  await shot(phone.page, "settings-10-team-phone");

  // The refused profile answers 422 on purpose (the page again, with the error).
  const refusal = /status of 422/;
  for (const p of Object.values(people)) {
    const errors = p.errors.filter((e) => !refusal.test(e));
    expect(errors.length === 0, `no script errors: ${errors}`);
  }
  console.log("settings story: ok");
} catch (e) {
  await failed(people);
  throw e;
} finally {
  await browser.close();
}
