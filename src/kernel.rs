//! The algorithm, written once: a block is rows; a row is contiguous (vector
//! body + padded tail), and operands with a non-unit inner stride are first
//! packed into contiguous strips (`pack`), except where every input runs
//! down the columns (a transposed output: computed in the inputs' order and
//! turned in registers, `turn`). Generic over the lane type `V`,
//! so each instruction set only chooses `V` and its target features (see
//! `arch/`), and its two primitives `A`: the non-temporal copy of streaming
//! stores ([`Stream`]) and the in-register transpose of the pack
//! ([`Transpose`]).

use core::array;

use crate::expr::Expr;
use crate::pack::{PACK_ROWS, Pack, PackJob, Scratch, Transpose, pack_operand, prefetch};
use crate::plan::Block;
use crate::simd::{Element, MAX_LANES, Vector};
use crate::turn::{is_turned, turned_block};

/// Non-temporal (streaming) stores of one instruction set. The defaults
/// are those of an instruction set without them.
pub(crate) trait Stream {
    /// Whether this instruction set has streaming stores at all.
    const AVAILABLE: bool = false;
    /// Copies the 64-byte line at `src` to `dst` with non-temporal stores
    /// (`src` is the streaming row's one-line buffer, which LLVM keeps in
    /// registers: the load folds away).
    ///
    /// # Safety
    /// `src` and `dst` are 64-byte aligned, `src` readable and `dst` writable
    /// for 64 bytes, and the CPU has the instruction set.
    #[inline(always)]
    unsafe fn copy_line(_dst: *mut u8, _src: *const u8) {
        unreachable!("streaming is only used where Stream::AVAILABLE")
    }
    /// Whether rows with ordinary stores out of cache go a line at a time
    /// ([`Stores::Lines`]): the x86_64 instruction sets. Only out of cache:
    /// with AVX2 a line at a time was slower in cache (the nineteenth
    /// session's `pinc`, 256x256, one thread: 26.9-27.0 µs against
    /// 17.1-17.3). Out of cache it is faster with each (the twenty-first
    /// session's `poff`, `StoreMode::Normal`, one thread, ms: AVX2
    /// 4000x4000 12.5-13.9 -> 10.8-11.4, 2000x2000 3.06-3.39 -> 2.42-2.84;
    /// SSE2 1000x1000 0.84-0.96 -> 0.60-0.63, level at 4000x4000).
    const LINES: bool = false;
    /// Copies the 64-byte line at `src` to `dst` with ordinary stores, in
    /// the instruction set's own vector registers, so that a loop of these
    /// stays a line at a time ([`row_lines`]).
    ///
    /// # Safety
    /// As [`Stream::copy_line`].
    #[inline(always)]
    unsafe fn store_line(_dst: *mut u8, _src: *const u8) {
        unreachable!("lines are only stored where Stream::LINES")
    }
    /// [`Stream::store_line`] for a line a crossed step (`cross`) has
    /// just computed into `src`; by default the same.
    ///
    /// # Safety
    /// As [`Stream::copy_line`].
    #[inline(always)]
    unsafe fn store_step_line(dst: *mut u8, src: *const u8) {
        // SAFETY: forwarded.
        unsafe { Self::store_line(dst, src) }
    }
}

/// How a call's output rows are stored, chosen once per call from the
/// [`StoreMode`](crate::StoreMode) and the output's size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stores {
    /// Ordinary stores, each contiguous row one loop as LLVM vectorises it
    /// (four vectors at a time): the fastest in cache.
    Normal,
    /// Ordinary stores for an output out of cache (`StoreMode::Normal` at
    /// or above the streaming threshold): contiguous rows a line at a time,
    /// their inputs asked for ahead ([`row_lines`]). Where the instruction
    /// set has no [`Stream::LINES`], and in the other block shapes, as
    /// [`Stores::Normal`].
    Lines,
    /// Non-temporal stores for whole output lines, where the instruction
    /// set has them ([`Stream::AVAILABLE`]); elsewhere ordinary ones.
    Streaming,
}

/// One cache line, aligned: what a streaming row computes before storing it.
#[repr(C, align(64))]
pub(crate) struct LineBuf(pub [u8; 64]);

/// Runs `e` over every element of `b`, its output stored as `stores`
/// says (streaming stores only where the instruction set has them).
///
/// # Safety
/// `b` upholds the [`Block`] invariants, and the CPU supports whatever target
/// features the caller was compiled with.
#[inline(always)]
pub(crate) unsafe fn run_block<T, V, A, E, const N: usize>(e: &E, b: &Block<T, N>, stores: Stores)
where
    T: Element,
    V: Vector<T>,
    A: Stream + Transpose,
    E: Expr<T, N>,
{
    let streaming = stores == Stores::Streaming && A::AVAILABLE;
    let lines = stores == Stores::Lines && A::LINES;
    // The layout test is made once per block, not per row.
    if b.unit_inner() {
        // The inputs whose rows lie apart in memory (see `ROWS_APART`),
        // where any do.
        let apart: [bool; N] =
            array::from_fn(|k| b.rows > 1 && rows_apart::<T>(b.in_rs[k], b.cols));
        let apart = apart.contains(&true).then_some(apart);
        for i in 0..b.rows as isize {
            let ins = array::from_fn(|k| b.ins[k].wrapping_offset(i * b.in_rs[k]));
            let out = b.out.wrapping_offset(i * b.out_rs);
            // SAFETY: row `i < rows` of every operand is `cols` contiguous
            // elements inside its borrow (block invariants, unit inner stride).
            unsafe {
                if streaming {
                    lines_row::<T, V, A, E, N, true>(e, ins, out, b.cols, apart, b.in_rs);
                } else if lines {
                    lines_row::<T, V, A, E, N, false>(e, ins, out, b.cols, apart, b.in_rs);
                } else {
                    row_contiguous::<T, V, E, N>(e, ins, out, b.cols);
                }
            }
        }
    } else if is_turned(b) {
        // SAFETY: forwarded; `streaming` only with `A::AVAILABLE`.
        unsafe { turned_block::<T, V, A, E, N>(e, b, streaming) };
    } else {
        let pack = Pack::new::<T, N>(b);
        let strided = b.in_cs.iter().filter(|&&s| s != 1).count();
        let row_buf_len = if b.out_cs == 1 { 0 } else { pack.cols };
        // Not a closure: a closure would be compiled without the target
        // features of the clone this is inlined into.
        let mut scratch = Scratch::take::<T>(strided * pack.capacity() + row_buf_len);
        // Carve the scratch into one pack buffer per strided input, then the
        // output row buffer; each part is whole 64-byte lines.
        let mut next = scratch.as_mut_ptr::<T>();
        let bufs: [*mut T; N] = array::from_fn(|k| {
            if b.in_cs[k] == 1 {
                core::ptr::null_mut()
            } else {
                let p = next;
                next = next.wrapping_add(pack.capacity());
                p
            }
        });
        let row_buf = next;
        for r0 in (0..b.rows).step_by(PACK_ROWS) {
            for c0 in (0..b.cols).step_by(pack.cols) {
                let t = b.tile(
                    r0,
                    PACK_ROWS.min(b.rows - r0),
                    c0,
                    pack.cols.min(b.cols - c0),
                );
                // SAFETY: a sub-tile of a valid block is a valid block of at
                // most `PACK_ROWS x pack.cols`; the scratch parts have the
                // sizes `packed_tile` needs and are disjoint.
                unsafe { packed_tile::<T, V, A, E, N>(e, &t, pack, streaming, bufs, row_buf) };
            }
        }
        drop(scratch);
    }
}

/// One row of a block of rows, a line at a time ([`row_lines`]), asking
/// for the next row of the inputs whose rows lie `apart` ([`NextRows`]),
/// or, where none does (`None`), for every input [`Lead::BYTES`] ahead.
///
/// # Safety
/// As [`row_lines`]; `in_rs` are the inputs' row strides.
#[inline(always)]
unsafe fn lines_row<T, V, A, E, const N: usize, const STREAM: bool>(
    e: &E,
    ins: [*const T; N],
    out: *mut T,
    len: usize,
    apart: Option<[bool; N]>,
    in_rs: [isize; N],
) where
    T: Element,
    V: Vector<T>,
    A: Stream + Transpose,
    E: Expr<T, N>,
{
    // SAFETY: forwarded.
    unsafe {
        match apart {
            Some(apart) => {
                let next = NextRows::after(ins, in_rs, apart);
                row_lines::<T, V, A, E, N, _, STREAM>(e, ins, out, len, next);
            }
            None => row_lines::<T, V, A, E, N, _, STREAM>(e, ins, out, len, Lead::of(ins)),
        }
    }
}

/// How far apart, in bytes, the end of one row of an input and the start
/// of the next must be for the next row to be asked for in software while
/// the row streams ([`NextRows`]). Rows of a sub-view (the talk's
/// quadrants: 16 KB apart) each begin a stream the hardware prefetchers
/// pick up only once it has missed; rows a few lines apart they follow.
/// AMD Zen 4 (2026-11-29, the `pquad` probe: a hand-written AVX-512 loop
/// over 2000x2000 views of row-major parents, one thread, streaming
/// stores, medians of 11-15, ms; fuse2d's contiguous 2000x2000 in the same
/// process 2.41-2.65): rows 16 KB apart, the first input 512 B ahead
/// (what [`Lead`] does) 3.58-3.85, the next row of both inputs line by
/// line 2.81-2.93; 4 KiB apart 3.61 and 2.87; 512 B apart 3.03-3.27 and
/// 2.88-2.98; 256 B apart 2.27 and 2.75, 128 B 2.36 and 3.02, 64 B 2.30
/// and 2.74.
const ROWS_APART: usize = 512;

/// Whether rows `rs` elements apart, `cols` long, lie [`ROWS_APART`] bytes
/// or more apart (or run backwards).
fn rows_apart<T>(rs: isize, cols: usize) -> bool {
    let size = core::mem::size_of::<T>();
    rs < 0 || (rs as usize).saturating_sub(cols).saturating_mul(size) >= ROWS_APART
}

/// What a streaming row prefetches along with each whole line it
/// computes, given the line's element offset `i` in the row. A prefetch is
/// a hint: any address is sound.
trait Ahead: Copy {
    fn line(self, i: usize);
}

/// For a contiguous row: every input [`Lead::BYTES`] ahead.
///
/// The hardware prefetchers already follow every stream; asked for in
/// software as well, more lines are in flight on one core, which is what
/// bounds a memory-bound row. On the Intel Xeon the first input alone,
/// 512 B ahead, was best (`docs/performance.md`, "One input prefetched":
/// 4000x4000 f64, `Auto` 19.0 -> 17.3 ms on one thread). On AMD Zen 4
/// (2026-11-29, "Every input 1.5 KiB ahead") the distance matters more
/// than which inputs: a hand-written streaming `a + b` over 4000x4000 f64,
/// one thread, ran 9.5-10.4 ms with no prefetch, 8.6-9.3 with both inputs
/// 1-2 KiB ahead (only `a` 2 KiB ahead 8.8-9.3), and 9.6-10.0 again at 3
/// KiB (why, we do not know); fuse2d with the first input 512 B ahead
/// read 0.99-1.03 of the streaming triad in `versus`, with every input
/// 1.5-2 KiB ahead 1.02-1.07. Past the row's end it asks for the next row (contiguous
/// operands) or for lines never read.
#[derive(Clone, Copy)]
struct Lead<T, const N: usize>([*const T; N]);

impl<T, const N: usize> Lead<T, N> {
    /// 24 lines.
    const BYTES: usize = 1536;

    #[inline(always)]
    fn of(ins: [*const T; N]) -> Self {
        Lead(ins.map(|p| p.wrapping_add(Self::BYTES / core::mem::size_of::<T>())))
    }
}

impl<T: Copy, const N: usize> Ahead for Lead<T, N> {
    #[inline(always)]
    fn line(self, i: usize) {
        for p in self.0 {
            prefetch(p.wrapping_add(i));
        }
    }
}

/// The next row of each input: in a packed tile, of those read in place,
/// null for a packed one (see [`packed_tile`]); in a block of rows, of
/// those whose rows lie apart (see [`ROWS_APART`]), null for the others.
#[derive(Clone, Copy)]
struct NextRows<T, const N: usize>([*const T; N]);

impl<T, const N: usize> NextRows<T, N> {
    /// The rows `rs` elements after `rows`, of the inputs `ask` names.
    #[inline(always)]
    fn after(rows: [*const T; N], rs: [isize; N], ask: [bool; N]) -> Self {
        NextRows(array::from_fn(|k| {
            if ask[k] {
                rows[k].wrapping_offset(rs[k])
            } else {
                core::ptr::null()
            }
        }))
    }
}

impl<T: Copy, const N: usize> Ahead for NextRows<T, N> {
    #[inline(always)]
    fn line(self, i: usize) {
        for p in self.0 {
            if !p.is_null() {
                prefetch(p.wrapping_add(i));
            }
        }
    }
}

/// A block of at most `PACK_ROWS x pack.cols` elements where some operand
/// has a non-unit inner stride: each such input is first copied, in its own
/// memory order, into a contiguous row-major buffer (a transpose through L1
/// and L2, for a column-major input), then every row runs the same vector
/// code as the contiguous case; a strided output is computed into a row
/// buffer and scattered. A unit-stride output row takes streaming stores
/// when `streaming` is set.
///
/// # Safety
/// `t` upholds the block invariants and has at most `PACK_ROWS` rows and
/// `pack.cols` columns; `bufs[k]` is writable for `pack.capacity()` elements
/// for every input with a non-unit inner stride, and `row_buf` for `pack.cols` if
/// the output has one; with `streaming`, the CPU has `A`'s instruction set.
#[inline(always)]
unsafe fn packed_tile<T, V, A, E, const N: usize>(
    e: &E,
    t: &Block<T, N>,
    pack: Pack,
    streaming: bool,
    bufs: [*mut T; N],
    row_buf: *mut T,
) where
    T: Element,
    V: Vector<T>,
    A: Stream + Transpose,
    E: Expr<T, N>,
{
    if streaming && t.out_cs == 1 {
        // The first and last line of an output row not aligned to lines
        // take normal stores, which read the line first: ask for them now,
        // so they arrive while the strided inputs are packed (4000x4000, `b`
        // column-major, one thread: 1-3% in four runs of four). A whole
        // line is streamed, and not asked for.
        for i in 0..t.rows as isize {
            let row = t.out.wrapping_offset(i * t.out_rs);
            let end = row.wrapping_add(t.cols);
            if !(row as usize).is_multiple_of(64) {
                prefetch(row.cast_const());
            }
            if !(end as usize).is_multiple_of(64) {
                prefetch(end.wrapping_sub(1).cast_const());
            }
        }
    }
    let mut ins = t.ins;
    let mut in_rs = t.in_rs;
    for k in 0..N {
        if t.in_cs[k] == 1 {
            continue;
        }
        let buf = bufs[k];
        // SAFETY: forwarded: the tile is valid and `buf` is writable for
        // `pack.capacity()` elements, `PACK_ROWS` rows of `pack.stride`.
        unsafe {
            pack_operand::<T, A>(PackJob {
                buf,
                stride: pack.stride,
                src: t.ins[k],
                rs: t.in_rs[k],
                cs: t.in_cs[k],
                rows: t.rows,
                cols: t.cols,
            })
        };
        ins[k] = buf.cast_const();
        in_rs[k] = pack.stride as isize;
    }
    for i in 0..t.rows as isize {
        let row: [*const T; N] = array::from_fn(|k| ins[k].wrapping_offset(i * in_rs[k]));
        let out = t.out.wrapping_offset(i * t.out_rs);
        // The next row of each input that is read in place (not packed):
        // a run of the strip's width far from this one, which the hardware
        // prefetchers would only pick up once it is missed (the row after
        // the strip's last is the next strip's first in a band).
        let ahead = NextRows::after(row, in_rs, t.in_cs.map(|cs| cs == 1));
        // SAFETY: each input row now has `cols` contiguous readable elements
        // (packed, or unit stride already); the output row is written either
        // directly (unit stride; with streaming stores only when `streaming`,
        // where this function's contract gives `A`'s instruction set) or
        // through `row_buf`, then element by element at its stride, inside
        // the tile.
        unsafe {
            if t.out_cs == 1 && streaming {
                row_lines::<T, V, A, E, N, _, true>(e, row, out, t.cols, ahead);
            } else if t.out_cs == 1 {
                row_contiguous::<T, V, E, N>(e, row, out, t.cols);
            } else {
                row_contiguous::<T, V, E, N>(e, row, row_buf, t.cols);
                for j in 0..t.cols {
                    *out.offset(j as isize * t.out_cs) = *row_buf.add(j);
                }
            }
        }
    }
}

/// One contiguous row: `V`-wide body, then the tail through a padded buffer so
/// it runs the very same vector arithmetic as the body.
///
/// # Safety
/// `ins[k][..len]` readable, `out[..len]` writable and disjoint from them.
#[inline(always)]
pub(crate) unsafe fn row_contiguous<T, V, E, const N: usize>(
    e: &E,
    ins: [*const T; N],
    out: *mut T,
    len: usize,
) where
    T: Element,
    V: Vector<T>,
    E: Expr<T, N>,
{
    let body = len - len % V::LANES;
    let mut i = 0;
    while i < body {
        // SAFETY: `i + LANES <= body <= len`: inside every operand's row.
        unsafe {
            let x: [V; N] = array::from_fn(|k| V::load(ins[k].add(i)));
            e.eval(x).store(out.add(i));
        }
        i += V::LANES;
    }
    if i < len {
        let rem = len - i;
        let mut buf = [[T::ZERO; MAX_LANES]; N];
        for k in 0..N {
            // SAFETY: `ins[k][i..len]` is readable; `rem < LANES <= MAX_LANES`.
            unsafe { core::ptr::copy_nonoverlapping(ins[k].add(i), buf[k].as_mut_ptr(), rem) };
        }
        let mut res = [T::ZERO; MAX_LANES];
        // SAFETY: the buffers hold `MAX_LANES >= LANES` elements; the copy out
        // writes `rem` elements inside `out[i..len]`.
        unsafe {
            let x: [V; N] = array::from_fn(|k| V::load(buf[k].as_ptr()));
            e.eval(x).store(res.as_mut_ptr());
            core::ptr::copy_nonoverlapping(res.as_ptr(), out.add(i), rem);
        }
    }
}

/// One contiguous row a line at a time: a head with normal stores up to
/// the first 64-byte boundary of `out`, then every whole line computed by
/// the same vector code as [`row_contiguous`] into a one-line buffer and
/// stored whole, with non-temporal stores when `STREAM`
/// ([`Stream::copy_line`]), with ordinary ones otherwise
/// ([`Stream::store_line`]), then the tail of the last line with normal
/// stores. Every element is computed by the same arithmetic.
///
/// One line at a time because LLVM then keeps the "buffer" in registers:
/// the line's arithmetic is vectorised into one zmm (two ymm) and stored
/// straight from the register. With a 1 KiB buffer in L1 (computed, then
/// copied out), the extra store and load per element kept `Auto` at
/// 0.88-0.92 of the streaming triad at 4000x4000 on the Intel Xeon; one
/// line: 0.96-0.97 (one thread), 0.96 (two).
///
/// With ordinary stores (out of cache: [`Stores::Lines`]) this order is
/// also what makes them fast: one [`row_contiguous`] over the whole row
/// LLVM vectorises four vectors at a time, each input's four loads
/// together and the four stores after them, and out of cache that runs
/// behind a line of each at a time (docs/performance.md, "Normal stores a
/// line at a time").
///
/// Every whole line streams (with `STREAM`), so a row whose output does
/// not start on a line (any `Vec` from glibc's `malloc` is 16 bytes past a
/// page) writes only its two partial lines with normal stores, each read
/// from memory first.
///
/// With each whole line it prefetches what `ahead` asks for ([`Lead`] in
/// a row of rows that follow each other, [`NextRows`] in a packed tile and
/// where rows lie apart).
///
/// # Safety
/// As [`row_contiguous`]; the CPU has `A`'s instruction set, and `A` has
/// [`Stream::AVAILABLE`] (with `STREAM`) or [`Stream::LINES`] (without).
#[inline(always)]
unsafe fn row_lines<T, V, A, E, const N: usize, P, const STREAM: bool>(
    e: &E,
    ins: [*const T; N],
    out: *mut T,
    len: usize,
    ahead: P,
) where
    T: Element,
    V: Vector<T>,
    A: Stream + Transpose,
    E: Expr<T, N>,
    P: Ahead,
{
    let size = core::mem::size_of::<T>();
    let line = 64 / size;
    // `out` is aligned to `size`, so the distance to the next line is a
    // whole number of elements.
    let head = ((64 - out as usize % 64) % 64) / size;
    if len < head + line {
        // No whole line. SAFETY: forwarded.
        unsafe { row_contiguous::<T, V, E, N>(e, ins, out, len) };
        return;
    }
    let lines = (len - head) / line;
    let mut buf = LineBuf([0; 64]);
    let tmp = buf.0.as_mut_ptr().cast::<T>();
    // SAFETY: `head <= len`; the pointers stay inside each row.
    unsafe { row_contiguous::<T, V, E, N>(e, ins, out, head) };
    let end = head + lines * line;
    for i in (head..end).step_by(line) {
        ahead.line(i);
        // SAFETY: `i + line <= end <= len`: inside every row. `tmp` holds
        // one 64-byte aligned line, as is `out + i` (from `head` on, in
        // whole lines); the copy writes `out[i..i + line]` only.
        unsafe {
            let at: [*const T; N] = array::from_fn(|k| ins[k].add(i));
            row_contiguous::<T, V, E, N>(e, at, tmp, line);
            if STREAM {
                A::copy_line(out.add(i).cast::<u8>(), tmp.cast_const().cast::<u8>());
            } else {
                A::store_line(out.add(i).cast::<u8>(), tmp.cast_const().cast::<u8>());
            }
        }
    }
    // SAFETY: the rest of the row, `end..len`, less than a line.
    unsafe {
        let at: [*const T; N] = array::from_fn(|k| ins[k].add(end));
        row_contiguous::<T, V, E, N>(e, at, out.add(end), len - end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows of 2000 `f64` (or 4000 `f32`), their next row asked for from a
    /// gap of 512 bytes on, and always when they run backwards.
    #[test]
    fn rows_apart_from_512_bytes() {
        assert!(!rows_apart::<f64>(2000, 2000));
        assert!(!rows_apart::<f64>(2063, 2000));
        assert!(rows_apart::<f64>(2064, 2000));
        assert!(rows_apart::<f64>(4000, 2000));
        assert!(!rows_apart::<f32>(4127, 4000));
        assert!(rows_apart::<f32>(4128, 4000));
        assert!(rows_apart::<f64>(-2000, 2000));
        // A broadcast row (row stride 0) lies on itself.
        assert!(!rows_apart::<f64>(0, 2000));
    }
}
