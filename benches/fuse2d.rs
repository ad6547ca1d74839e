//! criterion benches for `out = (a + b) * 2 + a * b` on `f64` matrices.
//!
//! Every group reports `Throughput::BytesDecimal(24 * rows * cols)` (two
//! loads and one store per element, as STREAM counts), so criterion prints
//! GB/s (10^9 bytes per second, the unit of STREAM and of the CLI), and
//! holds its baselines beside fuse2d, so ratios come from the same run:
//!
//! | group | what varies |
//! |---|---|
//! | `size/{64,256,1000,2000,4000}` | fuse2d (default config) against the scalar reference, a naive loop, NumPy-style unfused passes, ndarray `Zip` (parallel and serial) and the two STREAM triads |
//! | `isa/2000` | fuse2d forced to each ISA this CPU has, 1 thread |
//! | `threads/{2000,4000}` | 1, 2, 4 threads, static and dynamic schedules; ndarray in 1- and 2-thread pools |
//! | `store/{256,1000,2000,4000}` | `StoreMode::{Auto, Normal, Streaming}` on 1 and 2 threads, and the triads on 1 and 2 threads |
//! | `layout/{2000,4000}` | contiguous, a quadrant sub-view, column-major `b`, a column-major output; ndarray on the contiguous and column-major `b` layouts |
//!
//! Run one group with e.g. `cargo bench --bench fuse2d -- store/2000`. The
//! whole suite takes about 5 minutes on a 2-core machine: the big sizes use 10
//! samples of flat sampling, 2 s of measurement and 0.5 s of warm-up.
//! Inputs are allocated once per group, never per iteration.
//!
//! `FUSE2D_MAX_ISA` caps fuse2d's ISA here as everywhere (the `isa` group
//! then lists fewer ISAs).

/// The baselines, the CLI's own (`naive`, `unfused`, the roof triads), so
/// the benches and `cargo run` measure against the same code.
#[path = "../cli/src/strategies.rs"]
#[allow(unused_imports)] // not every re-exported triad item is used here
mod strategies;

use std::hint::black_box;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{
    BenchmarkGroup, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use fuse2d::{Config, DEFAULT_SERIAL_THRESHOLD, Isa, MatMut, MatRef, Matrix, Schedule, StoreMode};
use ndarray::{ArrayView2, ArrayViewMut2, ShapeBuilder, Zip};

/// Bytes per element: two loads and one store of an `f64`.
const BYTES_PER_ELEM: u64 = 24;

/// Thread counts the `store` group and the triads run on.
const STORE_THREADS: [usize; 2] = [1, 2];

/// Applies the group settings for `n x n` inputs: GB/s throughput, and
/// sampling sized so the whole suite stays within a few minutes.
fn configure(group: &mut BenchmarkGroup<'_, WallTime>, n: usize) {
    group.throughput(Throughput::BytesDecimal(BYTES_PER_ELEM * (n * n) as u64));
    if n >= 2000 {
        // One iteration takes milliseconds to a few hundred: flat sampling
        // keeps 10 samples near the measurement time (criterion's linear
        // sampling would need 55 iterations).
        group
            .sample_size(10)
            .sampling_mode(SamplingMode::Flat)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(2));
    } else if n >= 1000 {
        group
            .sample_size(15)
            .sampling_mode(SamplingMode::Flat)
            .warm_up_time(Duration::from_millis(300))
            .measurement_time(Duration::from_millis(1500));
    } else {
        group
            .sample_size(20)
            .warm_up_time(Duration::from_millis(300))
            .measurement_time(Duration::from_secs(1));
    }
}

/// The threads rayon's global pool (fuse2d's default) and the triads use.
fn machine_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Threads for the triads in the `size` group: all of them, except below
/// fuse2d's serial threshold, where fuse2d's default runs on the calling
/// thread too (spawning threads would cost more than the work).
fn triad_threads(n: usize) -> usize {
    if n * n >= DEFAULT_SERIAL_THRESHOLD {
        machine_threads()
    } else {
        1
    }
}

/// Deterministic inputs: `a` spans many magnitudes, `b` is in (0, 1].
fn input_a(rows: usize, cols: usize) -> Matrix<f64> {
    Matrix::from_fn(rows, cols, |i, j| (i * cols + j) as f64 * 0.25 + 1.0)
}

fn input_b(rows: usize, cols: usize) -> Matrix<f64> {
    Matrix::from_fn(rows, cols, |i, j| 1.0 / (1.0 + i as f64 + j as f64))
}

/// Bitwise equality, so a baseline that computed something else (or
/// rounded differently) is caught before it is timed.
fn assert_bitwise(what: &str, got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{what}: length differs");
    let same = got
        .iter()
        .zip(want)
        .all(|(x, y)| x.to_bits() == y.to_bits());
    assert!(same, "{what}: result differs from the reference");
}

/// ndarray's `Zip` over row-major views of the same buffers fuse2d uses.
fn ndarray_zip(a: &[f64], b: ArrayView2<'_, f64>, out: &mut [f64], n: usize, parallel: bool) {
    let a = ArrayView2::from_shape((n, n), a).expect("a has n * n elements");
    let out = ArrayViewMut2::from_shape((n, n), out).expect("out has n * n elements");
    let zip = Zip::from(out).and(a).and(b);
    if parallel {
        zip.par_for_each(|o, &x, &y| *o = (x + y) * 2.0 + x * y);
    } else {
        zip.for_each(|o, &x, &y| *o = (x + y) * 2.0 + x * y);
    }
}

/// `group/{id}`: ndarray's `Zip` of `a` (row-major) and `b` into `out`, on
/// rayon's pool (`parallel`) or the calling thread.
fn bench_ndarray(
    group: &mut BenchmarkGroup<'_, WallTime>,
    id: &str,
    a: &Matrix<f64>,
    b: ArrayView2<'_, f64>,
    out: &mut Matrix<f64>,
    parallel: bool,
) {
    let n = a.rows();
    group.bench_function(id, |bch| {
        bch.iter(|| {
            ndarray_zip(
                black_box(a.as_slice()),
                black_box(b),
                out.as_mut_slice(),
                n,
                parallel,
            )
        })
    });
}

/// A rayon pool of exactly `n` threads, for ndarray's `par_for_each`.
fn rayon_pool(n: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build()
        .expect("a rayon pool starts")
}

/// Triad operands: three `n * n` arrays (`a` written, `b` and `c` read).
struct Triad {
    a: Vec<f64>,
    b: Vec<f64>,
    c: Vec<f64>,
}

impl Triad {
    fn new(n: usize) -> Triad {
        let len = n * n;
        Triad {
            a: vec![0.0; len],
            b: (0..len).map(|i| i as f64 * 0.5).collect(),
            c: (0..len).map(|i| 1.0 / (1.0 + i as f64)).collect(),
        }
    }

    /// Checks once that both triads compute the same thing.
    fn check(&mut self) {
        strategies::triad_threads(
            strategies::triad_normal,
            &mut self.a,
            &self.b,
            &self.c,
            3.0,
            2,
        );
        #[cfg(target_arch = "x86_64")]
        {
            let mut streamed = vec![0.0; self.a.len()];
            strategies::triad_threads(
                strategies::triad_streaming,
                &mut streamed,
                &self.b,
                &self.c,
                3.0,
                2,
            );
            assert_bitwise("triad_stream", &streamed, &self.a);
        }
    }

    /// Adds `triad_normal{suffix}` and (x86_64) `triad_stream{suffix}` on
    /// `threads` threads.
    fn bench(&mut self, group: &mut BenchmarkGroup<'_, WallTime>, suffix: &str, threads: usize) {
        let (a, b, c) = (&mut self.a, self.b.as_slice(), self.c.as_slice());
        group.bench_function(format!("triad_normal{suffix}"), |bch| {
            bch.iter(|| {
                strategies::triad_threads(
                    strategies::triad_normal,
                    a,
                    black_box(b),
                    black_box(c),
                    3.0,
                    threads,
                )
            })
        });
        #[cfg(target_arch = "x86_64")]
        group.bench_function(format!("triad_stream{suffix}"), |bch| {
            bch.iter(|| {
                strategies::triad_threads(
                    strategies::triad_streaming,
                    a,
                    black_box(b),
                    black_box(c),
                    3.0,
                    threads,
                )
            })
        });
    }
}

/// `size/{n}`: fuse2d's default configuration against every baseline.
fn bench_size(c: &mut Criterion) {
    for n in [64, 256, 1000, 2000, 4000] {
        let a = input_a(n, n);
        let b = input_b(n, n);
        let mut out = Matrix::zeros(n, n);
        let want = fuse2d::reference::fused(a.as_ref(), b.as_ref()).expect("same shapes");

        // Every strategy is checked once, bitwise, before anything is timed.
        let check = |what: &str, got: &[f64]| {
            assert_bitwise(&format!("size/{n}/{what}"), got, want.as_slice())
        };
        fuse2d::fused_into(a.as_ref(), b.as_ref(), out.as_mut()).expect("same shapes");
        check("fuse2d", out.as_slice());
        check(
            "fuse2d_alloc",
            fuse2d::fused(a.as_ref(), b.as_ref())
                .expect("same shapes")
                .as_slice(),
        );
        // The CLI's baselines take operands with a geometry: the same
        // values, row-major.
        let operand = |m: &Matrix<f64>| {
            let (rm, data) = (strategies::Geometry::row_major(n, n), m.as_slice());
            strategies::Operand::try_new(rm, n * n, |i, j| data[i * n + j]).expect("memory")
        };
        let (a_op, b_op, mut out_op) = (operand(&a), operand(&b), operand(&out));
        strategies::naive(&a_op, &b_op, &mut out_op);
        check("naive", &out_op.data);
        out_op.clear();
        strategies::unfused(&a_op, &b_op, &mut out_op);
        check("unfused", &out_op.data);
        let b_nd = ArrayView2::from_shape((n, n), b.as_slice()).expect("b has n * n elements");
        for parallel in [true, false] {
            out.as_mut_slice().fill(0.0);
            ndarray_zip(a.as_slice(), b_nd, out.as_mut_slice(), n, parallel);
            check("ndarray", out.as_slice());
        }
        let mut triad = Triad::new(n);
        triad.check();

        let mut group = c.benchmark_group(format!("size/{n}"));
        configure(&mut group, n);
        group.bench_function("fuse2d", |bch| {
            bch.iter(|| {
                fuse2d::fused_into(black_box(a.as_ref()), black_box(b.as_ref()), out.as_mut())
            })
        });
        group.bench_function("fuse2d_alloc", |bch| {
            bch.iter(|| fuse2d::fused(black_box(a.as_ref()), black_box(b.as_ref())))
        });
        group.bench_function("reference", |bch| {
            bch.iter(|| {
                fuse2d::reference::fused_into(
                    black_box(a.as_ref()),
                    black_box(b.as_ref()),
                    out.as_mut(),
                )
            })
        });
        group.bench_function("naive", |bch| {
            bch.iter(|| strategies::naive(black_box(&a_op), black_box(&b_op), &mut out_op))
        });
        group.bench_function("unfused", |bch| {
            bch.iter(|| strategies::unfused(black_box(&a_op), black_box(&b_op), &mut out_op))
        });
        bench_ndarray(&mut group, "ndarray_par", &a, b_nd, &mut out, true);
        bench_ndarray(&mut group, "ndarray_serial", &a, b_nd, &mut out, false);
        triad.bench(&mut group, "", triad_threads(n));
        group.finish();
    }
}

/// `isa/2000`: fuse2d forced to each ISA this process may use, 1 thread.
fn bench_isa(c: &mut Criterion) {
    let n = 2000;
    let a = input_a(n, n);
    let b = input_b(n, n);
    let mut out = Matrix::zeros(n, n);
    let mut triad = Triad::new(n);

    let mut group = c.benchmark_group(format!("isa/{n}"));
    configure(&mut group, n);
    for &isa in Isa::supported() {
        let cfg = Config::new().isa(isa).threads(1);
        group.bench_function(isa.name(), |bch| {
            bch.iter(|| cfg.fused_into(black_box(a.as_ref()), black_box(b.as_ref()), out.as_mut()))
        });
    }
    // The single-thread roof, for the ratio.
    triad.bench(&mut group, "_t1", 1);
    group.finish();
}

/// `threads/{n}`: thread counts and schedules, with ndarray in pools of the
/// same sizes.
fn bench_threads(c: &mut Criterion) {
    let pools: Vec<(usize, rayon::ThreadPool)> =
        [1, 2].into_iter().map(|t| (t, rayon_pool(t))).collect();
    for n in [2000, 4000] {
        let a = input_a(n, n);
        let b = input_b(n, n);
        let mut out = Matrix::zeros(n, n);
        let b_nd = ArrayView2::from_shape((n, n), b.as_slice()).expect("b has n * n elements");

        let mut group = c.benchmark_group(format!("threads/{n}"));
        configure(&mut group, n);
        for threads in [1, 2, 4] {
            for (schedule, name) in [(Schedule::Static, "static"), (Schedule::Dynamic, "dynamic")] {
                let cfg = Config::new().threads(threads).schedule(schedule);
                group.bench_function(format!("fuse2d_t{threads}_{name}"), |bch| {
                    bch.iter(|| {
                        cfg.fused_into(black_box(a.as_ref()), black_box(b.as_ref()), out.as_mut())
                    })
                });
            }
        }
        for (threads, pool) in &pools {
            group.bench_function(format!("ndarray_par_t{threads}"), |bch| {
                bch.iter(|| {
                    pool.install(|| {
                        ndarray_zip(
                            black_box(a.as_slice()),
                            black_box(b_nd),
                            out.as_mut_slice(),
                            n,
                            true,
                        )
                    })
                })
            });
        }
        group.finish();
    }
}

/// `store/{n}`: store modes on 1 and 2 threads, against the two triads on
/// the same thread counts.
fn bench_store(c: &mut Criterion) {
    for n in [256, 1000, 2000, 4000] {
        let a = input_a(n, n);
        let b = input_b(n, n);
        let mut out = Matrix::zeros(n, n);
        let mut triad = Triad::new(n);

        let mut group = c.benchmark_group(format!("store/{n}"));
        configure(&mut group, n);
        for threads in STORE_THREADS {
            for (mode, name) in [
                (StoreMode::Auto, "auto"),
                (StoreMode::Normal, "normal"),
                (StoreMode::Streaming, "streaming"),
            ] {
                let cfg = Config::new().threads(threads).store(mode);
                group.bench_function(format!("{name}_t{threads}"), |bch| {
                    bch.iter(|| {
                        cfg.fused_into(black_box(a.as_ref()), black_box(b.as_ref()), out.as_mut())
                    })
                });
            }
        }
        for threads in STORE_THREADS {
            triad.bench(&mut group, &format!("_t{threads}"), threads);
        }
        group.finish();
    }
}

/// The talk's top-left quadrant of `m`.
fn quadrant(m: &Matrix<f64>) -> MatRef<'_, f64> {
    let [top_left, ..] = m.as_ref().quadrants();
    top_left
}

/// The talk's top-left quadrant of `m`, writable.
fn quadrant_mut(m: &mut Matrix<f64>) -> MatMut<'_, f64> {
    let [top_left, ..] = m.as_mut().quadrants();
    top_left
}

/// `layout/{n}`: contiguous operands, the talk's top-left quadrant of
/// `2n x 2n` matrices (inputs and output), `b` column-major, and the
/// output column-major (a transposed output); ndarray's `par_for_each` on
/// the contiguous and the column-major `b`.
fn bench_layout(c: &mut Criterion) {
    for n in [2000, 4000] {
        let a = input_a(n, n);
        let b = input_b(n, n);
        let mut out = Matrix::zeros(n, n);
        // The same values as `b`, stored column by column.
        let b_cm: Vec<f64> = (0..n * n)
            .map(|k| b.get(k % n, k / n).expect("in range"))
            .collect();
        let b_cm_view = MatRef::from_slice_col_major(&b_cm, n, n).expect("n * n elements");
        let b_cm_nd = ArrayView2::from_shape((n, n).f(), &b_cm).expect("n * n elements");
        let b_nd = ArrayView2::from_shape((n, n), b.as_slice()).expect("b has n * n elements");
        let big_a = input_a(2 * n, 2 * n);
        let big_b = input_b(2 * n, 2 * n);
        let mut big_out = Matrix::zeros(2 * n, 2 * n);

        // The column-major `b` holds the same values, so the result must be too.
        let want = fuse2d::reference::fused(a.as_ref(), b.as_ref()).expect("same shapes");
        fuse2d::fused_into(a.as_ref(), b_cm_view, out.as_mut()).expect("same shapes");
        assert_bitwise("layout/colmajor_b", out.as_slice(), want.as_slice());
        ndarray_zip(a.as_slice(), b_cm_nd, out.as_mut_slice(), n, true);
        assert_bitwise("layout/ndarray_colmajor_b", out.as_slice(), want.as_slice());
        // The transposed output: element (i, j) at `j * n + i`.
        let mut out_cm = vec![0.0; n * n];
        fn col_major_out(o: &mut [f64], n: usize) -> MatMut<'_, f64> {
            MatMut::from_slice_col_major(o, n, n).expect("n * n elements")
        }
        fuse2d::fused_into(a.as_ref(), b.as_ref(), col_major_out(&mut out_cm, n))
            .expect("same shapes");
        let out_cm_t: Vec<f64> = (0..n * n).map(|k| out_cm[(k % n) * n + k / n]).collect();
        assert_bitwise("layout/colmajor_out", &out_cm_t, want.as_slice());

        let mut group = c.benchmark_group(format!("layout/{n}"));
        configure(&mut group, n);
        group.bench_function("contiguous", |bch| {
            bch.iter(|| {
                fuse2d::fused_into(black_box(a.as_ref()), black_box(b.as_ref()), out.as_mut())
            })
        });
        group.bench_function("quadrant", |bch| {
            bch.iter(|| {
                fuse2d::fused_into(
                    black_box(quadrant(&big_a)),
                    black_box(quadrant(&big_b)),
                    quadrant_mut(&mut big_out),
                )
            })
        });
        group.bench_function("colmajor_b", |bch| {
            bch.iter(|| {
                fuse2d::fused_into(black_box(a.as_ref()), black_box(b_cm_view), out.as_mut())
            })
        });
        group.bench_function("colmajor_out", |bch| {
            bch.iter(|| {
                fuse2d::fused_into(
                    black_box(a.as_ref()),
                    black_box(b.as_ref()),
                    col_major_out(&mut out_cm, n),
                )
            })
        });
        bench_ndarray(
            &mut group,
            "ndarray_par_contiguous",
            &a,
            b_nd,
            &mut out,
            true,
        );
        bench_ndarray(
            &mut group,
            "ndarray_par_colmajor_b",
            &a,
            b_cm_nd,
            &mut out,
            true,
        );
        group.finish();
    }
}

criterion_group!(
    benches,
    bench_size,
    bench_isa,
    bench_threads,
    bench_store,
    bench_layout
);
criterion_main!(benches);
