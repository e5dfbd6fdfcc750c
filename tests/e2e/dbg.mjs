import { readdirSync, readFileSync } from 'node:fs';
import { launch, openApp, serve, waitLoaded } from './harness.mjs';
function rss() {
  let sum = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!cmd.includes('--type=renderer')) continue;
      sum += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
    } catch {}
  }
  return sum;
}
const server = await serve();
const browser = await launch();
for (const file of (process.env.FILES ?? '/tmp/demo1m.parquet,/tmp/demo1m_rg.parquet').split(',')) {
  const { page, context } = await openApp(browser, server.url);
  await waitLoaded(page);
  await new Promise((r) => setTimeout(r, 1000));
  const base = rss(); let peak = base;
  const timer = setInterval(() => { peak = Math.max(peak, rss()); }, 50);
  const t0 = Date.now();
  await page.setInputFiles('[data-testid="open-file"] input', file);
  const name = file.split('/').pop().replace('.', '\\.');
  await page.waitForFunction((n) => new RegExp(n).test(document.querySelector('[data-testid="source"]')?.textContent ?? ''), name, { timeout: 120000 });
  const ms = Date.now() - t0;
  clearInterval(timer);
  console.log(file, ms, 'ms', await page.textContent('[data-testid="source"]'), await page.textContent('[data-testid="row-count"]'), 'peak +', ((peak - base) / 1e6).toFixed(0), 'MB');
  await context.close();
}
await browser.close(); server.close?.();
process.exit(0);
