//! The reader worker's path, natively. The browser's table worker is built without the Parquet
//! and Excel readers: it hands such a file to the reader worker ([`Finishing::reader_job`]) and
//! parses the text sent back a batch at a time ([`Finishing::feed_text`], then
//! [`Finishing::end_text`]). Driven here by the same reader ([`Reading`]) the reader worker runs,
//! a Parquet file of several batches, the workbook fixture and the hostile files give exactly
//! what reading them in-process gives: the table, the dialect, the notices, the same errors;
//! and a Parquet file streamed into a cube that way holds every row once.

use std::path::Path;
use std::sync::Arc;

use parquet::data_type::{ByteArray, ByteArrayType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use vigil::data::load::{load_bytes, LoadError, LoadOptions, LoadReport, TableLoader};
use vigil::data::parquet::RangeFile;
use vigil::data::readers::{ReaderJob, ReaderKind, Reading};
use vigil::warehouse::stream::{FileStream, StreamSettings};

/// 40,000 rows in two row groups (four batches of the reader: a batch ends with its row group),
/// every seventh kind missing.
fn parquet_file() -> Vec<u8> {
    let schema = Arc::new(parse_message_type("message reports { required int64 id; required int64 at (TIMESTAMP(MILLIS,true)); optional binary kind (STRING); }").unwrap());
    let mut out = Vec::new();
    let mut writer = SerializedFileWriter::new(&mut out, schema, Arc::new(WriterProperties::builder().build())).unwrap();
    for group in 0..2i64 {
        let ids: Vec<i64> = (group * 20_000..(group + 1) * 20_000).collect();
        let kinds: Vec<ByteArray> = ids.iter().filter(|id| *id % 7 != 0).map(|id| ByteArray::from(["spam", "abuse", "fraud"][(*id % 3) as usize])).collect();
        let levels: Vec<i16> = ids.iter().map(|id| i16::from(*id % 7 != 0)).collect();
        let mut row_group = writer.next_row_group().unwrap();
        let mut column = row_group.next_column().unwrap().unwrap();
        column.typed::<Int64Type>().write_batch(&ids, None, None).unwrap();
        column.close().unwrap();
        // A report a minute from 2024-01-01.
        let times: Vec<i64> = ids.iter().map(|id| 1_704_067_200_000 + id * 60_000).collect();
        let mut column = row_group.next_column().unwrap().unwrap();
        column.typed::<Int64Type>().write_batch(&times, None, None).unwrap();
        column.close().unwrap();
        let mut column = row_group.next_column().unwrap().unwrap();
        column.typed::<ByteArrayType>().write_batch(&kinds, Some(&levels), None).unwrap();
        column.close().unwrap();
        row_group.close().unwrap();
    }
    writer.close().unwrap();
    out
}

/// The rows a batch said were written, and the file's rows when known.
type Progress = Vec<(u64, Option<u64>)>;

/// Loads the file as the table worker does with the reader worker: the reader runs on the file
/// handed on, its text fed back a batch at a time. The table, and the rows each batch said were
/// written with the file's rows when known.
fn load_outside(bytes: &[u8], options: LoadOptions) -> Result<(LoadReport, Progress), LoadError> {
    load_handed(bytes, options, false)
}

thread_local! {
    /// The file a [`RangeFile`] reads (the reader worker's `File`).
    static FILE: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn read_file_at(offset: u64, len: usize) -> std::io::Result<Vec<u8>> {
    FILE.with_borrow(|file| file.get(offset as usize..offset as usize + len).map(<[u8]>::to_vec).ok_or_else(|| std::io::Error::other("past the end")))
}

/// [`load_outside`]; with `file`, as the table worker does with a `File`: after the first chunk
/// the file goes to the reader itself (a Parquet file when it ends as one), which reads a
/// Parquet file in ranges ([`RangeFile`]) and a workbook whole.
fn load_handed(bytes: &[u8], options: LoadOptions, file: bool) -> Result<(LoadReport, Progress), LoadError> {
    let mut loader = TableLoader::new(options).with_reader_outside();
    let mut handed = None;
    for chunk in bytes.chunks(1 << 12) {
        loader.push(chunk)?;
        let hands_over = match loader.reader_kind() {
            Some(ReaderKind::Parquet) => bytes.ends_with(b"PAR1"),
            Some(ReaderKind::Workbook) => true,
            None => false,
        };
        if file && hands_over {
            handed = loader.hand_over_file();
            assert!(handed.is_some());
            assert!(loader.push(b"more").is_err(), "nothing is pushed once handed over");
            break;
        }
    }
    let mut finishing = loader.finishing()?;
    let Some(job) = finishing.reader_job() else {
        // Text that starts with "PAR1": loaded at once.
        return Ok((finishing.step()?.ok_or(LoadError::Empty)?, Vec::new()));
    };
    assert!(finishing.reader_job().is_none(), "handed on once");
    assert!(finishing.step().is_err(), "its rows come from the reader");
    let mut reading = match handed {
        None => Reading::open(job)?,
        Some(kind) => {
            assert!(job.bytes.is_empty(), "the reader reads the file itself");
            FILE.with_borrow_mut(|held| *held = bytes.to_vec());
            match kind {
                ReaderKind::Parquet => Reading::open_parquet_ranges(RangeFile::new(bytes.len() as u64, read_file_at))?,
                ReaderKind::Workbook => Reading::open(ReaderJob { bytes: bytes.to_vec(), ..job })?,
            }
        }
    };
    let mut text = Vec::new();
    let mut progress = Vec::new();
    loop {
        text.clear();
        if !reading.next_batch(&mut text)? {
            break;
        }
        progress.push(reading.progress());
        finishing.feed_text(&text, reading.progress())?;
        assert_eq!(finishing.rows(), reading.progress());
    }
    Ok((finishing.end_text(reading.finish())?, progress))
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)).unwrap()
}

#[test]
fn a_reader_elsewhere_loads_what_the_loader_loads() {
    let parquet = parquet_file();
    let (outside, progress) = load_outside(&parquet, LoadOptions::default()).unwrap();
    assert_eq!(outside, load_bytes(&parquet, LoadOptions::default()).unwrap());
    assert_eq!(outside.table.n_rows, 40_000);
    assert_eq!(outside.dialect.describe(), "Parquet, 2 row groups");
    // A batch at a time, each saying how far it got of the rows the file holds.
    assert_eq!(progress, vec![(16_384, Some(40_000)), (20_000, Some(40_000)), (36_384, Some(40_000)), (40_000, Some(40_000))]);

    for (name, options) in [
        ("reports.parquet", LoadOptions::default()),
        ("reports.xlsx", LoadOptions::default()),
        ("reports.xlsx", LoadOptions { sheet: Some("Notes".into()), ..LoadOptions::default() }),
    ] {
        let bytes = fixture(name);
        let (outside, _) = load_outside(&bytes, options.clone()).unwrap_or_else(|e| panic!("{name}: {e}"));
        let here = load_bytes(&bytes, options).unwrap();
        assert_eq!(outside, here, "{name}");
        assert!(here.dialect.parquet.is_some() || here.dialect.workbook.is_some(), "{name}");
    }

    // Damaged files: the same message either way (the bombs are refused only in the browser,
    // whose limits are lower).
    for name in ["truncated.parquet", "not_parquet.parquet", "damaged.parquet", "truncated.xlsx", "not_a_workbook.xlsx"] {
        let bytes = fixture(&format!("hostile/{name}"));
        let (Err(here), Err(outside), Err(handed)) = (load_bytes(&bytes, LoadOptions::default()), load_outside(&bytes, LoadOptions::default()), load_handed(&bytes, LoadOptions::default(), true)) else { panic!("{name} loaded") };
        assert_eq!(outside, here, "{name}");
        assert_eq!(handed, here, "{name}");
    }
}

#[test]
fn a_file_handed_to_its_reader_is_read_in_ranges() {
    let parquet = parquet_file();
    let here = load_bytes(&parquet, LoadOptions::default()).unwrap();
    let (handed, progress) = load_handed(&parquet, LoadOptions::default(), true).unwrap();
    assert_eq!(handed, here);
    assert_eq!(progress.len(), 4);
    for (name, options) in [
        ("reports.parquet", LoadOptions::default()),
        ("reports.xlsx", LoadOptions { sheet: Some("Notes".into()), ..LoadOptions::default() }),
    ] {
        let bytes = fixture(name);
        assert_eq!(load_handed(&bytes, options.clone(), true).unwrap().0, load_bytes(&bytes, options).unwrap(), "{name}");
    }
    // Text that starts with "PAR1" is read on as text, not handed over.
    let text = b"PAR1,b\n1,2\n".to_vec();
    let (loaded, progress) = load_handed(&text, LoadOptions::default(), true).unwrap();
    assert_eq!((loaded.table.n_rows, progress.len()), (1, 0));
    assert_eq!(loaded, load_bytes(&text, LoadOptions::default()).unwrap());

    // What is read of the file: its footer, then each row group's column chunks at once, never
    // the whole file (the row groups are about half of it each).
    FILE.with_borrow_mut(|held| *held = parquet.clone());
    let file = RangeFile::new(parquet.len() as u64, read_file_at);
    let mut reading = Reading::open_parquet_ranges(file.clone()).unwrap();
    let mut text = Vec::new();
    while reading.next_batch(&mut text).unwrap() {}
    let (reads, most) = file.reads();
    assert!(reads <= 8, "{reads} reads");
    assert!(most < parquet.len() as u64 * 2 / 3, "{most} of {} bytes read at once", parquet.len());
    let mut whole = Vec::new();
    let mut reading = Reading::open(ReaderJob { kind: ReaderKind::Parquet, bytes: parquet.clone(), sheet: None, sheet_or_first: false }).unwrap();
    while reading.next_batch(&mut whole).unwrap() {}
    assert_eq!(text, whole);

    // A file that cannot be read (gone, changed on disk): the reader says so.
    fn failing(_: u64, _: usize) -> std::io::Result<Vec<u8>> {
        Err(std::io::Error::other("the file could not be read (NotReadableError)"))
    }
    let Err(err) = Reading::open_parquet_ranges(RangeFile::new(parquet.len() as u64, failing)) else { panic!("read") };
    assert!(err.to_string().contains("NotReadableError"), "{err}");
}

#[test]
fn a_reader_elsewhere_streams_into_the_cube() {
    let parquet = parquet_file();
    let mut stream = FileStream::new(LoadOptions::default(), StreamSettings::default()).unwrap().with_reader_outside();
    for chunk in parquet.chunks(1 << 12) {
        stream.push(chunk).unwrap();
    }
    let job = stream.reader_job().unwrap().expect("handed on");
    let mut reading = Reading::open(job).unwrap();
    let mut text = Vec::new();
    loop {
        text.clear();
        if !reading.next_batch(&mut text).unwrap() {
            break;
        }
        stream.feed_text(&text, reading.progress()).unwrap();
        assert_eq!((stream.rows_read(), stream.total_rows()), reading.progress());
    }
    stream.end_text(reading.finish()).unwrap();
    let (cube, rest) = stream.finish().unwrap();
    assert_eq!((cube.rows_read, cube.rows_in_cube), (40_000, 40_000));
    assert_eq!(rest.dialect.describe(), "Parquet, 2 row groups");
}

#[test]
fn a_parquet_string_that_reads_like_a_missing_marker_is_text() {
    // "NA" is Namibia's country code: in a Parquet file, whose nulls are marked, it is a value.
    let schema = Arc::new(parse_message_type("message accounts { required int64 id; optional binary country (STRING); }").unwrap());
    let mut out = Vec::new();
    let mut writer = SerializedFileWriter::new(&mut out, schema, Arc::new(WriterProperties::builder().build())).unwrap();
    let countries = ["NA", "null", "-", "N/A", "None", "NaN", " ", "FR"];
    let ids: Vec<i64> = (0..countries.len() as i64 + 1).collect();
    let values: Vec<ByteArray> = countries.iter().map(|c| ByteArray::from(*c)).collect();
    // The last row's country is null.
    let levels: Vec<i16> = ids.iter().map(|&id| i16::from(id < countries.len() as i64)).collect();
    let mut row_group = writer.next_row_group().unwrap();
    let mut column = row_group.next_column().unwrap().unwrap();
    column.typed::<Int64Type>().write_batch(&ids, None, None).unwrap();
    column.close().unwrap();
    let mut column = row_group.next_column().unwrap().unwrap();
    column.typed::<ByteArrayType>().write_batch(&values, Some(&levels), None).unwrap();
    column.close().unwrap();
    row_group.close().unwrap();
    writer.close().unwrap();
    for report in [load_bytes(&out, LoadOptions::default()).unwrap(), load_outside(&out, LoadOptions::default()).unwrap().0] {
        let country = report.table.columns.iter().find(|c| c.name == "country").unwrap();
        let cells: Vec<String> = (0..report.table.n_rows).map(|row| country.value(row).display()).collect();
        let mut expected: Vec<String> = countries.iter().map(|c| c.to_string()).collect();
        expected.push(vigil::data::table::Value::Missing.display());
        assert_eq!(cells, expected);
    }
    // In a CSV file the markers stay missing values.
    let csv = load_bytes(b"id,country\n0,NA\n1,FR\n", LoadOptions::default()).unwrap();
    assert_eq!(csv.table.columns[1].value(0), vigil::data::table::Value::Missing);
}

#[test]
fn a_page_of_byte_arrays_shorter_than_its_levels_is_refused_not_a_crash() {
    // Three PLAIN byte arrays "a", "b", "c", uncompressed, in a required and in an optional
    // column (its levels say all three are there). The first value's length is changed from 1
    // to 11: it then takes the page's last bytes, and the crate's decoder read the second
    // value's length past the end (a panic).
    for repetition in ["required", "optional"] {
        let schema = Arc::new(parse_message_type(&format!("message m {{ {repetition} binary s (STRING); }}")).unwrap());
        let mut out = Vec::new();
        let properties = WriterProperties::builder().set_dictionary_enabled(false).set_statistics_enabled(parquet::file::properties::EnabledStatistics::None).build();
        let mut writer = SerializedFileWriter::new(&mut out, schema, Arc::new(properties)).unwrap();
        let mut row_group = writer.next_row_group().unwrap();
        let mut column = row_group.next_column().unwrap().unwrap();
        let values = [ByteArray::from("a"), ByteArray::from("b"), ByteArray::from("c")];
        let levels = (repetition == "optional").then_some([1i16, 1, 1]);
        column.typed::<ByteArrayType>().write_batch(&values, levels.as_ref().map(|l| &l[..]), None).unwrap();
        column.close().unwrap();
        row_group.close().unwrap();
        writer.close().unwrap();
        assert_eq!(load_bytes(&out, LoadOptions::default()).unwrap().table.n_rows, 3, "{repetition}");
        let plain = [1, 0, 0, 0, b'a', 1, 0, 0, 0, b'b', 1, 0, 0, 0, b'c'];
        let at = out.windows(plain.len()).position(|w| w == plain).expect("the values, as written");
        out[at] = 11;
        let err = load_bytes(&out, LoadOptions::default()).unwrap_err();
        assert!(err.to_string().contains("a page holds fewer values than its levels say"), "{repetition}: {err}");
    }
}
