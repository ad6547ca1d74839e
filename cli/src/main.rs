//! `fuse2d`: the PyData London 2014 talk's comparison, redone in Rust and
//! measured against the memory roof of this machine.
//!
//! `cargo run --release` at the repository root runs it on 2000x2000 `f64`
//! inputs; `cargo run --release -- --help` lists the flags. Results go to
//! stdout (table, CSV or JSON), the progress bar to stderr.

mod report;
mod strategies;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{CommandFactory, Parser, ValueEnum, error::ErrorKind};
use fuse2d::{CacheInfo, Config, Flagship, Isa, Matrix, Schedule, StoreMode};
use indicatif::{ProgressBar, ProgressStyle};

use report::{Job, Machine, Results, RoofRow, StrategyRow, ThreadRow};
use strategies::{Geometry, Operand, Real};

/// The Python side of `--python` (shared with `benches/versus.rs`).
#[path = "../../benches/support/python.rs"]
mod python;

/// The largest thread count accepted on the command line.
const MAX_THREADS: usize = 1024;
/// Timed repetitions per measurement when `--reps` is not given: enough for
/// a stable median on a shared machine, under a second per row at 2000x2000.
const DEFAULT_REPS: usize = 31;

#[derive(Parser, Debug)]
#[command(
    name = "fuse2d",
    version,
    about = "The talk's comparison for out = (a + b) * 2 + a * b, measured on this machine",
    long_about = "Runs the PyData London 2014 talk's comparison (NumPy, unfused passes, \
the quadrant split on threads, Cython + OpenMP prange) redone in Rust with fuse2d, on \
inputs made in memory, and measures it against the memory roof (a STREAM triad) of this \
machine. The strategies on one thread are timed in interleaved rounds (each runs three times \
per round, the third run timed), so a shared machine's drift hits them alike; then those on \
several threads, in rounds of their own (on a VM an idle core is slow to come back, so \
mixing the two made the threaded rows look slow); then the allocating 'unfused' row. Every \
timing is the median over --reps rounds after at least 200 ms of warm-up, and every output is \
checked bitwise against fuse2d::reference. Results go to stdout, a progress bar to stderr.",
    allow_negative_numbers = true
)]
struct Args {
    /// Matrix size, ROWSxCOLS (or N for NxN) [default: 2000x2000]
    #[arg(long, value_name = "ROWSxCOLS", value_parser = parse_size, conflicts_with_all = ["rows", "cols"], allow_hyphen_values = true)]
    size: Option<(usize, usize)>,

    /// Number of rows [default: 2000]
    #[arg(long, value_parser = parse_count, allow_hyphen_values = true)]
    rows: Option<usize>,

    /// Number of columns [default: 2000]
    #[arg(long, value_parser = parse_count, allow_hyphen_values = true)]
    cols: Option<usize>,

    /// Thread counts for the speedup table, comma-separated, e.g. 1,2,4
    /// [default: 1 to the number of cores]
    #[arg(long, value_name = "LIST", value_delimiter = ',', value_parser = parse_threads, allow_hyphen_values = true)]
    threads: Vec<usize>,

    /// Element type
    #[arg(long, value_enum, default_value_t = Dtype::F64)]
    dtype: Dtype,

    /// Timed rounds (after one warm-up round); each row reports its median
    #[arg(long, value_name = "N", default_value_t = DEFAULT_REPS, value_parser = parse_count, allow_hyphen_values = true)]
    reps: usize,

    /// Highest instruction set to use: the per-ISA rows stop at it and the
    /// multi-thread fuse2d rows use it (scalar, sse2, avx2, avx512, neon)
    /// [default: the best this CPU has]
    #[arg(long, value_parser = parse_isa)]
    isa: Option<Isa>,

    /// Store mode for the fuse2d rows [default: auto on one thread, and each
    /// of auto, normal, streaming on all threads]
    #[arg(long, value_enum)]
    store: Option<Store>,

    /// Memory layout of the operands
    #[arg(long, value_enum, default_value_t = Layout::Contiguous)]
    layout: Layout,

    /// Output format on stdout
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,

    /// Also time NumPy, numexpr and the talk's Cython prange kernel (built at run
    /// time) in the same rounds, through a python3 process, when they are
    /// installed; the others are skipped
    #[arg(long)]
    python: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Dtype {
    /// 64-bit floats (the talk's double)
    F64,
    /// 32-bit floats
    F32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Store {
    /// Streaming stores when the output is large against the last-level cache (fuse2d::StoreMode::Auto)
    Auto,
    /// Ordinary stores
    Normal,
    /// Non-temporal stores
    Streaming,
}

impl Store {
    fn mode(self) -> StoreMode {
        match self {
            Store::Auto => StoreMode::Auto,
            Store::Normal => StoreMode::Normal,
            Store::Streaming => StoreMode::Streaming,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Layout {
    /// a, b and out row-major and contiguous
    Contiguous,
    /// a, b and out are the top-left quadrant views of matrices twice the size
    Quadrants,
    /// b column-major, a and out row-major
    #[value(name = "colmajor-b")]
    ColmajorB,
}

impl Layout {
    fn name(self) -> &'static str {
        match self {
            Layout::Contiguous => "contiguous",
            Layout::Quadrants => "quadrants",
            Layout::ColmajorB => "colmajor-b",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    /// A table for people
    Table,
    /// One CSV table (column `section` tells the parts apart)
    Csv,
    /// One JSON document
    Json,
}

/// A count of at least 1.
fn parse_count(s: &str) -> Result<usize, String> {
    let t = s.trim();
    if t.starts_with('-') {
        return Err(format!(
            "{s:?} is negative; it must be a whole number of at least 1"
        ));
    }
    match t.parse::<usize>() {
        Ok(0) => Err("it must be at least 1".to_owned()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("{s:?} is not a whole number of at least 1")),
    }
}

fn parse_threads(s: &str) -> Result<usize, String> {
    let n = parse_count(s).map_err(|e| format!("thread count: {e}"))?;
    if n > MAX_THREADS {
        return Err(format!(
            "thread count {n} is above the limit of {MAX_THREADS}"
        ));
    }
    Ok(n)
}

/// `ROWSxCOLS`, or `N` for `NxN`.
fn parse_size(s: &str) -> Result<(usize, usize), String> {
    let t = s.trim().to_ascii_lowercase();
    let (r, c) = match t.split_once('x') {
        Some((r, c)) => (r, c),
        None => (t.as_str(), t.as_str()),
    };
    let dim = |x: &str, what: &str| {
        parse_count(x)
            .map_err(|e| format!("{what} in {s:?}: {e} (expected ROWSxCOLS, e.g. 2000x2000)"))
    };
    let (rows, cols) = (dim(r, "rows")?, dim(c, "columns")?);
    // Room for the quadrant layout (4x) of 8-byte elements.
    if rows
        .checked_mul(cols)
        .and_then(|n| n.checked_mul(32))
        .is_none_or(|b| b > isize::MAX as usize)
    {
        return Err(format!("{rows}x{cols} is too large to fit in memory"));
    }
    Ok((rows, cols))
}

fn parse_isa(s: &str) -> Result<Isa, String> {
    s.parse::<Isa>().map_err(|_| {
        format!("unknown instruction set {s:?} (expected one of: scalar, sse2, avx2, avx512, neon)")
    })
}

/// Everything the run needs, resolved from the flags.
struct Plan {
    rows: usize,
    cols: usize,
    reps: usize,
    layout: Layout,
    /// The ISA of the multi-thread fuse2d rows and the thread table.
    isa: Isa,
    /// The per-ISA, one-thread rows.
    isas: Vec<Isa>,
    /// Store mode of the one-thread rows and the thread table.
    store: StoreMode,
    /// Store modes of the all-thread rows.
    stores: Vec<StoreMode>,
    /// Thread counts of the speedup table.
    thread_list: Vec<usize>,
    /// "All threads".
    all: usize,
    python: bool,
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn plan(args: &Args) -> Result<Plan, clap::Error> {
    let usage = |msg: String| Args::command().error(ErrorKind::InvalidValue, msg);
    if let Err(e) = Config::new().resolve_isa() {
        return Err(usage(e.to_string()));
    }
    let supported = Isa::supported();
    let isa = match args.isa {
        None => Isa::detect(),
        Some(isa) if isa.is_supported() => isa,
        Some(isa) => {
            let names: Vec<&str> = supported.iter().map(|i| i.name()).collect();
            return Err(usage(format!(
                "--isa {isa}: not available on this CPU{}; available here: {}",
                if std::env::var_os(fuse2d::MAX_ISA_ENV).is_some() {
                    format!(" under {}", fuse2d::MAX_ISA_ENV)
                } else {
                    String::new()
                },
                names.join(", ")
            )));
        }
    };
    let upto = supported.iter().position(|&i| i == isa).unwrap_or(0);
    let (rows, cols) = args
        .size
        .unwrap_or((args.rows.unwrap_or(2000), args.cols.unwrap_or(2000)));
    if args.size.is_none() {
        parse_size(&format!("{rows}x{cols}")).map_err(usage)?;
    }
    let all = cores();
    let mut thread_list = if args.threads.is_empty() {
        (1..=all).collect()
    } else {
        args.threads.clone()
    };
    thread_list.dedup();
    Ok(Plan {
        rows,
        cols,
        reps: args.reps,
        layout: args.layout,
        isa,
        isas: supported[..=upto].to_vec(),
        store: args.store.map_or(StoreMode::Auto, Store::mode),
        stores: match args.store {
            Some(s) => vec![s.mode()],
            None => vec![StoreMode::Auto, StoreMode::Normal, StoreMode::Streaming],
        },
        thread_list,
        all,
        python: args.python,
    })
}

fn store_name(m: StoreMode) -> &'static str {
    match m {
        StoreMode::Auto => "auto",
        StoreMode::Normal => "normal",
        StoreMode::Streaming => "streaming",
    }
}

fn median(ts: &mut [f64]) -> f64 {
    ts.sort_by(f64::total_cmp);
    let m = ts.len() / 2;
    if ts.len() % 2 == 1 {
        ts[m]
    } else {
        (ts[m - 1] + ts[m]) / 2.0
    }
}

/// A strategy run into the output operand.
type Runner<'a, T> = Box<dyn FnMut(&mut Operand<T>) + 'a>;

/// How an entry runs.
enum Run<'a, T> {
    /// In this process, into the output operand.
    Here(Runner<'a, T>),
    /// In the `--python` session, on its row's thread count; timed there.
    Python(python::Which),
}

/// Where a timed entry's result goes.
enum Slot {
    /// A triad of the memory roof (writes the output's buffer with its own
    /// values; every strategy rewrites it).
    Roof { streaming: bool, threads: usize },
    /// A row of the strategies table.
    Strategy(StrategyRow),
    /// A cell of the speedup / threads table.
    Threads { threads: usize, dynamic: bool },
}

/// One timed entry.
struct Timed<'a, T> {
    slot: Slot,
    run: Run<'a, T>,
    /// Timed in rounds of its own, after the others: it hands memory back
    /// to the OS on every call, and on a VM that slowed the entries timed
    /// after it (fuse2d on two threads at 2000x2000: 1.8 ms alone, up to
    /// 3.6 ms right after it).
    apart: bool,
}

/// The rounds an entry is timed in. Entries of one phase are interleaved
/// with each other; the phases run one after the other. One-thread and
/// multi-thread entries are apart because on a VM a core left idle runs
/// slowly for a while when work comes back: on the Intel Xeon VM, two-thread
/// calls at 2000x2000 took 3.4 ms when most of each round ran on one thread
/// and 1.8 ms when most ran on two.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    OneThread,
    Threads,
    Apart,
}

impl<T> Timed<'_, T> {
    fn threads(&self) -> usize {
        match &self.slot {
            Slot::Roof { threads, .. } | Slot::Threads { threads, .. } => *threads,
            Slot::Strategy(row) => row.threads,
        }
    }

    fn phase(&self) -> Phase {
        let threads = self.threads();
        if self.apart {
            Phase::Apart
        } else if threads > 1 {
            Phase::Threads
        } else {
            Phase::OneThread
        }
    }
}

/// The least time a phase warms up for before its timed rounds.
const WARM_UP: Duration = Duration::from_millis(200);

/// What one entry measured.
struct Measured {
    median_ms: f64,
    best_ms: f64,
    /// Output bitwise equal to the reference; `None` for the triads.
    bitwise_equal: Option<bool>,
}

/// Times entries in interleaved rounds, with a progress bar.
struct Meter {
    reps: usize,
    bar: ProgressBar,
    /// The `--python` session (on the run's layout), for
    /// [`Run::Python`] entries.
    python: Option<(python::Session, &'static str)>,
    /// Why a Python entry could not be timed or checked, the first time it
    /// happened.
    python_stopped: Option<String>,
}

impl Meter {
    /// For each [`Phase`] in turn: warm-up rounds (at least one, at least
    /// [`WARM_UP`]), then `reps` rounds, each running every entry of the
    /// phase in turn, timing its last of [`strategies::UNTIMED_RUNS`] + 1
    /// runs (so every timed run starts from the cache state its own runs
    /// left, as in a loop of calls, not from the previous entry's: see
    /// there why one untimed run is not enough); then one round checking
    /// every output against `oracle`. On a shared machine the load drifts
    /// over seconds: interleaving makes every entry of a phase see the same
    /// drift, so the ratios between its rows hold even when the absolute
    /// numbers move; ratios across phases (one thread against two) carry
    /// the drift between the phases.
    fn interleaved<T: Real>(
        &mut self,
        entries: &mut [Timed<'_, T>],
        out: &mut Operand<T>,
        oracle: &Matrix<T>,
    ) -> Vec<Measured> {
        let mut times = vec![Vec::with_capacity(self.reps); entries.len()];
        let mut phases: Vec<Phase> = entries.iter().map(Timed::phase).collect();
        phases.sort();
        phases.dedup();
        // The bar was sized for one phase: warm-up, rounds, check.
        let extra = (phases.len().max(1) - 1) * (self.reps + 1);
        self.bar
            .set_length(self.bar.length().unwrap_or(0) + extra as u64);
        for phase in phases {
            let what = match phase {
                Phase::OneThread => "1 thread",
                Phase::Threads => "several threads",
                Phase::Apart => "allocating rows",
            };
            self.bar.set_message(format!("warm-up ({what})"));
            let start = Instant::now();
            loop {
                for e in entries.iter_mut().filter(|e| e.phase() == phase) {
                    self.time(e, out);
                }
                if start.elapsed() >= WARM_UP {
                    break;
                }
            }
            self.bar.inc(1);
            for round in 0..self.reps {
                self.bar
                    .set_message(format!("round {} of {} ({what})", round + 1, self.reps));
                for (e, ts) in entries.iter_mut().zip(&mut times) {
                    if e.phase() != phase {
                        continue;
                    }
                    ts.push(self.time(e, out));
                }
                self.bar.inc(1);
            }
        }
        self.bar.set_message("checking outputs");
        let measured = entries
            .iter_mut()
            .zip(&mut times)
            .map(|(e, ts)| {
                let bitwise_equal = match (&e.slot, &mut e.run) {
                    (Slot::Roof { .. }, _) => None,
                    (_, Run::Here(run)) => {
                        out.clear();
                        run(out);
                        std::hint::black_box(&out.data);
                        Some(matches(out, oracle))
                    }
                    (_, Run::Python(which)) => {
                        let (py, layout) = self
                            .python
                            .as_mut()
                            .expect("Python entries come with a session");
                        match py.result(*which, layout, e.threads()) {
                            Ok(bytes) => Some(strategies::same_bits(&bytes, oracle.as_slice())),
                            Err(why) => {
                                self.python_stopped.get_or_insert(why);
                                None
                            }
                        }
                    }
                };
                let best = ts.iter().copied().fold(f64::INFINITY, f64::min);
                // A Python entry whose process stopped has no median.
                let stopped = ts.iter().any(|t| t.is_nan());
                Measured {
                    median_ms: if stopped { f64::NAN } else { median(ts) * 1e3 },
                    best_ms: best * 1e3,
                    bitwise_equal,
                }
            })
            .collect();
        self.bar.inc(1);
        measured
    }

    /// The seconds of `e`'s last of [`strategies::UNTIMED_RUNS`] + 1 runs in
    /// a row (timed in Python for a Python entry; NaN if it stopped).
    fn time<T: Real>(&mut self, e: &mut Timed<'_, T>, out: &mut Operand<T>) -> f64 {
        let threads = e.threads();
        match &mut e.run {
            Run::Here(run) => strategies::time_warm(|| run(out)),
            Run::Python(which) => {
                let (py, layout) = self
                    .python
                    .as_mut()
                    .expect("Python entries come with a session");
                py.time(*which, layout, threads).unwrap_or_else(|why| {
                    self.python_stopped.get_or_insert(why);
                    f64::NAN
                })
            }
        }
    }
}

/// True when `out` holds bitwise the reference result.
fn matches<T: Real>(out: &Operand<T>, oracle: &Matrix<T>) -> bool {
    let g = out.geo;
    (0..g.rows)
        .all(|i| (0..g.cols).all(|j| Some(out.get(i, j).bits()) == oracle.get(i, j).map(T::bits)))
}

fn run(args: &Args, plan: &Plan) -> Result<Results, String> {
    match args.dtype {
        Dtype::F64 => job::<f64>(plan, "f64"),
        Dtype::F32 => job::<f32>(plan, "f32"),
    }
}

fn alloc_error(what: &str) -> String {
    format!("could not allocate memory for {what}; try a smaller --size")
}

/// The whole measurement for element type `T`.
fn job<T: Real>(p: &Plan, dtype: &str) -> Result<Results, String> {
    let (started, cpu0) = (Instant::now(), cpu_times());
    let (rows, cols) = (p.rows, p.cols);
    let elems = rows * cols;
    let elem_bytes = core::mem::size_of::<T>();
    // a, b, out (4x for quadrant views), the oracle, 3 triad arrays and 3
    // temporaries of the unfused strategy.
    let arrays = if p.layout == Layout::Quadrants { 12 } else { 3 } + 1 + 3 + 3;
    let needed = (arrays * elems).saturating_mul(elem_bytes);
    if let Some(avail) = mem_available()
        && needed > avail
    {
        return Err(format!(
            "{rows}x{cols} {dtype} needs about {:.1} GB with layout {}, but only {:.1} GB of memory is available; try a smaller --size",
            needed as f64 / 1e9,
            p.layout.name(),
            avail as f64 / 1e9
        ));
    }
    let bytes_per_run = (3 * elem_bytes * elems) as f64;
    let gbs = |ms: f64| bytes_per_run / (ms * 1e-3) / 1e9;

    // Every strategy below is timed in the same rounds (see `Meter`): one
    // warm-up round, `reps` timed rounds, one round checking the outputs.
    let steps = p.reps + 2;
    let bar = ProgressBar::new(steps as u64);
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} {elapsed} {msg}")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    let mut meter = Meter {
        reps: p.reps,
        bar,
        python: None,
        python_stopped: None,
    };
    meter.bar.set_message("making the inputs");

    // The operands, in the requested layout.
    let rm = Geometry::row_major(rows, cols);
    let q = Geometry::top_left_quadrant(rows, cols);
    let (ga, gb, go, len) = match p.layout {
        Layout::Contiguous => (rm, rm, rm, 0),
        Layout::Quadrants => (q, q, q, 4 * elems),
        Layout::ColmajorB => (rm, Geometry::col_major(rows, cols), rm, 0),
    };
    let a = Operand::try_new(ga, len, |i, j| strategies::input_a::<T>(i, j, cols))
        .ok_or_else(|| alloc_error("a"))?;
    let b = Operand::try_new(gb, len, |i, j| strategies::input_b::<T>(i, j))
        .ok_or_else(|| alloc_error("b"))?;
    let mut out = Operand::try_new(go, len, |_, _| T::ZERO).ok_or_else(|| alloc_error("out"))?;
    let mut oracle = Matrix::<T>::try_zeros(rows, cols).map_err(|e| e.to_string())?;
    fuse2d::reference::fused_into(a.view(), b.view(), oracle.as_mut())
        .map_err(|e| e.to_string())?;

    let mut notes = Vec::new();

    // The memory roof: triads over the operands' own buffers, as f64s, as
    // many bytes as one operand has (`out = a + 3 b`): the same pages the
    // strategies use, and no extra memory between their runs. Triads on
    // three arrays of their own ran on other pages and evicted a, b and out
    // from the cache every round: at 2000x2000 on an Intel Xeon VM their
    // one-thread streaming triad took 4.75 ms where fuse2d took 3.5, so
    // fuse2d showed 134% of its "roof"; on the operands' pages it is 3.1 ms.
    let n = (elems * elem_bytes).div_ceil(8);
    let mut timed: Vec<Timed<'_, T>> = Vec::new();
    let roof_counts = if p.all > 1 { vec![1, p.all] } else { vec![1] };
    for &t in &roof_counts {
        for streaming in [true, false] {
            let kernel = if streaming {
                strategies::triad_streaming
            } else {
                strategies::triad_normal
            };
            let (a, b) = (&a, &b);
            timed.push(Timed {
                slot: Slot::Roof {
                    streaming,
                    threads: t,
                },
                run: Run::Here(Box::new(move |o| {
                    let x = strategies::as_f64_mut(&mut o.data);
                    let (y, z) = (strategies::as_f64(&a.data), strategies::as_f64(&b.data));
                    let m = n.min(x.len()).min(y.len()).min(z.len());
                    strategies::triad_threads(kernel, &mut x[..m], &y[..m], &z[..m], 3.0, t);
                })),
                apart: false,
            });
        }
    }
    if !strategies::HAS_STREAMING_STORES {
        notes.push(format!(
            "no non-temporal stores on {}: the 'streaming' triad uses normal stores",
            std::env::consts::ARCH
        ));
    }

    // One row per strategy.
    let base = |id: &str, name: &str, threads: usize| StrategyRow {
        id: id.to_owned(),
        name: name.to_owned(),
        threads,
        ..Default::default()
    };
    let (a, b) = (&a, &b);
    timed.push(Timed {
        slot: Slot::Strategy(base("reference", "reference (fuse2d::reference)", 1)),
        run: Run::Here(Box::new(|o| {
            fuse2d::reference::fused_into(a.view(), b.view(), o.view_mut())
                .expect("shapes match by construction");
        })),
        apart: false,
    });
    timed.push(Timed {
        slot: Slot::Strategy(base("naive", "naive loop (Vec indexing)", 1)),
        run: Run::Here(Box::new(|o| strategies::naive(a, b, o))),
        apart: false,
    });
    timed.push(Timed {
        slot: Slot::Strategy(base("unfused", "unfused + temporaries (NumPy)", 1)),
        run: Run::Here(Box::new(|o| strategies::unfused(a, b, o))),
        apart: true,
    });
    timed.push(Timed {
        slot: Slot::Strategy(base(
            "quadrants",
            "quadrants on 4 threads (talk)",
            strategies::QUADRANT_THREADS,
        )),
        run: Run::Here(Box::new(|o| {
            strategies::quadrant_threads(a.view(), b.view(), o.view_mut())
        })),
        apart: false,
    });

    // fuse2d: each configuration runs once first, for its errors and its
    // report (did `Auto` stream?).
    let mut fuse = |cfg: Config| -> Result<(fuse2d::Report, Runner<'_, T>), String> {
        let rep = cfg
            .run(&Flagship, [a.view(), b.view()], out.view_mut())
            .map_err(|e| e.to_string())?;
        let run: Runner<'_, T> = Box::new(move |o| {
            cfg.fused_into(a.view(), b.view(), o.view_mut())
                .expect("the same configuration ran before");
        });
        Ok((rep, run))
    };
    let fuse_row = |isa: Isa, threads: usize, store: StoreMode, rep: &fuse2d::Report| {
        let mut row = base("fuse2d", "fuse2d", threads);
        row.isa = Some(isa.name().to_owned());
        row.store = Some(match store {
            StoreMode::Auto => format!(
                "auto ({})",
                if rep.streaming { "streaming" } else { "normal" }
            ),
            m => store_name(m).to_owned(),
        });
        row
    };
    for &isa in &p.isas {
        let (rep, run) = fuse(Config::new().isa(isa).threads(1).store(p.store))?;
        timed.push(Timed {
            slot: Slot::Strategy(fuse_row(isa, 1, p.store, &rep)),
            run: Run::Here(run),
            apart: false,
        });
    }
    for &store in &p.stores {
        let (rep, run) = fuse(Config::new().isa(p.isa).threads(p.all).store(store))?;
        timed.push(Timed {
            slot: Slot::Strategy(fuse_row(p.isa, p.all, store, &rep)),
            run: Run::Here(run),
            apart: false,
        });
    }

    // The talk's "Speedup / Threads" table: the base is fuse2d on 1 thread
    // with the static schedule (the list's own 1-thread row when it has
    // one), as the talk's table starts at 1.0.
    let mut thread_counts = p.thread_list.clone();
    if !thread_counts.contains(&1) {
        thread_counts.insert(0, 1);
    }
    for &t in &thread_counts {
        for sched in [Schedule::Static, Schedule::Dynamic] {
            let cfg = Config::new()
                .isa(p.isa)
                .threads(t)
                .store(p.store)
                .schedule(sched);
            let (_, run) = fuse(cfg)?;
            timed.push(Timed {
                slot: Slot::Threads {
                    threads: t,
                    dynamic: sched == Schedule::Dynamic,
                },
                run: Run::Here(run),
                apart: false,
            });
        }
    }

    // `--python`: NumPy, numexpr and the talk's Cython kernel in a python3
    // process on the same layout, timed in the same rounds (see `Meter`).
    if p.python {
        meter.bar.set_message("starting python3");
        match python::Session::start(rows, cols, T::NUMPY, strategies::UNTIMED_RUNS) {
            Err(why) => notes.push(format!("--python: {why}; the Python rows are skipped")),
            Ok(mut py) => {
                let layout = p.layout.name();
                for which in python::Which::ALL {
                    for &t in roof_counts.iter().filter(|&&t| which.runs_on(t)) {
                        // One run first, for what cannot run (and to build
                        // the Cython kernel before the rounds).
                        match py.time(which, layout, t) {
                            Ok(_) => timed.push(Timed {
                                slot: Slot::Strategy(base(which.id(), which.label(), t)),
                                run: Run::Python(which),
                                apart: false,
                            }),
                            Err(why) => {
                                let note = format!("--python: {} skipped: {why}", which.label());
                                if !notes.contains(&note) {
                                    notes.push(note);
                                }
                            }
                        }
                    }
                }
                if p.layout != Layout::Contiguous {
                    notes.push(format!(
                        "--python: the Python rows read the same {layout} layout (NumPy views)"
                    ));
                }
                meter.python = Some((py, layout));
            }
        }
    }

    let measured = meter.interleaved(&mut timed, &mut out, &oracle);
    if let Some(why) = meter.python_stopped.take() {
        notes.push(format!(
            "--python: python3 stopped during the rounds ({why}); its rows have no median or no check"
        ));
    }
    // Ends the python3 process and waits for it, so its CPU time counts as
    // ours below.
    meter.python = None;
    let mut roof = Vec::new();
    let mut rows_out: Vec<StrategyRow> = Vec::new();
    let mut per_thread: Vec<(usize, [f64; 2], bool)> = Vec::new();
    for (entry, m) in timed.iter().zip(&measured) {
        match &entry.slot {
            Slot::Roof { streaming, threads } => {
                let rate = |ms: f64| (24 * n) as f64 / (ms * 1e-3) / 1e9;
                roof.push(RoofRow {
                    streaming: *streaming,
                    threads: *threads,
                    median_ms: m.median_ms,
                    gb_per_s: rate(m.median_ms),
                    best_gb_per_s: rate(m.best_ms),
                });
            }
            Slot::Strategy(row) => rows_out.push(StrategyRow {
                median_ms: m.median_ms,
                gb_per_s: gbs(m.median_ms),
                bitwise_equal: m.bitwise_equal,
                ..row.clone()
            }),
            Slot::Threads { threads, dynamic } => {
                let k = usize::from(*dynamic);
                let ok = m.bitwise_equal != Some(false);
                match per_thread.iter_mut().find(|(t, ..)| t == threads) {
                    Some(e) => {
                        e.1[k] = m.median_ms;
                        e.2 &= ok;
                    }
                    None => {
                        let mut ms = [0.0; 2];
                        ms[k] = m.median_ms;
                        per_thread.push((*threads, ms, ok));
                    }
                }
            }
        }
    }
    drop(timed);
    let roof_for = |threads: usize| {
        let want = if threads <= 1 { 1 } else { p.all };
        roof.iter()
            .filter(|r| r.threads == want)
            .map(|r| r.gb_per_s)
            .reduce(f64::max)
    };
    for r in &mut rows_out {
        r.pct_of_roof = roof_for(r.threads).map(|x| 100.0 * r.gb_per_s / x);
    }
    let reference_ms = rows_out[0].median_ms;
    let base_ms = per_thread
        .iter()
        .find(|(t, ..)| *t == 1)
        .map_or(f64::NAN, |(_, ms, _)| ms[0]);
    per_thread.retain(|(t, ..)| p.thread_list.contains(t));
    let measured = per_thread;
    let thread_rows: Vec<ThreadRow> = measured
        .into_iter()
        .map(|(t, ms, ok)| ThreadRow {
            threads: t,
            static_ms: ms[0],
            static_speedup: base_ms / ms[0],
            dynamic_ms: ms[1],
            dynamic_speedup: base_ms / ms[1],
            static_gb_per_s: gbs(ms[0]),
            static_vs_reference: reference_ms / ms[0],
            bitwise_equal: ok,
            talk: report::talk_speedup(t),
        })
        .collect();

    meter.bar.finish_and_clear();

    let unfused_ms = rows_out
        .iter()
        .find(|r| r.id == "unfused")
        .map(|r| r.median_ms);
    for r in &mut rows_out {
        r.speedup_vs_unfused = unfused_ms.map(|u| u / r.median_ms);
    }
    if rows_out.iter().any(|r| r.bitwise_equal == Some(false))
        || thread_rows.iter().any(|t| !t.bitwise_equal)
    {
        notes.push("some outputs differ from fuse2d::reference (bitwise = NO)".to_owned());
    }
    notes.push(
        "unfused = NumPy's evaluation: t1 = a + b, t2 = t1 * 2, t3 = a * b, out = t2 + t3, \
         one full pass each, three temporaries allocated per call; it is timed in rounds of \
         its own after the others, because returning its memory to the OS on every call \
         slowed the rows timed after it"
            .to_owned(),
    );
    if p.all < strategies::QUADRANT_THREADS {
        notes.push(format!(
            "the quadrant split runs 4 threads on {} core(s), as the talk's num_threads=4 did",
            p.all
        ));
    }
    match p.layout {
        Layout::Contiguous => {}
        Layout::Quadrants => notes.push(format!(
            "layout quadrants: a, b and out are the top-left {rows}x{cols} views of {}x{} row-major matrices",
            2 * rows,
            2 * cols
        )),
        Layout::ColmajorB => notes.push(
            "layout colmajor-b: b is column-major, a and out row-major".to_owned(),
        ),
    }
    if elem_bytes != 8 {
        notes.push(format!(
            "{dtype}: {} bytes per element counted; the roof triads run on f64 arrays of the same size in bytes",
            3 * elem_bytes
        ));
    }

    if let (Some(c0), Some(c1)) = (cpu0, cpu_times()) {
        // Ticks are USER_HZ = 100 per second on Linux.
        let capacity = started.elapsed().as_secs_f64() * 100.0 * p.all as f64;
        let others = (c1.0 - c0.0).saturating_sub(c1.1 - c0.1) as f64;
        if capacity > 0.0 && others / capacity > 0.2 {
            notes.push(format!(
                "other processes used about {:.0}% of the CPUs while this ran: expect noisy numbers",
                100.0 * others / capacity
            ));
        }
    }

    let m = CacheInfo::get();
    Ok(Results {
        machine: Machine {
            arch: std::env::consts::ARCH.to_owned(),
            isa_detected: Isa::detect().name().to_owned(),
            isa_supported: Isa::supported()
                .iter()
                .map(|i| i.name().to_owned())
                .collect(),
            l1: m.l1,
            l2: m.l2,
            l3: m.l3,
            cores: p.all,
            rayon_threads: rayon::current_num_threads(),
        },
        job: Job {
            rows,
            cols,
            dtype: dtype.to_owned(),
            layout: p.layout.name().to_owned(),
            reps: p.reps,
            bytes_per_element: 3 * elem_bytes,
            isa: p.isa.name().to_owned(),
            threads_all: p.all,
        },
        roof,
        strategies: rows_out,
        base_1thread_ms: base_ms,
        threads: thread_rows,
        notes,
    })
}

/// `MemAvailable` from `/proc/meminfo` in bytes (Linux only).
fn mem_available() -> Option<usize> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: usize = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// CPU time in ticks: `(busy time of the whole machine, time of this
/// process and of its children it has waited for)`, from `/proc` (Linux
/// only), to tell when other work disturbed the measurements (`--python`'s
/// process is one of ours).
fn cpu_times() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let cpu: Vec<u64> = stat
        .lines()
        .next()?
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal ...
    let busy = cpu.iter().take(8).sum::<u64>() - cpu.get(3)? - cpu.get(4)?;
    let me = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the `(comm)`: state is field 3, utime 14, stime 15,
    // cutime 16, cstime 17.
    let rest: Vec<&str> = me.rsplit_once(')')?.1.split_whitespace().collect();
    let field = |k: usize| rest.get(k - 3)?.parse::<u64>().ok();
    let ours = field(14)? + field(15)? + field(16)? + field(17)?;
    Some((busy, ours))
}

fn main() -> ExitCode {
    let args = Args::parse();
    let plan = match plan(&args) {
        Ok(p) => p,
        Err(e) => e.exit(),
    };
    match run(&args, &plan) {
        Ok(results) => {
            let text = match args.format {
                Format::Table => report::table(&results),
                Format::Csv => report::csv(&results),
                Format::Json => report::json(&results),
            };
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("fuse2d: error: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Args, clap::Error> {
        Args::try_parse_from(std::iter::once("fuse2d").chain(args.iter().copied()))
    }

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("2000x2000"), Ok((2000, 2000)));
        assert_eq!(parse_size("3X5"), Ok((3, 5)));
        assert_eq!(parse_size(" 7 "), Ok((7, 7)));
        for bad in ["0x5", "5x0", "-5x3", "5x-3", "axb", "5x", "x5", "", "1e3x2"] {
            assert!(parse_size(bad).is_err(), "{bad:?} accepted");
        }
        assert!(parse_size("-5x3").unwrap_err().contains("negative"));
        assert!(parse_size("4000000000x4000000000").is_err());
    }

    #[test]
    fn flags_parse() {
        let a = parse(&[]).unwrap();
        assert_eq!(a.reps, DEFAULT_REPS);
        assert_eq!(a.dtype, Dtype::F64);
        assert_eq!(a.layout, Layout::Contiguous);
        assert_eq!(a.format, Format::Table);
        let a = parse(&[
            "--size",
            "10x20",
            "--threads",
            "1,2,4",
            "--reps",
            "3",
            "--dtype",
            "f32",
            "--isa",
            "scalar",
            "--store",
            "streaming",
            "--layout",
            "colmajor-b",
            "--format",
            "json",
            "--python",
        ])
        .unwrap();
        assert_eq!(a.size, Some((10, 20)));
        assert_eq!(a.threads, vec![1, 2, 4]);
        assert_eq!(a.reps, 3);
        assert_eq!(a.dtype, Dtype::F32);
        assert_eq!(a.isa, Some(Isa::Scalar));
        assert_eq!(a.store, Some(Store::Streaming));
        assert_eq!(a.layout, Layout::ColmajorB);
        assert_eq!(a.format, Format::Json);
        assert!(a.python);
        let a = parse(&["--rows", "3", "--cols", "4"]).unwrap();
        assert_eq!((a.rows, a.cols), (Some(3), Some(4)));
    }

    #[test]
    fn bad_flags_are_rejected() {
        for bad in [
            &["--size", "-5x3"][..],
            &["--rows", "-5"],
            &["--rows", "0"],
            &["--cols", "x"],
            &["--threads", "0"],
            &["--threads", "1,0"],
            &["--threads", "2000"],
            &["--reps", "0"],
            &["--isa", "avx9000"],
            &["--dtype", "f16"],
            &["--store", "fast"],
            &["--layout", "diagonal"],
            &["--format", "xml"],
            &["--size", "4x4", "--rows", "3"],
            &["--frobnicate"],
        ] {
            let e = parse(bad).expect_err(&format!("{bad:?} accepted"));
            assert_eq!(e.exit_code(), 2, "{bad:?}");
            assert!(!e.to_string().is_empty());
        }
        let e = parse(&["--isa", "avx9000"]).unwrap_err().to_string();
        assert!(e.contains("avx512"), "{e}");
    }

    #[test]
    fn plan_defaults() {
        let p = plan(&parse(&[]).unwrap()).unwrap();
        assert_eq!((p.rows, p.cols), (2000, 2000));
        assert_eq!(p.isa, Isa::detect());
        assert_eq!(p.isas, Isa::supported());
        assert_eq!(p.stores.len(), 3);
        assert_eq!(p.thread_list, (1..=cores()).collect::<Vec<_>>());
        let p = plan(&parse(&["--isa", "scalar", "--rows", "7"]).unwrap()).unwrap();
        assert_eq!(p.isas, vec![Isa::Scalar]);
        assert_eq!((p.rows, p.cols), (7, 2000));
    }

    #[test]
    fn small_run_is_bitwise_everywhere() {
        for layout in ["contiguous", "quadrants", "colmajor-b"] {
            for dtype in ["f64", "f32"] {
                let args = parse(&[
                    "--size",
                    "33x17",
                    "--reps",
                    "1",
                    "--threads",
                    "1,3",
                    "--layout",
                    layout,
                    "--dtype",
                    dtype,
                ])
                .unwrap();
                let p = plan(&args).unwrap();
                let r = run(&args, &p).unwrap();
                assert!(!r.strategies.is_empty());
                for s in &r.strategies {
                    assert_eq!(
                        s.bitwise_equal,
                        Some(true),
                        "{} on {layout} {dtype}",
                        s.name
                    );
                }
                assert!(r.threads.iter().all(|t| t.bitwise_equal));
                // Every format renders.
                assert!(report::table(&r).contains("speedup / threads"));
                assert!(report::json(&r).starts_with('{'));
                assert!(report::csv(&r).starts_with(report::CSV_HEADER));
            }
        }
    }
}
