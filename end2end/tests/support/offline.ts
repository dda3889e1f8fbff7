// For specs that stop the server: the host page must still load while AXE's server is down, as
// it would when the widget is embedded in someone else's site. The page's files are served
// from what the browser saw earlier once the server stops answering; the WebSocket itself is
// never intercepted.
import { Page } from "@playwright/test";
import config from "../../playwright.config";

/** Launch options that let a page the test fulfils itself open sockets to 127.0.0.1: such a
 * page has no network address, so Chromium's Local Network Access checks would block it (a
 * real embedding page is served from a real host). */
export function withLocalNetworkAccess() {
  const launchOptions = config.use?.launchOptions ?? {};
  return {
    launchOptions: {
      ...launchOptions,
      args: [...(launchOptions.args ?? []), "--disable-features=LocalNetworkAccessChecks"],
    },
  };
}

/** Passes requests through, remembering each response to serve it again if the server is gone. */
export async function serveFromMemoryWhenDown(page: Page): Promise<void> {
  const seen = new Map<string, { status: number; headers: Record<string, string>; body: Buffer }>();
  await page.route(
    (url) => url.pathname !== "/api/axe/ws" && !url.pathname.startsWith("/api/axe/ws/") && !url.pathname.startsWith("/api/axe/sessions"),
    async (route) => {
      const url = route.request().url();
      try {
        const response = await route.fetch();
        const body = await response.body();
        const headers = { ...response.headers() };
        delete headers["content-encoding"];
        delete headers["content-length"];
        seen.set(url, { status: response.status(), headers, body });
        await route.fulfill({ status: response.status(), headers, body });
      } catch {
        const earlier = seen.get(url);
        if (earlier) await route.fulfill(earlier);
        else await route.abort("connectionrefused");
      }
    },
  );
}
