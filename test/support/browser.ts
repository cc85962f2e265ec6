// A real browser for tests: Debian's Chromium (/usr/bin/chromium, or $TROVE_CHROMIUM) driven by
// playwright-core (no browser download at install), headless. Pages are served from origins of
// their own (tiny node:http servers on other ports), so every request they make to Trove is
// cross-origin, exactly as a web application's. Everything the browser logs — console API calls
// and the browser's own messages, CORS refusals among them — is collected per page.

import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.TROVE_CHROMIUM ?? '/usr/bin/chromium';

export interface LogEntry {
  /** 'console' (console.* calls), 'browser' (the browser's own: network, security…), 'pageerror'. */
  source: 'console' | 'browser' | 'pageerror';
  level: string;
  text: string;
}

export interface TestPage {
  page: Page;
  /** Everything logged so far. */
  readonly log: LogEntry[];
  /** The entries that report a request refused by CORS. */
  corsErrors(): LogEntry[];
  /** The CORS errors once there is at least one (the browser logs them a little after the refusal), or [] after `ms`. */
  waitForCorsErrors(ms?: number): Promise<LogEntry[]>;
}

export interface BrowserHarness {
  browser: Browser;
  /** A new page (own context: no shared cache or cookies) that records what is logged. */
  newPage(): Promise<TestPage>;
  close(): Promise<void>;
}

export interface LaunchOptions {
  /** Host names the browser resolves to 127.0.0.1 (wildcards allowed: `*.site.test`). */
  loopbackHosts?: string[];
}

export async function launchBrowser(opts: LaunchOptions = {}): Promise<BrowserHarness> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`no browser at ${CHROMIUM}: install Debian's chromium (apt-get install -y chromium) or set TROVE_CHROMIUM`);
  }
  // --no-sandbox: tests may run as root (CI containers), where Chromium's sandbox cannot start.
  const args = ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'];
  if (opts.loopbackHosts?.length) args.push(`--host-resolver-rules=${opts.loopbackHosts.map((h) => `MAP ${h} 127.0.0.1`).join(', ')}`);
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args });
  return {
    browser,
    async newPage() {
      const context = await browser.newContext();
      const page = await context.newPage();
      const log: LogEntry[] = [];
      page.on('console', (m) => log.push({ source: 'console', level: m.type(), text: m.text() }));
      page.on('pageerror', (e) => log.push({ source: 'pageerror', level: 'error', text: String(e) }));
      // The browser's own messages (a CORS refusal is one) reach the DevTools log, not console.*.
      const cdp = await context.newCDPSession(page);
      cdp.on('Log.entryAdded', (e: { entry: { level: string; text: string; source: string } }) => log.push({ source: 'browser', level: e.entry.level, text: e.entry.text }));
      await cdp.send('Log.enable');
      const corsErrors = () => log.filter((e) => /CORS policy|Cross-Origin Request Blocked|CORS request/i.test(e.text));
      const waitForCorsErrors = async (ms = 5000) => {
        for (const until = Date.now() + ms; corsErrors().length === 0 && Date.now() < until; ) await new Promise((r) => setTimeout(r, 20));
        return corsErrors();
      };
      return { page, log, corsErrors, waitForCorsErrors };
    },
    close: () => browser.close(),
  };
}

export interface PageServer {
  /** http://127.0.0.1:<port> */
  origin: string;
  /** "METHOD /path?query" of every request served so far. */
  requests: string[];
  close(): Promise<void>;
}

/**
 * Serves `pages` (path → HTML, or a function of the request URL, e.g. for a redirect target that
 * shows its query) from an origin of its own; other paths are 404. `requests` records every
 * request the server saw (method and URL).
 */
export async function servePages(pages: Record<string, string | ((url: URL) => string)>): Promise<PageServer> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const url = new URL(req.url ?? '/', 'http://page.invalid');
    const page = pages[url.pathname];
    if (page === undefined) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' }).end(typeof page === 'string' ? page : page(url));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
