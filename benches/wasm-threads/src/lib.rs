//! Vigil's loader in a wasm module with threads (see Cargo.toml): a load of CSV bytes pushed in
//! chunks, on this thread alone, with pool threads taking parts of each block, or wholly on the
//! pool while the calling worker only reads the file.

use std::sync::mpsc;
use vigil::data::load::{LoadOptions, TableLoader};
use wasm_bindgen::prelude::*;
pub use wasm_bindgen_rayon::init_thread_pool;

/// A load in progress.
#[wasm_bindgen]
pub struct Load {
    /// Parsing on the calling thread (with pool threads when `threads` > 1).
    here: Option<TableLoader>,
    /// Parsing on the pool: chunks go to it, and its answer comes back.
    chunks: Option<mpsc::SyncSender<Vec<u8>>>,
    answer: Option<mpsc::Receiver<Result<f64, String>>>,
    /// The file read before the timed load (`hold`), in its chunks.
    held: Vec<Vec<u8>>,
}

#[wasm_bindgen]
impl Load {
    /// A load of a file of `size` bytes on `threads` threads; with `on_pool`, the loader itself
    /// runs on a pool thread (the pool needs `threads` workers), else on this one (the pool
    /// needs `threads` − 1).
    #[wasm_bindgen(constructor)]
    pub fn new(threads: usize, size: f64, on_pool: bool) -> Load {
        let loader = TableLoader::new(LoadOptions::default()).with_size_hint(size as u64).with_threads(threads);
        if !on_pool {
            return Load { here: Some(loader), chunks: None, answer: None, held: Vec::new() };
        }
        // A few chunks ahead at most: reading waits while the parsing is behind.
        let (chunks, received) = mpsc::sync_channel::<Vec<u8>>(4);
        let (answer_to, answer) = mpsc::channel();
        rayon::spawn(move || {
            let mut loader = loader;
            let mut failed = None;
            for chunk in received {
                if failed.is_none() {
                    failed = loader.push(&chunk).err().map(|err| err.to_string());
                }
            }
            let rows = match failed {
                Some(err) => Err(err),
                None => loader.finish().map(|report| report.table.n_rows as f64).map_err(|err| err.to_string()),
            };
            // (Nobody to tell when the page has gone.)
            let _ = answer_to.send(rows);
        });
        Load { here: None, chunks: Some(chunks), answer: Some(answer), held: Vec::new() }
    }

    /// The next chunk of the file.
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), JsError> {
        if let Some(chunks) = &self.chunks {
            return chunks.send(chunk.to_vec()).map_err(|_| JsError::new("the load stopped"));
        }
        let loader = self.here.as_mut().ok_or_else(|| JsError::new("the load has finished"))?;
        loader.push(chunk).map_err(|err| JsError::new(&err.to_string()))
    }

    /// Keeps a chunk of the file to push later (`push_held`): a load of a file already in memory.
    pub fn hold(&mut self, chunk: &[u8]) {
        self.held.push(chunk.to_vec());
    }

    /// Pushes the chunks held, in order: their bytes.
    pub fn push_held(&mut self) -> Result<f64, JsError> {
        let mut bytes = 0;
        for chunk in std::mem::take(&mut self.held) {
            bytes += chunk.len();
            self.push(&chunk)?;
        }
        Ok(bytes as f64)
    }

    /// The end of the file: the table's rows.
    pub fn finish(&mut self) -> Result<f64, JsError> {
        if let Some(answer) = self.answer.take() {
            self.chunks = None;
            return answer.recv().map_err(|_| JsError::new("the load stopped"))?.map_err(|err| JsError::new(&err));
        }
        let loader = self.here.take().ok_or_else(|| JsError::new("the load has finished"))?;
        let report = loader.finish().map_err(|err| JsError::new(&err.to_string()))?;
        Ok(report.table.n_rows as f64)
    }
}
