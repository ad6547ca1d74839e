//! The Python contenders (NumPy, numexpr, the talk's Cython `prange`
//! kernel), shared by the CLI's `--python` and `benches/versus.rs`: a
//! `python3` process running `python_bench.py`, which times one contender
//! per request, so they run in the same interleaved rounds as the Rust
//! contenders and their ratios to them hold. Both include this file with
//! `#[path]`.
//!
//! The script makes its inputs with the formulas of the CLI's
//! `strategies::input_a` and `input_b`, so a caller that makes its own the
//! same way can check each result bitwise.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The script, run with `python3 -c`.
const SCRIPT: &str = include_str!("python_bench.py");

/// A Python contender.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    /// `(a + b) * 2 + a * b` on NumPy arrays (one thread, temporaries).
    NumPy,
    /// `numexpr.evaluate` of the same expression.
    Numexpr,
    /// The talk's Cython + OpenMP `prange` kernel.
    Cython,
}

impl Which {
    /// Every contender.
    pub const ALL: [Which; 3] = [Which::NumPy, Which::Numexpr, Which::Cython];

    /// Its name in the script's requests (and the CLI's row ids).
    pub fn id(self) -> &'static str {
        match self {
            Which::NumPy => "numpy",
            Which::Numexpr => "numexpr",
            Which::Cython => "cython-prange",
        }
    }

    /// Its name in a table.
    pub fn label(self) -> &'static str {
        match self {
            Which::NumPy => "NumPy (a + b) * 2 + a * b",
            Which::Numexpr => "numexpr.evaluate",
            Which::Cython => "Cython prange (talk's kernel)",
        }
    }

    /// Whether it runs on `threads` threads: NumPy only on one.
    pub fn runs_on(self, threads: usize) -> bool {
        threads == 1 || self != Which::NumPy
    }
}

/// A running `python3` serving the contenders on `rows x cols` inputs
/// (another shape after [`Session::reshape`]). Dropping it ends the
/// process.
pub struct Session {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    /// Where the process's `stderr` goes, for the last line when it dies.
    stderr: PathBuf,
    /// Names the files results are saved into.
    saved: usize,
}

impl Session {
    /// Starts `python3` on inputs of `dtype` (`float64`, `float32`); each
    /// timed request runs a contender `untimed + 1` times in a row and
    /// times the last. `Err` says why there is no session (no `python3`,
    /// no NumPy).
    pub fn start(rows: usize, cols: usize, dtype: &str, untimed: usize) -> Result<Self, String> {
        let args = [
            rows.to_string(),
            cols.to_string(),
            dtype.to_owned(),
            untimed.to_string(),
        ];
        Self::spawn(SCRIPT, &args)
    }

    /// Runs `script` with `args` and waits for its first line, `ready`.
    fn spawn(script: &str, args: &[String]) -> Result<Self, String> {
        // Sessions of one process, at once or in turn, get files of their own.
        static SESSIONS: AtomicUsize = AtomicUsize::new(0);
        let stderr = std::env::temp_dir().join(format!(
            "fuse2d-py-{}-{}.stderr",
            std::process::id(),
            SESSIONS.fetch_add(1, Ordering::Relaxed)
        ));
        let err_file = std::fs::File::create(&stderr)
            .map_err(|e| format!("could not create {} ({e})", stderr.display()))?;
        let mut child = Command::new("python3")
            .arg("-c")
            .arg(script)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(err_file)
            .spawn()
            .map_err(|e| format!("could not run python3 ({e})"))?;
        let stdin = child.stdin.take();
        let stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
        let mut session = Session {
            child,
            stdin,
            stdout,
            stderr,
            saved: 0,
        };
        session.reply()?;
        Ok(session)
    }

    /// Inputs of `rows x cols` for the requests after this one (the
    /// Cython kernel is built once per session, whatever the shapes).
    /// `versus` goes through its sizes with it; the CLI runs one size.
    #[allow(dead_code)]
    pub fn reshape(&mut self, rows: usize, cols: usize) -> Result<(), String> {
        self.request(&format!("shape {rows} {cols}")).map(|_| ())
    }

    /// The seconds `which` took on `layout`'s inputs (`contiguous`,
    /// `quadrants`, `colmajor-b`) on `threads` threads, timed in the
    /// Python process (the last of its runs). `Err` says why it cannot run.
    pub fn time(&mut self, which: Which, layout: &str, threads: usize) -> Result<f64, String> {
        let ok = self.request(&format!("time {} {layout} {threads}", which.id()))?;
        ok.parse::<f64>()
            .map_err(|_| format!("unreadable timing from python3: {ok:?}"))
    }

    /// The result of one more run of `which`: its raw bytes, row-major in
    /// native byte order.
    pub fn result(
        &mut self,
        which: Which,
        layout: &str,
        threads: usize,
    ) -> Result<Vec<u8>, String> {
        self.saved += 1;
        let file = self.stderr.with_extension(format!("{}.bin", self.saved));
        let request = format!("save {} {layout} {threads} {}", which.id(), file.display());
        let bytes = self
            .request(&request)
            .and_then(|_| std::fs::read(&file).map_err(|e| format!("no result file ({e})")));
        let _ = std::fs::remove_file(&file);
        bytes
    }

    /// Sends one request line; its reply after `ok`.
    fn request(&mut self, line: &str) -> Result<String, String> {
        let stdin = self.stdin.as_mut().ok_or("python3 has exited")?;
        if writeln!(stdin, "{line}")
            .and_then(|()| stdin.flush())
            .is_err()
        {
            self.stdin = None;
            return Err(self.died());
        }
        self.reply()
    }

    /// Reads one reply line: `Ok` with what follows `ok` (or `ready`),
    /// `Err` with the reason of a `missing` reply or of the process's end.
    fn reply(&mut self) -> Result<String, String> {
        let mut line = String::new();
        if self.stdout.read_line(&mut line).unwrap_or(0) == 0 {
            self.stdin = None;
            return Err(self.died());
        }
        let line = line.trim_end();
        match line.split_once(' ').unwrap_or((line, "")) {
            ("ok" | "ready", rest) => Ok(rest.to_owned()),
            ("missing", reason) => Err(reason.to_owned()),
            _ => Err(format!("unreadable reply from python3: {line:?}")),
        }
    }

    /// Why the process stopped answering: its exit status and last line
    /// on `stderr`.
    fn died(&mut self) -> String {
        let status = self
            .child
            .wait()
            .map_or("unknown".to_owned(), |s| s.to_string());
        let err = std::fs::read_to_string(&self.stderr).unwrap_or_default();
        let last = err.lines().last().unwrap_or("no message");
        format!("python3 stopped ({status}): {last}")
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // Closing stdin ends the script's loop.
        self.stdin = None;
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.stderr);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `python3` is on `PATH` (CI has it; the tests below need it). The
    /// tests run with the CLI's (`cargo test`); a bench compiles this module
    /// under `cfg(test)` too, without a test harness to call them.
    #[allow(dead_code)]
    fn python3() -> bool {
        Command::new("python3")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    }

    #[test]
    fn replies_are_read_and_a_dead_process_is_reported() {
        if !python3() {
            eprintln!("skipped: no python3");
            return;
        }
        // A stand-in speaking the protocol: one reply of each kind, then it
        // dies with a message.
        let script = "import sys\n\
                      print('ready', flush=True)\n\
                      for line, reply in zip(sys.stdin, ['ok 0.0215', 'missing numexpr is gone', 'ok x', 'huh']):\n    \
                          print(reply, flush=True)\n\
                      sys.exit('fell over')\n";
        let mut s = Session::spawn(script, &[]).expect("starts");
        assert_eq!(s.time(Which::NumPy, "contiguous", 1), Ok(0.0215));
        assert_eq!(
            s.time(Which::Numexpr, "contiguous", 2),
            Err("numexpr is gone".to_owned())
        );
        assert_eq!(
            s.time(Which::Cython, "contiguous", 2),
            Err("unreadable timing from python3: \"x\"".to_owned())
        );
        assert_eq!(
            s.time(Which::Cython, "contiguous", 1),
            Err("unreadable reply from python3: \"huh\"".to_owned())
        );
        let dead = s.time(Which::NumPy, "contiguous", 1).unwrap_err();
        assert!(
            dead.starts_with("python3 stopped (exit status: 1)"),
            "{dead}"
        );
        assert!(dead.ends_with(": fell over"), "{dead}");
        assert_eq!(
            s.time(Which::NumPy, "contiguous", 1),
            Err("python3 has exited".to_owned())
        );
    }

    #[test]
    fn the_script_serves_or_says_numpy_is_missing() {
        if !python3() {
            eprintln!("skipped: no python3");
            return;
        }
        let mut s = match Session::start(5, 3, "float64", 2) {
            Ok(s) => s,
            Err(e) => {
                assert!(e.starts_with("numpy is not importable by python3"), "{e}");
                return;
            }
        };
        // NumPy's result is the reference's, bitwise (the formulas of
        // `strategies::input_a` and `input_b`), at the session's shape and
        // at the next one.
        let want = |rows: usize, cols: usize| -> Vec<u8> {
            (0..rows * cols)
                .flat_map(|k| {
                    let (i, j) = (k / cols, k % cols);
                    let a = (i * cols + j) as f64 * 1e-3;
                    let b = 1.0 / (1.0 + (i + j) as f64);
                    ((a + b) * 2.0 + a * b).to_ne_bytes()
                })
                .collect()
        };
        let bytes = s.result(Which::NumPy, "colmajor-b", 1).expect("numpy runs");
        assert_eq!(bytes, want(5, 3));
        s.reshape(4, 6).expect("a new shape");
        let bytes = s.result(Which::NumPy, "colmajor-b", 1).expect("numpy runs");
        assert_eq!(bytes, want(4, 6));
        assert_eq!(s.reshape(0, 0), Ok(()));
        s.reshape(5, 3).expect("back");
        assert_eq!(
            s.request("shape five 3"),
            Err("not a shape: five 3".to_owned())
        );
        assert!(
            s.time(Which::NumPy, "contiguous", 1)
                .is_ok_and(|t| t >= 0.0)
        );
        assert_eq!(
            s.time(Which::NumPy, "contiguous", 2),
            Err("NumPy's expression runs on one thread".to_owned())
        );
        assert_eq!(
            s.time(Which::NumPy, "diagonal", 1),
            Err("unknown layout diagonal".to_owned())
        );
    }
}
