// A helper worker's loader (src/worker/helpers.rs): the table worker sends its own compiled module
// in the first message, so the helper neither fetches nor compiles it again, and the two workers
// share the compiled code (V8 shares a module's code between the workers that instantiate it).
importScripts("./vigil-worker.js");
self.onmessage = (event) => {
  self.onmessage = null;
  wasm_bindgen({ module_or_path: event.data.module });
};
