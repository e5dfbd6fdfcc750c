//! The reader worker's entry point: turns a Parquet file or a workbook into text for the table
//! worker, which starts it only when such a file is opened.

fn main() {
    #[cfg(target_arch = "wasm32")]
    vigil::worker::reader::run();
}
