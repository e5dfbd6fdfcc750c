//! Reading the data: a file or standard input, streamed through the app's loader in chunks
//! (gzip detected by its bytes), so a file is never held whole beside its table (but an Excel
//! workbook, a zip read from its end), and parsed on every core.

use std::io::Read;

use crate::data::load::{LoadOptions, LoadReport, TableLoader};

/// Bytes read at a time.
const CHUNK_BYTES: usize = 8 << 20;
/// Chunks read and not yet loaded, at most.
const READ_AHEAD: usize = 2;

fn open(data: &str) -> Result<(Box<dyn Read + Send>, Option<u64>), String> {
    if data == "-" {
        return Ok((Box::new(std::io::stdin()), None));
    }
    let file = std::fs::File::open(data).map_err(|e| format!("cannot open {data}: {e}"))?;
    let size = file.metadata().ok().map(|m| m.len());
    Ok((Box::new(file), size))
}

/// Streams `data` into a cube (as the app does for a file too large for the tab) and loads the
/// cube: its notes say what it holds and what was folded.
pub fn load_streamed(data: &str, options: LoadOptions) -> Result<LoadReport, String> {
    let (reader, _) = open(data)?;
    let stream = crate::warehouse::stream::stream_reader(reader, options, Default::default(), CHUNK_BYTES);
    stream.and_then(|s| s.finish_loaded()).map(|(load, _)| load).map_err(|e| format!("{data}: {e}"))
}

/// Loads `data` (a path, or `-` for standard input); `options` say which sheet, if it is an
/// Excel workbook.
///
/// The file is read on a thread of its own, a few chunks ahead of the loader: reading 500 MB
/// from the page cache takes 0.15–0.35 s here, which the parsing threads would otherwise wait
/// for a chunk at a time.
pub fn load(data: &str, quiet: bool, options: LoadOptions) -> Result<LoadReport, String> {
    let (mut reader, size) = open(data)?;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut loader = TableLoader::new(options).with_threads(threads);
    if let Some(size) = size {
        loader = loader.with_size_hint(size);
    }
    let (full_tx, full_rx) = std::sync::mpsc::sync_channel::<std::io::Result<(Vec<u8>, usize)>>(READ_AHEAD);
    let (empty_tx, empty_rx) = std::sync::mpsc::channel::<Vec<u8>>();
    std::thread::scope(|scope| {
        scope.spawn(move || loop {
            let mut buffer = empty_rx.try_recv().unwrap_or_else(|_| vec![0u8; CHUNK_BYTES]);
            let read = loop {
                match reader.read(&mut buffer) {
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    read => break read,
                }
            };
            let done = !matches!(read, Ok(n) if n > 0);
            // The loader stopped (an error): nothing more to read.
            if full_tx.send(read.map(|n| (buffer, n))).is_err() || done {
                return;
            }
        });
        // The receiver is moved into this loop and dropped when it ends, early too (an error):
        // the reader's next send then fails and it ends, so the scope does not wait on it.
        let (mut read, mut shown) = (0u64, std::time::Instant::now());
        for received in full_rx {
            let (buffer, n) = match received {
                Ok((_, 0)) => break,
                Ok(chunk) => chunk,
                Err(e) => return Err(format!("cannot read {data} (after {read} bytes): {e}")),
            };
            read += n as u64;
            loader.push(buffer.get(..n).unwrap_or_default()).map_err(|e| format!("{data}: {e}"))?;
            let _ = empty_tx.send(buffer);
            if !quiet && shown.elapsed().as_secs() >= 2 {
                shown = std::time::Instant::now();
                let share = size.filter(|&s| s > 0).map(|s| format!(" ({:.0} %)", read as f64 * 100.0 / s as f64)).unwrap_or_default();
                eprintln!("vigil: reading {data}: {} MB{share}, {} rows", read >> 20, loader.rows_loaded());
            }
        }
        Ok(())
    })?;
    loader.finish().map_err(|e| format!("{data}: {e}"))
}

/// The rows set aside while loading, as CSV (line, byte offset, reason, the start of the text);
/// the loader keeps the first of them when there are very many.
pub fn rejected_csv(load: &LoadReport) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let _ = writer.write_record(["line", "byte_offset", "reason", "text"]);
    for row in &load.rejected {
        let _ = writer.write_record([row.line.to_string(), row.byte_offset.to_string(), row.reason.clone(), row.text.clone()]);
    }
    writer.into_inner().map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default()
}
