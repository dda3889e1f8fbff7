// A React application that installed the packed npm package and bundled it with esbuild (see
// support/global-setup.ts), serving the package's own wasm: the host's file becomes AXE's
// active file, a diff applied in AXE comes back through onDiffApplied into the host's editor.
import { test, expect } from "@playwright/test";
import { hostPage, startServer } from "./support/server";
import { sendMessage } from "./support/widget";

test("the React wrapper: the host's file in, the applied diff back out", async ({ page }) => {
  const server = await startServer();
  try {
    await page.goto(hostPage("react/", server));
    const canvas = page.getByRole("region", { name: "AXE canvas" });
    await expect(canvas.getByRole("status", { name: "Connected" })).toBeVisible({ timeout: 20_000 });
    // The host's file is the canvas's file.
    const code = page.getByRole("textbox", { name: "Code editor" });
    await expect(code).toContainText("from the React host");
    // The host edits its own file; AXE follows.
    const host = page.getByRole("textbox", { name: "Host editor" });
    await host.fill("fn main() {\n    println!(\"edited in the host\");\n}\n");
    await expect(code).toContainText("edited in the host");

    await sendMessage(page, "write a function");
    const overlay = page.getByRole("dialog", { name: /Proposed change to main.rs/ });
    await expect(overlay).toBeVisible({ timeout: 20_000 });
    await overlay.getByRole("button", { name: "Apply all" }).click();
    // onDiffApplied gave the host the file with the change, on top of the host's edit.
    await expect(page.getByRole("status", { name: "Applied diffs" })).toHaveText("1", { timeout: 20_000 });
    await expect(host).toHaveValue(/edited in the host/);
    await expect(host).toHaveValue(/pub fn add/);
  } finally {
    await server.stop();
  }
});
