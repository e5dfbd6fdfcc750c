// Shared end-to-end harness: serves dist/ on 127.0.0.1 and opens it in Debian's Chromium.
// Every request the page makes is recorded, so tests can assert nothing leaves the origin.

import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = fileURLToPath(new URL('.', import.meta.url));
export const DIST = resolve(process.env.VIGIL_DIST ?? join(here, '..', '..', 'dist'));
export const FIXTURES = resolve(join(here, '..', 'fixtures'));

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.css': 'text/css',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.csv': 'text/csv',
  '.gz': 'application/gzip',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

/**
 * Serves `root` (dist/) under `prefix` (a sub-path such as `/tools/vigil/`) and, under
 * /fixtures/, the test fixtures. Resolves to {url, close}.
 */
export async function serve(root = DIST, { prefix = '/' } = {}) {
  const server = createServer(async (req, res) => {
    let path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    if (!path.startsWith('/fixtures/') && path !== '/slow.csv' && path !== '/huge.csv') {
      if (!path.startsWith(prefix)) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
        return;
      }
      path = `/${path.slice(prefix.length)}`;
    }
    if (path === '/huge.csv') {
      // Announces 8 GB (more than a tab can hold), sends a few rows, then goes quiet.
      res.writeHead(200, { 'content-type': 'text/csv', 'content-length': String(8e9), 'access-control-allow-origin': '*' });
      res.write('n,label\n1,a\n2,b\n');
      const timer = setTimeout(() => res.destroy(), 10_000);
      req.on('close', () => clearTimeout(timer));
      return;
    }
    if (path === '/slow.csv') {
      // A CSV that trickles in for ~20 s: long enough to cancel mid-load.
      res.writeHead(200, { 'content-type': 'text/csv', 'access-control-allow-origin': '*' });
      res.write('n,label\n');
      let sent = 0;
      const timer = setInterval(() => {
        if (sent++ >= 200 || res.destroyed) {
          clearInterval(timer);
          res.end();
          return;
        }
        res.write(Array.from({ length: 500 }, (_, i) => `${i},x`).join('\n') + '\n');
      }, 100);
      req.on('close', () => clearInterval(timer));
      return;
    }
    const base = path.startsWith('/fixtures/') ? FIXTURES : root;
    const rel = path.startsWith('/fixtures/') ? path.slice('/fixtures/'.length) : path.slice(1);
    let file = normalize(join(base, rel || 'index.html'));
    if (!file.startsWith(base)) {
      res.writeHead(403).end();
      return;
    }
    try {
      if ((await stat(file)).isDirectory()) file = join(file, 'index.html');
      const body = await readFile(file);
      const headers = { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'content-length': body.length };
      // Fixtures stand for data on a CORS-enabled static host.
      if (base === FIXTURES) headers['access-control-allow-origin'] = '*';
      res.writeHead(200, headers);
      res.end(body);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    }
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address();
  return { url: `http://127.0.0.1:${port}${prefix}`, close: () => new Promise((ok) => server.close(ok)) };
}

export const CHROMIUM_ARGS = [
  '--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
    headless: true,
  });
}

/**
 * Opens the app in a fresh context. Returns {page, context, requests, errors}: every URL
 * requested and every page error / console error seen. Options: `timezoneId`, the browser's
 * zone; `init`, a script run in the page before its own.
 */
export async function openApp(browser, url, { colorScheme = 'light', viewport = { width: 1360, height: 900 }, timezoneId, init } = {}) {
  const context = await browser.newContext({ colorScheme, viewport, acceptDownloads: true, ...(timezoneId ? { timezoneId } : {}) });
  const requests = [];
  const errors = [];
  context.on('request', (request) => requests.push(request.url()));
  // Worker requests are not always page requests: watch service workers and workers too.
  // Content-Security-Policy violations are collected (an init script is not subject to the policy).
  await context.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations.push(`${e.violatedDirective}: ${e.blockedURI}`));
  });
  if (init) await context.addInitScript(init);
  const page = await context.newPage();
  // Warnings too (a deprecation, say): an analyst with the console open should see none.
  const warnings = [];
  const watch = (where) => (msg) => {
    if (msg.type() === 'error') errors.push(`${where}: ${msg.text()}`);
    if (msg.type() === 'warning') warnings.push(`${where}: ${msg.text()}`);
  };
  page.on('worker', (worker) => worker.on('console', watch('worker')));
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  page.on('console', watch('console'));
  await page.goto(url);
  return { page, context, requests, errors, warnings };
}

/** The page's link once the view on screen is written to it (after the next frame). */
export async function linkOf(page) {
  await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => setTimeout(() => setTimeout(done, 0), 0))));
  return page.url();
}

/** Waits until a load has finished (the row count is shown and no progress bar). */
export async function waitLoaded(page, timeout = 60_000) {
  await page.waitForSelector('[data-testid="row-count"]', { timeout });
  await page.waitForSelector('[data-testid="load-progress"]', { state: 'detached', timeout });
}
