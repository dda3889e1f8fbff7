// A session of 5,000 turns and 500 applied diffs opens like a new one: the newest messages at
// once, earlier ones page by page with "Load earlier messages"; and a reload continues from the
// history it showed (connecting with its real last_seq) instead of asking for everything again.
import { test, expect, WebSocket } from "@playwright/test";
import { execFileSync } from "node:child_process";
import path from "node:path";
import { startServer } from "./support/server";

const binary = path.resolve(__dirname, "..", "..", "target", "release", "server");

/** The `sub` of a JWT. */
function subjectOf(token: string): string {
  return JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString()).sub;
}

test("5,000 turns open fast, page back, and a reload asks only for what it missed", async ({ page }) => {
  test.setTimeout(120_000);
  const server = await startServer();
  try {
    const grant = await (await fetch(`${server.url}/api/axe/sessions`, { method: "POST" })).json();
    const seeded = execFileSync(binary, [
      "seed", "--database-url", server.databaseUrl, "--session", grant.session_id,
      "--owner", subjectOf(grant.token), "--turns", "5000",
    ]).toString();
    expect(seeded).toContain("seeded 5000 turns and 500 applied diffs");
    const lastSeq = Number(/ends at seq (\d+)/.exec(seeded)![1]);
    expect(lastSeq).toBe(5000 * 2 + 500 * 3);
    await page.addInitScript((credentials) => {
      if (!localStorage.getItem("axe.credentials")) localStorage.setItem("axe.credentials", credentials);
    }, JSON.stringify(grant));

    const sockets: string[] = [];
    page.on("websocket", (socket: WebSocket) => sockets.push(socket.url()));
    await page.goto(server.url + "/widget-test?view=panel");
    await expect(page.getByRole("status", { name: "Connected" })).toBeVisible({ timeout: 20_000 });
    const messages = page.locator("li.msg");
    await expect(messages.last()).toContainText("That is all step 4999 needs.");
    const shown = await messages.count();
    expect(shown).toBeLessThanOrEqual(100);
    expect(sockets[0]).toContain("last_seq=0");

    // Earlier messages come a page at a time.
    await page.getByRole("button", { name: "Load earlier messages" }).click();
    await expect.poll(() => messages.count()).toBeGreaterThan(shown);
    await expect(messages.first()).toContainText(/step 49[0-9]{2}/);
    await expect(page.locator("li.msg.user").first()).toContainText("Question");

    // A reload shows what it showed and connects with the seq it had reached.
    await page.reload();
    await expect(page.getByRole("status", { name: "Connected" })).toBeVisible({ timeout: 20_000 });
    await expect(messages.last()).toContainText("That is all step 4999 needs.");
    expect(sockets.at(-1)).toContain(`last_seq=${lastSeq}`);
  } finally {
    await server.stop();
  }
});
