//! The algorithm, written once: a block is rows; a row is contiguous (vector
//! body + padded tail), and operands with a non-unit inner stride are first
//! packed into contiguous tiles. Generic over the lane
//! type `V`, so each instruction set only chooses `V` and its target features
//! (see `arch/`), and, for streaming stores, its non-temporal copy.

use core::array;
use core::mem::MaybeUninit;

use crate::expr::Expr;
use crate::plan::Block;
use crate::simd::{Element, MAX_LANES, Vector};

/// Non-temporal (streaming) stores of one instruction set.
pub(crate) trait Stream {
    /// Whether this instruction set has streaming stores at all.
    const AVAILABLE: bool;
    /// Copies `LINES` 64-byte lines from `src` to `dst` with non-temporal stores.
    ///
    /// # Safety
    /// `src` and `dst` are 64-byte aligned, `src` readable and `dst` writable
    /// for `LINES * 64` bytes, and the CPU has the instruction set.
    unsafe fn copy_lines(dst: *mut u8, src: *const u8);
    /// Orders the streaming stores before any later store (`sfence`).
    fn fence();
}

/// Bytes computed into an L1 buffer, then streamed out, per step.
pub(crate) const STREAM_BYTES: usize = 1024;
/// `STREAM_BYTES` in 64-byte lines.
pub(crate) const LINES: usize = STREAM_BYTES / 64;

/// The stand-in for instruction sets without streaming stores.
pub(crate) struct NoStream;

impl Stream for NoStream {
    const AVAILABLE: bool = false;
    #[inline(always)]
    unsafe fn copy_lines(_: *mut u8, _: *const u8) {
        unreachable!("streaming is only used where Stream::AVAILABLE")
    }
    #[inline(always)]
    fn fence() {}
}

#[repr(C, align(64))]
struct LineBuf([u8; STREAM_BYTES]);

/// Runs `e` over every element of `b`, with streaming stores for the row
/// bodies when `streaming` is set and the instruction set has them.
///
/// # Safety
/// `b` upholds the [`Block`] invariants, and the CPU supports whatever target
/// features the caller was compiled with.
#[inline(always)]
pub(crate) unsafe fn run_block<T, V, S, E, const N: usize>(e: &E, b: &Block<T, N>, streaming: bool)
where
    T: Element,
    V: Vector<T>,
    S: Stream,
    E: Expr<T, N>,
{
    // The layout test is made once per block, not per row.
    if b.unit_inner() {
        let streaming = streaming && S::AVAILABLE;
        for i in 0..b.rows as isize {
            let ins = array::from_fn(|k| b.ins[k].wrapping_offset(i * b.in_rs[k]));
            let out = b.out.wrapping_offset(i * b.out_rs);
            // SAFETY: row `i < rows` of every operand is `cols` contiguous
            // elements inside its borrow (block invariants, unit inner stride).
            unsafe {
                if streaming {
                    row_streaming::<T, V, S, E, N>(e, ins, out, b.cols);
                } else {
                    row_contiguous::<T, V, E, N>(e, ins, out, b.cols);
                }
            }
        }
        if streaming {
            S::fence();
        }
    } else {
        // Pack buffers, allocated once per block (a tile: thousands of
        // elements), only for the operands that need them.
        let mut bufs: [Vec<MaybeUninit<T>>; N] =
            array::from_fn(|k| Vec::with_capacity(if b.in_cs[k] == 1 { 0 } else { PACK * PACK }));
        let mut row_buf = Vec::with_capacity(if b.out_cs == 1 { 0 } else { PACK });
        for r0 in (0..b.rows).step_by(PACK) {
            for c0 in (0..b.cols).step_by(PACK) {
                let t = b.tile(r0, PACK.min(b.rows - r0), c0, PACK.min(b.cols - c0));
                // SAFETY: a sub-tile of a valid block is a valid block of at
                // most `PACK x PACK`; the buffers have the capacities
                // `packed_tile` needs.
                unsafe { packed_tile::<T, V, E, N>(e, &t, &mut bufs, &mut row_buf) };
            }
        }
    }
}

/// Side of the sub-tiles that non-unit-stride operands are packed in:
/// `PACK * PACK` f64 elements are 32 KiB, one L1.
pub(crate) const PACK: usize = 64;

/// A block of at most `PACK x PACK` elements where some operand has a
/// non-unit inner stride: each such input is first copied, in its own memory
/// order, into a contiguous row-major buffer (a transpose in L1, for a
/// column-major input), then every row runs the same vector code as the
/// contiguous case; a strided output is computed into a row buffer and
/// scattered.
///
/// # Safety
/// `t` upholds the block invariants and has at most `PACK` rows and
/// columns; `bufs[k]` has capacity `PACK * PACK` for every input with a
/// non-unit inner stride, and `row_buf` capacity `PACK` if the output has one.
#[inline(always)]
unsafe fn packed_tile<T, V, E, const N: usize>(
    e: &E,
    t: &Block<T, N>,
    bufs: &mut [Vec<MaybeUninit<T>>; N],
    row_buf: &mut Vec<MaybeUninit<T>>,
) where
    T: Element,
    V: Vector<T>,
    E: Expr<T, N>,
{
    let mut ins = t.ins;
    let mut in_rs = t.in_rs;
    for k in 0..N {
        if t.in_cs[k] == 1 {
            continue;
        }
        let buf = bufs[k].spare_capacity_mut().as_mut_ptr().cast::<T>();
        let (src, rs, cs) = (t.ins[k], t.in_rs[k], t.in_cs[k]);
        let copy = |r: usize, c: usize| {
            // SAFETY: `(r, c)` is inside the tile (block invariants), and
            // `r * PACK + c < PACK * PACK`, inside the buffer's capacity.
            unsafe {
                buf.add(r * PACK + c)
                    .write(*src.offset(r as isize * rs + c as isize * cs))
            }
        };
        // Read in the operand's own memory order.
        if rs.unsigned_abs() < cs.unsigned_abs() {
            (0..t.cols).for_each(|c| (0..t.rows).for_each(|r| copy(r, c)));
        } else {
            (0..t.rows).for_each(|r| (0..t.cols).for_each(|c| copy(r, c)));
        }
        ins[k] = buf.cast_const();
        in_rs[k] = PACK as isize;
    }
    for i in 0..t.rows as isize {
        let row: [*const T; N] = array::from_fn(|k| ins[k].wrapping_offset(i * in_rs[k]));
        let out = t.out.wrapping_offset(i * t.out_rs);
        // SAFETY: each input row now has `cols` contiguous readable elements
        // (packed, or unit stride already); the output row is written either
        // directly (unit stride) or through `row_buf`, then element by
        // element at its stride, inside the tile.
        unsafe {
            if t.out_cs == 1 {
                row_contiguous::<T, V, E, N>(e, row, out, t.cols);
            } else {
                let tmp = row_buf.spare_capacity_mut().as_mut_ptr().cast::<T>();
                row_contiguous::<T, V, E, N>(e, row, tmp, t.cols);
                for j in 0..t.cols {
                    *out.offset(j as isize * t.out_cs) = *tmp.add(j);
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
unsafe fn row_contiguous<T, V, E, const N: usize>(
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

/// One contiguous row with streaming stores: a head with normal stores up
/// to the first 64-byte boundary of `out`, then steps of `STREAM_BYTES`
/// computed into an aligned L1 buffer (same vector code as
/// [`row_contiguous`]) and copied out with non-temporal stores, then a tail
/// with normal stores. Every element is computed by the same arithmetic.
///
/// # Safety
/// As [`row_contiguous`], and the CPU has `S`'s instruction set.
#[inline(always)]
unsafe fn row_streaming<T, V, S, E, const N: usize>(
    e: &E,
    ins: [*const T; N],
    out: *mut T,
    len: usize,
) where
    T: Element,
    V: Vector<T>,
    S: Stream,
    E: Expr<T, N>,
{
    let size = core::mem::size_of::<T>();
    let step = STREAM_BYTES / size;
    // `out` is aligned to `size`, so the distance to the next line is a
    // whole number of elements.
    let head = ((64 - out as usize % 64) % 64) / size;
    if len < head + step {
        // SAFETY: forwarded.
        unsafe { row_contiguous::<T, V, E, N>(e, ins, out, len) };
        return;
    }
    let mut buf = LineBuf([0; STREAM_BYTES]);
    let tmp = buf.0.as_mut_ptr().cast::<T>();
    // SAFETY: `head <= len`; the pointers stay inside each row.
    unsafe { row_contiguous::<T, V, E, N>(e, ins, out, head) };
    let mut i = head;
    while i + step <= len {
        // SAFETY: `i + step <= len`: inside every row. `tmp` holds `step`
        // elements and is 64-byte aligned, as is `out + i` (from `head` on,
        // in whole lines); the copy writes `out[i..i + step]` only.
        unsafe {
            let at: [*const T; N] = array::from_fn(|k| ins[k].add(i));
            row_contiguous::<T, V, E, N>(e, at, tmp, step);
            S::copy_lines(out.add(i).cast::<u8>(), tmp.cast_const().cast::<u8>());
        }
        i += step;
    }
    // SAFETY: the rest of the row, `i..len`.
    unsafe {
        let at: [*const T; N] = array::from_fn(|k| ins[k].add(i));
        row_contiguous::<T, V, E, N>(e, at, out.add(i), len - i);
    }
}
