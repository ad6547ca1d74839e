//! A crossed block: the output along its rows, some input down its columns
//! (a column-major `b` with a row-major `a` and output, say), every other
//! input along the rows.
//!
//! Instead of packing strips of the crossing inputs into an L2 buffer
//! first (`pack`), the block is computed in steps of a line's worth of
//! columns by as many rows, column lines outer and steps down the tile's
//! rows inner: each crossing input's piece of a step is transposed in
//! registers (`pack::Transpose`), each row of the step computed from it and
//! from the other inputs read in place, and each output line stored whole
//! (streamed, or with ordinary stores where that was faster than the
//! packed strips). Down a tile's rows, the crossing columns of a
//! column line are a few long runs the hardware prefetchers follow; each
//! row of the other inputs moves on by one line per column line, and is
//! asked for in software a line past the step's piece. Where the packed
//! strips are faster, they run instead ([`runs`]).
//!
//! Measured on AMD Zen 4 (docs/performance.md, "Crossed tiles"): 4000x4000
//! f64, `b` column-major, one thread, by hand (AVX-512, tiles of 1024 rows
//! as wide as the matrix) 12.9-14.8 ms against 17.2-18.5 for the packed
//! strips and 9.7-10.9 all row-major; in the crate, `b` column-major /
//! all row-major in `cargo bench --bench versus`, one thread, 0.53-0.57 ->
//! 0.79-0.92 at 2000x2000 and 0.53-0.61 -> 0.78-0.83 at 4000x4000.

// The kernel runs only where output lines are stored whole (the x86_64
// instruction sets); elsewhere only the layout test is used.
#![cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]

use crate::expr::Expr;
use crate::isa::Isa;
use crate::kernel::{LineBuf, Stores, Stream, row_contiguous};
use crate::pack::{Transpose, prefetch, side, transpose};
use crate::plan::Block;
use crate::simd::{Element, Vector};
use crate::turn::{at, band_start, bands, is_turned, output_lines, step_run};

/// Rows of a crossed block's tiles (as wide as the block by default): the
/// crossing columns are read in runs of this many elements, and the other
/// inputs' rows are this many streams the software asks for.
pub(crate) const ROWS: usize = 1024;

/// How far down its columns, in bytes, each crossing input is asked for
/// in software, once per step. The hardware prefetchers follow the
/// columns' runs; asked for ahead as well, more of them are in flight.
/// `cargo bench --bench versus -- nopython 2000 4000` on AMD Zen 4
/// (2026-11-29, the rows' `Lead` 2 KiB ahead), `b`
/// column-major / all row-major, one thread, six to eight runs each:
/// 2000x2000 0.65-0.71 without, 0.72-0.77 at 1 KiB; 4000x4000 0.70-0.73
/// and 0.69-0.74; 512 B 0.73 at 2000x2000 (two runs), 2 KiB slower at
/// 4000x4000 (0.69).
const AHEAD: usize = 1024;

/// True when `b` is crossed: the output along its rows, every input either
/// along the rows or contiguous down the columns, and some input down the
/// columns only.
pub(crate) fn is_crossed<T, const N: usize>(b: &Block<T, N>) -> bool {
    b.out_cs == 1
        && b.in_cs
            .iter()
            .zip(&b.in_rs)
            .all(|(&cs, &rs)| cs == 1 || rs == 1)
        && b.in_cs.iter().any(|&cs| cs != 1)
}

/// Whether crossed steps, with `isa`, beat the packed strips for `t`'s
/// output stored as `stores` says:
///
/// - streamed ([`Stores::Streaming`], which only the x86_64 instruction
///   sets take, each with a transpose): always ("Crossed tiles" in
///   docs/performance.md);
/// - with ordinary stores out of cache ([`Stores::Lines`]): with AVX-512
///   and SSE2 and `f64`, where one input crosses (what was measured). `b`
///   column-major, f64, one thread, `StoreMode::Normal`, ms, crossed
///   against packed: AVX-512 4000x4000 20.7-21.2 against 26.4-28.7,
///   2000x2000 4.71-4.78 against 6.03-7.15; SSE2 4000x4000 29.1-29.8
///   against 33.5-34.1, 2000x2000 6.73-7.08 against 7.98-8.20 (`poff`,
///   the twenty-second session, since a step's pieces are no longer
///   zeroed); AVX2 level at 2000x2000 and 4000x4000 and behind at
///   1000x1000 (1.27 against 1.14); `f32` with AVX-512 4000x4000
///   18.0-21.7 against 16.1-17.4, 2000x2000 4.4-5.1 against 3.4-4.0;
/// - in cache ([`Stores::Normal`]): with AVX-512 and AVX2 and `f64`,
///   where one input crosses, unless the rows lie in few of L1's sets
///   ([`in_few_sets`]). One thread, µs, crossed against packed: AVX-512
///   (five pairs, line-aligned arrays) 200x200 12.5 against 20.9, 448x448
///   73.6 against 92.7, 720x720 188 against 286 (arrays 16 bytes past a
///   line: 16.9 against 22.5, 82 against 104, 214 against 358; two
///   threads at 720x720 128 against 216), but 256x256 40.4 against 36.6
///   and 512x512 259 against 134, and `f32` 200x200 30.5 against 13.7
///   (the twenty-first session's `poff` and `pcx`); AVX2 (each line's two
///   stores kept apart from the step's arithmetic,
///   `Stream::store_step_line`; `pcx`, seven rounds) 200x200 17.4 against
///   21.0, 448x448 90 against 106, 720x720 255 against 352; SSE2 behind
///   at 200x200 (27.5 against 23.9) and 448x448 (127 against 121).
///   Before, the crossed steps streamed in cache too, and lost to the
///   packed strips at 256x256 (49 against 33 µs, `pinc`).
fn beats_packed<T, const N: usize>(t: &Block<T, N>, stores: Stores, isa: Isa) -> bool {
    let crossing = t.in_cs.iter().filter(|&&cs| cs != 1).count();
    let one_f64 = core::mem::size_of::<T>() == 8 && crossing == 1;
    match stores {
        Stores::Streaming => true,
        Stores::Lines => matches!(isa, Isa::Avx512 | Isa::Sse2) && one_f64,
        Stores::Normal => matches!(isa, Isa::Avx512 | Isa::Avx2) && one_f64 && !in_few_sets(t),
    }
}

/// True when rows of the output or of an input along the rows, or columns
/// of a crossing input, lie a multiple of 1 KiB apart: a step's eight
/// rows then fall in at most four of L1's sets (4 KiB to a way), and in
/// cache, where nothing else waits, that shows (512x512 f64: 4 KiB apart,
/// crossed twice as slow as packed; 256x256 10% slower; 384x384 and
/// 640x640, 3 and 5 KiB, level).
fn in_few_sets<T, const N: usize>(t: &Block<T, N>) -> bool {
    let size = core::mem::size_of::<T>();
    let apart = |s: isize| {
        s != 0
            && s.unsigned_abs()
                .checked_mul(size)
                .is_some_and(|b| b % 1024 == 0)
    };
    apart(t.out_rs)
        || (0..N).any(|k| {
            apart(if t.in_cs[k] == 1 {
                t.in_rs[k]
            } else {
                t.in_cs[k]
            })
        })
}

/// True when the tile `t` runs crossed: crossed and not turned (every
/// input crossing into output rows whole lines apart: `turn`), crossed
/// steps faster than the packed strips there ([`beats_packed`]), and at
/// least a step tall and a line wide. A turned block run crossed (both
/// inputs transposed) was slower at 4000x4000 (one thread: 17.7-17.9 ms
/// against 13.5-13.7).
pub(crate) fn runs<T, const N: usize>(t: &Block<T, N>, stores: Stores, isa: Isa) -> bool {
    let line = 64 / core::mem::size_of::<T>();
    t.rows >= line
        && t.cols >= line
        && is_crossed(t)
        && !is_turned(t)
        && beats_packed(t, stores, isa)
}

/// True when the block `b` is cut into crossed tiles (`par::Shape::Crossed`):
/// its tiles would run crossed, and it is at least two steps tall and two
/// lines wide, so that its default tiles are each a step tall at least.
/// A block narrower or shorter than that is mostly edges, element by
/// element: 3x1,000,000 f64 with `b` column-major, one thread, AVX-512,
/// 15.7 ms crossed against 8.0 packed, 1,000,000x3 23.0 against 9.3
/// (`cargo run --release -- --layout colmajor-b --size ...`).
pub(crate) fn streams<T, const N: usize>(b: &Block<T, N>, stores: Stores, isa: Isa) -> bool {
    let line = 64 / core::mem::size_of::<T>();
    runs(b, stores, isa) && b.rows >= 2 * line && b.cols >= 2 * line
}

/// One step's piece of one crossing input, transposed: a line's worth of
/// rows of a line (up to 1 KiB), line-aligned.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Piece([u8; 1024]);

/// Runs `e` over the crossed block `t` (see the module docs), its output
/// lines streamed where `stores` is [`Stores::Streaming`], else stored
/// with ordinary stores: the choice made once, at compile time below.
///
/// # Safety
/// `t` upholds the block invariants and [`runs`] with `stores`; `A` has a
/// transpose for `T` (`side::<T, A>() > 0`) and streaming stores
/// (`A::AVAILABLE`, streamed) or whole-line ones (`A::LINES`, not), and
/// the CPU has `A`'s instruction set.
#[inline(always)]
pub(crate) unsafe fn crossed_block<T, V, A, E, const N: usize>(
    e: &E,
    t: &Block<T, N>,
    stores: Stores,
) where
    T: Element,
    V: Vector<T>,
    A: Stream + Transpose,
    E: Expr<T, N>,
{
    // SAFETY: forwarded; `STREAM` as `stores` says.
    unsafe {
        if stores == Stores::Streaming {
            crossed_masks::<T, V, A, E, N, true>(e, t)
        } else {
            crossed_masks::<T, V, A, E, N, false>(e, t)
        }
    }
}

/// [`crossed_block`] with the way to store known (`STREAM`): matches the
/// mask of crossing inputs once.
///
/// # Safety
/// As [`crossed_block`], streamed with `STREAM`.
#[inline(always)]
unsafe fn crossed_masks<T, V, A, E, const N: usize, const STREAM: bool>(e: &E, t: &Block<T, N>)
where
    T: Element,
    V: Vector<T>,
    A: Stream + Transpose,
    E: Expr<T, N>,
{
    let mask = (0..N)
        .filter(|&k| t.in_cs[k] != 1)
        .fold(0, |m, k| m | 1 << k);
    // Which inputs cross is known at compile time inside each arm: the
    // rows then take the transposed pieces from registers, not through
    // memory, which a choice made per row forced (a probe that did the
    // same with one input crossing: 4000x4000, one thread, 13.0-13.3 ms
    // in registers, 16.5-17.6 through the stack).
    macro_rules! masks {
        ($($m:literal)*) => {
            match mask {
                // SAFETY: forwarded; `M` is the mask of `t`'s crossing
                // inputs.
                $($m => unsafe { crossed_tile::<T, V, A, E, N, $m, STREAM>(e, t) },)*
                _ => unreachable!("a crossed block has one to four inputs, some crossing"),
            }
        };
    }
    masks!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15);
}

/// Whether input `k` crosses, in the mask `M`.
const fn crosses(m: u32, k: usize) -> bool {
    (m >> k) & 1 == 1
}

/// [`crossed_block`] for the inputs in the mask `M` crossing (`in_cs !=
/// 1`, `in_rs == 1`), the others along the rows.
///
/// # Safety
/// As [`crossed_masks`], and `M` is the mask of `t`'s crossing inputs.
#[inline(always)]
unsafe fn crossed_tile<T, V, A, E, const N: usize, const M: u32, const STREAM: bool>(
    e: &E,
    t: &Block<T, N>,
) where
    T: Element,
    V: Vector<T>,
    A: Stream + Transpose,
    E: Expr<T, N>,
{
    if M >> N != 0 {
        // No such inputs: not instantiated for a real block (the caller
        // passes `t`'s mask), so nothing is compiled for it.
        return;
    }
    let line = 64 / core::mem::size_of::<T>();
    debug_assert!(side::<T, A>() > 0 && line.is_multiple_of(side::<T, A>()));
    // A step tall at least ([`runs`]).
    debug_assert!(t.rows >= line);
    let mut pieces = [Piece([0; 1024]); N];
    let bufs: [*mut T; N] = core::array::from_fn(|k| pieces[k].0.as_mut_ptr().cast::<T>());
    let (head, body_end) = output_lines(t);
    // Steps of a line's worth of rows, started where the first crossing
    // input's column runs lie inside one line each, with one more step at
    // the top and at the bottom, each overlapping its neighbour (those rows
    // computed and stored twice, with the same bits), as `turn`'s bands.
    let (top, first, end) = bands(t.ins[M.trailing_zeros() as usize], t.rows, line);
    for j0 in (head..body_end).step_by(line) {
        for k in first..end {
            let i0 = band_start(top, k, line, t.rows);
            // SAFETY: rows `i0..i0 + line` (`rows >= line`) and columns
            // `j0..j0 + line` are inside the tile; `A` as this function's
            // contract.
            unsafe { step::<T, V, A, E, N, M, STREAM>(e, t, (i0, j0)) };
        }
    }
    // SAFETY: the two edges are disjoint parts of the tile, and with the
    // steps above (every row) cover it: the head and the tail columns; the
    // buffers hold a line.
    unsafe {
        edge::<T, V, E, N>(e, t, (0, t.rows), (0, head), bufs);
        edge::<T, V, E, N>(e, t, (0, t.rows), (body_end, t.cols), bufs);
    }
}

/// The step of a line's worth of rows from `i0` and a line of columns from
/// `j0`: every crossing input's piece transposed in registers, then each
/// row computed and its output line stored whole where it starts on a
/// line (streamed with `STREAM`).
///
/// # Safety
/// The step lies inside `t`; `t`, `A` and `M` as [`crossed_tile`].
#[inline(always)]
unsafe fn step<T, V, A, E, const N: usize, const M: u32, const STREAM: bool>(
    e: &E,
    t: &Block<T, N>,
    (i0, j0): (usize, usize),
) where
    T: Element,
    V: Vector<T>,
    A: Stream + Transpose,
    E: Expr<T, N>,
{
    let line = 64 / core::mem::size_of::<T>();
    let side = side::<T, A>();
    // The step's own pieces, not the tile's: their addresses go nowhere
    // else, so the compiler keeps them in registers where they fit.
    // Uninitialised: each crossing input's piece is written whole below
    // before it is read, the others are never touched; zeroed, they cost a
    // `memset` per step where they do not fit in registers (streamed,
    // `pcx`, one thread, µs: `f32` with AVX-512 200x200 14.1 -> 11.8,
    // 2000x2000 1454 -> 1268; AVX2 `f32` 2000x2000 1284 -> 1187; SSE2 `f64`
    // 200x200 36.0 -> 27.2, 2000x2000 3803 -> 2871; AVX-512 `f64` level).
    let mut pieces = [const { core::mem::MaybeUninit::<Piece>::uninit() }; N];
    let bufs: [*mut T; N] = core::array::from_fn(|k| pieces[k].as_mut_ptr().cast::<T>());
    for (k, &buf) in bufs.iter().enumerate() {
        if !crosses(M, k) {
            continue;
        }
        for c in 0..line {
            // A hint: the address may lie past the tile.
            prefetch(at(t, i0, j0 + c)[k].wrapping_add(AHEAD / core::mem::size_of::<T>()));
        }
        // Plain ranges, not `step_by`: LLVM unrolls these, and the pieces
        // then stay in registers to the rows below.
        for jb in 0..line / side {
            for ib in 0..line / side {
                let (jb, ib) = (jb * side, ib * side);
                // SAFETY: the `side x side` block at rows `i0 + ib..`,
                // columns `j0 + jb..` is inside the step; input `k` runs
                // down the columns (`in_rs == 1`), so each of its columns
                // is contiguous there, `in_cs` apart; it lands transposed
                // at row `ib`, column `jb` of the buffer.
                unsafe {
                    transpose::<T, A>(
                        buf.add(ib * line + jb),
                        line,
                        at(t, i0 + ib, j0 + jb)[k],
                        t.in_cs[k],
                    )
                };
            }
        }
    }
    for ii in 0..line {
        let row: [*const T; N] = core::array::from_fn(|k| {
            if !crosses(M, k) {
                at(t, i0 + ii, j0)[k]
            } else {
                bufs[k].wrapping_add(ii * line).cast_const()
            }
        });
        for (k, &p) in row.iter().enumerate() {
            if !crosses(M, k) {
                // The line after the one that holds the row piece's last
                // element: its next step comes a tile's height of rows
                // later. A hint: the address may lie past the tile.
                // `versus`, `b` column-major / all row-major, 2000x2000
                // one thread, five pairs: one line ahead of the piece's
                // start 0.72-0.86, two 0.66-0.78; four, two runs: 0.64.
                // Counted from the start, a piece that straddles two lines
                // (`a` and the output at different offsets in a line)
                // asked only for what it was about to load (the `poff`
                // probe, 2000x2000: 7.4-8.6 ms against 3.5).
                prefetch(p.wrapping_add(2 * line - 1));
            }
        }
        let out = t
            .out
            .wrapping_offset((i0 + ii) as isize * t.out_rs)
            .wrapping_add(j0);
        // SAFETY: each input's row piece is a line of readable elements (in
        // place along its row, or the buffer's row, written whole by the
        // transposes above: `line / side` blocks of `side` each way, so
        // every element of the piece), the output's line
        // writable, inside the tile; the whole-line copy only of a whole,
        // aligned line, with the instruction set (the contract).
        unsafe {
            if (out as usize).is_multiple_of(64) {
                let mut tmp = LineBuf([0; 64]);
                let tmp = tmp.0.as_mut_ptr().cast::<T>();
                line_of::<T, V, E, N>(e, row, tmp);
                if STREAM {
                    A::copy_line(out.cast::<u8>(), tmp.cast_const().cast::<u8>());
                } else {
                    A::store_step_line(out.cast::<u8>(), tmp.cast_const().cast::<u8>());
                }
            } else {
                line_of::<T, V, E, N>(e, row, out);
            }
        }
    }
}

/// Computes a line's worth of elements at `ins` into `out`, in runs short
/// enough that the compiler fuses each into vectors ([`step_run`]).
///
/// # Safety
/// `ins[k][..line]` readable, `out[..line]` writable.
#[inline(always)]
unsafe fn line_of<T, V, E, const N: usize>(e: &E, ins: [*const T; N], out: *mut T)
where
    T: Element,
    V: Vector<T>,
    E: Expr<T, N>,
{
    let line = 64 / core::mem::size_of::<T>();
    let run = line.min(8 * V::LANES);
    for r in 0..line / run {
        let at = r * run;
        // SAFETY: `at + run <= line`: inside every row; `run` is a
        // multiple of `V::LANES` (both powers of two) and at most `8 *
        // V::LANES`.
        unsafe { step_run::<T, V, E, N>(e, ins.map(|p| p.add(at)), out.add(at), run) };
    }
}

/// Rows `rows.0..rows.1` of columns `cols.0..cols.1` of `t`, a row's piece
/// of at most a line at a time: each crossing input's elements gathered
/// into its buffer, then computed as one row of [`row_contiguous`] (which
/// takes any length).
///
/// # Safety
/// The ranges are inside the crossed block `t`; `bufs[k]` is writable for
/// a line for each crossing input.
#[inline(always)]
unsafe fn edge<T, V, E, const N: usize>(
    e: &E,
    t: &Block<T, N>,
    rows: (usize, usize),
    cols: (usize, usize),
    bufs: [*mut T; N],
) where
    T: Element,
    V: Vector<T>,
    E: Expr<T, N>,
{
    let line = 64 / core::mem::size_of::<T>();
    for i in rows.0..rows.1 {
        for j0 in (cols.0..cols.1).step_by(line) {
            let w = line.min(cols.1 - j0);
            // The gather is a plain loop, not inside the closure below: a
            // closure holding a loop was compiled apart, without the
            // clone's target features, and called per row (9% of a
            // 200x200 `b` column-major call on arrays 16 bytes past a line;
            // 17.0 -> 14.0 µs).
            let starts = at(t, i, j0);
            for k in (0..N).filter(|&k| t.in_cs[k] != 1) {
                for j in 0..w {
                    // SAFETY: element `(i, j0 + j)` is inside the tile;
                    // `j < w <= line`: inside the buffer.
                    unsafe { *bufs[k].add(j) = *starts[k].offset(j as isize * t.in_cs[k]) };
                }
            }
            let row: [*const T; N] = core::array::from_fn(|k| {
                if t.in_cs[k] == 1 {
                    starts[k]
                } else {
                    bufs[k].cast_const()
                }
            });
            let out = t
                .out
                .wrapping_offset(i as isize * t.out_rs)
                .wrapping_add(j0);
            // SAFETY: each input's piece is `w` readable elements (in place
            // along its row, or the buffer), the output's `w` writable,
            // inside the tile.
            unsafe { row_contiguous::<T, V, E, N>(e, row, out, w) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `a` along its rows (row stride `a_rs`), `b` down its columns
    /// (column stride `b_cs`), a row-major output (row stride `out_rs`):
    /// 64x64 elements, never dereferenced.
    fn crossed<T>(a_rs: isize, b_cs: isize, out_rs: isize) -> Block<T, 2> {
        Block {
            rows: 64,
            cols: 64,
            ins: [core::ptr::null(); 2],
            in_rs: [a_rs, 1],
            in_cs: [1, b_cs],
            out: core::ptr::null_mut(),
            out_rs,
            out_cs: 1,
        }
    }

    /// Rows or crossing columns a multiple of 1 KiB apart (128 f64), in
    /// any operand, either way; a broadcast row (stride 0) is not.
    #[test]
    fn few_sets_from_1_kib_apart() {
        assert!(!in_few_sets(&crossed::<f64>(100, 100, 100)));
        assert!(in_few_sets(&crossed::<f64>(128, 100, 100)));
        assert!(in_few_sets(&crossed::<f64>(100, 256, 100)));
        assert!(in_few_sets(&crossed::<f64>(100, 100, 512)));
        assert!(in_few_sets(&crossed::<f64>(-128, 100, 100)));
        assert!(!in_few_sets(&crossed::<f64>(0, 100, 100)));
        assert!(!in_few_sets(&crossed::<f64>(129, 127, 200)));
    }

    /// Streamed, crossed everywhere; with ordinary stores only with `f64`
    /// and one crossing input: out of cache with AVX-512 and SSE2, in
    /// cache with AVX-512 and AVX2, and there not where rows lie in few
    /// sets.
    #[test]
    fn which_stores_cross() {
        let b = crossed::<f64>(100, 100, 100);
        for isa in [Isa::Sse2, Isa::Avx2, Isa::Avx512] {
            assert!(runs(&b, Stores::Streaming, isa));
            assert_eq!(runs(&b, Stores::Lines, isa), isa != Isa::Avx2);
            assert_eq!(runs(&b, Stores::Normal, isa), isa != Isa::Sse2);
        }
        let few = crossed::<f64>(100, 512, 100);
        assert!(runs(&few, Stores::Lines, Isa::Avx512));
        assert!(!runs(&few, Stores::Normal, Isa::Avx512));
        assert!(!runs(&few, Stores::Normal, Isa::Avx2));
        // `f32` keeps the packed strips unless it streams.
        let b32 = crossed::<f32>(100, 100, 100);
        assert!(runs(&b32, Stores::Streaming, Isa::Avx512));
        assert!(!runs(&b32, Stores::Lines, Isa::Avx512));
        assert!(!runs(&b32, Stores::Normal, Isa::Avx512));
        let mut both = b;
        both.in_rs = [1, 1];
        both.in_cs = [100, 100];
        assert!(runs(&both, Stores::Streaming, Isa::Avx512));
        assert!(!runs(&both, Stores::Lines, Isa::Avx512));
        assert!(!runs(&both, Stores::Normal, Isa::Avx512));
    }
}
