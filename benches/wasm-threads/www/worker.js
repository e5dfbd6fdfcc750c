// One timed load in a fresh worker: { file, threads, onPool, inMemory, readOnly, read } → { ready },
// then after the page's go → { ms, rows, bytes }. `read` names a way of reading in READS (default
// `stream`: the byte stream into one buffer, as the app reads).
import init, { initThreadPool, Load } from '/target/wasm-threads/pkg/vigil_wasm_threads.js';

// The file through its byte stream into one 4 MB buffer, a chunk of at least 1 MiB at a time,
// as the app's worker reads it.
async function readFile(file, onChunk) {
  const reader = file.stream().getReader({ mode: 'byob' });
  let buffer = new ArrayBuffer(4 << 20);
  let bytes = 0;
  for (let ended = false; !ended; ) {
    let filled = 0;
    while (filled < 1 << 20) {
      const { value, done } = await reader.read(new Uint8Array(buffer, filled, buffer.byteLength - filled));
      if (value) buffer = value.buffer;
      if (done) { ended = true; break; }
      filled += value.byteLength;
    }
    if (filled > 0) onChunk(new Uint8Array(buffer, 0, filled));
    bytes += filled;
  }
  return bytes;
}

// The file a 4 MB slice at a time (`file.slice().arrayBuffer()`, the next asked for while one is
// parsed), as the app's worker reads where a browser has no byte streams.
async function readSlices(file, onChunk) {
  const SLICE = 4 << 20;
  let next = file.slice(0, SLICE).arrayBuffer();
  for (let at = 0; at < file.size; at += SLICE) {
    const slice = new Uint8Array(await next);
    next = at + SLICE < file.size ? file.slice(at + SLICE, at + 2 * SLICE).arrayBuffer() : null;
    onChunk(slice);
  }
  return file.size;
}

// Every way of reading a file: the app's (`stream`), its fallback (`slices`), and the other ways
// the browser offers, timed alone (`readOnly`) to see whether one costs less CPU than the app's.
function readInSyncSlices(mb) {
  return async (file, onChunk) => {
    const reader = new FileReaderSync();
    for (let at = 0; at < file.size; at += mb << 20) onChunk(new Uint8Array(reader.readAsArrayBuffer(file.slice(at, at + (mb << 20)))));
    return file.size;
  };
}
const READS = {
  stream: readFile,
  slices: readSlices,
  // The stream's own chunks, a new buffer each.
  async plain(file, onChunk) {
    const reader = file.stream().getReader();
    let bytes = 0;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return bytes;
      onChunk(value);
      bytes += value.byteLength;
    }
  },
  // `FileReaderSync` (workers only), blocking, in slices of 16 or 64 MB.
  sync16: readInSyncSlices(16),
  sync64: readInSyncSlices(64),
  // The whole file in one buffer.
  async whole(file, onChunk) {
    onChunk(new Uint8Array(await file.arrayBuffer()));
    return file.size;
  },
};

onmessage = async ({ data: { file, threads, onPool, inMemory, readOnly, read } }) => {
  try {
    await init();
    if (!self.crossOriginIsolated) throw new Error('not cross-origin isolated: no shared memory');
    const poolSize = onPool ? threads : threads - 1;
    if (poolSize > 0) await initThreadPool(poolSize);
    const load = readOnly ? null : new Load(threads, file.size, onPool);
    if (inMemory) {
      // Whole, then in the app's chunks (read as a stream before a load, the file sometimes
      // stopped coming part way, the worker idle).
      const whole = new Uint8Array(await file.arrayBuffer());
      for (let at = 0; at < whole.length; at += 4 << 20) load.hold(whole.subarray(at, at + (4 << 20)));
    }
    // Ready: the page notes the CPU spent so far, then says go.
    await new Promise((go) => {
      onmessage = go;
      postMessage({ ready: true });
    });
    const started = performance.now();
    const reading = READS[read ?? 'stream'];
    if (!reading) throw new Error(`no way of reading named ${read}`);
    // A read alone looks at each chunk's ends, so that no read is optimised away.
    let seen = 0;
    const onChunk = load ? (chunk) => load.push(chunk) : (chunk) => { seen += chunk[0] + chunk[chunk.length - 1]; };
    const bytes = inMemory ? load.push_held() : await reading(file, onChunk);
    const rows = load ? load.finish() : 0;
    postMessage({ ms: performance.now() - started, rows, bytes, seen });
  } catch (err) {
    postMessage({ error: String(err?.stack ?? err) });
  }
};
