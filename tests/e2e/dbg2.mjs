import { launch, openApp, serve, waitLoaded } from './harness.mjs';
const server = await serve();
const browser = await launch();
const { page, context, errors } = await openApp(browser, server.url);
await waitLoaded(page);
const t0 = Date.now();
await page.setInputFiles('[data-testid="open-file"] input', '/tmp/big.xlsx');
const seen = new Set();
let shot = false;
while (true) {
  const detail = await page.evaluate(() => document.querySelector('[data-testid="load-progress"] .progress-detail')?.textContent ?? null);
  if (detail) { seen.add(detail); if (!shot && /of/.test(detail) && / [1-9][0-9,]* of/.test(detail)) { await page.screenshot({ path: '/tmp/xlsx-progress.png' }); shot = true; } }
  const src = await page.evaluate(() => document.querySelector('[data-testid="source"]')?.textContent ?? '');
  if (/big\.xlsx/.test(src)) break;
  if (Date.now() - t0 > 60000) break;
  await new Promise((r) => setTimeout(r, 40));
}
console.log(Date.now() - t0, 'ms', [...seen].slice(0, 12));
console.log(await page.textContent('[data-testid="source"]'), await page.textContent('[data-testid="row-count"]'), errors);
await context.close(); await browser.close(); server.close?.();
process.exit(0);
