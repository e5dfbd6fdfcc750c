// The browser benchmarks' static server: dist/ and benches/browser/ (with its node_modules) from
// the repository, on a free local port (run.mjs, profile.mjs).
import { createServer } from 'node:http';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const repo = resolve(here, '..', '..');
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css' };

/** Starts the server. `workerDir()`, asked at each request, may name a directory whose worker
 * files (`vigil-worker*`) are served in place of dist's: a build to profile or compare, never
 * cached, since the builds compared have the same names. */
export async function serve(workerDir = () => null) {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const dir = workerDir();
    const swapped = dir !== null && path.startsWith('/dist/vigil-worker');
    const file = swapped ? join(resolve(dir), path.slice('/dist/'.length)) : normalize(join(repo, path));
    const allowed = swapped || [join(repo, 'dist'), here].some((root) => file.startsWith(root));
    if (!allowed || !existsSync(file) || statSync(file).isDirectory()) {
      res.writeHead(404).end();
      return;
    }
    const headers = { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' };
    if (swapped) headers['cache-control'] = 'no-store';
    res.writeHead(200, headers);
    res.end(readFileSync(file));
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => server.close() };
}
