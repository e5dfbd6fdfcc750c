//! Helper workers: the table worker parses a large CSV (or JSON, or gzip's text) on every core.
//!
//! The loader gathers the text into blocks ([`TableLoader::with_helpers`]); the table worker
//! sends each block's parts after the first to the helpers, a part each, and merges in order:
//! the first part it parses itself, then the helpers' answers ([`TableLoader::merge_block`]). Meanwhile it reads the file and sends the next blocks (up to
//! [`AHEAD`] a helper), so the helpers never wait for it. A part's start is a guess (a line end
//! that may sit inside a quoted field): when the part before it stopped elsewhere, the table
//! worker parses it itself, as it does a part whose helper crashed. The table is exactly the
//! one a single worker builds.
//!
//! A helper is this same module, started with its loader `vigil-worker_helper.js?helper`, to
//! which this worker sends its own compiled `WebAssembly.Module` first: the helper neither
//! fetches nor compiles it, and the browser shares the compiled code between the two workers (a
//! 32 MB head of the demo on two workers loaded at 135 against 116 MB/s, the 200 MB demo at 237
//! against 230, builds in turn). Helpers start when the load of a large file starts
//! ([`SPAWN_EARLY_BYTES`]: they start while this worker reads the first bytes and samples the
//! types, which spared the first block a wait of 60–75 ms for the helper) or else on the first
//! block, and end with the load.
//!
//! Messages are plain objects: first `{module}` to the helper and `{ready: true}` back, then
//! `{fork, text, stop, atEnd, spare}` to it (the reader it starts from and the block's text from
//! the part's start, as bytes, [`crate::data::wire`]) and `{part: bytes, back}` or
//! `{failed: true, back}` back.
//! Bytes are transferred, not copied.
//!
//! The buffers go back and forth instead of being made for each part ([`BufferPool`]): the text
//! comes back with the answer (`back`) and carries the next part's text, and the answer's
//! buffer goes back to the helper with its next part (`spare`) and carries its next answer. A
//! buffer made for each part is freed only when its worker collects garbage: on the 200 MB demo
//! with one helper that garbage was about 80 MB of the load's peak (`make bench`, 2026-12-05:
//! 1.89× the file, 1.47× with a garbage collection forced after each part).

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{ArrayBuffer, Object, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{MessageEvent, Worker};

use super::reader::{bytes_of, get, set, Inbox, Listeners};
use crate::data::load::{Block, LoadError, PartParser, TableLoader};

/// Parsing workers at most: past four, merging the parts in the table worker is what limits
/// the speed.
const MAX_WORKERS: usize = 4;

/// Text each worker parses at a time: a block is this times the workers. 1 MiB rather than 2:
/// less text and fewer answers in flight, and the helper's memory smaller; on the 200 MB demo
/// with one helper the peak went from 1.56–1.63× the file to 1.44–1.47× and the speed from
/// 168–173 to 175–177 MB/s (`make bench`, 2026-12-05, two sets of five runs each).
pub const PART_BYTES: usize = 1 << 20;

/// Blocks sent to the helpers and not merged yet, at most (a helper has the next part waiting
/// when it finishes one; the text held stays a few blocks).
const AHEAD: usize = 2;

/// File size from which the helpers start with the load rather than with the first block of
/// text (a smaller file may have no block: a helper started for it would only cost memory).
pub const SPAWN_EARLY_BYTES: u64 = 16 << 20;

/// Cores below which the table worker parses alone unless asked otherwise: on two cores a
/// helper made a 200 MB load 13 % faster and its peak memory 18 % higher (`make bench`,
/// 2026-12-05; 18 % and 32 % on 2026-12-04), and a tab's memory is what limits the files it
/// can open. Since lines go to the columns in batches, a helper on two cores made the load
/// slower, not faster (130 against 172 MB/s in one run, 2026-12-05 evening).
const MIN_CORES: usize = 4;

/// The workers to parse with: `workers=N` in this worker's address (the page passes on its
/// own; the benchmark's scaling curve), else the machine's cores, at most [`MAX_WORKERS`], on a
/// machine with at least [`MIN_CORES`]. One: this worker parses alone; N: it parses each
/// block's first part and N − 1 helpers the others, while it also reads the file and merges.
pub fn wanted() -> usize {
    let scope = super::scope();
    let search = scope.location().search();
    let asked = search.trim_start_matches('?').split('&').find_map(|pair| pair.strip_prefix("workers=")).and_then(|n| n.parse::<usize>().ok());
    let cores = scope.navigator().hardware_concurrency() as usize;
    match asked {
        Some(n) => n.clamp(1, 16),
        None if cores >= MIN_CORES => cores.min(MAX_WORKERS),
        None => 1,
    }
}

/// This worker was started as a helper.
pub fn is_helper() -> bool {
    super::scope().location().search().split(['?', '&']).any(|pair| pair == "helper")
}

struct Helper {
    worker: Worker,
    inbox: Rc<RefCell<Inbox>>,
    /// It crashed or could not start: it is sent nothing more.
    gone: bool,
    /// Buffers of its answers, to give back with its next part (`spare`).
    spare: Vec<ArrayBuffer>,
    _listeners: Listeners,
}

/// Buffers for bytes sent to another worker, used again once they come back.
#[derive(Default)]
struct BufferPool {
    buffers: Vec<ArrayBuffer>,
}

impl BufferPool {
    /// Returned buffers at most (one helper holds a few parts; more would only be memory held).
    const KEPT: usize = 8;

    /// A view of `bytes` in the smallest buffer of the pool that holds them, or in a new one
    /// with room to spare (parts vary a little in size).
    fn lend(&mut self, bytes: &[u8]) -> Uint8Array {
        let len = bytes.len() as u32;
        let fitting = self.buffers.iter().enumerate().filter(|(_, b)| b.byte_length() >= len).min_by_key(|(_, b)| b.byte_length());
        let buffer = match fitting.map(|(at, _)| at) {
            Some(at) => self.buffers.swap_remove(at),
            None => ArrayBuffer::new(len.saturating_add(len / 8)),
        };
        let view = Uint8Array::new_with_byte_offset_and_length(&buffer, 0, len);
        view.copy_from(bytes);
        view
    }

    /// Takes back `buffer` (an `ArrayBuffer` that came back, or anything else, ignored).
    fn give_back(&mut self, buffer: &JsValue) {
        if let Some(buffer) = buffer.dyn_ref::<ArrayBuffer>() {
            if self.buffers.len() < Self::KEPT && buffer.byte_length() > 0 {
                self.buffers.push(buffer.clone());
            }
        }
    }
}

impl Drop for Helper {
    fn drop(&mut self) {
        self.worker.set_onmessage(None);
        self.worker.set_onerror(None);
        self.worker.terminate();
    }
}

/// The helpers of one load and the blocks they are parsing; ended when dropped.
pub struct Helpers {
    helpers: Vec<Helper>,
    /// Blocks sent out and not merged, oldest first, with the helper that took each part.
    in_flight: std::collections::VecDeque<(Block, Vec<Option<usize>>)>,
    /// Buffers the parts' text went out in, back with the answers.
    texts: BufferPool,
    /// Each helper said it runs, or was left out ([`Helpers::ready`]).
    ready: bool,
}

impl Helpers {
    /// Starts `n` helpers without waiting for them: each loads its module meanwhile
    /// ([`Helpers::ready`] waits).
    pub fn spawn(n: usize) -> Helpers {
        let mut started = Vec::new();
        for _ in 0..n {
            let Ok(worker) = Worker::new("./vigil-worker_helper.js?helper") else { continue };
            let start = Object::new();
            set(&start, "module", &wasm_bindgen::module());
            if worker.post_message(&start).is_err() {
                worker.terminate();
                continue;
            }
            let inbox = Rc::new(RefCell::new(Inbox::default()));
            let listeners = Inbox::listen(&worker, &inbox, "a helper stopped");
            started.push(Helper { worker, inbox, gone: false, spare: Vec::new(), _listeners: listeners });
        }
        Helpers { helpers: started, in_flight: Default::default(), texts: BufferPool::default(), ready: false }
    }

    /// Waits, the first time, until each helper runs; one that cannot start is left out (its
    /// parts are then parsed here).
    pub async fn ready(&mut self) {
        if self.ready {
            return;
        }
        for helper in &mut self.helpers {
            helper.gone = !matches!(Inbox::next(&helper.inbox).await, Ok(ready) if get(&ready, "ready").is_truthy());
        }
        self.helpers.retain(|helper| !helper.gone);
        self.ready = true;
    }

    /// Blocks sent out and not merged yet.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// Another block can be sent out before the oldest is merged.
    pub fn has_room(&self) -> bool {
        self.in_flight.len() < AHEAD
    }

    /// Sends `block`'s parts after the first to the helpers, a part each (a part no helper
    /// takes is parsed here when the block is merged).
    pub fn send(&mut self, block: Block) {
        let parts = block.parts();
        // Which helper took each part.
        let mut asked: Vec<Option<usize>> = Vec::with_capacity(parts.len());
        let live: Vec<usize> = self.helpers.iter().enumerate().filter(|(_, helper)| !helper.gone).map(|(k, _)| k).collect();
        let mut live = live.into_iter();
        for task in &parts {
            let taken = live.next().filter(|&k| {
                let Some(helper) = self.helpers.get_mut(k) else { return false };
                let message = Object::new();
                let (fork, text) = (Uint8Array::from(task.fork), self.texts.lend(task.text));
                let spare: js_sys::Array = helper.spare.drain(..).collect();
                set(&message, "fork", &fork);
                set(&message, "text", &text);
                set(&message, "stop", &(task.stop as f64).into());
                set(&message, "atEnd", &task.at_end.into());
                set(&message, "spare", &spare);
                let transfer = js_sys::Array::of2(&fork.buffer(), &text.buffer());
                for buffer in spare.iter() {
                    transfer.push(&buffer);
                }
                helper.worker.post_message_with_transfer(&message, &transfer).is_ok()
            });
            asked.push(taken);
        }
        drop(parts);
        self.in_flight.push_back((block, asked));
    }

    /// Waits for the answers to the oldest block sent out and merges them into `loader`;
    /// `false` when no block was out.
    pub async fn merge_oldest(&mut self, loader: &mut TableLoader) -> Result<bool, LoadError> {
        let Some((block, asked)) = self.in_flight.pop_front() else { return Ok(false) };
        let mut answers = Vec::with_capacity(asked.len());
        for taken in asked {
            // A helper answers in the order it was asked, and older blocks' answers were read.
            let answer = match taken.and_then(|k| self.helpers.get_mut(k)).filter(|helper| !helper.gone) {
                Some(helper) => match Inbox::next(&helper.inbox).await {
                    Ok(reply) => {
                        self.texts.give_back(&get(&reply, "back"));
                        let part = get(&reply, "part");
                        let bytes = bytes_of(&part);
                        // (Each part sent to this helper takes them all: they stay few.)
                        if let Some(view) = part.dyn_ref::<Uint8Array>() {
                            helper.spare.push(view.buffer());
                        }
                        bytes
                    }
                    Err(_) => {
                        helper.gone = true;
                        None
                    }
                },
                None => None,
            };
            answers.push(answer);
        }
        loader.merge_block(block, answers)?;
        Ok(true)
    }
}

/// A helper's entry point: answers each part it is sent.
pub fn serve() {
    // Buffers of answers the table worker gave back.
    let mut answers = BufferPool::default();
    let mut parser = PartParser::default();
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let data = event.data();
        if let Ok(spare) = get(&data, "spare").dyn_into::<js_sys::Array>() {
            for buffer in spare.iter() {
                answers.give_back(&buffer);
            }
        }
        let text_view = get(&data, "text");
        let (fork, text) = (bytes_of(&get(&data, "fork")), bytes_of(&text_view));
        let stop = get(&data, "stop").as_f64().unwrap_or(0.0) as usize;
        let at_end = get(&data, "atEnd").is_truthy();
        let answer = fork.zip(text).and_then(|(fork, text)| parser.parse(&fork, &text, stop, at_end));
        let message = Object::new();
        let transfer = js_sys::Array::new();
        // The text's buffer goes back for the next part's text.
        if let Some(view) = text_view.dyn_ref::<Uint8Array>() {
            let buffer = view.buffer();
            set(&message, "back", &buffer);
            transfer.push(&buffer);
        }
        match answer {
            Some(bytes) => {
                let bytes = answers.lend(bytes);
                set(&message, "part", &bytes);
                transfer.push(&bytes.buffer());
            }
            None => set(&message, "failed", &JsValue::TRUE),
        }
        if let Err(err) = super::scope().post_message_with_transfer(&message, &transfer) {
            web_sys::console::error_2(&"vigil helper: postMessage failed".into(), &err);
        }
    });
    super::scope().set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // The handler lives as long as the worker.
    on_message.forget();
    let ready = Object::new();
    set(&ready, "ready", &JsValue::TRUE);
    if let Err(err) = super::scope().post_message(&ready) {
        web_sys::console::error_2(&"vigil helper: postMessage failed".into(), &err);
    }
}
