// Browser ingest benchmark (`make bench`): the same generated CSV loaded by Vigil's worker and by
// uDSV, PapaParse, DuckDB-WASM and Arquero, each in its own Worker, in ONE headless Chromium run.
// Reports median MB/s over VIGIL_BENCH_RUNS runs, peak memory (growth of the renderer processes'
// resident memory during the run), the ratio of Vigil's speed to each peer, and the largest file
// each tool loads. Numbers are reported, never asserted.
//
// Env: VIGIL_BENCH_MB (default 200), VIGIL_BENCH_RUNS (5), VIGIL_BENCH_LARGE (MB list, default
// "500,1000"; empty to skip), VIGIL_BENCH_TOOLS (default all).

import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { chromium } from 'playwright-core';

const here = fileURLToPath(new URL('.', import.meta.url));
const repo = resolve(here, '..', '..');
const dataDir = join(repo, 'target', 'bench-data');
const MB = Number(process.env.VIGIL_BENCH_MB ?? 200);
const RUNS = Number(process.env.VIGIL_BENCH_RUNS ?? 5);
const LARGE = (process.env.VIGIL_BENCH_LARGE ?? '500,1000').split(',').filter(Boolean).map(Number);
const TOOLS = (process.env.VIGIL_BENCH_TOOLS ?? 'vigil,udsv,papaparse,duckdb,arquero').split(',');
const BYTES_PER_ROW = 132; // the demo CSV's average row length
const RUN_TIMEOUT_MS = 10 * 60_000;

/** Writes the demo dataset of about `mb` MB with the native generator (once). */
async function demoFile(mb) {
  mkdirSync(dataDir, { recursive: true });
  const rows = Math.round((mb * 1e6) / BYTES_PER_ROW);
  const path = join(dataDir, `demo-${rows}.csv`);
  if (existsSync(path)) return { path, rows };
  const bin = join(repo, 'target', 'release', 'vigil-demo');
  console.error(`generating ${path} …`);
  const out = createWriteStream(`${path}.partial`);
  const child = spawn(bin, [String(rows), '7'], { stdio: ['ignore', 'pipe', 'inherit'] });
  child.stdout.pipe(out);
  const [code] = await Promise.all([
    new Promise((ok) => child.on('exit', ok)),
    new Promise((ok) => out.on('finish', ok)),
  ]);
  if (code !== 0) throw new Error(`vigil-demo exited with ${code}`);
  renameSync(`${path}.partial`, path);
  return { path, rows };
}

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css' };

/** Serves dist/ and benches/browser/ (with its node_modules) from the repository. */
async function serve() {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const file = normalize(join(repo, path));
    const allowed = [join(repo, 'dist'), here].some((root) => file.startsWith(root));
    if (!allowed || !existsSync(file) || statSync(file).isDirectory()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => server.close() };
}

/** Resident memory (bytes) of all Chromium renderer processes of this benchmark's browser. */
function rendererRss(marker) {
  const procs = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
      procs.push({ pid: Number(pid), ppid, cmd, rss });
    } catch { /* process went away */ }
  }
  const root = procs.find((p) => p.cmd.includes(marker) && !p.cmd.includes('--type='));
  if (!root) return 0;
  const inTree = new Set([root.pid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const p of procs) if (!inTree.has(p.pid) && inTree.has(p.ppid)) { inTree.add(p.pid); grew = true; }
  }
  return procs.filter((p) => inTree.has(p.pid) && p.cmd.includes('--type=renderer')).reduce((sum, p) => sum + p.rss, 0);
}

async function runOnce(browser, url, marker, tool, file) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const foreign = [];
  page.on('pageerror', (err) => console.error(`${tool}: page error: ${err.message}`));
  page.on('console', (msg) => msg.type() === 'error' && console.error(`${tool}: ${msg.text()}`));
  page.on('request', (r) => { if (!r.url().startsWith(url) && !r.url().startsWith('blob:')) foreign.push(r.url()); });
  try {
    await page.goto(`${url}/benches/browser/bench.html`);
    await page.waitForFunction(() => window.benchReady === true, null, { timeout: 60_000 });
    await page.setInputFiles('#file', file.path);
    const baseline = rendererRss(marker);
    let peak = baseline;
    const sampler = setInterval(() => { peak = Math.max(peak, rendererRss(marker)); }, 50);
    const result = await Promise.race([
      page.evaluate((t) => window.runTool(t), tool),
      new Promise((ok) => setTimeout(() => ok({ ok: false, error: 'timed out' }), RUN_TIMEOUT_MS)),
    ]).catch((err) => ({ ok: false, error: String(err.message ?? err).split('\n')[0] }));
    clearInterval(sampler);
    peak = Math.max(peak, rendererRss(marker));
    if (result.ok && result.rows !== file.rows) {
      result.ok = false;
      result.error = `read ${result.rows} rows, expected ${file.rows}`;
    }
    if (foreign.length) {
      result.ok = false;
      result.error = `requests outside the origin: ${foreign.slice(0, 3).join(', ')}`;
    }
    return { ...result, peakBytes: peak - baseline };
  } finally {
    await context.close();
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (x, digits = 0) => (Number.isFinite(x) ? x.toFixed(digits) : '–');

async function main() {
  const marker = `--vigil-bench-marker=${process.pid}`;
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync', marker],
  });
  const server = await serve();
  try {
    const file = await demoFile(MB);
    const bytes = statSync(file.path).size;
    console.log(`\nbrowser ingest: demo CSV ${(bytes / 1e6).toFixed(0)} MB, ${file.rows} rows × 18 columns; ` +
      `median of ${RUNS} runs; Chromium ${browser.version()}\n`);
    const results = {};
    for (const tool of TOOLS) {
      const runs = [];
      for (let run = 0; run < RUNS; run++) {
        const r = await runOnce(browser, server.url, marker, tool, file);
        runs.push(r);
        console.error(`${tool} run ${run + 1}: ${r.ok ? `${(r.ms / 1000).toFixed(2)} s` : `failed: ${r.error}`}, peak +${(r.peakBytes / 1e6).toFixed(0)} MB`);
        if (!r.ok) break;
      }
      const ok = runs.filter((r) => r.ok);
      results[tool] = ok.length === runs.length && ok.length > 0
        ? { mbps: bytes / 1e6 / (median(ok.map((r) => r.ms)) / 1000), seconds: median(ok.map((r) => r.ms)) / 1000, peakMb: median(ok.map((r) => r.peakBytes)) / 1e6 }
        : { error: runs.find((r) => !r.ok)?.error };
    }
    const vigil = results.vigil?.mbps;
    console.log('| tool | MB/s | median s | peak memory MB | peak ÷ file | Vigil speed ÷ tool |');
    console.log('|---|---|---|---|---|---|');
    for (const tool of TOOLS) {
      const r = results[tool];
      if (r.error) console.log(`| ${tool} | failed: ${r.error} | | | | |`);
      else console.log(`| ${tool} | ${fmt(r.mbps)} | ${fmt(r.seconds, 2)} | ${fmt(r.peakMb)} | ${fmt(r.peakMb / (bytes / 1e6), 2)} | ${tool === 'vigil' ? '1.00' : fmt(vigil / r.mbps, 2)} |`);
    }
    if (TOOLS.includes('vigil')) {
      // Profiling in the worker: the whole table, every column, correlations and alerts.
      const times = [];
      const trendTimes = [];
      const rcaTimes = [];
      let rcaNote = '';
      for (let run = 0; run < 3; run++) {
        const context = await browser.newContext();
        const page = await context.newPage();
        await page.goto(`${server.url}/benches/browser/bench.html`);
        await page.waitForFunction(() => window.benchReady === true, null, { timeout: 60_000 });
        await page.setInputFiles('#file', file.path);
        const r = await page.evaluate(() => window.runVigilProfile());
        await context.close();
        if (!r.ok) { console.log(`\nprofile failed: ${r.error}`); break; }
        times.push(r.profileMs);
        trendTimes.push(r.trendMs);
        rcaTimes.push(r.rcaMs);
        rcaNote = `${r.rcaDimensions} dimensions; “${r.rcaSummary}”`;
        console.error(`vigil profile run ${run + 1}: ${(r.profileMs / 1000).toFixed(2)} s for ${r.rows} rows × ${r.columns} columns; daily trend ${(r.trendMs / 1000).toFixed(2)} s (${r.periods} periods, ${(r.trendWorkerMs / 1000).toFixed(2)} s in the worker)`);
      }
      if (times.length) console.log(`\nVigil profile in the worker: ${file.rows} rows × 18 columns in ${fmt(median(times) / 1000, 2)} s (median of ${times.length})`);
      if (rcaTimes.length) console.log(`Vigil root cause in the worker (${file.rows} rows, ${rcaNote}, depth 3): ${fmt(median(rcaTimes) / 1000, 2)} s (median of ${rcaTimes.length})`);
      if (trendTimes.length) console.log(`Vigil daily trend in the worker (aggregate ${file.rows} rows, MSTL + AutoETS, anomalies, changepoints, forecast): ${fmt(median(trendTimes) / 1000, 2)} s (median of ${trendTimes.length})`);
    }
    if (LARGE.length) {
      console.log(`\nlargest file each tool loads (one run each):\n`);
      console.log(`| tool | ${[MB, ...LARGE].map((m) => `${m} MB`).join(' | ')} |`);
      console.log(`|---|${[MB, ...LARGE].map(() => '---').join('|')}|`);
      const large = {};
      for (const m of LARGE) large[m] = await demoFile(m);
      for (const tool of TOOLS) {
        const cells = [results[tool].error ? `✗ ${results[tool].error}` : `✓ ${fmt(results[tool].seconds, 1)} s`];
        for (const m of LARGE) {
          if (cells.some((c) => c.startsWith('✗'))) { cells.push('–'); continue; }
          const r = await runOnce(browser, server.url, marker, tool, large[m]);
          cells.push(r.ok ? `✓ ${fmt(r.ms / 1000, 1)} s, peak ${fmt(r.peakBytes / 1e6)} MB` : `✗ ${r.error}`);
          console.error(`${tool} ${m} MB: ${cells.at(-1)}`);
        }
        console.log(`| ${tool} | ${cells.join(' | ')} |`);
      }
    }
  } finally {
    server.close();
    await browser.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
