//! The suite Miri runs: every unsafe path of the crate on shapes small
//! enough for an interpreter. Miri checks each load and store against its
//! allocation and alignment, the aliasing of the views (Tree Borrows), and
//! races between the threads that write one output; each result here is
//! also bitwise the reference, with nothing written outside the output view.
//!
//! `.ci/run` runs this file under Miri on the SSE2 baseline (the `wide`
//! kernel, its non-temporal stores, the 2x2 and 4x4 transposes) and with
//! AVX2 enabled at compile time (the ymm clone, which shares its generic
//! code with the scalar path, its stores and transposes), about eight
//! minutes each:
//!
//! ```sh
//! export MIRIFLAGS="-Zmiri-disable-isolation -Zmiri-tree-borrows -Zmiri-permissive-provenance -Zmiri-ignore-leaks"
//! cargo +nightly miri test --all-features --test miri
//! RUSTFLAGS="-C target-feature=+avx2,+fma" cargo +nightly miri test --all-features --test miri
//! ```
//!
//! (Isolation off, so the cache sizes come from sysfs as they do in use;
//! Tree Borrows, because crossbeam-epoch under rayon breaks a Stacked
//! Borrows rule in its own code, crossbeam-rs/crossbeam#545; leaks ignored, because rayon's pool
//! threads are never joined.) Under `cargo test` it takes a fraction of a
//! second. Miri has no AVX-512 nor NEON: in `.ci/run` AddressSanitizer
//! checks the AVX-512 path's bounds, and qemu runs the NEON path.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};

use common::{Bits, Layout, Operand, Rng, assert_bitwise_eq, check_config};
use fuse2d::{Config, Expr, Isa, Lanes, MatRef, Matrix, Schedule, StoreMode, expr, reference};

/// Operand layouts `(a, b, out)`, chosen so that together they reach every
/// path of the kernel.
const LAYOUTS: [(Layout, Layout, Layout); 10] = [
    // Contiguous: one long row, streamed from its first whole line.
    (Layout::RowMajor, Layout::RowMajor, Layout::RowMajor),
    // Rows one at a time, each starting off its cache line.
    (
        Layout::Padded { pad: 1, offset: 1 },
        Layout::Offset(1),
        Layout::Padded { pad: 3, offset: 0 },
    ),
    // A column-major input: packed strips, in-register transposes, and
    // the element copy at their edges.
    (Layout::RowMajor, Layout::ColMajor, Layout::RowMajor),
    (
        Layout::ColPadded { pad: 2 },
        Layout::NegColMajor { pad: 1 },
        Layout::Quadrant(3),
    ),
    // A column-major output against row-major inputs: the output row buffer.
    (
        Layout::RowMajor,
        Layout::Padded { pad: 1, offset: 0 },
        Layout::ColMajor,
    ),
    // Negative strides.
    (
        Layout::NegStrides { pad: 2 },
        Layout::ReverseCols,
        Layout::ReverseBoth,
    ),
    (
        Layout::Transposed,
        Layout::ColMajorReverseCols,
        Layout::ReverseRows,
    ),
    // Broadcasting inputs (stride 0).
    (Layout::BroadcastRow, Layout::BroadcastCol, Layout::RowMajor),
    (Layout::BroadcastAll, Layout::Quadrant(0), Layout::ColMajor),
    // The talk's quadrants.
    (
        Layout::Quadrant(1),
        Layout::Quadrant(2),
        Layout::Quadrant(0),
    ),
];

/// A single element; rows shorter and longer than a line; two packed
/// strips of 64 rows (69); rows of several lines (67).
const SHAPES: [(usize, usize); 5] = [(1, 1), (3, 19), (19, 3), (69, 9), (6, 67)];

/// A configuration, and where it runs: on how many threads when there are
/// more elements than a tile holds, and whether it streams.
struct Run {
    cfg: Config,
    threads: usize,
    tile: usize,
    streams: bool,
}

/// Serial and parallel, both schedules, both store modes (`Normal` with
/// the output over a streaming threshold of 0: rows a line at a time with
/// ordinary stores, `kernel::Stores::Lines`). Tiles of 576
/// elements make the packed strips 64 x 9 (two 4-column AVX2 transpose
/// blocks, or four 2-column SSE2 ones, and an edge column) and the row
/// tiles pieces of rows.
fn runs() -> [Run; 4] {
    let parallel = |threads, tile| {
        Config::new()
            .threads(threads)
            .serial_threshold(0)
            .tile_elems(tile)
    };
    [
        Run {
            cfg: Config::new(),
            threads: 1,
            tile: usize::MAX,
            streams: false,
        },
        Run {
            cfg: Config::new().store(StoreMode::Streaming),
            threads: 1,
            tile: usize::MAX,
            streams: true,
        },
        Run {
            cfg: parallel(2, 576).store(StoreMode::Streaming),
            threads: 2,
            tile: 576,
            streams: true,
        },
        Run {
            cfg: parallel(3, 64)
                .schedule(Schedule::Static)
                .store(StoreMode::Normal)
                .stream_threshold(0),
            threads: 3,
            tile: 64,
            streams: false,
        },
    ]
}

/// Normal and tiny (subnormal) values, no NaN and nothing that overflows:
/// the NaN an operation makes has no fixed bits in Rust, and Miri picks
/// them at random. `tests/values.rs` checks the special values on the
/// hardware.
fn value(rng: &mut Rng) -> f64 {
    if rng.below(4) == 0 {
        rng.tiny()
    } else {
        rng.normal()
    }
}

/// Checks `run` against the reference, and that it ran where it should:
/// over several tiles on its threads when there are more elements than a
/// tile holds, and streaming when asked on an ISA that can.
fn check<T: Bits>(run: &Run, a: &Operand<T>, b: &Operand<T>, out: Layout) {
    let (_, r) = check_config(&run.cfg, a, b, out, "");
    let ctx = format!("{:?} {}x{} out={out:?}: {r:?}", run.cfg, a.rows, a.cols);
    if a.rows * a.cols > run.tile {
        assert!(r.tiles > 1 && r.threads == run.threads, "{ctx}");
    } else {
        assert_eq!(r.threads, 1, "{ctx}");
    }
    let nt = matches!(r.isa, Isa::Sse2 | Isa::Avx2 | Isa::Avx512);
    assert_eq!(r.streaming, run.streams && nt, "{ctx}");
}

#[test]
fn every_path_every_layout_f64() {
    let mut rng = Rng::new(1);
    for shape in SHAPES {
        for (la, lb, lo) in LAYOUTS {
            let a = Operand::new(la, shape.0, shape.1, || value(&mut rng));
            let b = Operand::new(lb, shape.0, shape.1, || value(&mut rng));
            // The parallel runs only where they cut tiles: on fewer
            // elements they are the serial runs again.
            let tiled = |r: &&Run| r.threads == 1 || shape.0 * shape.1 > r.tile;
            for run in runs().iter().filter(tiled) {
                check(run, &a, &b, lo);
            }
        }
    }
}

/// `f32` has transposes of its own (8x8 with AVX, 4x4 with SSE2).
#[test]
fn every_path_f32() {
    let mut rng = Rng::new(2);
    // Contiguous, the two column-major inputs, the column-major output.
    for (la, lb, lo) in [LAYOUTS[0], LAYOUTS[2], LAYOUTS[3], LAYOUTS[4]] {
        let a = Operand::new(la, 37, 13, || value(&mut rng) as f32);
        let b = Operand::new(lb, 37, 13, || value(&mut rng) as f32);
        for run in &runs() {
            check(run, &a, &b, lo);
        }
    }
}

/// A column-major input of a row-major output two steps tall and two lines
/// wide, in every run (`cross` in the crate, which crosses the streamed
/// ones, and with `f64` the ordinary stores in cache with AVX2 and out of
/// it with SSE2): steps transposed in registers, the rows' prefetches past
/// the tile, the overlapping steps at the ends and the element-by-element
/// edges; `b` starting off its lines, `a` too, the output's rows not whole
/// lines apart.
#[test]
fn crossed_steps() {
    let mut rng = Rng::new(4);
    for (la, lb, lo) in [
        (Layout::RowMajor, Layout::ColOffset(3), Layout::RowMajor),
        (
            Layout::ColMajor,
            Layout::Offset(1),
            Layout::Padded { pad: 1, offset: 2 },
        ),
    ] {
        let a = Operand::new(la, 19, 21, || value(&mut rng));
        let b = Operand::new(lb, 19, 21, || value(&mut rng));
        for run in &runs() {
            check(run, &a, &b, lo);
        }
    }
    let a = Operand::new(Layout::RowMajor, 33, 34, || value(&mut rng) as f32);
    let b = Operand::new(Layout::ColOffset(5), 33, 34, || value(&mut rng) as f32);
    check(&runs()[1], &a, &b, Layout::RowMajor);
}

/// A transposed output: row-major inputs and a column-major output whose
/// columns are whole cache lines apart (16 rows, for f64 and f32), which
/// is computed in steps transposed in registers (`turn` in the crate),
/// with the edges around them (where the output's first line begins
/// depends on where the allocation lands).
#[test]
fn transposed_output_turned() {
    let mut rng = Rng::new(3);
    let layouts = [
        LAYOUTS[4],
        (Layout::Offset(1), Layout::RowMajor, Layout::Transposed),
    ];
    for (la, lb, lo) in layouts {
        let a = Operand::new(la, 16, 37, || value(&mut rng));
        let b = Operand::new(lb, 16, 37, || value(&mut rng));
        let a32 = Operand::new(la, 16, 37, || value(&mut rng) as f32);
        let b32 = Operand::new(lb, 16, 37, || value(&mut rng) as f32);
        for run in &runs() {
            check(run, &a, &b, lo);
            check(run, &a32, &b32, lo);
        }
    }
}

expr!(Affine { s, t } = |x| x * s + t);
expr!(Sum3 = |x, y, z| x + y + z);

/// `cfg.eval` of `e` on `ins` is bitwise `reference::eval_into`'s.
fn eval_matches<E: Expr<f64, N>, const N: usize>(
    cfg: &Config,
    e: &E,
    ins: [MatRef<'_, f64>; N],
    what: &str,
) {
    let got = cfg.eval(e, ins).unwrap();
    let mut want = Matrix::zeros(ins[0].rows(), ins[0].cols());
    reference::eval_into(e, ins, want.as_mut()).unwrap();
    assert_bitwise_eq(got.as_ref(), want.as_ref(), &format!("{cfg:?} {what}"));
}

/// One and three inputs: the kernels' operand arrays of other lengths.
#[test]
fn one_and_three_inputs() {
    let (n, m) = (37, 11);
    let x = Matrix::from_fn(n, m, |i, j| i as f64 - 0.5 * j as f64);
    let y_cm: Vec<f64> = (0..n * m).map(|k| 1.0 / (1.0 + k as f64)).collect();
    let y = MatRef::from_slice_col_major(&y_cm, n, m).unwrap();
    for Run { cfg, .. } in runs() {
        eval_matches(&cfg, &Affine { s: 3.0, t: -1.0 }, [y], "affine");
        let ins = [x.as_ref(), y, x.as_ref().reverse_rows()];
        eval_matches(&cfg, &Sum3, ins, "sum3");
    }
}

/// The four quadrants of one output, and the two halves of another, each
/// written by its own thread at once (each call itself on two threads):
/// the split views must not overlap.
#[test]
fn split_views_written_from_several_threads() {
    let (n, m) = (21, 34);
    let a = Matrix::from_fn(n, m, |i, j| (i * m + j) as f64 * 0.25);
    let b_cm: Vec<f64> = (0..n * m).map(|k| 2.0 - k as f64).collect();
    let b = MatRef::from_slice_col_major(&b_cm, n, m).unwrap();
    let want = reference::fused(a.as_ref(), b).unwrap();
    let cfg = Config::new().threads(2).serial_threshold(0).tile_elems(64);

    let mut out = Matrix::zeros(n, m);
    let ins = a.as_ref().quadrants().into_iter().zip(b.quadrants());
    std::thread::scope(|s| {
        for ((qa, qb), qo) in ins.zip(out.as_mut().quadrants()) {
            let cfg = &cfg;
            s.spawn(move || cfg.fused_into(qa, qb, qo).unwrap());
        }
    });
    assert_bitwise_eq(out.as_ref(), want.as_ref(), "quadrants");

    let mut out = Matrix::zeros(n, m);
    let (top, bottom) = out.as_mut().split_at_row(8).unwrap();
    let (a_top, a_bottom) = a.as_ref().split_at_row(8).unwrap();
    let (b_top, b_bottom) = b.split_at_row(8).unwrap();
    std::thread::scope(|s| {
        s.spawn(|| cfg.fused_into(a_top, b_top, top).unwrap());
        s.spawn(|| cfg.fused_into(a_bottom, b_bottom, bottom).unwrap());
    });
    assert_bitwise_eq(out.as_ref(), want.as_ref(), "halves");
}

/// Under Miri the CPU has exactly the features the crate was compiled
/// with, so the kernels above ran on the best of those, within
/// `FUSE2D_MAX_ISA`: AVX2 when `.ci/run` builds with `+avx2,+fma`.
#[cfg(miri)]
#[test]
fn miri_runs_the_kernels_it_was_built_for() {
    let built = if cfg!(all(target_feature = "avx2", target_feature = "fma")) {
        Isa::Avx2
    } else {
        Isa::Sse2
    };
    let cap = std::env::var(fuse2d::MAX_ISA_ENV).ok();
    let want = match cap.and_then(|c| c.parse::<Isa>().ok()) {
        Some(Isa::Scalar) => Isa::Scalar,
        Some(Isa::Sse2) => Isa::Sse2,
        _ => built,
    };
    assert_eq!(Isa::detect(), want);
}

/// `ndarray` views of any strides, taken without a copy (`src/nd.rs`), as
/// inputs and as the output; nothing outside the output view written.
#[cfg(feature = "ndarray")]
#[test]
fn ndarray_views_of_any_strides() {
    use ndarray::{Array2, ShapeBuilder, s};
    let a = Array2::from_shape_fn((9, 12), |(i, j)| (i * 12 + j) as f64 * 0.5);
    let b = Array2::from_shape_fn((9, 12).f(), |(i, j)| 1.0 / (1.0 + (i + 2 * j) as f64));
    // Rows reversed, every other one; columns every third, reversed in `b`.
    let (va, vb) = (a.slice(s![..;-2, 1..;3]), b.slice(s![..;2, ..;-3]));
    assert_eq!((va.dim(), vb.dim()), ((5, 4), (5, 4)));
    let want = reference::fused(va.into(), vb.into()).unwrap();
    // A column-major output, every other row, columns 4, 3, 2, 1.
    let mut big = Array2::from_elem((12, 7).f(), f64::NAN);
    let window = s![1..10;2, 1..5;-1];
    fuse2d::nd::fused_into(va, vb, big.slice_mut(window)).unwrap();
    let got = Matrix::from_view(big.slice(window).into());
    assert_bitwise_eq(got.as_ref(), want.as_ref(), "ndarray output view");
    let written = big.iter().filter(|x| !x.is_nan()).count();
    assert_eq!(written, 5 * 4, "written outside the output view");
}

/// `x + y`, but evaluation number `.1` (from 0) panics.
struct PanicsAt(AtomicUsize, usize);

impl Expr<f64, 2> for PanicsAt {
    fn eval<V: Lanes<f64>>(&self, [x, y]: [V; 2]) -> V {
        let n = self.0.fetch_add(1, Ordering::Relaxed);
        assert!(n != self.1, "evaluation {n} panicked");
        x + y
    }
}

/// A panic inside a packed tile unwinds out of the call, serial and from a
/// rayon job, through the pack's scratch (which goes back to its thread)
/// and the run's closing fence (a drop guard); the next call on the same
/// threads is correct.
#[test]
fn a_panic_in_a_packed_tile_unwinds_cleanly() {
    let mut rng = Rng::new(3);
    let a = Operand::new(Layout::RowMajor, 37, 13, || value(&mut rng));
    let b = Operand::new(Layout::ColMajor, 37, 13, || value(&mut rng));
    for run in runs() {
        let mut out = Operand::<f64>::output(Layout::RowMajor, 37, 13);
        let expr = PanicsAt(AtomicUsize::new(0), 20);
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            run.cfg.run(&expr, [a.view(), b.view()], out.view_mut())
        }));
        let err = result.expect_err("the panic must propagate");
        let msg = err.downcast_ref::<String>().cloned().unwrap_or_default();
        assert_eq!(msg, "evaluation 20 panicked", "{:?}", run.cfg);
        check(&run, &a, &b, Layout::RowMajor);
    }
}
