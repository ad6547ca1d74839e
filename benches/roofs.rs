//! What one core moves in the access patterns of fuse2d's two big paths,
//! next to fuse2d itself, in one run: the roofs behind the mixed-layout
//! numbers of `docs/performance.md` ("Roofs of the packed path").
//!
//! All-row-major, fuse2d reads `a` and `b` along their rows and streams
//! `out`. With `b` column-major it packs strips of `b` (64 rows, a
//! quarter of L2 wide) into a buffer that stays in L2, then runs the
//! row kernel over `a` and the buffer. Each pattern is timed here alone,
//! with plain loops (the triad kernel of the other harnesses for the
//! streamed ones), on one thread, in interleaved rounds (medians; each
//! contender's third run in a row timed, as in `versus`). The operands come
//! in three copies, taken in turn, so that the timed run reads arrays its
//! two warm-up runs did not (`warm`: one copy, as `versus` times them; on
//! the Intel Xeon the two agree within 2-5%, while a probe of the pack
//! with its software prefetches took 6.9-7.8 ms warm against 9.9-10.0
//! cold: the VM's L3 keeps part of a 128 MB array, and presumably a
//! prefetch that hits it frees its fill buffer sooner):
//!
//! | contender | what one core moves |
//! |---|---|
//! | read `a` | one array, in order: the read rate of one stream |
//! | read `a` and `b` | two arrays side by side |
//! | read `b` down its columns | column-major `b` in the pack's order (runs of a strip's rows, strips down panels) |
//! | the same, and `a` | each run followed by as many elements of `a`: the mixed path's two reads in one loop |
//! | copy `a` into an L1 / L2 buffer | one array through a small buffer: the pack's traffic with sequential reads |
//! | `a` and an L2 buffer, streamed to `out` | the compute phase of the packed path |
//! | the L2 buffer streamed to `out` | streaming stores without a read from memory |
//! | streaming triad | the roof of `versus` |
//! | fuse2d `Auto`, row-major / `b` column-major | the two paths |
//!
//! Last, the floor of the packed design on this machine: the copy into
//! the L2 buffer plus the compute phase's pattern, against the row-major
//! run. On the Intel Xeon this repository is measured on, one core reads
//! at the same rate from one stream as from two, and a streamed output
//! costs little on top; the packed path moves `b` twice more, through L2.
//! And `b` read down its columns with `a` in the same loop takes as long
//! as the two apart: one core does not overlap the two read patterns,
//! which is why no interleaving of the pack and the compute has helped.
//!
//! ```sh
//! cargo bench --bench roofs            # 4000x4000 f64
//! cargo bench --bench roofs -- 2000    # other sizes
//! cargo bench --bench roofs -- warm    # one copy of the operands
//! ```

#[path = "support/rounds.rs"]
mod rounds;
/// The inputs and the roof triads of the CLI and the other harnesses.
#[path = "../cli/src/strategies.rs"]
#[allow(unused_imports)] // not every re-exported item is used here
mod strategies;

use std::cell::{Cell, RefCell};
use std::hint::black_box;

use fuse2d::{CacheInfo, Config, MatMut, MatRef, Matrix};
use rounds::{interleaved, median};

/// Timed rounds per size.
const ROUNDS: usize = 15;

/// Copies of the operands, taken in turn by the runs (see `run`). Five
/// measured as three at 2000x2000 on the Intel Xeon (`b` column-major /
/// row-major 0.65 and 0.67 in two runs each).
const COPIES: usize = 3;

/// The shape, `(rows, columns)`, of fuse2d's packed strips for one
/// column-major `f64` input: the crate's own (`pack::Pack`).
fn strip_shape() -> (usize, usize) {
    fuse2d::packed_strip::<f64>(1)
}

/// The sum of `v`, eight accumulators wide so the loop is bound by the
/// loads, not by one chain of additions.
fn sum(v: &[f64]) -> f64 {
    let mut acc = [0.0; 8];
    let mut chunks = v.chunks_exact(8);
    for c in &mut chunks {
        for (s, x) in acc.iter_mut().zip(c) {
            *s += x;
        }
    }
    acc.iter().sum::<f64>() + chunks.remainder().iter().sum::<f64>()
}

/// `v` copied through `buf`, one buffer's worth at a time.
fn copy_through(v: &[f64], buf: &mut [f64]) {
    for c in v.chunks(buf.len()) {
        buf[..c.len()].copy_from_slice(c);
        black_box(&mut *buf);
    }
}

/// Reads the column-major `n x n` array `b_cm` in the order fuse2d's
/// pack does: strips of [`strip_shape`]'s rows walked down panels of its
/// columns, each column's run of the strip read in turn. With
/// `also`, each run is followed by as many elements of `also`, read in
/// order: the two read patterns of the mixed path in one loop.
fn column_runs(b_cm: &[f64], n: usize, also: Option<&[f64]>) -> f64 {
    let (strip_rows, width) = strip_shape();
    // Two sums across all runs, one for the runs' first lines and one for
    // their last elements; see `touch_lines`.
    let mut sums = (0.0, 0.0);
    let mut next = 0;
    for c0 in (0..n).step_by(width) {
        for r0 in (0..n).step_by(strip_rows) {
            let rows = strip_rows.min(n - r0);
            for c in c0..(c0 + width).min(n) {
                touch_lines(&mut sums, &b_cm[c * n + r0..][..rows]);
                if let Some(a) = also {
                    touch_lines(&mut sums, &a[next..][..rows]);
                    next += rows;
                }
            }
        }
    }
    sums.0 + sums.1
}

/// Reads one element of every cache line `run` touches (every eighth, and
/// the last) into `sums`: the same lines from memory as reading them all,
/// with as few instructions as can be. A column's run is not followed by
/// the hardware prefetchers, so how many of its lines are in flight at
/// once is set by how far ahead of the oldest load the core's
/// out-of-order window reaches, and that shrinks with the instructions
/// per line: on the Intel Xeon, summing every element (eight accumulators
/// wide) read `b` down its columns in 16.5 ms in this bench, one element
/// per line 11.9-12.3 ms (a probe doing the same: 18.1-19.9 against
/// 9.3-9.8).
#[inline(always)]
fn touch_lines(sums: &mut (f64, f64), run: &[f64]) {
    let mut k = 0;
    while k < run.len() {
        sums.0 += run[k];
        k += 8;
    }
    if let Some(last) = run.last() {
        sums.1 += last;
    }
}

/// fuse2d's flagship with `config` over the next copy of the operands
/// (`b` column-major with `col_major_b`), into that copy's `out`.
fn fuse2d<'a>(
    config: &'a Config,
    n: usize,
    next: &'a dyn Fn() -> &'a Operands,
    col_major_b: bool,
) -> Run<'a> {
    Box::new(move || {
        let s = next();
        let a = s.a.as_ref();
        let b = if col_major_b {
            MatRef::from_slice_col_major(s.b_cm.as_slice(), n, n).expect("n * n elements")
        } else {
            s.b.as_ref()
        };
        let mut out = s.out.borrow_mut();
        let o = MatMut::from_slice(&mut out, n, n).expect("n * n elements");
        config.fused_into(a, b, o).expect("same shapes");
    })
}

/// One contender: its name, the bytes it moves to or from memory per
/// element (its DRAM traffic, for GB/s), and the run.
struct Entry<'a> {
    name: &'static str,
    bytes: usize,
    run: Run<'a>,
}

/// A contender's run, over the next copy of the operands.
type Run<'a> = Box<dyn FnMut() + 'a>;

/// One copy of the operands (and an output for them).
struct Operands {
    a: Matrix<f64>,
    b: Matrix<f64>,
    /// `b` column-major: its transpose, row-major.
    b_cm: Matrix<f64>,
    out: RefCell<Vec<f64>>,
}

fn run(n: usize, copies: usize) {
    // Every array is a `Matrix`, allocated with the huge-page advice (as
    // NumPy's are).
    let sets: Vec<Operands> = (0..copies)
        .map(|_| Operands {
            a: Matrix::from_fn(n, n, |i, j| strategies::input_a::<f64>(i, j, n)),
            b: Matrix::from_fn(n, n, strategies::input_b::<f64>),
            b_cm: Matrix::from_fn(n, n, |j, i| strategies::input_b::<f64>(i, j)),
            out: RefCell::new(Matrix::<f64>::zeros(n, n).into_vec()),
        })
        .collect();
    // Each run takes the next copy in turn, so with three copies the timed
    // run (a contender's third in a row) reads a copy last read three runs
    // before, by the contender timed before it, with its own two warm-up
    // runs over the other copies in between.
    let turn = Cell::new(0);
    let next = || {
        let k = turn.get();
        turn.set(k + 1);
        &sets[k % sets.len()]
    };
    let cache = CacheInfo::get();
    // An L1 buffer a quarter of L1; the L2 one as large as one packed strip.
    let mut l1_buf = vec![0.0; (cache.l1 / 4 / 8).max(64)];
    let (strip_rows, strip_cols) = strip_shape();
    let mut l2_buf = vec![0.0; strip_rows * strip_cols];
    let l2_len = l2_buf.len();
    // What the compute phase reads in place of `b`: a packed strip.
    let strip = vec![0.5; l2_len];
    let heading = format!(
        "L1 buffer {} KiB, L2 buffer {} KiB: one strip of {strip_rows} x {strip_cols}; {}",
        l1_buf.len() * 8 / 1024,
        l2_len * 8 / 1024,
        if copies > 1 {
            "operands cold (copies in turn)"
        } else {
            "operands warm (one copy)"
        }
    );
    let one = Config::new().threads(1);

    let mut entries: Vec<Entry<'_>> = vec![
        Entry {
            name: "read a",
            bytes: 8,
            run: Box::new(|| {
                black_box(sum(next().a.as_slice()));
            }),
        },
        Entry {
            name: "read a and b",
            bytes: 16,
            run: Box::new(|| {
                let s = next();
                black_box(sum(s.a.as_slice()) + sum(s.b.as_slice()));
            }),
        },
        Entry {
            name: "read b down its columns",
            bytes: 8,
            run: Box::new(|| {
                black_box(column_runs(next().b_cm.as_slice(), n, None));
            }),
        },
        Entry {
            name: "  the same, and a",
            bytes: 16,
            run: Box::new(|| {
                let s = next();
                let a = Some(s.a.as_slice());
                black_box(column_runs(s.b_cm.as_slice(), n, a));
            }),
        },
        Entry {
            name: "copy a into an L1 buffer",
            bytes: 8,
            run: Box::new(|| copy_through(next().a.as_slice(), &mut l1_buf)),
        },
        Entry {
            name: "copy a into an L2 buffer",
            bytes: 8,
            run: Box::new(|| copy_through(next().a.as_slice(), &mut l2_buf)),
        },
        Entry {
            name: "a + L2 buffer -> out",
            bytes: 16,
            run: Box::new(|| {
                let s = next();
                let mut o = s.out.borrow_mut();
                for (x, y) in o.chunks_mut(l2_len).zip(s.a.as_slice().chunks(l2_len)) {
                    strategies::triad_streaming(x, y, &strip[..x.len()], 3.0);
                }
            }),
        },
        Entry {
            name: "L2 buffer -> out",
            bytes: 8,
            run: Box::new(|| {
                for x in next().out.borrow_mut().chunks_mut(l2_len) {
                    let y = &strip[..x.len()];
                    strategies::triad_streaming(x, y, y, 3.0);
                }
            }),
        },
        Entry {
            name: "triad, streaming stores",
            bytes: 24,
            run: Box::new(|| {
                let s = next();
                let (a, b) = (s.a.as_slice(), s.b.as_slice());
                strategies::triad_streaming(&mut s.out.borrow_mut(), a, b, 3.0);
            }),
        },
        Entry {
            name: "fuse2d Auto",
            bytes: 24,
            run: fuse2d(&one, n, &next, false),
        },
        Entry {
            name: "fuse2d Auto, b col-major",
            bytes: 24,
            run: fuse2d(&one, n, &next, true),
        },
    ];
    let mut times = interleaved(entries.len(), ROUNDS, |i| {
        strategies::time_warm(&mut entries[i].run)
    });
    black_box(&sets);
    let ms: Vec<f64> = times.iter_mut().map(|t| median(t) * 1e3).collect();

    println!("\n{n}x{n} f64, one thread, median of {ROUNDS} interleaved rounds ({heading})");
    println!("  {:<28} {:>9} {:>11}", "pattern", "ms", "DRAM GB/s");
    for (e, &m) in entries.iter().zip(&ms) {
        let gbs = (e.bytes * n * n) as f64 / (m * 1e-3) / 1e9;
        println!("  {:<28} {:>9.3} {:>11.1}", e.name, m, gbs);
    }
    let ms_of = |name: &str| {
        let i = entries.iter().position(|e| e.name == name);
        ms[i.expect("a contender of that name")]
    };
    let auto = ms_of("fuse2d Auto");
    let floor = ms_of("copy a into an L2 buffer") + ms_of("a + L2 buffer -> out");
    println!(
        "  the packed design's floor (copy into the L2 buffer + a and the buffer streamed): {floor:.2} ms;\n  \
         row-major / that floor {:.2}, row-major / fuse2d b col-major {:.2}",
        auto / floor,
        auto / ms_of("fuse2d Auto, b col-major")
    );
}

fn main() {
    // `cargo bench` passes `--bench`; any numbers are sizes, and `warm`
    // times every run over one copy of the operands.
    let args: Vec<String> = std::env::args().skip(1).collect();
    let sizes: Vec<usize> = args.iter().filter_map(|s| s.parse().ok()).collect();
    let copies = if args.iter().any(|s| s == "warm") {
        1
    } else {
        COPIES
    };
    for n in if sizes.is_empty() { vec![4000] } else { sizes } {
        run(n, copies);
    }
}
