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
//! - `b` column-major against all row-major, and against ndarray with the
//!   same column-major `b`;
//! - then, per size, NumPy, numexpr and the talk's Cython `prange` kernel
//!   (on 1 and 2 threads), row-major and with `b` column-major, through
//!   `python3` (the CLI's `--python` script, `support/python.rs`) when it
//!   has NumPy; each result is checked bitwise too. Python runs in its own
//!   process after the Rust rounds of that size, so its ratios to fuse2d
//!   carry the drift between the two;
//! - last, a table of those targets, each met or missed in this run.
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

/// A contender's run into `out`.
type Run<'a> = Box<dyn FnMut(&mut [f64]) + 'a>;

/// One contender.
struct Entry<'a> {
    name: &'static str,
    /// Its output is the flagship's, checked bitwise (the triads' is not).
    checked: bool,
    run: Run<'a>,
}

fn ndarray_zip(
    pool: &rayon::ThreadPool,
    a: ArrayView2<'_, f64>,
    b: ArrayView2<'_, f64>,
    out: &mut [f64],
) {
    let out = ArrayViewMut2::from_shape(a.dim(), out).expect("out has rows * cols elements");
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
    auto_streams: bool,
    /// The targets' three ratios (triad / Auto, ndarray / Auto, Auto /
    /// Auto with `b` column-major) within each round, for their spread.
    per_round: [Vec<f64>; 3],
}

fn run(n: usize, threads: usize) -> RunMs {
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
    let mut entries: Vec<Entry<'_>> = vec![
        Entry {
            name: if cfg!(target_arch = "x86_64") {
                "triad, streaming stores"
            } else {
                "triad (no NT stores here)"
            },
            checked: false,
            run: Box::new(|o| {
                strategies::triad_threads(
                    strategies::triad_streaming,
                    o,
                    a.as_slice(),
                    b.as_slice(),
                    3.0,
                    threads,
                )
            }),
        },
        Entry {
            name: "triad, normal stores",
            checked: false,
            run: Box::new(|o| {
                strategies::triad_threads(
                    strategies::triad_normal,
                    o,
                    a.as_slice(),
                    b.as_slice(),
                    3.0,
                    threads,
                )
            }),
        },
        Entry {
            name: "fuse2d Auto",
            checked: true,
            run: Box::new(|o| {
                let o = MatMut::from_slice(o, n, n).expect("n * n elements");
                auto.fused_into(a.as_ref(), b.as_ref(), o)
                    .expect("same shapes");
            }),
        },
        Entry {
            name: "fuse2d Normal",
            checked: true,
            run: Box::new(|o| {
                let o = MatMut::from_slice(o, n, n).expect("n * n elements");
                normal
                    .fused_into(a.as_ref(), b.as_ref(), o)
                    .expect("same shapes");
            }),
        },
        Entry {
            name: "ndarray par_for_each",
            checked: true,
            run: Box::new(|o| ndarray_zip(&pool, a_nd, b_nd, o)),
        },
        Entry {
            name: "fuse2d Auto, b col-major",
            checked: true,
            run: Box::new(|o| {
                let o = MatMut::from_slice(o, n, n).expect("n * n elements");
                auto.fused_into(a.as_ref(), b_cm_view, o)
                    .expect("same shapes");
            }),
        },
        Entry {
            name: "ndarray, b col-major",
            checked: true,
            run: Box::new(|o| ndarray_zip(&pool, a_nd, b_cm_nd, o)),
        },
    ];

    for (i, name) in [
        (AUTO, "fuse2d Auto"),
        (NORMAL, "fuse2d Normal"),
        (NDARRAY, "ndarray par_for_each"),
        (AUTO_COL_MAJOR_B, "fuse2d Auto, b col-major"),
        (NDARRAY_COL_MAJOR_B, "ndarray, b col-major"),
    ] {
        assert_eq!(
            entries[i].name, name,
            "the entry constants name other entries"
        );
    }
    let mut out = Matrix::<f64>::zeros(n, n).into_vec();
    // Warm-up, and every output checked bitwise against the reference.
    for e in entries.iter_mut().filter(|e| e.checked) {
        out.fill(0.0);
        (e.run)(&mut out);
        let same = out
            .iter()
            .zip(want.as_slice())
            .all(|(x, y)| x.to_bits() == y.to_bits());
        assert!(
            same,
            "{}: output differs from the reference at {n}x{n}",
            e.name
        );
    }
    // Each contender's third run in a row is timed (`time_warm`): in
    // cache, what ran right after the two-thread streaming triad was
    // slower even on its second run, the data left in the other core's
    // caches or (streamed) in none (at 256x256 on two threads `Auto`, when
    // it always ran there and the second run was timed, took 0.019-0.028
    // ms against `Normal`'s 0.015-0.016, for the same serial code).
    let mut times = interleaved(entries.len(), ROUNDS, |i| {
        let run = &mut entries[i].run;
        strategies::time_warm(|| run(&mut out))
    });
    black_box(&out);

    let per_round = [(TRIAD, AUTO), (NDARRAY, AUTO), (AUTO, AUTO_COL_MAJOR_B)].map(|(num, den)| {
        (0..ROUNDS)
            .map(|r| times[num][r] / times[den][r])
            .collect::<Vec<f64>>()
    });
    let ms: Vec<f64> = times.iter_mut().map(|t| median(t) * 1e3).collect();
    let gbs = |ms: f64| (24 * n * n) as f64 / (ms * 1e-3) / 1e9;
    println!("\n{n}x{n} f64, {threads} thread(s), median of {ROUNDS} interleaved rounds");
    println!(
        "  {:<26} {:>9} {:>7} {:>9}",
        "contender", "ms", "GB/s", "vs triad"
    );
    for (e, &m) in entries.iter().zip(&ms) {
        println!(
            "  {:<26} {:>9.3} {:>7.1} {:>8.0}%",
            e.name,
            m,
            gbs(m),
            100.0 * ms[TRIAD] / m
        );
    }
    println!(
        "  ratios: Auto / streaming triad {:.2}; Auto / ndarray {:.2}x; col-major b / row-major {:.2}x; col-major b / ndarray col-major b {:.2}x",
        ms[TRIAD] / ms[AUTO],
        ms[NDARRAY] / ms[AUTO],
        ms[AUTO] / ms[AUTO_COL_MAJOR_B],
        ms[NDARRAY_COL_MAJOR_B] / ms[AUTO_COL_MAJOR_B]
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
        auto_streams,
        per_round,
    }
}

/// The targets of the parallel issue, judged on this run's medians: from
/// 2000x2000 up, `Auto` at 95% of the streaming triad or better, 1.25x
/// ndarray's `par_for_each` or better, and `b` column-major at 0.7x of all
/// row-major or better; at 256x256 and below, `Auto` no slower than
/// `Normal` (it is the same code when `Auto` chooses normal stores there).
/// Beside each verdict, the quartiles of the same ratio taken within each
/// round: how far one round's noise moves it (the verdict is on the
/// medians alone).
fn print_targets(runs: &[RunMs]) {
    let cell = |ratio: f64, target: f64, rounds: &[f64]| {
        let verdict = if ratio >= target { "met" } else { "MISSED" };
        let (lo, hi) = quartiles(&mut rounds.to_vec());
        format!("{ratio:.3} {verdict:>6} [{lo:.2}-{hi:.2}]")
    };
    println!("\ntargets of the parallel issue, on the medians above (speed ratios, same run;");
    println!("in brackets the quartiles of the ratio within each of the {ROUNDS} rounds)");
    if runs.iter().any(|r| r.n >= 2000) {
        println!(
            "  {:<10} {:>3}  {:>24}  {:>24}  {:>24}",
            "size", "thr", "Auto/triad >= 0.95", "Auto/ndarray >= 1.25", "col-major b >= 0.70"
        );
    }
    for r in runs.iter().filter(|r| r.n >= 2000) {
        println!(
            "  {:<10} {:>3}  {:>24}  {:>24}  {:>24}",
            format!("{0}x{0}", r.n),
            r.threads,
            cell(r.triad / r.auto, 0.95, &r.per_round[0]),
            cell(r.ndarray / r.auto, 1.25, &r.per_round[1]),
            cell(r.auto / r.auto_col_major_b, 0.70, &r.per_round[2])
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

/// NumPy, numexpr and the talk's Cython kernel at `n x n`, row-major and
/// with `b` column-major, against fuse2d `Auto` on the same thread count
/// (`auto[t - 1]`, from this process's rounds just before).
fn python_contenders(n: usize, auto: &[RunMs; 2]) {
    let a = Matrix::from_fn(n, n, |i, j| strategies::input_a::<f64>(i, j, n));
    let b = Matrix::from_fn(n, n, strategies::input_b::<f64>);
    let want = fuse2d::reference::fused(a.as_ref(), b.as_ref()).expect("same shapes");
    println!(
        "\n{n}x{n} f64, Python contenders (python3, in its own process after the Rust rounds; median of {ROUNDS})"
    );
    println!(
        "  {:<30} {:<12} {:>3} {:>9} {:>7} {:>12} {:>8}",
        "contender", "b", "thr", "ms", "GB/s", "it / fuse2d", "bitwise"
    );
    for (layout, b_name) in [("contiguous", "row-major"), ("colmajor-b", "col-major")] {
        let run = match python::run(n, n, ROUNDS, "float64", layout, 2) {
            Ok(run) => run,
            Err(e) => {
                println!("  (skipped: {e})");
                return;
            }
        };
        for t in &run.timings {
            let name = t.label();
            let fuse = &auto[t.threads.clamp(1, 2) - 1];
            let fuse_ms = if layout == "contiguous" {
                fuse.auto
            } else {
                fuse.auto_col_major_b
            };
            let bitwise = match &t.bytes {
                None => "no file",
                Some(bytes) => {
                    let same = bytes.len() == 8 * n * n
                        && bytes.chunks_exact(8).zip(want.as_slice()).all(|(c, w)| {
                            c.try_into().ok().map(u64::from_ne_bytes) == Some(w.to_bits())
                        });
                    if same { "yes" } else { "NO" }
                }
            };
            let gbs = (24 * n * n) as f64 / (t.ms * 1e-3) / 1e9;
            println!(
                "  {name:<30} {b_name:<12} {:>3} {:>9.3} {gbs:>7.1} {:>11.2}x {bitwise:>8}",
                t.threads,
                t.ms,
                t.ms / fuse_ms
            );
        }
        for note in &run.notes {
            println!("  note: {note}");
        }
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
    let with_python = !std::env::args().any(|a| a == "nopython");
    let mut runs = Vec::new();
    for n in sizes {
        let auto = [run(n, 1), run(n, 2)];
        if with_python {
            python_contenders(n, &auto);
        }
        runs.extend(auto);
    }
    print_targets(&runs);
}
