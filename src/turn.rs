//! A transposed output: every input runs along the output's columns (both
//! inputs row-major, the output column-major, say). After the plan has
//! turned the output's unit stride inward, such a block has `in_rs == 1`
//! for every input: each input is contiguous down the block's columns.
//!
//! Instead of packing every input (two column reads for two inputs, see
//! `pack`), the block is computed in the inputs' own order and only the
//! result is turned: `h` consecutive elements of each of a line's worth of
//! columns are computed by the same vector code as any row (`h` the
//! transpose side), transposed in registers (`pack::Transpose`) into `h`
//! output lines, and each line is stored whole, with a streaming store when
//! asked for. The tiles ([`panel_cols`] columns, all rows) keep few enough
//! input streams open for the hardware prefetchers to follow them all.
//!
//! Measured on the Intel Xeon (docs/performance.md, "The transposed output
//! turned in registers"): 4000x4000 f64 on one thread with AVX-512, 20.8-21.4
//! ms against 30.4 for the two packs it replaces and 16.2-17.3 all
//! row-major; in `cargo bench --bench versus` 0.76-0.99 of the all-row-major
//! run from 2000x2000 up, where the two packs read 0.53-0.67. On AMD Zen 4
//! (with [`STREAMS`] at 16): 14.3-15.3 ms against 22.7-32.9 for the two
//! packs and 10.0-10.9 all row-major; since its tiles ask for their input
//! streams in software where the output streams ([`asks`]), 11.0-11.5
//! against 9.3-10.2.

use crate::expr::Expr;
use crate::kernel::{Stream, row_contiguous};
use crate::pack::{Transpose, prefetch, side, transpose};
use crate::plan::Block;
use crate::simd::{Element, Vector};

/// How many input streams a tile keeps open: few enough for the hardware's
/// L2 stream prefetchers to follow them all. Intel documents 32 (one per 4
/// KiB page); AMD Zen 4 follows fewer. Measured at 4000x4000 f64, one
/// thread, two inputs: on AMD Zen 4 (the `mixp` probe, medians of 7,
/// 2026-11-29) 16 streams (8 columns) 14.3-15.3 ms, 32 34.1-38.8, 64 50.2,
/// the two packs of `pack` 22.7-32.9, all row-major 10.0-10.9 (at
/// 2000x2000: 4.8-4.9, 8.9, 13.2, 6.4; row-major 2.6-4.2); on an Intel
/// Xeon (by hand, before the crate had this path) 8 columns 24.5-25.0 ms,
/// 16 23.0-23.4, 32 57.7-59.1, the same 16 in panels of 512 rows
/// 28.6-31.1, of 2000 rows 23.6-24.3; with one input 16 columns 13.2 ms, 32
/// 12.2-12.4, 64 20.3; with three, 8 columns 27.9-28.0 ms, 16 32.1. So 16:
/// a few percent behind 32 on the Xeon, 2.5x ahead on Zen 4.
const STREAMS: usize = 16;

/// How far down its column each input stream is prefetched, in elements,
/// where a tile asks for its streams in software ([`asks`]). 64 until the
/// nineteenth session, when the tiles of a streamed output began asking too:
/// there 128 (1 KiB of `f64`) was best (`f64` flagship, 4000x4000, one
/// thread, `pout`, ms, medians of 7, all row-major 9.8-11.4 in those runs):
/// 64 ahead 12.5-13.8, 128 11.8-12.6, 256 11.9-13.4, 512 12.3-13.3, none
/// 12.9-13.8. Where the tiles asked before (more streams than
/// [`STREAMS`]) 128 and 64 measured level (4000x4000, the same probe,
/// before / after, three runs each): `f32` with two inputs 9.0-9.4 /
/// 9.3-9.5 ms, three `f64` inputs 16.0-16.7 / 16.2-16.7; in cache
/// (`f32`, `pinc`, 256² to 1000²) within 4%. One `f64` input (16
/// streams, asking now where streamed): 7.9-8.0 / 7.5-7.7.
/// Before, with 64 there: `f32` with two inputs 12.8-13.2 -> 9.5-9.8
/// (all row-major 4.7-5.3) against none, 32 or 128 elements ahead
/// 9.6-10.2; `f64` with three inputs 30.3-30.9 -> 21.1-21.2 (12.5-13.5);
/// `f64` with two inputs forced to 32 streams 34.0-59.0 -> 16.3-16.4.
const AHEAD: usize = 128;

/// Whether the tiles of a turned block ask for every input stream in
/// software ([`AHEAD`] ahead, once per line of progress down the columns):
///
/// - where a tile has more streams than [`STREAMS`] (a line of columns is
///   the narrowest tile: `f32` with two inputs, `f64` with three or four),
///   whose hardware prefetchers lose track of them (numbers at [`AHEAD`]);
/// - where the output streams (out of cache) and a band is one line tall
///   (AVX-512): the hardware follows those 16 streams, but the reads did
///   not overlap the scattered output lines' writes. A probe of the
///   access pattern alone (`pwr`, 4000x4000 `f64`, one thread, no
///   transposes) took 12.6-13.5 ms against 9.9-10.9 in row order, while
///   its reads alone (8.7 against 8.6) and its writes alone (5.0 against
///   4.6-4.8) each ran about as fast as in row order; with every stream asked
///   for 512 B ahead, 11.4-11.6. fuse2d's column-major output there
///   (`pout`, alternating binaries, ms): 12.7-13.8 -> 11.0-11.5; in
///   `cargo bench --bench versus -- nopython 2000 4000` (three pairs)
///   / all row-major at 4000x4000 on one thread 0.750-0.764 -> 0.868-0.890,
///   at 2000x2000 0.779-0.823 -> 0.893-0.974, on two threads level.
///
/// Not elsewhere: in cache asking costs (AVX-512, 512x512, `pinc`:
/// 191-197 µs -> 213-222), and with AVX2 and SSE2 (bands of 4 and 2
/// `f64` rows) it made the streamed output slower (2000x2000, `pinc`,
/// / all row-major: AVX2 0.74-0.79 -> 0.61-0.62, SSE2 0.55-0.61 ->
/// 0.49-0.51).
fn asks<T, V: Vector<T>, A: Transpose, const N: usize>(streaming: bool) -> bool
where
    T: Element,
{
    let size = core::mem::size_of::<T>();
    let line = 64 / size;
    N * line > STREAMS || (streaming && step_rows::<T, V, A>() * size == 64)
}

/// The width of a tile of a turned block, in columns: [`STREAMS`] shared
/// among the `N` inputs, in whole output lines, at least one line.
pub(crate) fn panel_cols<T, const N: usize>() -> usize {
    let line = 64 / core::mem::size_of::<T>();
    ((STREAMS / N.max(1)) / line * line).max(line)
}

/// True when `b` is a turned block: some input, every input contiguous
/// down the columns, and the output along its rows, every row of it at the
/// same offset in a cache line (rows a whole number of lines apart). Where
/// the rows' offsets differ, a step's lines would straddle two lines each,
/// in different places per row, and could not be streamed: 4001x4001 f64,
/// one thread, 68-79 ms against 30-32 with both inputs packed (`pack`),
/// which such blocks take.
pub(crate) fn is_turned<T, const N: usize>(b: &Block<T, N>) -> bool {
    N > 0
        && b.out_cs == 1
        && (b.out_rs.unsigned_abs() * core::mem::size_of::<T>()).is_multiple_of(64)
        && b.in_rs.iter().all(|&s| s == 1)
}

/// A step's scratch: up to 1 KiB, line-aligned (a step is `h` rows of a
/// line's worth of columns, `h <= line`: at most 8 lines of f64, 16 of
/// f32).
#[repr(C, align(64))]
struct Step([u8; 1024]);

/// Runs `e` over the turned block `t` (see the module docs).
///
/// # Safety
/// `t` upholds the block invariants and [`is_turned`]; with `streaming`,
/// the CPU has `A`'s instruction set and `A::AVAILABLE`.
#[inline(always)]
pub(crate) unsafe fn turned_block<T, V, A, E, const N: usize>(
    e: &E,
    t: &Block<T, N>,
    streaming: bool,
) where
    T: Element,
    V: Vector<T>,
    A: Stream + Transpose,
    E: Expr<T, N>,
{
    let size = core::mem::size_of::<T>();
    let line = 64 / size;
    let side = side::<T, A>();
    let h = step_rows::<T, V, A>();
    debug_assert!(h <= line && h.is_multiple_of(V::LANES) && h.is_multiple_of(side.max(1)));
    debug_assert!(side == 0 || h <= 8 * V::LANES);
    let (mut runs, mut lines) = (Step([0; 1024]), Step([0; 1024]));
    let runs = runs.0.as_mut_ptr().cast::<T>();
    let lines = lines.0.as_mut_ptr().cast::<T>();
    let (head, body_end) = output_lines(t);
    let cols = (head, body_end);
    // Bands of `h` rows. They start where the first input's runs of `h`
    // lie inside one line each (`top`), not across two halves of two
    // lines: with rows a power of two apart, those halves crowd into a few
    // cache sets. One thread, AVX-512, f64, in cache (the `pinc` probe,
    // 2026-11-29, medians, turned / all row-major): 256x256 0.37-0.38 ->
    // 0.43-0.48, 512x512 0.24 -> 0.34-0.36, 1024x1024 0.29-0.37 ->
    // 0.43-0.47, 2048x2048 0.37-0.43 -> 0.48-0.58, 1000x1000 0.52-0.55 ->
    // 0.53-0.63 (docs/performance.md, "Bands on lines"). The rows before
    // `top` and after the last whole band are covered by one more band
    // each, overlapping its neighbour (those rows are computed and stored
    // twice, with the same bits), not by an `edge` at each end: a 4000x4000
    // f32 output took 10.8-11.6 ms with the edges, 9.5-9.8 with the bands.
    let banded = side != 0 && t.rows >= h;
    let (top, first, end) = if banded {
        bands(t.ins[0], t.rows, h)
    } else {
        (0, 1, 0)
    };
    // Two copies of the loop, one asking and one not, each with its
    // choice known at compile time: with the choice a variable inside one
    // loop, the streamed `f64` output at 4000x4000 took 14.0-15.9 ms
    // instead of 11.8-12.0 (`pout`, one thread).
    let span = (top, first, end);
    // SAFETY: the bands' rows lie inside the tile (`rows >= h` where there
    // are any), the columns are the body's whole lines; `runs` and `lines`
    // are the step's scratch; `streaming` comes with `A`'s instruction set
    // (this function's contract).
    unsafe {
        if asks::<T, V, A, N>(streaming) {
            bands_of::<T, V, A, E, N, true>(e, t, span, cols, (runs, lines), streaming);
        } else {
            bands_of::<T, V, A, E, N, false>(e, t, span, cols, (runs, lines), streaming);
        }
    }
    let body_rows = if banded { t.rows } else { 0 };
    // SAFETY: the three edges are disjoint parts of the tile, and with
    // the bands above cover it: the head columns and the tail columns of
    // the bands' rows, then every column of the rows below them.
    unsafe {
        edge::<T, V, E, N>(e, t, (0, body_rows), (0, head), runs, h);
        edge::<T, V, E, N>(e, t, (0, body_rows), (body_end, t.cols), runs, h);
        edge::<T, V, E, N>(e, t, (body_rows, t.rows), (0, t.cols), runs, h);
    }
}

/// Bands `first..end` of [`bands`] (`top` their start) of the columns
/// `cols`, each computed by [`band`]; with `ASK` ([`asks`]), every input
/// stream asked for once per line of progress down the columns.
///
/// # Safety
/// As [`band`], for the rows of every band: `t.rows >= h` when there is
/// any band.
#[inline(always)]
unsafe fn bands_of<T, V, A, E, const N: usize, const ASK: bool>(
    e: &E,
    t: &Block<T, N>,
    (top, first, end): (usize, usize, usize),
    cols: (usize, usize),
    scratch: (*mut T, *mut T),
    streaming: bool,
) where
    T: Element,
    V: Vector<T>,
    A: Stream + Transpose,
    E: Expr<T, N>,
{
    let size = core::mem::size_of::<T>();
    let h = step_rows::<T, V, A>();
    for k in first..end {
        let i0 = band_start(top, k, h, t.rows);
        // Once per line of progress down the columns (every band, where
        // a band is a line: the test then folds away).
        let ask = ASK && (k * h * size).is_multiple_of(64);
        // SAFETY: rows `i0..i0 + h` lie inside the tile (`band_start`
        // clamps them, `rows >= h`); the rest is this function's contract.
        unsafe { band::<T, V, A, E, N>(e, t, i0, cols, scratch, streaming, ask) };
    }
}

/// Rows `i0..i0 + h` of the columns `cols` (whole output lines) of the
/// turned block `t`, a line of columns at a time: each column's run of `h`
/// computed, the runs transposed in registers into `h` output lines, each
/// line stored whole (streamed when `streaming`); with `ask`, every input
/// stream asked for [`AHEAD`] rows further down first.
///
/// # Safety
/// Rows `i0..i0 + h` (`h` = [`step_rows`]) and columns `cols.0..cols.1`
/// lie inside `t`, which upholds the block invariants and [`is_turned`];
/// `cols.1 - cols.0` is a multiple of the line; the scratch pair is two
/// [`Step`]s; with `streaming`, the CPU has `A`'s instruction
/// set and `A::AVAILABLE`.
#[inline(always)]
unsafe fn band<T, V, A, E, const N: usize>(
    e: &E,
    t: &Block<T, N>,
    i0: usize,
    cols: (usize, usize),
    (runs, lines): (*mut T, *mut T),
    streaming: bool,
    ask: bool,
) where
    T: Element,
    V: Vector<T>,
    A: Stream + Transpose,
    E: Expr<T, N>,
{
    let line = 64 / core::mem::size_of::<T>();
    let side = side::<T, A>();
    let h = step_rows::<T, V, A>();
    for j0 in (cols.0..cols.1).step_by(line) {
        if ask {
            for jj in 0..line {
                // A hint (`prefetch`): the addresses are only computed
                // and may lie past the tile.
                at(t, i0 + AHEAD, j0 + jj).into_iter().for_each(prefetch);
            }
        }
        // SAFETY: rows `i0..i0 + h` and columns `j0..j0 + line` are inside
        // the tile; `runs` holds `line` runs of `h`, `lines` `h` rows of
        // `line` (`h <= line`, 1 KiB at most); each transpose moves the
        // `side x side` block at `(jb, ib)` of the runs to `(ib, jb)` of
        // the lines, inside both.
        unsafe {
            for jj in 0..line {
                step_run::<T, V, E, N>(e, at(t, i0, j0 + jj), runs.add(jj * h), h);
            }
            // Plain ranges, not `step_by`: LLVM unrolls these, and the
            // lines then stay in registers to the stores below.
            for jb in 0..line / side {
                for ib in 0..h / side {
                    let (jb, ib) = (jb * side, ib * side);
                    transpose::<T, A>(
                        lines.add(ib * line + jb),
                        line,
                        runs.add(jb * h + ib),
                        h as isize,
                    );
                }
            }
            for ii in 0..h {
                let src = lines.add(ii * line);
                let dst = t.out.offset((i0 + ii) as isize * t.out_rs).add(j0);
                if streaming && (dst as usize).is_multiple_of(64) {
                    A::copy_line(dst.cast::<u8>(), src.cast_const().cast::<u8>());
                } else {
                    core::ptr::copy_nonoverlapping(src, dst, line);
                }
            }
        }
    }
}

/// The columns of `t` before its output's first line boundary in row 0,
/// and the end of the whole lines after them: `(head, body_end)`. With the
/// rows' offsets all alike (the usual case) every step's output lines
/// between the two start on a line.
#[inline(always)]
pub(crate) fn output_lines<T, const N: usize>(t: &Block<T, N>) -> (usize, usize) {
    let size = core::mem::size_of::<T>();
    let line = 64 / size;
    let head = (((64 - t.out as usize % 64) % 64) / size).min(t.cols);
    (head, head + (t.cols - head) / line * line)
}

/// Bands of `h` rows over `rows >= h` rows, started where the runs of `h`
/// elements from `p` (an input's column, one element a row) lie inside one
/// line each: `(top, first, end)`, band `k` for `k in first..end` starting
/// at [`band_start`]. The rows before `top` and after the last whole band
/// are covered by one more band each (band 0, when `top > 0`, and the
/// last), overlapping its neighbour.
#[inline(always)]
pub(crate) fn bands<T>(p: *const T, rows: usize, h: usize) -> (usize, usize, usize) {
    let size = core::mem::size_of::<T>();
    let top = ((64 - p as usize % 64) % 64) / size % h;
    (top, usize::from(top == 0), 1 + (rows - top).div_ceil(h))
}

/// Where band `k` of [`bands`] starts: row `top + (k - 1) * h`, clamped to
/// the rows (band 0 at row 0, the last at `rows - h`).
#[inline(always)]
pub(crate) fn band_start(top: usize, k: usize, h: usize, rows: usize) -> usize {
    (top + k * h).saturating_sub(h).min(rows - h)
}

/// Rows per step (a band's height): the transpose's side, and at least one
/// vector; a line's worth where `A` has no transpose (edges only then).
#[inline(always)]
fn step_rows<T: Element, V: Vector<T>, A: Transpose>() -> usize {
    match side::<T, A>() {
        0 => 64 / core::mem::size_of::<T>(),
        side => side.max(V::LANES),
    }
}

/// Where row `i`, column `j` of each input of `t` is (computed only).
#[inline(always)]
pub(crate) fn at<T, const N: usize>(t: &Block<T, N>, i: usize, j: usize) -> [*const T; N] {
    core::array::from_fn(|k| {
        t.ins[k]
            .wrapping_offset(i as isize * t.in_rs[k])
            .wrapping_offset(j as isize * t.in_cs[k])
    })
}

/// Computes the `h` contiguous elements at `ins` into `out`, all loads
/// first, then the arithmetic, then the stores: one step's run, short
/// enough that the compiler unrolls it, and in this order it then fuses
/// the lanes into one vector (a loop of loads and stores per element,
/// [`row_contiguous`], stayed scalar code in runs of 8).
///
/// # Safety
/// `ins[k][..h]` readable, `out[..h]` writable; `h` is a multiple of
/// `V::LANES` and at most `8 * V::LANES`.
#[inline(always)]
pub(crate) unsafe fn step_run<T, V, E, const N: usize>(
    e: &E,
    ins: [*const T; N],
    out: *mut T,
    h: usize,
) where
    T: Element,
    V: Vector<T>,
    E: Expr<T, N>,
{
    let chunks = h / V::LANES;
    let x: [[V; N]; 8] = core::array::from_fn(|c| {
        core::array::from_fn(|k| {
            if c < chunks {
                // SAFETY: chunk `c < chunks` covers elements `c * LANES..(c
                // + 1) * LANES <= h` of the input (the contract).
                unsafe { V::load(ins[k].add(c * V::LANES)) }
            } else {
                V::splat(T::ZERO)
            }
        })
    });
    let r: [V; 8] = core::array::from_fn(|c| e.eval(x[c]));
    for (c, v) in r.iter().enumerate().take(chunks) {
        // SAFETY: as above.
        unsafe { v.store(out.add(c * V::LANES)) };
    }
}

/// Rows `rows.0..rows.1` of columns `cols.0..cols.1` of `t`, in steps of at
/// most `h x line`: each column's run computed as one row of
/// [`row_contiguous`] (which takes any length), then stored element by
/// element.
///
/// # Safety
/// The ranges are inside the turned block `t`; `runs` is writable for a
/// line's worth of runs of `h` elements.
#[inline(always)]
unsafe fn edge<T, V, E, const N: usize>(
    e: &E,
    t: &Block<T, N>,
    rows: (usize, usize),
    cols: (usize, usize),
    runs: *mut T,
    h: usize,
) where
    T: Element,
    V: Vector<T>,
    E: Expr<T, N>,
{
    let line = 64 / core::mem::size_of::<T>();
    for i0 in (rows.0..rows.1).step_by(h) {
        let nh = h.min(rows.1 - i0);
        for j0 in (cols.0..cols.1).step_by(line) {
            let w = line.min(cols.1 - j0);
            // SAFETY: rows `i0..i0 + nh` and columns `j0..j0 + w` are inside
            // the ranges, so inside the tile, and every input is contiguous
            // down a column (`in_rs == 1`); `w <= line` runs of `nh <= h`
            // fit in `runs`.
            unsafe {
                for jj in 0..w {
                    row_contiguous::<T, V, E, N>(e, at(t, i0, j0 + jj), runs.add(jj * h), nh);
                }
                for ii in 0..nh {
                    let dst = t.out.offset((i0 + ii) as isize * t.out_rs).add(j0);
                    for jj in 0..w {
                        *dst.add(jj) = *runs.add(jj * h + ii);
                    }
                }
            }
        }
    }
}
