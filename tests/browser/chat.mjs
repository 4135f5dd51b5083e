// Story: two people chat in the web app. Alice (English, desktop) starts a chat with
// Bob's number and writes; Bob (German, phone-sized) sees it live, reads it and
// replies; Alice sees Bob typing, the reply, and her message's read ticks.
import { base, launch, person, signIn, shot, expect, failed } from "./lib.mjs";

const ALICE = "+4915700000101";
const BOB = "+4915700000102";
const browser = await launch();
const alice = await person(browser);
const bob = await person(browser, { locale: "de-DE", phone: true });
try {

  // Sign-in is required and keeps where you wanted to go.
  await bob.page.goto(`${base}/app`);
  expect(bob.page.url().includes("/app/login"), "a signed-out visit goes to the sign-in page");
  await signIn(bob.page, BOB);
  expect(
    (await bob.page.locator("h1").textContent()).includes("Chats"),
    "Bob lands on his chat list",
  );
  expect(
    (await bob.page.getByRole("button", { name: "Abmelden" }).count()) === 1,
    "Bob's browser speaks German",
  );

  await signIn(alice.page, ALICE);
  await alice.page.getByLabel("Phone number of the person or business").fill(BOB);
  await alice.page.getByRole("button", { name: "Start chat" }).click();
  await alice.page.waitForURL(/\/app\/chats\//);
  const chatUrl = alice.page.url();
  await alice.page.getByText("No messages yet. Say hello!").waitFor();
  await alice.page.locator("#status:empty").waitFor({ state: "attached" });

  // Bob opens the chat from his list once Alice has written.
  await alice.page.getByLabel("Type a message").fill("Hallo Bob! Kommst du heute?");
  await alice.page.keyboard.press("Enter");
  const mine = alice.page.locator("li.msg.mine").last();
  await mine.locator('.ticks[data-state="sent"]').waitFor();

  await bob.page.goto(`${base}/app`);
  await bob.page.getByTestId("chat-link").first().click();
  await bob.page.getByText("Hallo Bob! Kommst du heute?").waitFor();
  expect(bob.page.url() === chatUrl.replace(/^.*\/app/, `${base}/app`), "Bob opened the same chat");

  // Bob read it: Alice's ticks turn to read (live, over the WebSocket).
  await mine.locator('.ticks[data-state="read"]').waitFor();

  // Bob types (Alice sees it) and answers.
  await bob.page.getByLabel("Nachricht schreiben").pressSequentially("Ja, ", { delay: 20 });
  await alice.page.getByText("typing…").waitFor();
  await bob.page.getByLabel("Nachricht schreiben").fill("Ja, bis gleich 👋");
  await bob.page.getByRole("button", { name: "Senden" }).click();
  await alice.page.getByText("Ja, bis gleich 👋").waitFor();
  await shot(alice.page, "chat-alice");
  await shot(bob.page, "chat-bob-phone");

  // Alice sends a photo with a caption; Bob sees it inline and opens the viewer.
  const png = Buffer.from(
    "iVBORw0KGgoAAAANSUhEUgAAABgAAAAYCAIAAABvFaqvAAAAH0lEQVR4nGM4UaFBFcQwatCoQaMGjRo0atCoQQNvEADJUyouEUFhnwAAAABJRU5ErkJggg==",
    "base64",
  );
  await alice.page.getByLabel("Type a message").fill("Unsere Brezeln");
  await alice.page.locator("#file").setInputFiles({ name: "brezel.png", mimeType: "image/png", buffer: png });
  await alice.page.locator("li.msg.mine img").waitFor();
  const photo = bob.page.locator("li.msg.theirs a.viewer img");
  await photo.waitFor();
  expect(
    await photo.evaluate((img) => img.decode().then(() => img.naturalWidth > 0, () => false)),
    "Bob's browser loaded the thumbnail through the session",
  );
  await bob.page.getByText("Unsere Brezeln").waitFor();
  await photo.click();
  await bob.page.locator("dialog#viewer[open]").waitFor();
  await shot(bob.page, "chat-bob-viewer");
  await bob.page.keyboard.press("Escape");
  await bob.page.locator("dialog#viewer[open]").waitFor({ state: "detached" });

  // After a reload the history is rendered by the server, in order.
  await alice.page.reload();
  const texts = await alice.page.locator("li.msg .text").allTextContents();
  expect(
    JSON.stringify(texts) ===
      JSON.stringify(["Hallo Bob! Kommst du heute?", "Ja, bis gleich 👋", "Unsere Brezeln"]),
    `history in order, got ${JSON.stringify(texts)}`,
  );

  // The reloaded page resumes the stream where the last one stopped, and the read
  // ticks it already knew stay.
  expect(
    +(await alice.page.evaluate((k) => localStorage.getItem(k), `sb_cursor:${ALICE.slice(1)}`)) > 0,
    "the stream cursor is kept in the browser",
  );
  await alice.page.locator("li.msg.mine").first().locator('.ticks[data-state="read"]').waitFor();
  const served = alice.page.locator("li.msg.mine a.viewer img");
  await served.waitFor();
  expect(await served.evaluate((img) => img.decode().then(() => img.naturalWidth > 0, () => false)), "the history shows the photo");

  // Bob answers Alice's first message with a reply; both see what it answers.
  await bob.page.locator("li.msg.theirs").first().getByRole("button", { name: "Antworten" }).click();
  await bob.page.getByText("Antwort auf: Hallo Bob! Kommst du heute?").waitFor();
  await bob.page.getByLabel("Nachricht schreiben").fill("Um acht");
  await bob.page.keyboard.press("Enter");
  const quoted = alice.page.locator("li.msg.theirs").filter({ hasText: "Um acht" });
  await quoted.waitFor();
  expect(
    (await quoted.locator(".reply").textContent()).includes("Hallo Bob! Kommst du heute?"),
    "the reply shows the message it answers",
  );

  // A group: Alice makes one with Bob; he sees it and who wrote.
  await alice.page.goto(`${base}/app`);
  await alice.page.getByText("New group").click();
  await alice.page.getByLabel("Group name").fill("Brunch");
  await alice.page.getByLabel("Members").fill(BOB);
  await alice.page.getByRole("button", { name: "Create group" }).click();
  await alice.page.waitForURL(/\/app\/chats\//);
  await alice.page.locator("#status:empty").waitFor({ state: "attached" });
  await alice.page.getByLabel("Type a message").fill("Sunday at eleven?");
  await alice.page.keyboard.press("Enter");
  await alice.page.locator('li.msg.mine .ticks[data-state="sent"]').last().waitFor();
  await bob.page.goto(`${base}/app`);
  await bob.page.getByTestId("chat-link").filter({ hasText: "Brunch" }).click();
  await bob.page.locator(".sender").filter({ hasText: ALICE }).first().waitFor();
  await alice.page.goto(chatUrl);

  // Keyboard only: the skip link is the first stop and leads to the content.
  await alice.page.keyboard.press("Tab");
  const focused = await alice.page.evaluate(() => document.activeElement?.className);
  expect(focused === "skip", `the skip link takes the first Tab, got ${focused}`);

  // Security headers on every page.
  const resp = await alice.page.request.get(`${base}/app`);
  const csp = resp.headers()["content-security-policy"] || "";
  expect(csp.includes("script-src 'self'"), "a Content-Security-Policy without inline script");
  const cookies = await alice.context.cookies();
  const session = cookies.find((c) => c.name === "sb_session");
  expect(session && session.httpOnly && session.sameSite === "Lax", "the session cookie is HttpOnly and SameSite");

  // A form without the CSRF token is refused.
  const forged = await alice.page.request.post(`${base}/app/new`, {
    form: { phone: BOB, csrf: "0".repeat(32) },
  });
  expect(forged.status() === 403, `a forged form is refused, got ${forged.status()}`);

  // Signing out revokes the browser's device: the old cookie's token is dead.
  const token = (await bob.context.cookies()).find((c) => c.name === "sb_session").value;
  await bob.page.getByRole("button", { name: "Abmelden" }).click();
  await bob.page.waitForURL(/\/app\/login/);
  const after = await fetch(`${base}/v1/me`, { headers: { Authorization: `Bearer ${token}` } });
  expect(after.status === 401, `a signed-out session's token is revoked, got ${after.status}`);

  for (const p of [alice, bob]) expect(p.errors.length === 0, `no script errors: ${p.errors}`);
  console.log("chat story: ok");
} catch (e) {
  await failed({ alice, bob });
  throw e;
} finally {
  await browser.close();
}
