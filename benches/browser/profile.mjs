// Where the worker's load of a file spends its time, and which of two worker builds loads faster:
// `make profile-load` (the README lists it with the other targets).
//
//   node --experimental-websocket benches/browser/profile.mjs FILE [WORKERS]
//     Loads FILE once on WORKERS parsing workers (default 1) in headless Chromium, with its
//     sampling profiler on the table worker (through the DevTools protocol), and prints the
//     self time of its 40 costliest functions, then the 40 costliest with their callees' time.
//     Functions are named only in a worker built with its names (`make worker-named`, served in
//     place of dist's worker with VIGIL_PROFILE_WORKER=target/worker-named).
//     With VIGIL_PROFILE_SLICES=MS it then prints the load in slices of MS milliseconds: each
//     slice's idle share and costliest functions (where the fixed costs of a load are: the start,
//     the sample for types, the end). With VIGIL_PROFILE_HELPERS_MS=MS the helpers' profiles are
//     taken MS milliseconds into the load (a helper ends with the load) and printed after the
//     table worker's.
//   VIGIL_PROFILE_AB=dirA,dirB node --experimental-websocket benches/browser/profile.mjs FILE [WORKERS]
//     Loads FILE with each of two worker builds in turn (each directory holds vigil-worker.js,
//     vigil-worker_bg.wasm, vigil-worker_loader.js and vigil-worker_helper.js), VIGIL_PROFILE_RUNS times each (default
//     9), in one browser, and prints each build's median MB/s: on a machine whose speed drifts
//     from minute to minute, only builds measured in turn can be compared (the order turns every
//     run; with two builds it also prints in how many runs the second was the faster, and a sign
//     test's p: two copies of one build had medians 11 % apart in nine runs). With
//     VIGIL_PROFILE_FRESH=1 each load opens a browser context of its own, as `make bench` does
//     (the worker compiled anew, a first visit's cold start); otherwise one page loads again and
//     again (faster: the browser keeps the compiled module).
//
// Numbers are printed, never asserted. Uses the bench page (bench.html) and its dependencies
// (`make bench-deps`).
import { existsSync, statSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { serve } from './serve.mjs';

const [file, workersArg = '1'] = process.argv.slice(2);
if (!file || !existsSync(file)) {
  console.error('usage: node --experimental-websocket benches/browser/profile.mjs FILE [WORKERS]');
  process.exit(2);
}
const workers = Number(workersArg);
const mb = statSync(file).size / 1e6;
const DEBUG_PORT = 9333;
/** The worker's files come from this directory instead of dist/ (a build to profile or compare). */
let workerDir = process.env.VIGIL_PROFILE_WORKER ?? null;
const server = await serve(() => workerDir);
const { url } = server;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--headless', '--disable-gpu', '--no-first-run', `--remote-debugging-port=${DEBUG_PORT}`],
});
const page = await browser.newPage();
page.on('pageerror', (err) => console.error(`page error: ${err.message}`));
await page.goto(`${url}/benches/browser/bench.html`);
await page.waitForFunction(() => window.benchReady === true);
await page.setInputFiles('#file', file);
/** One load on `on` (a page with the file picked): MB/s. */
const load = async (on = page) => {
  const r = await on.evaluate((tool) => window.runTool(tool), `vigil-${workers}w`);
  if (!r.ok) throw new Error(`the load failed: ${r.error}`);
  return mb / (r.ms / 1000);
};
/** One load in a browser context of its own, as `make bench` loads: nothing compiled before. */
const loadFresh = async () => {
  const context = await browser.newContext();
  try {
    const fresh = await context.newPage();
    await fresh.goto(`${url}/benches/browser/bench.html`);
    await fresh.waitForFunction(() => window.benchReady === true);
    await fresh.setInputFiles('#file', file);
    return await load(fresh);
  } finally {
    await context.close();
  }
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

try {
  if (process.env.VIGIL_PROFILE_AB) {
    const dirs = process.env.VIGIL_PROFILE_AB.split(',');
    const speeds = Object.fromEntries(dirs.map((dir) => [dir, []]));
    for (let run = 0; run < Number(process.env.VIGIL_PROFILE_RUNS ?? 9); run++) {
      // The order turns every run (A B, B A, …), so that neither build always follows the other.
      for (const dir of run % 2 ? [...dirs].reverse() : dirs) {
        workerDir = dir;
        speeds[dir].push(Math.round(await (process.env.VIGIL_PROFILE_FRESH ? loadFresh() : load())));
      }
    }
    console.log(`${mb.toFixed(0)} MB on ${workers} worker(s), builds in turn${process.env.VIGIL_PROFILE_FRESH ? ', each load in a fresh context' : ''}:`);
    for (const dir of dirs) console.log(`${dir}: median ${median(speeds[dir])} MB/s (${speeds[dir].join(', ')})`);
    if (dirs.length === 2) {
      // Which build was faster in each run's pair, and how likely so lopsided a count is when
      // the builds are alike (a two-sided sign test; ties left out).
      const [a, b] = dirs.map((dir) => speeds[dir]);
      const bFaster = b.filter((v, i) => v > a[i]).length;
      const pairs = b.filter((v, i) => v !== a[i]).length;
      const choose = (n, k) => (k === 0 ? 1 : (choose(n - 1, k - 1) * n) / k);
      const tail = (k) => Array.from({ length: k + 1 }, (_, i) => choose(pairs, i)).reduce((x, y) => x + y, 0) / 2 ** pairs;
      const p = Math.min(1, 2 * tail(Math.min(bFaster, pairs - bFaster)));
      console.log(`${dirs[1]} faster in ${bFaster} of ${pairs} pairs (sign test p = ${p.toFixed(3)})`);
    }
  } else {
    await profileLoad();
  }
} finally {
  await browser.close();
  server.close();
}

/** One load with the profiler on every worker the page starts; prints the table worker's. */
async function profileLoad() {
  const version = await (await fetch(`http://127.0.0.1:${DEBUG_PORT}/json/version`)).json();
  const socket = new WebSocket(version.webSocketDebuggerUrl);
  await new Promise((ok) => socket.addEventListener('open', ok));
  let lastId = 0;
  const pending = new Map();
  const profiled = [];
  const send = (method, params = {}, sessionId) => new Promise((ok) => {
    lastId += 1;
    pending.set(lastId, ok);
    socket.send(JSON.stringify({ id: lastId, method, params, sessionId }));
  });
  socket.addEventListener('message', async (event) => {
    const message = JSON.parse(event.data);
    if (message.id && pending.has(message.id)) {
      pending.get(message.id)(message.result ?? message.error);
      pending.delete(message.id);
      return;
    }
    if (message.method !== 'Target.attachedToTarget') return;
    const { sessionId, targetInfo } = message.params;
    // Workers the attached target starts are attached too (the table worker's helpers).
    send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: true }, sessionId);
    if (targetInfo.type === 'worker' && !profiled.some((w) => w.targetId === targetInfo.targetId)) {
      profiled.push({ sessionId, targetId: targetInfo.targetId, url: targetInfo.url });
      await send('Profiler.enable', {}, sessionId);
      await send('Profiler.setSamplingInterval', { interval: 200 }, sessionId);
      await send('Profiler.start', {}, sessionId);
    }
  });
  const pages = (await send('Target.getTargets')).targetInfos.filter((t) => t.type === 'page');
  for (const target of pages) await send('Target.attachToTarget', { targetId: target.targetId, flatten: true });
  // A helper ends with the load: with VIGIL_PROFILE_HELPERS_MS, the helpers' profiles are taken
  // that long after the load starts (before it ends), and printed after the table worker's.
  const helperMs = Number(process.env.VIGIL_PROFILE_HELPERS_MS ?? 0);
  const early = new Map();
  const takeHelpers = helperMs > 0 && new Promise((ok) => setTimeout(async () => {
    for (const worker of profiled.filter((w) => w.url.includes('helper'))) {
      early.set(worker, await send('Profiler.stop', {}, worker.sessionId));
    }
    ok();
  }, helperMs));
  console.log(`${mb.toFixed(0)} MB on ${workers} worker(s): ${(await load()).toFixed(0)} MB/s (with the profiler on)`);
  await takeHelpers;
  for (const worker of [...profiled.filter((w) => !early.has(w)), ...early.keys()]) {
    const stopped = early.get(worker) ?? await Promise.race([send('Profiler.stop', {}, worker.sessionId), new Promise((ok) => setTimeout(() => ok(null), 3000))]);
    if (!stopped?.profile) continue; // a helper, ended with the load
    const { nodes, samples, timeDeltas } = stopped.profile;
    const byId = new Map(nodes.map((n) => [n.id, n]));
    const self = new Map();
    samples.forEach((id, k) => {
      const frame = byId.get(id).callFrame;
      const name = frameName(frame);
      self.set(name, (self.get(name) ?? 0) + (timeDeltas[k] ?? 0));
    });
    const total = [...self.values()].reduce((a, b) => a + b, 0);
    const print = (title, times) => {
      console.log(`\n${worker.url.replace(url, '')}: ${(total / 1000).toFixed(0)} ms sampled; ${title}`);
      for (const [name, us] of [...times].sort((a, b) => b[1] - a[1]).slice(0, 40)) {
        console.log(`${(us / 1000).toFixed(1).padStart(8)} ms ${((100 * us) / total).toFixed(1).padStart(5)} %  ${name.slice(0, 140)}`);
      }
    };
    print('self time', self);
    // Each function's time with its callees' (a function counted once per sample however deep
    // it recurs).
    const parent = new Map();
    for (const node of nodes) for (const child of node.children ?? []) parent.set(child, node.id);
    const withCallees = new Map();
    samples.forEach((id, k) => {
      const seen = new Set();
      for (let at = id; at !== undefined; at = parent.get(at)) {
        seen.add(frameName(byId.get(at).callFrame));
      }
      for (const name of seen) withCallees.set(name, (withCallees.get(name) ?? 0) + (timeDeltas[k] ?? 0));
    });
    print('time with callees', withCallees);
    if (process.env.VIGIL_PROFILE_SLICES) timeline(stopped.profile, byId, Number(process.env.VIGIL_PROFILE_SLICES));
  }
  socket.close();
}

/** The load in slices of `ms` milliseconds: each slice's share of idle time and its three
 * costliest functions (self time). */
function timeline({ samples, timeDeltas }, byId, ms) {
  console.log(`\nthe table worker in slices of ${ms} ms: idle share, then the costliest functions`);
  const slices = [];
  let at = 0;
  samples.forEach((id, k) => {
    at += timeDeltas[k] ?? 0;
    const slice = Math.floor(at / 1000 / ms);
    slices[slice] ??= new Map();
    const name = frameName(byId.get(id).callFrame);
    slices[slice].set(name, (slices[slice].get(name) ?? 0) + (timeDeltas[k] ?? 0));
  });
  slices.forEach((times, k) => {
    if (!times) return;
    const total = [...times.values()].reduce((a, b) => a + b, 0);
    const idle = times.get('(idle)') ?? 0;
    const top = [...times].filter(([name]) => name !== '(idle)').sort((a, b) => b[1] - a[1]).slice(0, 3);
    const named = top.map(([name, us]) => `${name.slice(0, 40)} ${((100 * us) / total).toFixed(0)}%`).join(', ');
    console.log(`${String(k * ms).padStart(6)} ms  idle ${((100 * idle) / total).toFixed(0).padStart(3)}%  ${named}`);
  });
}

/** A profile frame's function name, or where it is when it has none. */
function frameName(frame) {
  return frame.functionName || `(${frame.url.split('/').pop()}:${frame.lineNumber})`;
}
