// The bakery story (issue 8): a customer opens Bruno's Bakery's QR link, sees the
// verified badge, browses the catalog and orders two pretzels; the greeting
// arrives; an agent sees the order in the inbox, takes it, answers with a quick
// reply and marks it ready; the customer sees read ticks and the status change.
// The bakery is set up through the API first, as its owner and the platform admin
// would do.
import { base, launch, person, signIn, shot, expect, failed } from "./lib.mjs";

const ADMIN = process.env.ADMIN_TOKEN;
const BRUNO = "+4915800000201";
const ANNA = "+4915800000202";
const CLARA = "+4915800000203";

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

// --- the bakery, as its owner and the admin set it up ---
const bruno = await account(BRUNO);
const shop = await api(bruno, "POST", "/v1/biz", { name: "Bruno's Bakery", vertical: "RETAIL" });
const biz = `/v1/biz/${shop.waba_id}`;
await api(bruno, "PATCH", `${biz}/profile`, {
  description: "Sourdough, pretzels and cakes since 1962.",
  address: "Hauptstraße 1, 10115 Berlin",
  hours: {
    timezone: "Europe/Berlin",
    weekly: Object.fromEntries(
      ["mon", "tue", "wed", "thu", "fri", "sat", "sun"].map((d) => [d, [{ open: "00:00", close: "24:00" }]]),
    ),
  },
});
await api(bruno, "POST", `${biz}/verification`, {
  legal_name: "Bruno Bäckerei GmbH",
  registration_number: "HRB 123456",
  country: "DE",
  address: "Hauptstraße 1, 10115 Berlin",
});
await api(ADMIN, "POST", `/admin/v1/businesses/${shop.waba_id}/verification`, { status: "verified" });
const png = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAABgAAAAYCAIAAABvFaqvAAAAH0lEQVR4nGM4UaFBFcQwatCoQaMGjRo0atCoQQNvEADJUyouEUFhnwAAAABJRU5ErkJggg==",
  "base64",
);
const uploaded = await fetch(`${base}/v1/media`, {
  method: "POST",
  headers: { Authorization: `Bearer ${bruno}`, "Content-Type": "image/png" },
  body: png,
}).then((r) => r.json());
await api(bruno, "POST", `${biz}/catalog/products`, {
  name: "Brezel",
  description: "Fresh from the oven",
  price: { amount_minor: 120, currency: "EUR" },
  image_media_ids: [uploaded.media_id],
});
await api(bruno, "POST", `${biz}/catalog/products`, {
  name: "Croissant",
  price: { amount_minor: 180, currency: "EUR" },
});
await api(bruno, "PUT", `${biz}/automation/greeting`, {
  enabled: true,
  text: "Welcome to Bruno's Bakery! We bake every morning at 5.",
});
await api(bruno, "POST", `${biz}/replies`, { shortcut: "/ready", text: "Your order is ready for pickup!" });
await account(ANNA);
await api(bruno, "POST", `${biz}/team`, { phone: ANNA, role: "agent", signature: "Anna" });
const link = await api(bruno, "POST", `${biz}/links`, { text: "Hello, I would like to order" });

const browser = await launch();
const clara = await person(browser, { phone: true });
const anna = await person(browser);
try {
  // --- Clara scans the QR code ---
  expect(link.url.endsWith(`/c/${link.code}`), `the QR code opens /c/{code}, got ${link.url}`);
  await clara.page.goto(`${base}/c/${link.code}`);
  await clara.page.getByRole("heading", { name: /Chat with Bruno's Bakery/ }).waitFor();
  expect(await clara.page.getByTestId("verified-badge").isVisible(), "the verified badge on the link page");
  await shot(clara.page, "bakery-1-qr-link");
  await clara.page.getByRole("button", { name: "Open the chat" }).click();
  // Not signed in yet: sign in, and come back to the link.
  await clara.page.waitForURL(/\/app\/login/);
  await signIn(clara.page, CLARA, `/c/${link.code}`);
  await clara.page.getByRole("button", { name: "Open the chat" }).click();
  await clara.page.waitForURL(/\/app\/chats\//);
  expect(
    (await clara.page.getByLabel("Type a message").inputValue()) === "Hello, I would like to order",
    "the link's text waits in the composer",
  );
  expect(await clara.page.getByTestId("verified-badge").isVisible(), "the verified badge in the chat");

  // --- the catalog: two pretzels ---
  await clara.page.getByRole("link", { name: "Bruno's Bakery" }).click();
  await clara.page.getByRole("heading", { name: "Catalog" }).waitFor();
  const pretzel = clara.page.getByTestId("product").filter({ hasText: "Brezel" });
  expect((await pretzel.textContent()).includes("€1.20"), "the pretzel's price");
  const photo = pretzel.locator("img");
  await photo.waitFor();
  expect(await photo.evaluate((img) => img.decode().then(() => img.naturalWidth > 0, () => false)), "the pretzel's photo");
  expect(!(await photo.getAttribute("src")).includes("sig="), "no signed link in the page");
  await pretzel.getByLabel("Quantity").fill("2");
  await shot(clara.page, "bakery-2-catalog");
  await clara.page.getByRole("button", { name: "Send order" }).click();
  await clara.page.waitForURL(/\/app\/chats\//);
  await clara.page.getByText("🛒 Order: 2 × · €2.40").waitFor();
  // The greeting answers her first message.
  await clara.page.getByText("Welcome to Bruno's Bakery! We bake every morning at 5.").waitFor();
  await shot(clara.page, "bakery-3-ordered");

  // --- Anna, the agent, works the inbox ---
  await signIn(anna.page, ANNA, "/app/biz");
  await anna.page.waitForURL(new RegExp(`/app/biz/${shop.waba_id}`));
  await anna.page.getByTestId("conversation").first().click();
  await anna.page.waitForURL(/\/c\//);
  const order = anna.page.getByTestId("order").first();
  expect((await order.textContent()).includes("2 × Brezel"), "the order beside the chat");
  expect((await order.getByTestId("order-status").textContent()) === "Received", "a new order is received");
  // Take the conversation (auto-assignment may already have given it to her).
  const take = anna.page.getByRole("button", { name: "Assign to me" });
  if (await take.count()) await take.click();
  await anna.page.getByLabel("Reply").fill("/ready");
  await anna.page.getByRole("button", { name: "Send" }).click();
  await anna.page.getByText("Your order is ready for pickup!").first().waitFor();
  await anna.page.getByTestId("order").first().getByRole("button", { name: "Confirm" }).click();
  await anna.page.getByTestId("order-status").first().getByText("Confirmed").waitFor();
  await anna.page.getByTestId("order").first().getByRole("button", { name: "Mark ready" }).click();
  await anna.page.getByTestId("order-status").first().getByText("Ready").waitFor();
  await shot(anna.page, "bakery-4-inbox");

  // --- Clara sees it all, live ---
  await clara.page.getByText(/Your order is ready for pickup!/).waitFor();
  await clara.page.getByText("📦 Order update: Ready").waitFor();
  const ordered = clara.page.locator("li.msg.mine").filter({ hasText: "Order" }).first();
  await ordered.locator('.ticks[data-state="read"]').waitFor();
  await shot(clara.page, "bakery-5-ready");

  // Customers never see the team's side.
  const html = await clara.page.content();
  expect(!html.includes("Assign to me") && !html.includes(ANNA.slice(1)), "no team details in the customer's chat");

  for (const p of [clara, anna]) expect(p.errors.length === 0, `no script errors: ${p.errors}`);
  console.log("bakery story: ok");
} catch (e) {
  await failed({ clara, anna });
  throw e;
} finally {
  await browser.close();
}
