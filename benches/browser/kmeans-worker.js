// ml-kmeans (npm) in a Worker, for the k-means comparison: receives {file, k, iterations},
// parses the numeric CSV into arrays (not timed), runs k-means++ and Lloyd steps (timed), and
// answers {ok, rows, ms, iterations}. The bundle is built by run.mjs with esbuild.
/* global mlKmeans */
importScripts('node_modules/.vigil-bundles/ml-kmeans.js');

let keep = null;

self.onmessage = async (event) => {
  const { file, k, iterations } = event.data;
  try {
    const text = await file.text();
    const lines = text.split('\n');
    const data = [];
    for (let i = 1; i < lines.length; i++) {
      if (lines[i].length === 0) continue;
      data.push(lines[i].split(',').map(Number));
    }
    const started = performance.now();
    const result = mlKmeans.kmeans(data, k, { initialization: 'kmeans++', seed: 7, maxIterations: iterations, tolerance: 1e-12 });
    const ms = performance.now() - started;
    keep = result;
    self.postMessage({ ok: true, rows: data.length, ms, iterations: result.iterations });
  } catch (err) {
    self.postMessage({ ok: false, error: String(err?.message ?? err) });
  }
};
