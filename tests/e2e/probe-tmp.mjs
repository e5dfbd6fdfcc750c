import { launch, serve } from './harness.mjs';
import { writeFileSync } from 'node:fs';
const server = await serve();
const browser = await launch();
try {
  for (let i = 0; i < 1; i++) {
    const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
    const page = await context.newPage();
    await browser.startTracing(page, { categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8', 'v8.wasm', 'disabled-by-default-v8.compile', 'blink.user_timing', 'v8.execute'] });
    await page.goto(`${server.url}/dist/index.html#demo=1000000.7&tab=data`);
    await page.waitForFunction(() => document.querySelector('[data-testid="row-count"]')?.textContent === '1,000,000', null, { timeout: 300000 });
    await page.waitForTimeout(500);
    const trace = JSON.parse((await browser.stopTracing()).toString());
    const ev = trace.traceEvents;
    const main = ev.find((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain' && ev.some((x) => x.pid === e.pid && x.name === 'TimerFire'));
    const on = ev.filter((e) => e.pid === main.pid && e.tid === main.tid && e.ph === 'X');
    const tasks = on.filter((e) => e.name === 'RunTask' && e.dur > 8000);
    for (const t of tasks) {
      const inside = on.filter((e) => e !== t && e.ts >= t.ts && e.ts + e.dur <= t.ts + t.dur);
      const agg = {};
      for (const e of inside) { agg[e.name] = agg[e.name] ?? [0, 0]; agg[e.name][0] += e.dur / 1000; agg[e.name][1]++; }
      const timer = inside.find((e) => e.name === 'TimerFire');
      console.log(`task ${(t.dur / 1000).toFixed(1)} ms ${timer ? 'timer ' + timer.args.data.timerId : ''} :: ` + Object.entries(agg).sort((a, b) => b[1][0] - a[1][0]).slice(0, 12).map(([k, [ms, n]]) => `${k} ${ms.toFixed(1)}/${n}`).join(', '));
    }
    const installs = on.filter((e) => e.name === 'TimerInstall' || (e.ph === 'I'));
    console.log('---');
    await context.close();
  }
} finally { await browser.close(); server.close(); }
