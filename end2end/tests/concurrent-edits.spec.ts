// Two tabs of one session (the second shares the first's credentials): when one was cut off
// (taken over) while the other edited, its edits are merged into the other's when they touch
// different lines, and kept side by side as a conflict, resolved in the canvas, when they touch
// the same line. Nothing is lost.
import { test, expect, Page } from "@playwright/test";
import { startServer } from "./support/server";
import { credentials, exportSession } from "./support/widget";

async function openCanvas(page: Page, url: string): Promise<void> {
  await page.goto(url + "/canvas");
  await expect(page.getByRole("status", { name: "Connected" })).toBeVisible({ timeout: 20_000 });
  await expect(page.getByRole("textbox", { name: "Code editor" })).toContainText("fn main()");
}

/** Types `text` at the very start of the editor's file. */
async function typeAtStart(page: Page, text: string): Promise<void> {
  const code = page.getByRole("textbox", { name: "Code editor" });
  await code.click();
  await page.keyboard.press("Control+Home");
  await page.keyboard.type(text);
}

/** Waits until the server stores a version of main.rs holding `text`, and `page` has no
 * change left to send. */
async function saved(page: Page, url: string, text: string): Promise<void> {
  await expect
    .poll(async () => {
      const exported = await exportSession(page, url);
      const main = exported.file_versions.filter((v: { file_id: string }) => v.file_id === "main");
      return main.at(-1)?.content ?? "";
    }, { timeout: 15_000 })
    .toContain(text);
  await expect(page.getByTestId("pending")).toBeHidden({ timeout: 15_000 });
}

test("edits apart merge; edits of one line become a conflict, resolved, nothing lost", async ({ browser }) => {
  test.setTimeout(120_000);
  const server = await startServer();
  try {
    const first = await (await browser.newContext()).newPage();
    await openCanvas(first, server.url);
    await typeAtStart(first, "// first tab was here\n");
    await saved(first, server.url, "// first tab was here");

    // The second tab opens the same session, and so takes it over.
    const shared = JSON.stringify(await credentials(first));
    const second = await (await browser.newContext()).newPage();
    await second.addInitScript((c) => localStorage.setItem("axe.credentials", c), shared);
    await openCanvas(second, server.url);
    await expect(second.getByRole("textbox", { name: "Code editor" })).toContainText("// first tab was here");
    await expect(first.getByRole("alert")).toContainText("opened in another tab");

    // The first takes it back; the second is now cut off and edits the end of the file.
    await first.getByRole("button", { name: "Use AXE in this tab" }).click();
    await expect(first.getByRole("status", { name: "Connected" })).toBeVisible();
    await expect(second.getByRole("alert")).toContainText("opened in another tab");
    const secondCode = second.getByRole("textbox", { name: "Code editor" });
    await secondCode.click();
    await second.keyboard.press("Control+End");
    await second.keyboard.type("// second tab, made while cut off\n");
    await expect(second.getByTestId("pending-count")).toHaveText("1", { timeout: 10_000 });
    // Meanwhile the first edits the start.
    await typeAtStart(first, "// first tab again\n");
    await saved(first, server.url, "// first tab again");

    // The second returns: its edit (made on an older version) is merged, and it shows both.
    await second.getByRole("button", { name: "Use AXE in this tab" }).click();
    await expect(second.getByTestId("pending")).toBeHidden({ timeout: 15_000 });
    await expect(secondCode).toContainText("// first tab again");
    await expect(secondCode).toContainText("// second tab, made while cut off");
    let exported = await exportSession(first, server.url);
    let main = exported.file_versions.filter((v: { file_id: string }) => v.file_id === "main");
    const merged = main.at(-1).content as string;
    for (const line of ["// first tab was here", "// first tab again", "// second tab, made while cut off"]) {
      expect(merged).toContain(line);
    }

    // Now both change the same first line.
    await first.getByRole("button", { name: "Use AXE in this tab" }).click();
    await expect(first.getByRole("status", { name: "Connected" })).toBeVisible();
    await expect(first.getByRole("textbox", { name: "Code editor" })).toContainText("// second tab, made while cut off");
    await secondCode.click();
    await second.keyboard.press("Control+Home");
    await second.keyboard.type("SECOND ");
    await expect(second.getByTestId("pending-count")).toHaveText("1", { timeout: 10_000 });
    await typeAtStart(first, "FIRST ");
    await saved(first, server.url, "FIRST // first tab again");
    await second.getByRole("button", { name: "Use AXE in this tab" }).click();
    const conflict = second.getByRole("dialog", { name: "Conflict in main.rs" });
    await expect(conflict).toBeVisible({ timeout: 15_000 });
    await expect(conflict.getByRole("region", { name: "Your edit" })).toContainText("SECOND // first tab again");
    await expect(conflict.getByRole("region", { name: "The other edit" })).toContainText("FIRST // first tab again");
    const draft = conflict.getByRole("textbox", { name: "Merged draft" });
    await expect(draft).toHaveValue(/<<<<<<< your edit/);
    await draft.fill((await draft.inputValue()).replace(/<<<<<<< your edit\n.*\n=======\n.*\n>>>>>>> the other edit\n/, "FIRST AND SECOND // first tab again\n"));
    await conflict.getByRole("button", { name: "Resolve with the draft" }).click();
    await expect(conflict).toBeHidden();
    await expect(second.getByTestId("pending")).toBeHidden({ timeout: 15_000 });
    await expect(secondCode).toContainText("FIRST AND SECOND // first tab again");

    // Nothing was lost on the way: both sides are stored, and the resolution is the file.
    exported = await exportSession(first, server.url);
    main = exported.file_versions.filter((v: { file_id: string }) => v.file_id === "main");
    const contents = main.map((v: { content: string }) => v.content).join("\n");
    expect(contents).toContain("FIRST // first tab again");
    expect(main.at(-1).content).toContain("FIRST AND SECOND // first tab again");
  } finally {
    await server.stop();
  }
});
