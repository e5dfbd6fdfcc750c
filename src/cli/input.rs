//! Reading the data: a file or standard input, streamed through the app's loader in chunks
//! (gzip detected by its bytes), so a file is never held whole beside its table (but an Excel
//! workbook, a zip read from its end), and parsed on every core.

use std::io::Read;

use crate::data::load::{LoadOptions, LoadReport, TableLoader};

/// Bytes read at a time.
const CHUNK_BYTES: usize = 8 << 20;

fn open(data: &str) -> Result<(Box<dyn Read>, Option<u64>), String> {
    if data == "-" {
        return Ok((Box::new(std::io::stdin().lock()), None));
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
pub fn load(data: &str, quiet: bool, options: LoadOptions) -> Result<LoadReport, String> {
    let (mut reader, size) = open(data)?;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut loader = TableLoader::new(options).with_threads(threads);
    if let Some(size) = size {
        loader = loader.with_size_hint(size);
    }
    let mut buffer = vec![0u8; CHUNK_BYTES];
    let (mut read, mut shown) = (0u64, std::time::Instant::now());
    loop {
        let n = match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(format!("cannot read {data} (after {read} bytes): {e}")),
        };
        read += n as u64;
        loader.push(buffer.get(..n).unwrap_or_default()).map_err(|e| format!("{data}: {e}"))?;
        if !quiet && shown.elapsed().as_secs() >= 2 {
            shown = std::time::Instant::now();
            let share = size.filter(|&s| s > 0).map(|s| format!(" ({:.0} %)", read as f64 * 100.0 / s as f64)).unwrap_or_default();
            eprintln!("vigil: reading {data}: {} MB{share}, {} rows", read >> 20, loader.rows_loaded());
        }
    }
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
