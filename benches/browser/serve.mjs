// The browser benchmarks' static server: dist/ and benches/browser/ (with its node_modules) from
// the repository, on a free local port (run.mjs, profile.mjs, ../wasm-threads/run.mjs).
import { createServer } from 'node:http';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const repo = resolve(here, '..', '..');
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css' };

/** Starts the server. `workerDir()`, asked at each request, may name a directory whose worker
 * files (`vigil-worker*`) are served in place of dist's: a build to profile or compare, never
 * cached, since the builds compared have the same names. `roots`: more of the repository's
 * directories to serve; `isolated`: every answer with the headers that make a page cross-origin
 * isolated (shared memory; benches/wasm-threads). */
export async function serve(workerDir = () => null, { roots = [], isolated = false } = {}) {
  const allowedRoots = [join(repo, 'dist'), here, ...roots.map((root) => join(repo, root))];
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const dir = workerDir();
    const swapped = dir !== null && path.startsWith('/dist/vigil-worker');
    const file = swapped ? join(resolve(dir), path.slice('/dist/'.length)) : normalize(join(repo, path));
    const allowed = swapped || allowedRoots.some((root) => file.startsWith(root));
    if (!allowed || !existsSync(file) || statSync(file).isDirectory()) {
      res.writeHead(404).end();
      return;
    }
    const headers = { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' };
    if (swapped) headers['cache-control'] = 'no-store';
    if (isolated) {
      headers['cross-origin-opener-policy'] = 'same-origin';
      headers['cross-origin-embedder-policy'] = 'require-corp';
    }
    res.writeHead(200, headers);
    res.end(readFileSync(file));
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => server.close() };
}
