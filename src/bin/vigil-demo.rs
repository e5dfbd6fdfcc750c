//! Writes the demo dataset as CSV, for benchmarks and for feeding other tools.
//!
//! Usage: `vigil-demo [ROWS] [SEED] > demo.csv`

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use vigil::data::demo::{write_demo_csv, DemoParams, DEFAULT_DEMO_ROWS, DEFAULT_DEMO_SEED};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let parse = |arg: Option<String>, default: u64, what: &str| -> Result<u64, String> {
        arg.map_or(Ok(default), |text| text.parse().map_err(|_| format!("{what} must be a whole number, got {text:?}")))
    };
    let params = match (parse(args.next(), DEFAULT_DEMO_ROWS as u64, "ROWS"), parse(args.next(), DEFAULT_DEMO_SEED, "SEED")) {
        (Ok(rows), Ok(seed)) => DemoParams { rows: rows as usize, seed },
        (Err(message), _) | (_, Err(message)) => {
            eprintln!("vigil-demo: {message}\nusage: vigil-demo [ROWS] [SEED] > demo.csv");
            return ExitCode::from(2);
        }
    };
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 20, stdout.lock());
    match write_demo_csv(params, &mut out).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if err.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("vigil-demo: {err}");
            ExitCode::FAILURE
        }
    }
}
