// The second origin: a static server for the host pages (end2end/hosts/, and the React host
// built into end2end/.hosts-build/), started once per Playwright run (playwright.config.ts).
// A host page names AXE's server as __AXE_SERVER__; the test passes it as ?axe=URL, so each
// spec can point the same page at its own AXE server.
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const roots = [path.resolve(here, "..", "..", "hosts"), path.resolve(here, "..", "..", ".hosts-build")];
const port = Number(process.env.AXE_HOST_PORT ?? 4173);
const types = { ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".css": "text/css",
  ".wasm": "application/wasm", ".json": "application/json" };

createServer(async (request, response) => {
  const url = new URL(request.url, `http://127.0.0.1:${port}`);
  const relative = path.normalize(decodeURIComponent(url.pathname)).replace(/^(\.\.[/\\])+/, "");
  for (const root of roots) {
    const file = path.join(root, relative.endsWith("/") ? relative + "index.html" : relative);
    if (!file.startsWith(root)) continue;
    try {
      let body = await readFile(file);
      const type = types[path.extname(file)] ?? "application/octet-stream";
      if (type.startsWith("text/html")) {
        const axe = url.searchParams.get("axe") ?? "";
        body = body
          .toString()
          .replaceAll("__AXE_SERVER__", axe)
          .replaceAll("__AXE_WS__", axe.replace(/^http/, "ws"));
      }
      response.writeHead(200, { "content-type": type, "cache-control": "no-store" });
      response.end(body);
      return;
    } catch {
      // Not in this root; try the next.
    }
  }
  response.writeHead(404, { "content-type": "text/plain" });
  response.end("not found");
}).listen(port, "127.0.0.1", () => console.log(`host pages on http://127.0.0.1:${port}`));
