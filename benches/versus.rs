//! fuse2d against the memory roof and ndarray, timed in interleaved rounds.
//!
//! criterion times one benchmark after another; on a shared machine the
//! load drifts between them, and a ratio of two criterion medians can be off
//! by tens of percent. This harness runs every contender once per round (each
//! three times in a row, the last run timed, so it starts from its own cache
//! state: `strategies::time_warm`) and
//! reports medians over the rounds, so drift hits all of them alike and the
//! ratios hold. Each round runs them in an order of its own, so none
//! always runs right after the same one. The triads run on the very arrays fuse2d reads and writes
//! (`out = a + 3 b`): on this VM, where an array's pages sit moved a triad
//! by up to 17% between arrays of the same size. It checks the targets of
//! the parallel issue:
//!
//! - `Auto` against a streaming-store triad (the roof) on 1 and 2 threads;
//! - fuse2d against ndarray's `Zip::par_for_each` of the same expression;
//! - the mixed layouts against all row-major, and against ndarray with the
//!   same layout: `b` column-major, and a column-major output (the issue's
//!   "transposed output");
//! - NumPy (one thread), numexpr and the talk's Cython `prange` kernel, row-major
//!   and with `b` column-major, in the same rounds: a `python3` process
//!   (the CLI's `--python` script, `support/python.rs`) when it has NumPy,
//!   which times each run itself on request (its third in a row, like the
//!   others), so its ratios to fuse2d hold like the rest; each result is
//!   checked bitwise too;
//! - last, a table of those targets, each met or missed in this run, and
//!   beside them the roof of the ndarray one: the streaming triad's speed
//!   over ndarray's, what `Auto` / ndarray comes to where `Auto` runs at
//!   the triad.
//!
//! ```sh
//! cargo bench --bench versus               # 256, 1000, 2000, 4000 squared; 1 and 2 threads
//! cargo bench --bench versus -- 3000       # other sizes
//! cargo bench --bench versus -- nopython   # without the Python contenders
//! cargo bench --bench versus -- serial     # the serial threshold: 1 thread against 2
//! ```
//!
//! For the Python rows, put a `python3` with `numpy`, `numexpr`, `cython`
//! and `setuptools` first on `PATH` (e.g. a venv's `bin`).

#[path = "support/python.rs"]
mod python;
#[path = "support/rounds.rs"]
mod rounds;
/// The CLI's inputs (`input_a`, `input_b`, which the Python script makes
/// too) and its roof triads (`benches/support/triad.rs`).
#[path = "../cli/src/strategies.rs"]
#[allow(unused_imports)] // not every re-exported triad item is used here
mod strategies;

use std::hint::black_box;
use std::time::Instant;

use fuse2d::{Config, Flagship, MatMut, MatRef, Matrix, StoreMode};
use ndarray::{ArrayView2, ArrayViewMut2, ShapeBuilder, Zip};
use rounds::{interleaved, median, quartiles};

/// Timed rounds per size and thread count.
const ROUNDS: usize = 21;

/// A contender's run into `out`, in this process.
type Local<'a> = Box<dyn FnMut(&mut [f64]) + 'a>;

/// How a contender runs.
enum Run<'a> {
    /// In this process, into `out`.
    Here(Local<'a>),
    /// In the `python3` session, on the layout its entry names and the
    /// run's thread count; timed there.
    Python(python::Which),
}

/// The operands' layouts a contender runs on; `a` is always row-major.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Layout {
    RowMajor,
    /// `b` column-major.
    ColMajorB,
    /// The output column-major (a transposed output).
    ColMajorOut,
}

impl Layout {
    /// The Python script's name for it (it has no column-major output).
    fn python(self) -> &'static str {
        match self {
            Layout::RowMajor => "contiguous",
            Layout::ColMajorB => "colmajor-b",
            Layout::ColMajorOut => unreachable!("no Python contender writes a column-major output"),
        }
    }
}

/// One contender.
struct Entry<'a> {
    name: String,
    /// Its output is the flagship's, checked bitwise (the triads' is not).
    checked: bool,
    /// Compared with fuse2d `Auto` on the same layout.
    layout: Layout,
    run: Run<'a>,
}

impl<'a> Entry<'a> {
    /// A contender checked against the reference.
    fn checked(name: &str, layout: Layout, run: impl FnMut(&mut [f64]) + 'a) -> Self {
        Entry {
            name: name.to_owned(),
            checked: true,
            layout,
            run: Run::Here(Box::new(run)),
        }
    }

    /// A triad: row-major, its output not the flagship's.
    fn triad(name: &str, run: impl FnMut(&mut [f64]) + 'a) -> Self {
        Entry {
            checked: false,
            ..Entry::checked(name, Layout::RowMajor, run)
        }
    }
}

/// fuse2d `Auto` (or what `cfg` says) of `a` and `b` into an `n x n` output
/// laid out as `layout` says.
fn fuse_into<'a>(
    cfg: Config,
    a: MatRef<'a, f64>,
    b: MatRef<'a, f64>,
    layout: Layout,
) -> impl FnMut(&mut [f64]) + 'a {
    let (rows, cols) = (a.rows(), a.cols());
    move |o| {
        let o = if layout == Layout::ColMajorOut {
            MatMut::from_slice_col_major(o, rows, cols)
        } else {
            MatMut::from_slice(o, rows, cols)
        };
        cfg.fused_into(a, b, o.expect("rows * cols elements"))
            .expect("same shapes");
    }
}

/// ndarray's `Zip::par_for_each` on `pool`, into `out` (row-major, or
/// column-major with `out_col_major`).
fn ndarray_zip(
    pool: &rayon::ThreadPool,
    a: ArrayView2<'_, f64>,
    b: ArrayView2<'_, f64>,
    out: &mut [f64],
    out_col_major: bool,
) {
    let out = ArrayViewMut2::from_shape(a.dim().set_f(out_col_major), out)
        .expect("out has rows * cols elements");
    pool.install(|| {
        Zip::from(out)
            .and(a)
            .and(b)
            .par_for_each(|o, &x, &y| *o = (x + y) * 2.0 + x * y)
    });
}

/// What one [`run`] measured: the medians the targets and the Python rows
/// are judged by, in ms, and whether `Auto` chose streaming stores.
struct RunMs {
    n: usize,
    threads: usize,
    triad: f64,
    auto: f64,
    normal: f64,
    ndarray: f64,
    auto_col_major_b: f64,
    auto_col_major_out: f64,
    auto_streams: bool,
    /// The targets' four ratios (triad / Auto, ndarray / Auto, Auto / Auto
    /// with `b` column-major, Auto / Auto with the output column-major),
    /// then the roof's (ndarray / triad), within each round, for their
    /// spread.
    per_round: [Vec<f64>; 5],
}

/// Times the contenders at `n x n` on `threads` threads in interleaved
/// rounds, the Python ones through `py` when there is a session; prints
/// the table and returns what the targets are judged on.
fn run(n: usize, threads: usize, mut py: Option<&mut python::Session>) -> RunMs {
    let a = Matrix::from_fn(n, n, |i, j| strategies::input_a::<f64>(i, j, n));
    let b = Matrix::from_fn(n, n, strategies::input_b::<f64>);
    // `b` column-major: its transpose, row-major. Every array here is a
    // `Matrix`, allocated (like NumPy's) with the huge-page advice.
    let b_cm = Matrix::from_fn(n, n, |j, i| strategies::input_b::<f64>(i, j));
    let b_cm_view = MatRef::from_slice_col_major(b_cm.as_slice(), n, n).expect("n * n elements");
    let a_nd = ArrayView2::from_shape((n, n), a.as_slice()).expect("n * n elements");
    let b_nd = ArrayView2::from_shape((n, n), b.as_slice()).expect("n * n elements");
    let b_cm_nd = ArrayView2::from_shape((n, n).f(), b_cm.as_slice()).expect("n * n elements");
    let want = fuse2d::reference::fused(a.as_ref(), b.as_ref()).expect("same shapes");
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a rayon pool");
    let auto = Config::new().threads(threads);
    let normal = Config::new().threads(threads).store(StoreMode::Normal);

    // The entries' places in `entries`, `times` and `ms`, in that order.
    const TRIAD: usize = 0;
    const AUTO: usize = 2;
    const NORMAL: usize = 3;
    const NDARRAY: usize = 4;
    const AUTO_COL_MAJOR_B: usize = 5;
    const NDARRAY_COL_MAJOR_B: usize = 6;
    const AUTO_COL_MAJOR_OUT: usize = 7;
    let (a_s, b_s) = (a.as_slice(), b.as_slice());
    let triad = |kernel: fn(&mut [f64], &[f64], &[f64], f64)| {
        move |o: &mut [f64]| strategies::triad_threads(kernel, o, a_s, b_s, 3.0, threads)
    };
    let fuse = |cfg: &Config, b, layout| fuse_into(cfg.clone(), a.as_ref(), b, layout);
    use Layout::{ColMajorB, ColMajorOut, RowMajor};
    let mut entries: Vec<Entry<'_>> = vec![
        Entry::triad(
            if cfg!(target_arch = "x86_64") {
                "triad, streaming stores"
            } else {
                "triad (no NT stores here)"
            },
            triad(strategies::triad_streaming),
        ),
        Entry::triad("triad, normal stores", triad(strategies::triad_normal)),
        Entry::checked("fuse2d Auto", RowMajor, fuse(&auto, b.as_ref(), RowMajor)),
        Entry::checked(
            "fuse2d Normal",
            RowMajor,
            fuse(&normal, b.as_ref(), RowMajor),
        ),
        Entry::checked("ndarray par_for_each", RowMajor, |o| {
            ndarray_zip(&pool, a_nd, b_nd, o, false)
        }),
        Entry::checked(
            "fuse2d Auto, b col-major",
            ColMajorB,
            fuse(&auto, b_cm_view, ColMajorB),
        ),
        Entry::checked("ndarray, b col-major", ColMajorB, |o| {
            ndarray_zip(&pool, a_nd, b_cm_nd, o, false)
        }),
        Entry::checked(
            "fuse2d Auto, out col-major",
            ColMajorOut,
            fuse(&auto, b.as_ref(), ColMajorOut),
        ),
        Entry::checked("ndarray, out col-major", ColMajorOut, |o| {
            ndarray_zip(&pool, a_nd, b_nd, o, true)
        }),
    ];
    for (i, name) in [
        (AUTO, "fuse2d Auto"),
        (NORMAL, "fuse2d Normal"),
        (NDARRAY, "ndarray par_for_each"),
        (AUTO_COL_MAJOR_B, "fuse2d Auto, b col-major"),
        (NDARRAY_COL_MAJOR_B, "ndarray, b col-major"),
        (AUTO_COL_MAJOR_OUT, "fuse2d Auto, out col-major"),
    ] {
        assert_eq!(
            entries[i].name, name,
            "the entry constants name other entries"
        );
    }

    // The Python contenders that run here; each run once now, for the
    // ones that cannot.
    let mut notes = Vec::new();
    if let Some(py) = py.as_deref_mut() {
        for which in python::Which::ALL
            .into_iter()
            .filter(|w| w.runs_on(threads))
        {
            for layout in [RowMajor, ColMajorB] {
                let e = Entry {
                    name: format!(
                        "{}{}",
                        which.label(),
                        if layout == ColMajorB {
                            ", b col-major"
                        } else {
                            ""
                        }
                    ),
                    checked: true,
                    layout,
                    run: Run::Python(which),
                };
                match py.time(which, layout.python(), threads) {
                    Ok(_) => entries.push(e),
                    Err(why) => notes.push(format!("{}: {why}", e.name)),
                }
            }
        }
    }

    let mut out = Matrix::<f64>::zeros(n, n).into_vec();
    // Warm-up, and every output checked bitwise against the reference.
    for e in entries.iter_mut().filter(|e| e.checked) {
        let same = match &mut e.run {
            Run::Here(run) => {
                out.fill(0.0);
                run(&mut out);
                let at = |k: usize| match e.layout {
                    ColMajorOut => out[(k % n) * n + k / n],
                    _ => out[k],
                };
                (0..n * n).all(|k| at(k).to_bits() == want.as_slice()[k].to_bits())
            }
            Run::Python(which) => {
                let py = py
                    .as_deref_mut()
                    .expect("Python entries come with a session");
                let bytes = py
                    .result(*which, e.layout.python(), threads)
                    .unwrap_or_else(|why| panic!("{}: no result from python3: {why}", e.name));
                strategies::same_bits(&bytes, want.as_slice())
            }
        };
        assert!(
            same,
            "{}: output differs from the reference at {n}x{n}",
            e.name
        );
    }
    // Each contender's third run in a row is timed (`time_warm`, and the
    // Python script the same way): in cache, what ran right after the
    // two-thread streaming triad was slower even on its second run, the
    // data left in the other core's caches or (streamed) in none (at
    // 256x256 on two threads `Auto`, when it always ran there and the
    // second run was timed, took 0.019-0.028 ms against `Normal`'s
    // 0.015-0.016, for the same serial code).
    let mut times = interleaved(entries.len(), ROUNDS, |i| {
        let e = &mut entries[i];
        match &mut e.run {
            Run::Here(run) => strategies::time_warm(|| run(&mut out)),
            Run::Python(which) => py
                .as_deref_mut()
                .expect("Python entries come with a session")
                .time(*which, e.layout.python(), threads)
                .unwrap_or_else(|why| panic!("{}: python3 stopped timing: {why}", e.name)),
        }
    });
    black_box(&out);

    let per_round = [
        (TRIAD, AUTO),
        (NDARRAY, AUTO),
        (AUTO, AUTO_COL_MAJOR_B),
        (AUTO, AUTO_COL_MAJOR_OUT),
        (NDARRAY, TRIAD),
    ]
    .map(|(num, den)| {
        (0..ROUNDS)
            .map(|r| times[num][r] / times[den][r])
            .collect::<Vec<f64>>()
    });
    let ms: Vec<f64> = times.iter_mut().map(|t| median(t) * 1e3).collect();
    let gbs = |ms: f64| (24 * n * n) as f64 / (ms * 1e-3) / 1e9;
    println!("\n{n}x{n} f64, {threads} thread(s), median of {ROUNDS} interleaved rounds");
    println!(
        "  {:<44} {:>9} {:>7} {:>9} {:>10}",
        "contender", "ms", "GB/s", "vs triad", "/ fuse2d"
    );
    for (e, &m) in entries.iter().zip(&ms) {
        // Against fuse2d `Auto` on the same layout.
        let fuse = ms[match e.layout {
            RowMajor => AUTO,
            ColMajorB => AUTO_COL_MAJOR_B,
            ColMajorOut => AUTO_COL_MAJOR_OUT,
        }];
        let vs_fuse = if e.checked && !e.name.starts_with("fuse2d Auto") {
            format!("{:.2}x", m / fuse)
        } else {
            String::new()
        };
        println!(
            "  {:<44} {:>9.3} {:>7.1} {:>8.0}% {vs_fuse:>10}",
            e.name,
            m,
            gbs(m),
            100.0 * ms[TRIAD] / m
        );
    }
    for note in notes {
        println!("  skipped: {note}");
    }
    println!(
        "  ratios: Auto / streaming triad {:.2}; Auto / ndarray {:.2}x; col-major b / row-major {:.2}x; col-major b / ndarray col-major b {:.2}x; col-major out / row-major {:.2}x",
        ms[TRIAD] / ms[AUTO],
        ms[NDARRAY] / ms[AUTO],
        ms[AUTO] / ms[AUTO_COL_MAJOR_B],
        ms[NDARRAY_COL_MAJOR_B] / ms[AUTO_COL_MAJOR_B],
        ms[AUTO] / ms[AUTO_COL_MAJOR_OUT]
    );
    let auto_streams = auto
        .run(
            &Flagship,
            [a.as_ref(), b.as_ref()],
            MatMut::from_slice(&mut out, n, n).expect("n * n elements"),
        )
        .expect("same shapes")
        .streaming;
    RunMs {
        n,
        threads,
        triad: ms[TRIAD],
        auto: ms[AUTO],
        normal: ms[NORMAL],
        ndarray: ms[NDARRAY],
        auto_col_major_b: ms[AUTO_COL_MAJOR_B],
        auto_col_major_out: ms[AUTO_COL_MAJOR_OUT],
        auto_streams,
        per_round,
    }
}

/// The targets of the parallel issue, judged on this run's medians: from
/// 2000x2000 up, `Auto` at 95% of the streaming triad or better, 1.25x
/// ndarray's `par_for_each` or better, and the mixed layouts (`b`
/// column-major; a column-major output, the issue's "transposed output")
/// at 0.7x of all row-major or better; at 256x256 and below, `Auto` no slower than
/// `Normal` (it is the same code when `Auto` chooses normal stores there).
/// Beside each verdict, the quartiles of the same ratio taken within each
/// round: how far one round's noise moves it (the verdict is on the
/// medians alone).
fn print_targets(runs: &[RunMs]) {
    let spread = |rounds: &[f64]| {
        let (lo, hi) = quartiles(&mut rounds.to_vec());
        format!("[{lo:.2}-{hi:.2}]")
    };
    let cell = |ratio: f64, target: f64, rounds: &[f64]| {
        let verdict = if ratio >= target { "met" } else { "MISSED" };
        format!("{ratio:.3} {verdict:>6} {}", spread(rounds))
    };
    println!("\ntargets of the parallel issue, on the medians above (speed ratios, same run;");
    println!("in brackets the quartiles of the ratio within each of the {ROUNDS} rounds)");
    if runs.iter().any(|r| r.n >= 2000) {
        println!(
            "  {:<10} {:>3}  {:>24}  {:>24}  {:>24}  {:>24}  {:>18}",
            "size",
            "thr",
            "Auto/triad >= 0.95",
            "Auto/ndarray >= 1.25",
            "col-major b >= 0.70",
            "col-major out >= 0.70",
            "roof: triad/ndarray"
        );
    }
    for r in runs.iter().filter(|r| r.n >= 2000) {
        println!(
            "  {:<10} {:>3}  {:>24}  {:>24}  {:>24}  {:>24}  {:>18}",
            format!("{0}x{0}", r.n),
            r.threads,
            cell(r.triad / r.auto, 0.95, &r.per_round[0]),
            cell(r.ndarray / r.auto, 1.25, &r.per_round[1]),
            cell(r.auto / r.auto_col_major_b, 0.70, &r.per_round[2]),
            cell(r.auto / r.auto_col_major_out, 0.70, &r.per_round[3]),
            format!("{:.3} {}", r.ndarray / r.triad, spread(&r.per_round[4]))
        );
    }
    if runs.iter().any(|r| r.n >= 2000) {
        println!(
            "  roof: the streaming triad's speed over ndarray's, this run: what the machine's\n  \
             memory allows `Auto` / ndarray to reach at `Auto` = triad (below 1.25 the target\n  \
             asks for more than the streaming-store roof; docs/performance.md, \"The roof\")"
        );
    }
    for r in runs.iter().filter(|r| r.n <= 256) {
        let verdict = if !r.auto_streams {
            "met: Auto chose normal stores, Normal's code"
        } else if r.auto <= r.normal {
            "met (Auto streams)"
        } else {
            "MISSED (Auto streams)"
        };
        println!(
            "  {:<10} {:>3}  Auto no slower than Normal: {verdict} (Auto {:.3} ms, Normal {:.3})",
            format!("{0}x{0}", r.n),
            r.threads,
            r.auto,
            r.normal
        );
    }
}

/// One thread against two (forced parallel) at sizes around
/// `DEFAULT_SERIAL_THRESHOLD`, timed two ways: calls of each kind in phases
/// of their own (each warmed up for 200 ms, five phases each), as a caller
/// that calls fuse2d in a loop sees it; and alternating one-thread and
/// two-thread calls, where the second core idles between two-thread calls
/// (on a VM such a core is slow to come back, see docs/performance.md).
fn serial_threshold() {
    println!(
        "\nserial threshold (now {} elements): 1 thread against 2 forced parallel, medians",
        fuse2d::DEFAULT_SERIAL_THRESHOLD
    );
    println!(
        "  {:>6} {:>9} | phases: {:>7} {:>7} {:>7} | alternating: {:>7} {:>7} {:>7}",
        "n", "elements", "1t us", "2t us", "1t/2t", "1t us", "2t us", "1t/2t"
    );
    let one = Config::new().threads(1);
    let two = Config::new().threads(2).serial_threshold(0);
    for n in [181, 256, 362, 512, 724, 1024, 1448] {
        let a = Matrix::from_fn(n, n, |i, j| strategies::input_a::<f64>(i, j, n));
        let b = Matrix::from_fn(n, n, strategies::input_b::<f64>);
        let mut out = Matrix::zeros(n, n);
        let mut call = |cfg: &Config| {
            let start = Instant::now();
            cfg.fused_into(a.as_ref(), b.as_ref(), out.as_mut())
                .expect("same shapes");
            start.elapsed().as_secs_f64()
        };
        let mut phases = [Vec::new(), Vec::new()];
        for _ in 0..5 {
            for (cfg, t) in [&one, &two].into_iter().zip(&mut phases) {
                let warm = Instant::now();
                while warm.elapsed().as_secs_f64() < 0.2 {
                    call(cfg);
                }
                t.extend((0..41).map(|_| call(cfg)));
            }
        }
        let mut alternating = [Vec::new(), Vec::new()];
        for _ in 0..201 {
            for (cfg, t) in [&one, &two].into_iter().zip(&mut alternating) {
                call(cfg);
                t.push(call(cfg));
            }
        }
        let [p1, p2] = phases.map(|mut t| median(&mut t) * 1e6);
        let [a1, a2] = alternating.map(|mut t| median(&mut t) * 1e6);
        println!(
            "  {n:>6} {:>9} |         {p1:>7.1} {p2:>7.1} {:>7.2} |              {a1:>7.1} {a2:>7.1} {:>7.2}",
            n * n,
            p1 / p2,
            a1 / a2
        );
    }
}

fn main() {
    if std::env::args().any(|a| a == "serial") {
        serial_threshold();
        return;
    }
    // `cargo bench` passes `--bench`; any numbers are sizes.
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|s| s.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![256, 1000, 2000, 4000]
    } else {
        sizes
    };
    // One Python process for every size (the Cython kernel is built once),
    // reshaped before each.
    let mut py = None;
    if !std::env::args().any(|a| a == "nopython") {
        match python::Session::start(sizes[0], sizes[0], "float64", strategies::UNTIMED_RUNS) {
            Ok(s) => py = Some(s),
            Err(why) => println!("\nno Python contenders ({why})"),
        }
    }
    let mut runs = Vec::new();
    for n in sizes {
        if let Some(s) = &mut py
            && let Err(why) = s.reshape(n, n)
        {
            println!("\n{n}x{n} and after: no Python contenders ({why})");
            py = None;
        }
        runs.push(run(n, 1, py.as_mut()));
        runs.push(run(n, 2, py.as_mut()));
    }
    print_targets(&runs);
}
