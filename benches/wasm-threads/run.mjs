// Vigil's loader on wasm threads (an experiment; see Cargo.toml), in headless Chromium:
//   node benches/wasm-threads/run.mjs FILE [RUNS]
// Each way of loading FILE runs RUNS times (default 5) in turn, in a fresh worker each time; a
// row gives the median MB/s and the CPU the browser's processes spent per load once its worker
// had started (all threads, /proc), next to reading the file's bytes alone in each way the
// browser offers.
import { chromium } from '../browser/node_modules/playwright-core/index.mjs';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { serve } from '../browser/serve.mjs';

const [file, runsArg] = process.argv.slice(2);
if (!file || !existsSync(file)) {
  console.error('usage: node benches/wasm-threads/run.mjs FILE [RUNS]');
  process.exit(2);
}
const runs = Math.max(1, Number(runsArg ?? 5));
const TIMEOUT_S = 120;
const WAYS = [
  { name: 'read alone (no parsing)', readOnly: true, threads: 1 },
  { name: '1 thread, reading as it parses', threads: 1 },
  { name: '2 threads, this worker reading and parsing', threads: 2 },
  { name: '2 threads on the pool, this worker reading', threads: 2, onPool: true },
  { name: 'read alone, in 4 MB slices', readOnly: true, threads: 1, read: 'slices' },
  { name: '1 thread, reading in 4 MB slices', threads: 1, read: 'slices' },
  { name: '1 thread, file already in memory', threads: 1, inMemory: true },
  { name: '2 threads, file already in memory', threads: 2, inMemory: true },
  { name: 'read alone, the stream\'s own chunks', readOnly: true, threads: 1, read: 'plain' },
  { name: 'read alone, FileReaderSync in 16 MB slices', readOnly: true, threads: 1, read: 'sync16' },
  { name: 'read alone, FileReaderSync in 64 MB slices', readOnly: true, threads: 1, read: 'sync64' },
  { name: 'read alone, the whole file (`file.arrayBuffer()`)', readOnly: true, threads: 1, read: 'whole' },
];

// Shared memory needs a cross-origin isolated page.
const server = await serve(() => null, { roots: ['benches/wasm-threads/www', 'target/wasm-threads/pkg'], isolated: true });

// CPU ticks spent so far by each of the browser's processes (user + system, every thread), and
// whether each is a page's (a renderer: the page and its workers).
function browserTicks() {
  const ticks = new Map();
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      if (!/chrom/i.test(stat.slice(stat.indexOf('(') + 1, close))) continue;
      const fields = stat.slice(close + 2).split(' ');
      const renderer = readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('--type=renderer');
      ticks.set(pid, { ticks: Number(fields[11]) + Number(fields[12]), renderer });
    } catch {
      // (Gone since listed.)
    }
  }
  return ticks;
}

// CPU seconds the browser's processes spent since `before`, in all and in the pages' processes (a
// process that ended since, such as the last context's page, is left out rather than subtracted
// whole).
function cpuSince(before) {
  const spent = { all: 0, page: 0 };
  for (const [pid, now] of browserTicks()) {
    const ticks = (now.ticks - (before.get(pid)?.ticks ?? 0)) / 100;
    spent.all += ticks;
    if (now.renderer) spent.page += ticks;
  }
  return spent;
}

// VIGIL_THREADS_WAYS=0,5: only those ways (by their place in the list).
const only = process.env.VIGIL_THREADS_WAYS?.split(',').map(Number);
const ways = only ? WAYS.filter((_, k) => only.includes(k)) : WAYS;

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium' });
try {
  let cpuBefore = null;
  // Each load in a fresh context, as `make bench` loads.
  async function freshPage() {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.on('console', (message) => process.stderr.write(`page: ${message.text()}\n`));
    page.on('pageerror', (err) => process.stderr.write(`page error: ${err.message}\n`));
    await page.exposeFunction('markReady', () => {
      cpuBefore = browserTicks();
    });
    await page.goto(`${server.url}/benches/wasm-threads/www/index.html`);
    await page.waitForFunction(() => window.ready);
    await page.setInputFiles('#file', file);
    return { page, context };
  }
  const results = ways.map(() => ({ mbps: [], cpu: [], page: [] }));
  let rows = null;
  for (let run = 0; run < runs; run++) {
    for (const [k, way] of ways.entries()) {
      process.stderr.write(`run ${run + 1}/${runs}: ${way.name}…\n`);
      const { page, context } = await freshPage();
      cpuBefore = null;
      const answer = await Promise.race([
        page.evaluate((options) => window.loadOnce(options), way),
        new Promise((resolve) => setTimeout(() => resolve({ error: `no answer in ${TIMEOUT_S} s` }), TIMEOUT_S * 1000)),
      ]);
      const cpu = cpuSince(cpuBefore);
      await context.close();
      if (answer.error) throw new Error(`${way.name}: ${answer.error}`);
      if (!way.readOnly) {
        if (rows !== null && answer.rows !== rows) throw new Error(`${way.name}: ${answer.rows} rows, not ${rows}`);
        rows = answer.rows;
      }
      results[k].mbps.push(answer.bytes / 1e6 / (answer.ms / 1e3));
      results[k].cpu.push(cpu.all);
      results[k].page.push(cpu.page);
    }
  }
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const mb = statSync(file).size / 1e6;
  const oneAt = ways.findIndex((way) => way === WAYS[1]);
  const one = oneAt >= 0 ? median(results[oneAt].mbps) : null;
  console.log(`Vigil's loader on wasm threads: ${mb.toFixed(0)} MB, ${rows} rows, median of ${runs}; CPU: the browser's processes' seconds per load, from the worker's start to its answer, and those of the page's process (the rest is mostly the browser process's)\n`);
  console.log('| way | MB/s | × 1 thread reading | CPU s | of which the page\'s | runs (MB/s) |\n|---|---|---|---|---|---|');
  for (const [k, way] of ways.entries()) {
    const speed = median(results[k].mbps);
    const ratio = way.readOnly || one === null ? '' : `${(speed / one).toFixed(2)}×`;
    console.log(`| ${way.name} | ${speed.toFixed(0)} | ${ratio} | ${median(results[k].cpu).toFixed(2)} | ${median(results[k].page).toFixed(2)} | ${results[k].mbps.map((v) => v.toFixed(0)).join(', ')} |`);
  }
} finally {
  await browser.close();
  server.close();
}
