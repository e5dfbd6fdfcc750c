// Page side of the browser benchmark. `window.runTool(tool)` loads the file chosen in #file with
// one tool (`vigil-Nw`: Vigil parsing on N workers) in a fresh Worker and resolves to {ok, rows, columns, ms} (ms from handing over the
// File to typed columns in memory). Driven by run.mjs through playwright-core.
import * as duckdb from './node_modules/@duckdb/duckdb-wasm/dist/duckdb-browser.mjs';
import { decode, encode } from './node_modules/@msgpack/msgpack/dist.esm/index.mjs';

/** A request to Vigil's worker (protocol.rs `Envelope`, MessagePack as the app sends it). */
const envelope = (id, request) => ({ envelope: encode({ id, request }) });
const isReady = (r) => r === 'Ready' || (r && typeof r === 'object' && 'Ready' in r);

let current = null; // the last tool's worker / database, kept alive until the next run

/** The worker message that loads `file` (the File beside the envelope). */
function loadMessage(file, cube = null) {
  const options = { delimiter: null, has_header: null, infer_types: true };
  return { ...envelope(1, { Load: { source: { File: { name: file.name } }, options, cube } }), file };
}

async function cleanup() {
  if (current?.terminate) current.terminate();
  if (current?.db) await current.db.terminate();
  current = null;
}

/** A request to run an analysis of the registry (protocol.rs `Run`), e.g. `{ Profile: params }`. */
const run = (params) => ({ Run: { params } });

/** The report of analysis `name` in a `Done` response (or `{ error }` when it failed); nothing
 * when the response is not that analysis's answer. */
function report(response, name) {
  const done = response.Done;
  if (!done) return null;
  if (done.result.Err) return { error: JSON.stringify(done.result.Err) };
  return done.result.Ok[name] ?? null;
}

/** Loads with Vigil, profiles the whole table, then builds and models the daily series, all in
 * the worker; resolves to the timings. */
window.runVigilProfile = () => new Promise((resolve) => {
  const file = document.getElementById('file').files[0];
  const worker = new Worker('/dist/vigil-worker_loader.js');
  current = worker;
  let started = 0;
  let loadMs = 0;
  let profile = null;
  let trend = null;
  worker.onmessage = (event) => {
    const response = decode(event.data);
    if (isReady(response)) {
      started = performance.now();
      worker.postMessage(loadMessage(file));
    } else if (response.Loaded) {
      loadMs = performance.now() - started;
      started = performance.now();
      const params = { now_ms: null, missing_alert_share: 0.05, top_values: 10, key: null };
      worker.postMessage(envelope(2, run({ Profile: params })));
    } else if (report(response, 'Profile')) {
      const p = report(response, 'Profile');
      if (p.error) { resolve({ ok: false, error: p.error }); return; }
      profile = { profileMs: performance.now() - started, rows: p.rows, columns: p.columns.length };
      // Then a daily series of every row with the full model pipeline (the `trend` analysis).
      started = performance.now();
      worker.postMessage(envelope(3, run({ Trend: { time: 'created_at', metric: 'count', granularity: 'Day' } })));
    } else if (report(response, 'Trend')) {
      const trendReport = report(response, 'Trend');
      if (trendReport.error) { resolve({ ok: false, error: trendReport.error }); return; }
      trend = { trendMs: performance.now() - started, trendWorkerMs: response.Done.elapsed_ms, periods: trendReport.series.values.length };
      // Then the root cause of the scam wave (the `rca` analysis): every dimension,
      // combinations to depth 3, the two weeks before as baseline.
      started = performance.now();
      const day = 86_400_000;
      const start = Date.UTC(2026, 8, 24);
      const params = {
        time_column: 'created_at', metric: { kind: 'count' }, dimensions: null, max_depth: 3, explain_share: 0.8,
        baseline: { start_ms: start - 14 * day, end_ms: start }, incident: { start_ms: start, end_ms: start + 4 * day },
      };
      worker.postMessage(envelope(4, run({ RootCause: params })));
    } else if (report(response, 'RootCause')) {
      const rca = report(response, 'RootCause');
      if (rca.error) { resolve({ ok: false, error: rca.error }); return; }
      resolve({ ok: true, loadMs, ...profile, ...trend, rcaMs: performance.now() - started, rcaDimensions: rca.dimensions.length, rcaSummary: rca.summary });
    } else if (response.LoadFailed || response.Failed) {
      resolve({ ok: false, error: JSON.stringify(response) });
    }
  };
});

/** Loads the file with Vigil's worker; with `cube` (stream settings, `{}` for the app's
 * defaults) streams it into a cube and a sample instead, and resolves to the rows read (from the
 * load's first notice), the cube's rows and its notes. */
function runVigil(file, cube = null, workers = null) {
  return new Promise((resolve) => {
    // `workers=N`: the table worker parses with N - 1 helpers (default: the cores, at most 4).
    const worker = new Worker(`/dist/vigil-worker_loader.js${workers ? `?workers=${workers}` : ''}`);
    current = worker;
    let started = 0;
    worker.onerror = (e) => resolve({ ok: false, error: e.message ?? 'worker error' });
    worker.onmessage = (event) => {
      const response = decode(event.data);
      if (isReady(response)) {
        started = performance.now();
        worker.postMessage(loadMessage(file, cube));
      } else if (response.Loaded) {
        const s = response.Loaded.summary;
        const ms = performance.now() - started;
        if (!cube) {
          resolve({ ok: true, rows: s.n_rows, columns: s.columns.length, ms });
          return;
        }
        const read = /^Read ([\d,]+) rows/.exec(s.notices[0] ?? '');
        resolve({ ok: true, rows: read ? Number(read[1].replaceAll(',', '')) : -1, cubeRows: s.n_rows, notes: s.notices, ms });
      } else if (response.LoadFailed) {
        resolve({ ok: false, error: response.LoadFailed.message, ms: performance.now() - started });
      }
    };
  });
}

function runJs(tool, file) {
  return new Promise((resolve) => {
    const worker = new Worker(`tool-worker.js?tool=${tool}`);
    current = worker;
    worker.onerror = (e) => resolve({ ok: false, error: e.message ?? 'worker error' });
    worker.onmessage = (event) => resolve(event.data);
    worker.postMessage(file);
  });
}

async function runDuckdb(file) {
  const base = new URL('./node_modules/@duckdb/duckdb-wasm/dist/', import.meta.url).href;
  const worker = new Worker(`${base}duckdb-browser-eh.worker.js`);
  const db = new duckdb.AsyncDuckDB(new duckdb.VoidLogger(), worker);
  current = { db };
  await db.instantiate(`${base}duckdb-eh.wasm`);
  const conn = await db.connect();
  // Nothing may leave the machine: no extension downloads.
  await conn.query('SET autoinstall_known_extensions=false');
  await conn.query('SET autoload_known_extensions=false');
  const started = performance.now();
  try {
    await db.registerFileHandle('data.csv', file, duckdb.DuckDBDataProtocol.BROWSER_FILEREADER, true);
    await conn.query("CREATE TABLE t AS SELECT * FROM read_csv('data.csv')");
    const ms = performance.now() - started;
    const rows = Number((await conn.query('SELECT count(*) AS n FROM t')).toArray()[0].n);
    const columns = (await conn.query("SELECT count(*) AS n FROM information_schema.columns WHERE table_name = 't'")).toArray()[0].n;
    return { ok: true, rows, columns: Number(columns), ms };
  } catch (err) {
    return { ok: false, error: String(err?.message ?? err), ms: performance.now() - started };
  }
}

/** Vigil's worker on the chosen file: loads it, sends `request(summary)`, counts progress steps
 * and resolves to what `answer(response, run)` returns for a later response (nothing: keep
 * waiting); `run` holds the rows loaded, the request's start time and the steps seen. */
function vigilAnalysis(file, request, answer) {
  return new Promise((resolve) => {
    const worker = new Worker('/dist/vigil-worker_loader.js');
    current = worker;
    const run = { rows: 0, started: 0, steps: 0, last: 0, longestGapMs: 0, lastStep: 'the request', longestGapAt: '' };
    worker.onmessage = (event) => {
      const response = decode(event.data);
      if (isReady(response)) {
        worker.postMessage(loadMessage(file));
      } else if (response.Loaded) {
        run.rows = response.Loaded.summary.n_rows;
        run.started = performance.now();
        run.last = run.started;
        worker.postMessage(envelope(2, request(response.Loaded.summary)));
      } else if (response.Step) {
        run.steps += 1;
        // The longest stretch without a progress message: how long a Cancel could wait.
        const now = performance.now();
        const step = `${response.Step.phase}: ${response.Step.detail}`;
        if (now - run.last > run.longestGapMs) {
          run.longestGapMs = now - run.last;
          run.longestGapAt = `from “${run.lastStep}” to “${step}”`;
        }
        run.last = now;
        run.lastStep = step;
      } else if (response.LoadFailed || response.Failed) {
        resolve({ ok: false, error: JSON.stringify(response) });
      } else {
        const done = answer(response, run);
        if (done) resolve(done);
      }
    };
  });
}

/** k-means k clusters of the chosen numeric CSV: Vigil's worker (load, then the Cluster
 * request: features, k-means++ and Lloyd steps with progress, assignment, PCA map, profiles), or
 * ml-kmeans in a Worker (k-means++ and Lloyd steps only). */
window.runKmeans = (tool, k, iterations) => {
  const file = document.getElementById('file').files[0];
  if (tool === 'ml-kmeans') {
    return new Promise((resolve) => {
      const worker = new Worker('kmeans-worker.js');
      current = worker;
      worker.onerror = (e) => resolve({ ok: false, error: e.message ?? 'worker error' });
      worker.onmessage = (event) => resolve(event.data);
      worker.postMessage({ file, k, iterations });
    });
  }
  const request = (summary) => run({
    Cluster: {
      entity: null, features: summary.columns.map((c) => ({ column: c.name, encoding: 'Numeric' })), entity_count: false, log1p: false, standardise: false, clip_z: null, missing: 'Drop',
      algorithm: { KMeans: { k, n_init: 1, max_iter: iterations } }, sample_limit: summary.n_rows, seed: 7, label: null, scan_k: false,
    },
  });
  return vigilAnalysis(file, request, (response, progress) => {
    const c = report(response, 'Cluster');
    if (!c) return null;
    if (c.error) return { ok: false, error: c.error };
    const timings = Object.fromEntries(response.Done.timings);
    return { ok: true, rows: progress.rows, ms: performance.now() - progress.started, fitMs: timings.fit ?? 0, timings, iterations: c.iterations, progressMessages: progress.steps };
  });
};

/** Loads the file with Vigil, then explains the change between two windows (protocol.rs
 * `RootCause`, every dimension, combinations to depth 3); resolves to the time from request to
 * answer, the progress messages seen on the way and the report's summary. */
window.runVigilRootCause = (windows) => {
  const file = document.getElementById('file').files[0];
  const request = () => run({ RootCause: { time_column: 't', metric: { kind: 'count' }, dimensions: null, max_depth: 3, explain_share: 0.8, ...windows } });
  return vigilAnalysis(file, request, (response, progress) => {
    const rca = report(response, 'RootCause');
    if (!rca) return null;
    if (rca.error) return { ok: false, error: rca.error };
    return { ok: true, rows: progress.rows, ms: performance.now() - progress.started, workerMs: response.Done.elapsed_ms, steps: progress.steps, dimensions: rca.dimensions.length, examined: rca.examined, summary: rca.summary };
  });
};

/** Rings of the chosen entity file (account, device, ip, payment) in Vigil's worker. */
window.runVigilRings = (cap) => {
  const file = document.getElementById('file').files[0];
  const request = () => run({ Rings: { entity: 'account', attributes: ['device', 'ip', 'payment'], cap } });
  return vigilAnalysis(file, request, (response, progress) => {
    const rings = report(response, 'Rings');
    if (!rings) return null;
    if (rings.error) return { ok: false, error: rings.error };
    return {
      ok: true, rows: progress.rows, ms: performance.now() - progress.started, workerMs: response.Done.elapsed_ms, steps: progress.steps,
      ...(performance.now() - progress.last > progress.longestGapMs
        ? { longestGapMs: performance.now() - progress.last, longestGapAt: `from “${progress.lastStep}” to the report` }
        : { longestGapMs: progress.longestGapMs, longestGapAt: progress.longestGapAt }),
      entities: rings.entities, components: rings.components, largest: rings.largest_component, excluded: rings.excluded_count, ringsFound: rings.rings_found,
    };
  });
};

window.runTool = async (tool) => {
  await cleanup();
  const file = document.getElementById('file').files[0];
  if (tool === 'vigil') return runVigil(file);
  const workers = /^vigil-(\d+)w$/.exec(tool);
  if (workers) return runVigil(file, null, Number(workers[1]));
  if (tool === 'vigil-cube') return runVigil(file, {});
  if (tool === 'duckdb') return runDuckdb(file);
  return runJs(tool, file);
};
window.cleanup = cleanup;
window.benchReady = true;
