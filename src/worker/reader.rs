//! The reader worker and the table worker's side of it. Parquet files and workbooks are read by
//! crates (parquet with its codecs, calamine with zip) that the table worker is built without
//! (the `readers` feature): when such a file is opened, the table worker starts this worker
//! (`vigil-reader`, its own wasm module, fetched then), hands it the file and asks for its text a
//! batch at a time; the table is built from the text as from a CSV's
//! ([`crate::data::load::Finishing::feed_text`]). The table worker asks for the next batch as it
//! starts parsing one, so the reader decodes while the table worker parses (two cores) and at
//! most two batches are held; Cancel ends the reader at once. A reader that crashes (a damaged file the crates do not guard against) ends
//! only this worker: the load fails with a message and the table on screen stays.
//!
//! Messages are plain objects: first `{ready: true}` from the reader once its module runs; to
//! the reader `{open, kind, sheet, sheetOrFirst}` (`open` the `File` itself, read in ranges by a Parquet reader,
//! or the file's bytes when it came otherwise) then `{next: true}`;
//! back `{progress, total}` (rows of a workbook's sheet read so far, and the rows it spans when
//! it says), `{text: bytes, done, total}` (a batch, rows written so far and the file's rows when
//! known), `{end: bytes}` (a [`ReaderEnd`] as MessagePack) or `{error}`. The bytes'
//! buffers are transferred, not copied; a `File` is passed as a handle (its bytes stay on disk).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use js_sys::{Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, ErrorEvent, MessageEvent, Worker};

use crate::data::load::LoadError;
use crate::data::readers::{ReaderEnd, ReaderJob, ReaderKind};

/// What the reader worker sent.
pub enum Reply {
    /// A batch of text, the rows written so far and the file's rows when known.
    Text(Vec<u8>, (u64, Option<u64>)),
    /// Rows of a workbook's sheet read so far, and the rows it spans when it says.
    Progress((u64, Option<u64>)),
    End(ReaderEnd),
    Failed(LoadError),
}

fn kind_name(kind: ReaderKind) -> &'static str {
    match kind {
        ReaderKind::Parquet => "parquet",
        ReaderKind::Workbook => "workbook",
    }
}

fn failure(kind: ReaderKind, message: String) -> LoadError {
    match kind {
        ReaderKind::Parquet => LoadError::Parquet(message),
        ReaderKind::Workbook => LoadError::Workbook(message),
    }
}

pub(super) fn set(object: &Object, key: &str, value: &JsValue) {
    // Setting a property of a plain object cannot fail.
    let _ = Reflect::set(object, &key.into(), value);
}

pub(super) fn get(object: &JsValue, key: &str) -> JsValue {
    Reflect::get(object, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

pub(super) fn bytes_of(value: &JsValue) -> Option<Vec<u8>> {
    value.dyn_ref::<Uint8Array>().map(Uint8Array::to_vec)
}

/// Messages from a worker this one started (the reader, a helper), and the future waiting for
/// the next one.
#[derive(Default)]
pub(super) struct Inbox {
    messages: VecDeque<Result<JsValue, String>>,
    waiting: Option<js_sys::Function>,
}

impl Inbox {
    pub(super) fn deliver(inbox: &Rc<RefCell<Inbox>>, message: Result<JsValue, String>) {
        let waiting = {
            let mut inbox = inbox.borrow_mut();
            inbox.messages.push_back(message);
            inbox.waiting.take()
        };
        if let Some(resolve) = waiting {
            let _ = resolve.call0(&JsValue::NULL);
        }
    }
}

/// The closures a worker's messages and its crash are delivered by (kept while it runs).
pub(super) type Listeners = (Closure<dyn FnMut(MessageEvent)>, Closure<dyn FnMut(ErrorEvent)>);

impl Inbox {
    /// The next message, waited for.
    pub(super) async fn next(inbox: &Rc<RefCell<Inbox>>) -> Result<JsValue, String> {
        loop {
            if let Some(message) = inbox.borrow_mut().messages.pop_front() {
                return message;
            }
            let waiting = inbox.clone();
            let promise = Promise::new(&mut |resolve, _reject| waiting.borrow_mut().waiting = Some(resolve));
            let _ = JsFuture::from(promise).await;
        }
    }

    /// The closures that put a worker's messages and its crash in `inbox` (kept while it runs).
    pub(super) fn listen(worker: &Worker, inbox: &Rc<RefCell<Inbox>>, stopped: &'static str) -> Listeners {
        let on_message = {
            let inbox = inbox.clone();
            Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| Inbox::deliver(&inbox, Ok(event.data())))
        };
        let on_error = {
            let inbox = inbox.clone();
            Closure::<dyn FnMut(ErrorEvent)>::new(move |event: ErrorEvent| {
                event.prevent_default();
                let message = event.message();
                Inbox::deliver(&inbox, Err(if message.is_empty() { stopped.into() } else { message }));
            })
        };
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        (on_message, on_error)
    }
}

/// Wakes a load waiting for the reader (Cancel): its wait ends at once.
pub struct Interrupt(Rc<RefCell<Inbox>>);

impl Interrupt {
    pub fn interrupt(&self) {
        Inbox::deliver(&self.0, Err("cancelled".into()));
    }
}

/// The reader worker, seen from the table worker; ended when dropped (done, failed, cancelled).
pub struct ReaderWorker {
    worker: Worker,
    kind: ReaderKind,
    inbox: Rc<RefCell<Inbox>>,
    _listeners: Listeners,
}

impl ReaderWorker {
    /// Starts the reader worker and, once it is ready (its module fetched and compiled), hands
    /// it the file: the `File` itself when given (the reader reads what it needs of it), or the
    /// job's bytes (moved to the reader).
    pub async fn start(job: ReaderJob, file: Option<Blob>) -> Result<Self, LoadError> {
        let kind = job.kind;
        let worker = Worker::new("./vigil-reader_loader.js").map_err(|e| failure(kind, format!("the reader could not start ({})", super::js_error_text(&e))))?;
        let inbox = Rc::new(RefCell::new(Inbox::default()));
        let listeners = Inbox::listen(&worker, &inbox, "the reader stopped");
        let reader = Self { worker, kind, inbox, _listeners: listeners };
        match reader.message().await {
            Ok(ready) if get(&ready, "ready").is_truthy() => {}
            Ok(_) => return Err(failure(kind, "the reader sent an unknown message".into())),
            Err(message) => return Err(failure(kind, format!("the reader could not start ({message})"))),
        }
        let message = Object::new();
        let transfer = js_sys::Array::new();
        match file {
            Some(file) => set(&message, "open", &file),
            None => {
                let bytes = Uint8Array::from(job.bytes.as_slice());
                set(&message, "open", &bytes);
                transfer.push(&bytes.buffer());
            }
        }
        drop(job.bytes);
        set(&message, "kind", &kind_name(kind).into());
        if let Some(sheet) = &job.sheet {
            set(&message, "sheet", &sheet.into());
            set(&message, "sheetOrFirst", &job.sheet_or_first.into());
        }
        reader.worker.post_message_with_transfer(&message, &transfer).map_err(|e| failure(kind, format!("the file could not be handed to the reader ({})", super::js_error_text(&e))))?;
        Ok(reader)
    }

    /// What Cancel calls to end the wait for this reader.
    pub fn interrupt(&self) -> Interrupt {
        Interrupt(self.inbox.clone())
    }

    /// Asks for the next batch (after the first, which the reader sends unasked).
    pub fn ask_next(&self) -> Result<(), LoadError> {
        let message = Object::new();
        set(&message, "next", &JsValue::TRUE);
        self.worker.post_message(&message).map_err(|e| failure(self.kind, format!("the reader could not be reached ({})", super::js_error_text(&e))))
    }

    /// The next message, or why none will come (the worker crashed, or Cancel).
    async fn message(&self) -> Result<JsValue, String> {
        Inbox::next(&self.inbox).await
    }

    /// The reader's next message.
    pub async fn reply(&self) -> Reply {
        let data = match self.message().await {
            Ok(data) => data,
            // The worker crashed (or its module could not be fetched).
            Err(message) => return Reply::Failed(failure(self.kind, format!("the reader stopped on this file: {message}"))),
        };
        if let Some(text) = bytes_of(&get(&data, "text")) {
            let done = get(&data, "done").as_f64().unwrap_or(0.0) as u64;
            let total = get(&data, "total").as_f64().map(|t| t as u64);
            return Reply::Text(text, (done, total));
        }
        if let Some(done) = get(&data, "progress").as_f64() {
            return Reply::Progress((done as u64, get(&data, "total").as_f64().map(|t| t as u64)));
        }
        if let Some(end) = bytes_of(&get(&data, "end")) {
            return match crate::protocol::decode::<ReaderEnd>(&end) {
                Ok(end) => Reply::End(end),
                Err(message) => Reply::Failed(failure(self.kind, message)),
            };
        }
        let message = get(&data, "error").as_string().unwrap_or_else(|| "the reader sent an unknown message".into());
        Reply::Failed(failure(self.kind, message))
    }
}

impl Drop for ReaderWorker {
    fn drop(&mut self) {
        self.worker.set_onmessage(None);
        self.worker.set_onerror(None);
        self.worker.terminate();
    }
}

/// The reader worker's entry point.
#[cfg(feature = "readers")]
pub fn run() {
    use crate::data::readers::Reading;
    std::panic::set_hook(Box::new(console_error_panic_hook::hook));
    let reading: Rc<RefCell<Option<(ReaderKind, Reading)>>> = Rc::new(RefCell::new(None));
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let data = event.data();
        let open = get(&data, "open");
        if !open.is_undefined() {
            let kind = if get(&data, "kind").as_string().as_deref() == Some("workbook") { ReaderKind::Workbook } else { ReaderKind::Parquet };
            match open_file(kind, open, get(&data, "sheet").as_string(), get(&data, "sheetOrFirst").is_truthy()) {
                Ok(opened) => *reading.borrow_mut() = Some((kind, opened)),
                Err(err) => return send_error(&err),
            }
        }
        let mut slot = reading.borrow_mut();
        let Some((kind, open)) = slot.as_mut() else { return };
        let kind = *kind;
        let mut text = Vec::new();
        match open.next_batch(&mut text) {
            Ok(true) => {
                let (done, total) = open.progress();
                let message = Object::new();
                let bytes = Uint8Array::from(text.as_slice());
                set(&message, "text", &bytes);
                set(&message, "done", &(done as f64).into());
                if let Some(total) = total {
                    set(&message, "total", &(total as f64).into());
                }
                send(&message, Some(&bytes));
            }
            Ok(false) => {
                let Some((_, open)) = slot.take() else { return };
                match crate::protocol::encode(&open.finish()) {
                    Ok(end) => {
                        let message = Object::new();
                        let bytes = Uint8Array::from(end.as_slice());
                        set(&message, "end", &bytes);
                        send(&message, Some(&bytes));
                    }
                    Err(message) => send_error(&failure(kind, message)),
                }
            }
            Err(err) => {
                slot.take();
                send_error(&err);
            }
        }
    });
    super::scope().set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // The handler lives as long as the worker.
    on_message.forget();
    // Messages posted before the module ran would have been lost: the table worker waits for this.
    let ready = Object::new();
    set(&ready, "ready", &JsValue::TRUE);
    send(&ready, None);
}

#[cfg(feature = "readers")]
thread_local! {
    /// The `File` being read in ranges (see [`read_file_at`]).
    static FILE: RefCell<Option<Blob>> = const { RefCell::new(None) };
}

/// Opens the file handed over: its bytes, or the `File` itself. A Parquet file is then read in
/// ranges (its footer, then a row group at a time); a workbook is read whole here (a zip is read
/// from its directory, at the end, and calamine wants it all).
#[cfg(feature = "readers")]
fn open_file(kind: ReaderKind, open: JsValue, sheet: Option<String>, sheet_or_first: bool) -> Result<crate::data::readers::Reading, LoadError> {
    use crate::data::readers::Reading;
    // A workbook's sheet is read here, at once: its progress is told meanwhile.
    let mut progress = |done: u64, total: Option<u64>| {
        let message = Object::new();
        set(&message, "progress", &(done as f64).into());
        if let Some(total) = total {
            set(&message, "total", &(total as f64).into());
        }
        send(&message, None);
    };
    if let Some(bytes) = bytes_of(&open) {
        return Reading::open_with_progress(ReaderJob { kind, bytes, sheet, sheet_or_first }, &mut progress);
    }
    let file = open.dyn_into::<Blob>().map_err(|_| failure(kind, "the reader was handed no file".into()))?;
    let size = file.size() as u64;
    FILE.with_borrow_mut(|held| *held = Some(file));
    match kind {
        ReaderKind::Parquet => Reading::open_parquet_ranges(crate::data::parquet::RangeFile::new(size, read_file_at)),
        ReaderKind::Workbook => {
            let bytes = read_file_at(0, size as usize).map_err(|e| failure(kind, e.to_string()))?;
            FILE.with_borrow_mut(|held| *held = None);
            Reading::open_with_progress(ReaderJob { kind, bytes, sheet, sheet_or_first }, &mut progress)
        }
    }
}

/// Reads `len` bytes at `offset` of the `File` handed over, synchronously (a worker may).
#[cfg(feature = "readers")]
fn read_file_at(offset: u64, len: usize) -> std::io::Result<Vec<u8>> {
    let fail = |e: JsValue| std::io::Error::other(format!("the file could not be read ({})", super::js_error_text(&e)));
    FILE.with_borrow(|file| {
        let file = file.as_ref().ok_or_else(|| std::io::Error::other("the file was let go"))?;
        let slice = file.slice_with_f64_and_f64(offset as f64, offset as f64 + len as f64).map_err(fail)?;
        let buffer = web_sys::FileReaderSync::new().map_err(fail)?.read_as_array_buffer(&slice).map_err(fail)?;
        Ok(Uint8Array::new(&buffer).to_vec())
    })
}

#[cfg(feature = "readers")]
fn send(message: &Object, bytes: Option<&Uint8Array>) {
    let transfer = js_sys::Array::new();
    if let Some(bytes) = bytes {
        transfer.push(&bytes.buffer());
    }
    if let Err(err) = super::scope().post_message_with_transfer(message, &transfer) {
        web_sys::console::error_2(&"vigil reader: postMessage failed".into(), &err);
    }
}

/// The error's own words (the table worker puts them back in a [`LoadError`] of its file's kind).
#[cfg(feature = "readers")]
fn send_error(err: &LoadError) {
    let message = Object::new();
    let text = match err {
        LoadError::Parquet(message) | LoadError::Workbook(message) => message.clone(),
        other => other.to_string(),
    };
    set(&message, "error", &text.into());
    send(&message, None);
}
