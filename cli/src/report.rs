//! The results of one run, and how they are printed: a table for people,
//! CSV and JSON for programs (hand-rolled, no serde).

use std::fmt::Write as _;

/// What the run found out about the machine.
#[derive(Clone, Debug, Default)]
pub struct Machine {
    /// `std::env::consts::ARCH`.
    pub arch: String,
    /// `Isa::detect()`.
    pub isa_detected: String,
    /// `Isa::supported()`, narrowest first.
    pub isa_supported: Vec<String>,
    /// Data cache sizes in bytes (`CacheInfo::get()`).
    pub l1: usize,
    /// L2, bytes.
    pub l2: usize,
    /// L3, bytes.
    pub l3: usize,
    /// `std::thread::available_parallelism()`.
    pub cores: usize,
    /// `rayon::current_num_threads()`.
    pub rayon_threads: usize,
}

/// What was computed, and how.
#[derive(Clone, Debug, Default)]
pub struct Job {
    /// Rows of the matrices.
    pub rows: usize,
    /// Columns.
    pub cols: usize,
    /// `f64` or `f32`.
    pub dtype: String,
    /// `contiguous`, `quadrants` or `colmajor-b`.
    pub layout: String,
    /// Timed rounds (after one warm-up round); every row is timed once per round.
    pub reps: usize,
    /// Bytes counted per element: two loads and a store.
    pub bytes_per_element: usize,
    /// The ISA the fuse2d multi-thread rows and the thread table use.
    pub isa: String,
    /// "All threads" for the strategy rows.
    pub threads_all: usize,
}

/// One memory-roof measurement.
#[derive(Clone, Debug)]
pub struct RoofRow {
    /// Whether the triad used non-temporal stores.
    pub streaming: bool,
    /// Threads (contiguous chunks).
    pub threads: usize,
    /// Median time.
    pub median_ms: f64,
    /// 24 bytes per element, at the median time.
    pub gb_per_s: f64,
    /// At the best time (STREAM reports this one; shown for comparison).
    pub best_gb_per_s: f64,
}

impl RoofRow {
    fn kernel(&self) -> &'static str {
        if self.streaming {
            "triad-streaming"
        } else {
            "triad-normal"
        }
    }
}

/// One strategy's measurement.
#[derive(Clone, Debug, Default)]
pub struct StrategyRow {
    /// Machine-friendly name: `reference`, `naive`, `unfused`, `quadrants`,
    /// `fuse2d`, `numpy`, `numexpr`.
    pub id: String,
    /// What people read.
    pub name: String,
    /// The fuse2d ISA, if any.
    pub isa: Option<String>,
    /// Threads it ran on.
    pub threads: usize,
    /// The store mode asked for, and whether streaming stores were used.
    pub store: Option<String>,
    /// Median time.
    pub median_ms: f64,
    /// `bytes_per_element * rows * cols / median`.
    pub gb_per_s: f64,
    /// Against the faster triad (median) on the same thread count.
    pub pct_of_roof: Option<f64>,
    /// Unfused median / this median.
    pub speedup_vs_unfused: Option<f64>,
    /// Output bitwise equal to `fuse2d::reference` (None: not checked).
    pub bitwise_equal: Option<bool>,
}

/// One row of the talk's "Speedup / Threads" table.
#[derive(Clone, Debug)]
pub struct ThreadRow {
    /// Thread count.
    pub threads: usize,
    /// `Schedule::Static` median.
    pub static_ms: f64,
    /// 1-thread median / static median.
    pub static_speedup: f64,
    /// `Schedule::Dynamic` median.
    pub dynamic_ms: f64,
    /// 1-thread median / dynamic median.
    pub dynamic_speedup: f64,
    /// Static GB/s.
    pub static_gb_per_s: f64,
    /// Reference median / static median.
    pub static_vs_reference: f64,
    /// Both outputs bitwise equal to the reference.
    pub bitwise_equal: bool,
    /// The talk's Cython `prange` speedup for this count (1..4), if any.
    pub talk: Option<f64>,
}

/// Everything one run prints.
#[derive(Clone, Debug, Default)]
pub struct Results {
    /// The machine.
    pub machine: Machine,
    /// The job.
    pub job: Job,
    /// The memory roof.
    pub roof: Vec<RoofRow>,
    /// One row per strategy.
    pub strategies: Vec<StrategyRow>,
    /// fuse2d on 1 thread, the thread table's base.
    pub base_1thread_ms: f64,
    /// The thread table.
    pub threads: Vec<ThreadRow>,
    /// Remarks (skipped rows, fallbacks).
    pub notes: Vec<String>,
}

/// The talk's speedups for 1..4 threads (Cython + OpenMP `prange`).
pub fn talk_speedup(threads: usize) -> Option<f64> {
    [1.0, 1.6, 1.8, 2.0].get(threads.checked_sub(1)?).copied()
}

fn human_bytes(b: usize) -> String {
    if b >= 1 << 20 && b.is_multiple_of(1 << 20) {
        format!("{} MiB", b >> 20)
    } else if b >= 1 << 10 {
        format!("{} KiB", b >> 10)
    } else {
        format!("{b} B")
    }
}

/// Milliseconds with about four significant digits.
fn ms(x: f64) -> String {
    match x {
        x if !x.is_finite() => "-".to_owned(),
        x if x < 0.1 => format!("{x:.5}"),
        x if x < 100.0 => format!("{x:.3}"),
        x => format!("{x:.1}"),
    }
}

fn opt(x: Option<f64>, prec: usize, suffix: &str) -> String {
    match x {
        Some(v) if v.is_finite() => format!("{v:.prec$}{suffix}"),
        _ => "-".to_owned(),
    }
}

fn yes_no(x: Option<bool>) -> &'static str {
    match x {
        Some(true) => "yes",
        Some(false) => "NO",
        None => "-",
    }
}

/// The human-readable report.
pub fn table(r: &Results) -> String {
    let (m, j) = (&r.machine, &r.job);
    let mut s = String::new();
    let elems = j.rows * j.cols;
    let _ = writeln!(
        s,
        "fuse2d: out = (a + b) * 2 + a * b on {}x{} {}, layout {}, median of {} interleaved rounds after a warm-up, per thread count",
        j.rows, j.cols, j.dtype, j.layout, j.reps
    );
    let _ = writeln!(s);
    let _ = writeln!(s, "machine");
    let _ = writeln!(s, "  arch      {}", m.arch);
    let _ = writeln!(
        s,
        "  ISA       {} detected; supported: {}",
        m.isa_detected,
        m.isa_supported.join(", ")
    );
    let _ = writeln!(
        s,
        "  caches    L1d {}, L2 {}, L3 {}",
        human_bytes(m.l1),
        human_bytes(m.l2),
        human_bytes(m.l3)
    );
    let _ = writeln!(
        s,
        "  threads   {} (available_parallelism), rayon pool {}",
        m.cores, m.rayon_threads
    );
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "memory roof: triad out = a + 3 b over the operands' own buffers, {:.1} MB each ({} B/element counted), timed in the same rounds as the strategies on as many threads",
        (elems * j.bytes_per_element / 3) as f64 / 1e6,
        24
    );
    let _ = writeln!(
        s,
        "  {:<28} {:>7} {:>11} {:>8} {:>10}",
        "kernel", "threads", "median ms", "GB/s", "best GB/s"
    );
    for row in &r.roof {
        let name = if row.streaming {
            "triad, streaming stores"
        } else {
            "triad, normal stores"
        };
        let _ = writeln!(
            s,
            "  {:<28} {:>7} {:>11} {:>8.1} {:>10.1}",
            name,
            row.threads,
            ms(row.median_ms),
            row.gb_per_s,
            row.best_gb_per_s
        );
    }
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "strategies: {} B/element; % roof = median GB/s against the faster triad's median GB/s on the same thread count",
        j.bytes_per_element
    );
    let w = r
        .strategies
        .iter()
        .map(|x| x.name.len())
        .max()
        .unwrap_or(8)
        .max(8);
    let sw = r
        .strategies
        .iter()
        .filter_map(|x| x.store.as_ref().map(String::len))
        .max()
        .unwrap_or(5)
        .max(5);
    let _ = writeln!(
        s,
        "  {:<w$} {:<7} {:>3} {:<sw$} {:>10} {:>7} {:>7} {:>10} {:>7}",
        "strategy", "isa", "thr", "store", "median ms", "GB/s", "% roof", "x unfused", "bitwise"
    );
    for x in &r.strategies {
        let _ = writeln!(
            s,
            "  {:<w$} {:<7} {:>3} {:<sw$} {:>10} {:>7.1} {:>7} {:>10} {:>7}",
            x.name,
            x.isa.as_deref().unwrap_or("-"),
            x.threads,
            x.store.as_deref().unwrap_or("-"),
            ms(x.median_ms),
            x.gb_per_s,
            opt(x.pct_of_roof, 0, "%"),
            opt(x.speedup_vs_unfused, 2, "x"),
            yes_no(x.bitwise_equal)
        );
    }
    if !r.threads.is_empty() {
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "speedup / threads: fuse2d ({}) against fuse2d on 1 thread ({} ms), next to the talk's Cython prange",
            j.isa,
            ms(r.base_1thread_ms)
        );
        let _ = writeln!(
            s,
            "  {:>7} {:>10} {:>8} {:>11} {:>8} {:>12} {:>6} {:>7} {:>7}",
            "threads",
            "static ms",
            "speedup",
            "dynamic ms",
            "speedup",
            "static GB/s",
            "x ref",
            "bitwise",
            "talk"
        );
        for t in &r.threads {
            let _ = writeln!(
                s,
                "  {:>7} {:>10} {:>8.2} {:>11} {:>8.2} {:>12.1} {:>6.1} {:>7} {:>7}",
                t.threads,
                ms(t.static_ms),
                t.static_speedup,
                ms(t.dynamic_ms),
                t.dynamic_speedup,
                t.static_gb_per_s,
                t.static_vs_reference,
                yes_no(Some(t.bitwise_equal)),
                opt(t.talk, 1, "")
            );
        }
    }
    if !r.notes.is_empty() {
        let _ = writeln!(s);
        let _ = writeln!(s, "notes");
        for n in &r.notes {
            let _ = writeln!(s, "  - {n}");
        }
    }
    s
}

/// A JSON string literal.
fn js(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            '\r' => o.push_str("\\r"),
            '\t' => o.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(o, "\\u{:04x}", c as u32);
            }
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

/// A JSON number with `prec` decimals, or `null` when not finite.
fn jn(x: f64, prec: usize) -> String {
    if x.is_finite() {
        format!("{x:.prec$}")
    } else {
        "null".to_owned()
    }
}

fn jo(x: Option<f64>, prec: usize) -> String {
    x.map_or_else(|| "null".to_owned(), |v| jn(v, prec))
}

fn jb(x: Option<bool>) -> &'static str {
    match x {
        Some(true) => "true",
        Some(false) => "false",
        None => "null",
    }
}

fn jso(x: Option<&str>) -> String {
    x.map_or_else(|| "null".to_owned(), js)
}

/// One JSON object from `(key, already-encoded value)` pairs.
fn obj(fields: &[(&str, String)], indent: usize) -> String {
    let pad = " ".repeat(indent + 2);
    let body: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{pad}{}: {v}", js(k)))
        .collect();
    format!("{{\n{}\n{}}}", body.join(",\n"), " ".repeat(indent))
}

fn arr(items: Vec<String>, indent: usize) -> String {
    if items.is_empty() {
        return "[]".to_owned();
    }
    let pad = " ".repeat(indent + 2);
    let body: Vec<String> = items.iter().map(|v| format!("{pad}{v}")).collect();
    format!("[\n{}\n{}]", body.join(",\n"), " ".repeat(indent))
}

/// The whole report as one JSON document.
pub fn json(r: &Results) -> String {
    let (m, j) = (&r.machine, &r.job);
    let machine = obj(
        &[
            ("arch", js(&m.arch)),
            ("isa_detected", js(&m.isa_detected)),
            (
                "isa_supported",
                format!(
                    "[{}]",
                    m.isa_supported
                        .iter()
                        .map(|x| js(x))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
            (
                "cache_bytes",
                format!("{{\"l1\": {}, \"l2\": {}, \"l3\": {}}}", m.l1, m.l2, m.l3),
            ),
            ("available_parallelism", m.cores.to_string()),
            ("rayon_threads", m.rayon_threads.to_string()),
        ],
        2,
    );
    let job = obj(
        &[
            ("expression", js("(a + b) * 2 + a * b")),
            ("rows", j.rows.to_string()),
            ("cols", j.cols.to_string()),
            ("dtype", js(&j.dtype)),
            ("layout", js(&j.layout)),
            ("reps", j.reps.to_string()),
            ("warmup", "1".to_owned()),
            ("bytes_per_element", j.bytes_per_element.to_string()),
            ("isa", js(&j.isa)),
            ("threads_all", j.threads_all.to_string()),
        ],
        2,
    );
    let roof = arr(
        r.roof
            .iter()
            .map(|x| {
                obj(
                    &[
                        ("kernel", js(x.kernel())),
                        ("threads", x.threads.to_string()),
                        ("median_ms", jn(x.median_ms, 6)),
                        ("gb_per_s", jn(x.gb_per_s, 3)),
                        ("best_gb_per_s", jn(x.best_gb_per_s, 3)),
                    ],
                    4,
                )
            })
            .collect(),
        2,
    );
    let strategies = arr(
        r.strategies
            .iter()
            .map(|x| {
                obj(
                    &[
                        ("id", js(&x.id)),
                        ("name", js(&x.name)),
                        ("isa", jso(x.isa.as_deref())),
                        ("threads", x.threads.to_string()),
                        ("store", jso(x.store.as_deref())),
                        ("median_ms", jn(x.median_ms, 6)),
                        ("gb_per_s", jn(x.gb_per_s, 3)),
                        ("pct_of_roof", jo(x.pct_of_roof, 2)),
                        ("speedup_vs_unfused", jo(x.speedup_vs_unfused, 3)),
                        ("bitwise_equal", jb(x.bitwise_equal).to_owned()),
                    ],
                    4,
                )
            })
            .collect(),
        2,
    );
    let threads = arr(
        r.threads
            .iter()
            .map(|t| {
                obj(
                    &[
                        ("threads", t.threads.to_string()),
                        ("static_ms", jn(t.static_ms, 6)),
                        ("static_speedup", jn(t.static_speedup, 3)),
                        ("dynamic_ms", jn(t.dynamic_ms, 6)),
                        ("dynamic_speedup", jn(t.dynamic_speedup, 3)),
                        ("static_gb_per_s", jn(t.static_gb_per_s, 3)),
                        ("static_vs_reference", jn(t.static_vs_reference, 3)),
                        ("bitwise_equal", jb(Some(t.bitwise_equal)).to_owned()),
                        ("talk_speedup", jo(t.talk, 1)),
                    ],
                    4,
                )
            })
            .collect(),
        2,
    );
    let notes = arr(r.notes.iter().map(|n| js(n)).collect(), 2);
    let mut s = obj(
        &[
            ("machine", machine),
            ("job", job),
            ("roof", roof),
            ("strategies", strategies),
            ("thread_base_1thread_ms", jn(r.base_1thread_ms, 6)),
            ("threads", threads),
            ("notes", notes),
        ],
        0,
    );
    s.push('\n');
    s
}

/// One CSV field, quoted when it must be (RFC 4180).
fn cf(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

fn cn(x: f64, prec: usize) -> String {
    if x.is_finite() {
        format!("{x:.prec$}")
    } else {
        String::new()
    }
}

fn co(x: Option<f64>, prec: usize) -> String {
    x.map_or_else(String::new, |v| cn(v, prec))
}

fn cb(x: Option<bool>) -> &'static str {
    match x {
        Some(true) => "true",
        Some(false) => "false",
        None => "",
    }
}

/// The CSV header: one table for everything, told apart by `section`
/// (`machine`, `job`, `roof`, `strategy`, `threads`, `note`).
pub const CSV_HEADER: &str = "section,id,name,isa,threads,schedule,store,median_ms,gb_per_s,pct_of_roof,speedup_vs_unfused,speedup_vs_1_thread,talk_speedup,bitwise_equal,best_gb_per_s,value";

/// The whole report as one CSV table.
pub fn csv(r: &Results) -> String {
    let (m, j) = (&r.machine, &r.job);
    let mut rows: Vec<[String; 16]> = Vec::new();
    let kv = |section: &str, key: &str, value: String| -> [String; 16] {
        let mut row: [String; 16] = Default::default();
        row[0] = section.to_owned();
        row[1] = key.to_owned();
        row[15] = value;
        row
    };
    rows.push(kv("machine", "arch", m.arch.clone()));
    rows.push(kv("machine", "isa_detected", m.isa_detected.clone()));
    rows.push(kv("machine", "isa_supported", m.isa_supported.join(" ")));
    rows.push(kv("machine", "l1_bytes", m.l1.to_string()));
    rows.push(kv("machine", "l2_bytes", m.l2.to_string()));
    rows.push(kv("machine", "l3_bytes", m.l3.to_string()));
    rows.push(kv("machine", "available_parallelism", m.cores.to_string()));
    rows.push(kv("machine", "rayon_threads", m.rayon_threads.to_string()));
    rows.push(kv("job", "rows", j.rows.to_string()));
    rows.push(kv("job", "cols", j.cols.to_string()));
    rows.push(kv("job", "dtype", j.dtype.clone()));
    rows.push(kv("job", "layout", j.layout.clone()));
    rows.push(kv("job", "reps", j.reps.to_string()));
    rows.push(kv(
        "job",
        "bytes_per_element",
        j.bytes_per_element.to_string(),
    ));
    for x in &r.roof {
        let mut row: [String; 16] = Default::default();
        row[0] = "roof".into();
        row[1] = x.kernel().into();
        row[2] = x.kernel().into();
        row[4] = x.threads.to_string();
        row[6] = if x.streaming { "streaming" } else { "normal" }.into();
        row[7] = cn(x.median_ms, 6);
        row[8] = cn(x.gb_per_s, 3);
        row[14] = cn(x.best_gb_per_s, 3);
        rows.push(row);
    }
    for x in &r.strategies {
        let mut row: [String; 16] = Default::default();
        row[0] = "strategy".into();
        row[1] = x.id.clone();
        row[2] = x.name.clone();
        row[3] = x.isa.clone().unwrap_or_default();
        row[4] = x.threads.to_string();
        row[6] = x.store.clone().unwrap_or_default();
        row[7] = cn(x.median_ms, 6);
        row[8] = cn(x.gb_per_s, 3);
        row[9] = co(x.pct_of_roof, 2);
        row[10] = co(x.speedup_vs_unfused, 3);
        row[13] = cb(x.bitwise_equal).into();
        rows.push(row);
    }
    for t in &r.threads {
        for (sched, ms, sp) in [
            ("static", t.static_ms, t.static_speedup),
            ("dynamic", t.dynamic_ms, t.dynamic_speedup),
        ] {
            let mut row: [String; 16] = Default::default();
            row[0] = "threads".into();
            row[1] = "fuse2d".into();
            row[2] = format!("fuse2d, {} threads, {sched}", t.threads);
            row[3] = j.isa.clone();
            row[4] = t.threads.to_string();
            row[5] = sched.into();
            row[7] = cn(ms, 6);
            row[8] = cn(
                (j.bytes_per_element * j.rows * j.cols) as f64 / (ms * 1e-3) / 1e9,
                3,
            );
            row[11] = cn(sp, 3);
            row[12] = co(t.talk, 1);
            row[13] = cb(Some(t.bitwise_equal)).into();
            rows.push(row);
        }
    }
    for n in &r.notes {
        rows.push(kv("note", "", n.clone()));
    }
    let mut s = String::from(CSV_HEADER);
    s.push('\n');
    for row in rows {
        let line: Vec<String> = row.iter().map(|f| cf(f)).collect();
        s.push_str(&line.join(","));
        s.push('\n');
    }
    s
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A small but complete result, with awkward strings in it.
    pub(crate) fn sample() -> Results {
        Results {
            machine: Machine {
                arch: "x86_64".into(),
                isa_detected: "avx2".into(),
                isa_supported: vec!["scalar".into(), "sse2".into(), "avx2".into()],
                l1: 32 << 10,
                l2: 1 << 20,
                l3: 32 << 20,
                cores: 2,
                rayon_threads: 2,
            },
            job: Job {
                rows: 4,
                cols: 6,
                dtype: "f64".into(),
                layout: "contiguous".into(),
                reps: 3,
                bytes_per_element: 24,
                isa: "avx2".into(),
                threads_all: 2,
            },
            roof: vec![RoofRow {
                streaming: true,
                threads: 1,
                median_ms: 1.5,
                gb_per_s: 30.0,
                best_gb_per_s: 31.0,
            }],
            strategies: vec![
                StrategyRow {
                    id: "naive".into(),
                    name: "naive, \"quoted\", with commas\tand tab".into(),
                    threads: 1,
                    median_ms: 2.0,
                    gb_per_s: f64::INFINITY,
                    pct_of_roof: None,
                    speedup_vs_unfused: Some(1.25),
                    bitwise_equal: Some(true),
                    ..Default::default()
                },
                StrategyRow {
                    id: "fuse2d".into(),
                    name: "fuse2d".into(),
                    isa: Some("avx2".into()),
                    threads: 2,
                    store: Some("auto (streaming)".into()),
                    median_ms: 1.0,
                    gb_per_s: 40.0,
                    pct_of_roof: Some(f64::NAN),
                    speedup_vs_unfused: Some(3.0),
                    bitwise_equal: None,
                },
            ],
            base_1thread_ms: 1.0,
            threads: vec![ThreadRow {
                threads: 5,
                static_ms: 0.5,
                static_speedup: 2.0,
                dynamic_ms: 0.6,
                dynamic_speedup: 1.66,
                static_gb_per_s: 48.0,
                static_vs_reference: 10.0,
                bitwise_equal: true,
                talk: talk_speedup(5),
            }],
            notes: vec!["a note\nwith a newline and a \\ backslash".into()],
        }
    }

    fn python3() -> bool {
        std::process::Command::new("python3")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    }

    /// Runs `code` with `input` on stdin; true when it exits successfully.
    fn python_accepts(code: &str, input: &str) -> bool {
        use std::io::Write;
        use std::process::{Command, Stdio};
        let mut child = Command::new("python3")
            .args(["-c", code])
            .stdin(Stdio::piped())
            .spawn()
            .expect("python3 starts");
        child
            .stdin
            .take()
            .expect("stdin is piped")
            .write_all(input.as_bytes())
            .expect("write to python3");
        child.wait().expect("python3 finishes").success()
    }

    #[test]
    fn talk_numbers() {
        assert_eq!(talk_speedup(0), None);
        assert_eq!(talk_speedup(1), Some(1.0));
        assert_eq!(talk_speedup(4), Some(2.0));
        assert_eq!(talk_speedup(5), None);
    }

    #[test]
    fn json_is_valid() {
        let j = json(&sample());
        assert!(
            j.contains("\"gb_per_s\": null"),
            "infinite numbers become null"
        );
        assert!(j.contains("\\\"quoted\\\""));
        assert!(j.contains("\\t"));
        if python3() {
            let code = "import json, sys\nd = json.load(sys.stdin)\n\
                        assert d['strategies'][0]['speedup_vs_unfused'] == 1.25\n\
                        assert d['strategies'][1]['pct_of_roof'] is None\n\
                        assert d['threads'][0]['talk_speedup'] is None\n\
                        assert d['machine']['cache_bytes']['l3'] == 32 << 20\n\
                        assert d['notes'][0].startswith('a note\\nwith')";
            assert!(python_accepts(code, &j), "python3 rejected:\n{j}");
        } else {
            // Without python3: brackets balance outside strings.
            let (mut depth, mut in_str, mut esc) = (0i32, false, false);
            for c in j.chars() {
                match (in_str, esc, c) {
                    (true, true, _) => esc = false,
                    (true, false, '\\') => esc = true,
                    (true, false, '"') => in_str = false,
                    (false, _, '"') => in_str = true,
                    (false, _, '{' | '[') => depth += 1,
                    (false, _, '}' | ']') => depth -= 1,
                    _ => {}
                }
                assert!(depth >= 0);
            }
            assert_eq!(depth, 0);
            assert!(!in_str);
        }
    }

    #[test]
    fn csv_is_rectangular() {
        let c = csv(&sample());
        let width = CSV_HEADER.split(',').count();
        assert_eq!(width, 16);
        if python3() {
            let code = "import csv, sys\nrows = list(csv.reader(sys.stdin))\n\
                        assert all(len(r) == 16 for r in rows), [len(r) for r in rows]\n\
                        names = [r[2] for r in rows if r[0] == 'strategy']\n\
                        assert names[0] == 'naive, \"quoted\", with commas\\tand tab', names\n\
                        notes = [r[15] for r in rows if r[0] == 'note']\n\
                        assert notes[0].startswith('a note\\nwith'), notes";
            assert!(python_accepts(code, &c), "python3 rejected:\n{c}");
        }
        // Without quoting issues, every unquoted line has the header's width.
        let plain = c.lines().filter(|l| !l.contains('"')).count();
        assert!(plain > 10);
        for l in c.lines().filter(|l| !l.contains('"') && l.contains(',')) {
            assert_eq!(l.split(',').count(), width, "{l}");
        }
    }

    #[test]
    fn table_mentions_everything() {
        let t = table(&sample());
        for needle in [
            "memory roof",
            "triad, streaming stores",
            "x unfused",
            "bitwise",
            "speedup / threads",
            "talk",
            "auto (streaming)",
            "notes",
        ] {
            assert!(t.contains(needle), "missing {needle:?} in\n{t}");
        }
    }
}
