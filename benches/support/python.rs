//! The Python contenders (NumPy, numexpr, the talk's Cython `prange`
//! kernel), shared by the CLI's `--python` and `benches/versus.rs`: runs
//! `python_bench.py` through `python3` and reads back its timings and
//! results. Both include this file with `#[path]`.
//!
//! The script makes its inputs with the formulas of the CLI's
//! `strategies::input_a` and `input_b`, so a caller that makes its own the
//! same way can check each result bitwise.

/// The script, run with `python3 -c`.
const SCRIPT: &str = include_str!("python_bench.py");

/// One timing from Python.
pub struct PyTiming {
    /// `numpy`, `numexpr` or `cython-prange`.
    pub which: &'static str,
    /// Threads it ran on.
    pub threads: usize,
    /// Median milliseconds.
    pub ms: f64,
    /// The result's raw bytes (row-major, native byte order), if the script
    /// wrote them.
    pub bytes: Option<Vec<u8>>,
}

impl PyTiming {
    /// The contender's name in a table.
    pub fn label(&self) -> &'static str {
        match self.which {
            "numpy" => "NumPy (a + b) * 2 + a * b",
            "numexpr" => "numexpr.evaluate",
            _ => "Cython prange (talk's kernel)",
        }
    }
}

/// What one run of the script gave.
pub struct PyRun {
    pub timings: Vec<PyTiming>,
    /// Why a contender is missing, or how the run went wrong.
    pub notes: Vec<String>,
}

/// Runs the script on `rows x cols` inputs of `dtype` (`float64`,
/// `float32`) in `layout` (`contiguous`, `quadrants`, `colmajor-b`), `reps`
/// timed rounds each, numexpr and Cython on 1 and on `threads` threads.
/// `Err` when `python3` cannot be started at all.
pub fn run(
    rows: usize,
    cols: usize,
    reps: usize,
    dtype: &str,
    layout: &str,
    threads: usize,
) -> Result<PyRun, String> {
    let prefix = std::env::temp_dir().join(format!("fuse2d-py-{}", std::process::id()));
    let prefix = prefix.to_string_lossy().into_owned();
    let output = std::process::Command::new("python3")
        .arg("-c")
        .arg(SCRIPT)
        .args([
            rows.to_string(),
            cols.to_string(),
            reps.to_string(),
            dtype.to_owned(),
            layout.to_owned(),
            threads.to_string(),
            prefix.clone(),
        ])
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("could not run python3 ({e})"))?;
    let mut run = parse(&String::from_utf8_lossy(&output.stdout), &prefix);
    if !output.status.success() {
        let err = String::from_utf8_lossy(&output.stderr);
        let last = err.lines().last().unwrap_or("").to_owned();
        run.notes
            .push(format!("python3 failed ({}): {last}", output.status));
    }
    Ok(run)
}

/// Reads the script's `stdout` (the CLI's tests call it with a fake one): a timing per result line (with the bytes of
/// its result file under `prefix`, which is removed), a note per missing
/// contender or unreadable line; other lines are ignored.
pub fn parse(stdout: &str, prefix: &str) -> PyRun {
    let mut timings = Vec::new();
    let mut notes = Vec::new();
    for line in stdout.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        match f.as_slice() {
            [which, secs, threads] => {
                let which = match *which {
                    "numpy" => "numpy",
                    "numexpr" => "numexpr",
                    "cython-prange" => "cython-prange",
                    _ => continue,
                };
                let (Ok(secs), Ok(threads)) = (secs.parse::<f64>(), threads.parse::<usize>())
                else {
                    notes.push(format!("unreadable line from python3: {line:?}"));
                    continue;
                };
                let file = if which == "numpy" {
                    format!("{prefix}.numpy.bin")
                } else {
                    format!("{prefix}.{which}-t{threads}.bin")
                };
                let bytes = std::fs::read(&file).ok();
                let _ = std::fs::remove_file(&file);
                timings.push(PyTiming {
                    which,
                    threads,
                    ms: secs * 1e3,
                    bytes,
                });
            }
            [missing, reason @ ..] if missing.ends_with("-missing") => {
                let what = missing.trim_end_matches("-missing");
                notes.push(if matches!(what, "numpy" | "numexpr") {
                    format!("{what} is not importable by python3; its rows are skipped")
                } else {
                    format!("{what} skipped: {}", reason.join(" "))
                });
            }
            _ => {}
        }
    }
    PyRun { timings, notes }
}
