// The trust boundary as a person meets it: the widget gets its own session and token, a
// browser that copies someone's session id (but has its own token) is told the conversation
// is not theirs, and a message over the rate limit waits with a countdown, then goes out by
// itself.
import { test, expect } from "@playwright/test";
import { startServer } from "./support/server";
import { credentials, openPanel, sendMessage } from "./support/widget";

test("the widget connects with a token of its own and a stranger's copy is refused", async ({ browser }) => {
  const server = await startServer();
  try {
    const owner = await browser.newContext();
    const ownerPage = await owner.newPage();
    await openPanel(ownerPage, server.url);
    const mine = await credentials(ownerPage);
    expect(mine.session_id).toMatch(/^s-[a-z0-9]{24}$/);
    expect(mine.token.split(".")).toHaveLength(3);
    await sendMessage(ownerPage, "hello from the owner");
    await expect(ownerPage.locator("li.msg.assistant").first()).toContainText("offline demo");

    // Another browser gets its own session and token, then is pointed at the owner's session.
    const stranger = await browser.newContext();
    const strangerPage = await stranger.newPage();
    await openPanel(strangerPage, server.url);
    const theirs = await credentials(strangerPage);
    expect(theirs.session_id).not.toBe(mine.session_id);
    await strangerPage.evaluate(
      ([session, own]) =>
        localStorage.setItem("axe.credentials", JSON.stringify({ ...JSON.parse(own), session_id: session })),
      [mine.session_id, JSON.stringify(theirs)],
    );
    await strangerPage.reload();
    await expect(async () => {
      await strangerPage.getByRole("button", { name: "Open AXE assistant" }).click({ timeout: 1_000 });
      await expect(strangerPage.getByRole("region", { name: "AXE assistant" })).toBeVisible({ timeout: 1_000 });
    }).toPass({ timeout: 20_000 });
    await expect(strangerPage.getByRole("alert")).toContainText("belongs to another account");
    await expect(strangerPage.getByRole("status", { name: "Offline" })).toBeVisible();
    await expect(strangerPage.locator("li.msg")).toHaveCount(0);
    // Nothing of the owner's conversation reached it; the owner is still connected.
    await expect(strangerPage.getByText("hello from the owner")).toHaveCount(0);
    await expect(ownerPage.getByRole("status", { name: "Connected" })).toBeVisible();

    // It can start a conversation of its own instead.
    await strangerPage.getByRole("button", { name: "Start a new conversation" }).click();
    await expect(strangerPage.getByRole("status", { name: "Connected" })).toBeVisible();
    expect((await credentials(strangerPage)).session_id).not.toBe(mine.session_id);
    await owner.close();
    await stranger.close();
  } finally {
    await server.stop();
  }
});

test("a chat over the rate limit counts down and goes out by itself", async ({ page }) => {
  // Six chats a minute, replies at once: the seventh waits about ten seconds.
  const server = await startServer({ AXE_RATE_CHAT_PER_MIN: "6", AXE_OFFLINE_DELAY_MS: "0" });
  try {
    await openPanel(page, server.url);
    const replies = page.locator("li.msg.assistant");
    for (let n = 1; n <= 6; n++) {
      await sendMessage(page, `message ${n}`);
      await expect(replies).toHaveCount(n);
    }
    await sendMessage(page, "message 7");
    const countdown = page.getByText(/You can send again in \d+ s/);
    await expect(countdown).toBeVisible();
    const first = Number((await countdown.textContent())!.match(/(\d+) s/)![1]);
    expect(first).toBeGreaterThan(1);
    await expect(page.getByTestId("pending-count")).toHaveText("1");
    // It counts down...
    await expect(async () => {
      const now = Number((await countdown.textContent())!.match(/(\d+) s/)![1]);
      expect(now).toBeLessThan(first);
    }).toPass({ timeout: 5_000 });
    // ...and when the wait is over the message goes out without a click.
    await expect(replies).toHaveCount(7, { timeout: 20_000 });
    await expect(replies.nth(6)).toContainText("message 7");
    await expect(countdown).toBeHidden();
    await expect(page.getByTestId("pending")).toBeHidden();
  } finally {
    await server.stop();
  }
});
