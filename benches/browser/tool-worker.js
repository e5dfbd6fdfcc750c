// One JavaScript peer per Worker: `new Worker('tool-worker.js?tool=papaparse')`. It receives a
// File, parses it into typed columns held in memory, and answers {rows, columns, ms}. `read`
// parses nothing: it reads the File's bytes as Vigil's worker does (its byte stream into one
// 4 MB buffer), the floor under every tool's time on this machine.
/* global Papa, uDSV, aq */
const tool = new URL(self.location.href).searchParams.get('tool');
const lib = {
  papaparse: 'node_modules/papaparse/papaparse.min.js',
  udsv: 'node_modules/udsv/dist/uDSV.iife.min.js',
  arquero: 'node_modules/arquero/dist/arquero.min.js',
}[tool];
if (lib) importScripts(lib);

let keep = null; // the parsed result stays alive until the next message (memory is measured)

async function parsePapa(file) {
  return new Promise((resolve, reject) => {
    let columns = null;
    let rows = 0;
    Papa.parse(file, {
      header: true,
      dynamicTyping: true,
      skipEmptyLines: true,
      chunkSize: 4 << 20,
      chunk(results) {
        const fields = results.meta.fields;
        columns ??= Object.fromEntries(fields.map((f) => [f, []]));
        for (const row of results.data) {
          for (const f of fields) columns[f].push(row[f]);
        }
        rows += results.data.length;
      },
      complete() { resolve({ rows, columns: Object.keys(columns ?? {}).length, data: columns }); },
      error(err) { reject(err); },
    });
  });
}

async function parseUdsv(file) {
  const stream = file.stream().pipeThrough(new TextDecoderStream());
  let parser = null;
  for await (const chunk of stream) {
    parser ??= uDSV.initParser(uDSV.inferSchema(chunk));
    parser.chunk(chunk, parser.typedCols);
  }
  const cols = parser.end();
  return { rows: cols[0]?.length ?? 0, columns: cols.length, data: cols };
}

/** Reads the file through its byte stream, each chunk into the same 4 MB buffer; parses
 * nothing (rows are not counted: counting would be work of its own). */
async function readOnly(file) {
  const reader = file.stream().getReader({ mode: 'byob' });
  let buffer = new ArrayBuffer(4 << 20);
  let bytes = 0;
  for (;;) {
    const { value, done } = await reader.read(new Uint8Array(buffer, 0, buffer.byteLength));
    if (done) break;
    bytes += value.byteLength;
    buffer = value.buffer;
  }
  if (bytes !== file.size) throw new Error(`read ${bytes} of ${file.size} bytes`);
  return { rows: null, columns: 0, data: null };
}

async function parseArquero(file) {
  const table = aq.fromCSV(await file.text());
  return { rows: table.numRows(), columns: table.numCols(), data: table };
}

self.onmessage = async (event) => {
  keep = null;
  const file = event.data;
  const started = performance.now();
  try {
    const parse = { papaparse: parsePapa, udsv: parseUdsv, arquero: parseArquero, read: readOnly }[tool];
    const result = await parse(file);
    keep = result.data;
    self.postMessage({ ok: true, rows: result.rows, columns: result.columns, ms: performance.now() - started });
  } catch (err) {
    self.postMessage({ ok: false, error: String(err?.message ?? err), ms: performance.now() - started });
  }
};
