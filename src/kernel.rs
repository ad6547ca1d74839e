//! The algorithm, written once: a block is rows; a row is contiguous (vector
//! body + padded tail), and operands with a non-unit inner stride are first
//! packed into contiguous tiles. Generic over the lane
//! type `V`, so each instruction set only chooses `V` and its target features
//! (see `arch/`), and, for streaming stores, its non-temporal copy.

use core::array;

use crate::cache::CacheInfo;
use crate::expr::Expr;
use crate::plan::Block;
use crate::simd::{Element, MAX_LANES, Vector};

/// Non-temporal (streaming) stores of one instruction set.
pub(crate) trait Stream {
    /// Whether this instruction set has streaming stores at all.
    const AVAILABLE: bool;
    /// Copies `lines` whole 64-byte lines from `src` to `dst` with
    /// non-temporal stores.
    ///
    /// # Safety
    /// `src` and `dst` are 64-byte aligned, `src` readable and `dst` writable
    /// for `64 * lines` bytes, and the CPU has the instruction set.
    unsafe fn copy_lines(dst: *mut u8, src: *const u8, lines: usize);
    /// Orders the streaming stores before any later store (`sfence`).
    fn fence();
}

/// Bytes computed into an L1 buffer, then streamed out, per step.
pub(crate) const STREAM_BYTES: usize = 1024;

/// The stand-in for instruction sets without streaming stores.
pub(crate) struct NoStream;

impl Stream for NoStream {
    const AVAILABLE: bool = false;
    #[inline(always)]
    unsafe fn copy_lines(_: *mut u8, _: *const u8, _: usize) {
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
    let streaming = streaming && S::AVAILABLE;
    // The layout test is made once per block, not per row.
    if b.unit_inner() {
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
                unsafe { packed_tile::<T, V, S, E, N>(e, &t, pack, streaming, bufs, row_buf) };
            }
        }
        drop(scratch);
        if streaming {
            S::fence();
        }
    }
}

/// One cache line of scratch memory.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Line([u8; 64]);

std::thread_local! {
    /// Each thread's pack buffers, kept between blocks and calls, so the
    /// mixed-layout path does not allocate per tile (buffers above glibc's
    /// `mmap` threshold would be mapped and faulted in again each time,
    /// unless glibc has raised its threshold; with glibc 2.36 here it had,
    /// and the timing did not change measurably). It grows to the largest
    /// need seen, about L2/8 plus one row, and lives as long as the thread.
    static SCRATCH: core::cell::Cell<Vec<Line>> = const { core::cell::Cell::new(Vec::new()) };
}

/// This thread's scratch, taken out of [`SCRATCH`] for one block and put
/// back on drop. A call made while it is out (an expression that calls
/// fuse2d from inside the kernel) finds the slot empty and grows its own;
/// the larger of the two is kept.
struct Scratch(Vec<Line>);

impl Scratch {
    /// Room for `len` elements of `T`, 64-byte aligned.
    fn take<T>(len: usize) -> Scratch {
        let lines = (len * core::mem::size_of::<T>()).div_ceil(64);
        let mut v = SCRATCH.take();
        if v.len() < lines {
            v.resize(lines, Line([0; 64]));
        }
        Scratch(v)
    }

    fn as_mut_ptr<T>(&mut self) -> *mut T {
        self.0.as_mut_ptr().cast::<T>()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let mine = core::mem::take(&mut self.0);
        let other = SCRATCH.take();
        SCRATCH.set(if other.len() > mine.len() {
            other
        } else {
            mine
        });
    }
}

/// Rows of the strips that operands with a non-unit inner stride are packed
/// in. A column-major operand is then read in runs of `PACK_ROWS` elements
/// (8 cache lines of f64) while the row-major ones and the output are read
/// and written in long row runs, which the hardware prefetchers follow.
pub(crate) const PACK_ROWS: usize = 64;

/// The shape of the packed strips of one block.
#[derive(Clone, Copy)]
pub(crate) struct Pack {
    /// Columns per strip: a multiple of 64, at least 64.
    pub cols: usize,
    /// Row stride of the pack buffers, in elements: `cols` plus one cache
    /// line, so the column-order writes of a transposing pack do not all
    /// fall in the same L1 set (a power-of-two stride measured 2x slower).
    pub stride: usize,
}

impl Pack {
    /// The strip shape for a block of `N` inputs of `T`, some of them strided.
    pub(crate) fn new<T, const N: usize>(b: &Block<T, N>) -> Pack {
        let packed = b.in_cs.iter().filter(|&&s| s != 1).count().max(1);
        let size = core::mem::size_of::<T>();
        // The strips of all packed operands together fill an eighth of L2
        // (512 columns of f64 with 2 MiB of L2), leaving L2 to the tiles of
        // the other operands. Measured on an Intel Xeon (2 MiB L2) with `b`
        // column-major, one thread, as throughput against all-row-major in
        // the same run (2000x2000, 4000x4000): strips filling L2 0.50x,
        // 0.50x; L2/2 0.52x, 0.50x; L2/4 0.58x, 0.56x; L2/8 0.61x, 0.58x;
        // L2/16 was worse before the last changes. (Filling L2 was best on
        // AMD Zen 4 before the pack had its prefetch; not re-measured there.)
        let cols = (CacheInfo::get().l2 / (8 * packed * PACK_ROWS * size)) / 64 * 64;
        Pack {
            cols: cols.max(64),
            stride: cols.max(64) + 64 / size,
        }
    }

    /// Elements of one operand's pack buffer.
    fn capacity(self) -> usize {
        PACK_ROWS * self.stride
    }

    /// The default tile of the parallel grid for mixed layouts: one strip.
    pub(crate) fn tile_elems<T, const N: usize>(b: &Block<T, N>) -> usize {
        PACK_ROWS * Pack::new(b).cols
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
/// the output has one; with `streaming`, the CPU has `S`'s instruction set.
#[inline(always)]
unsafe fn packed_tile<T, V, S, E, const N: usize>(
    e: &E,
    t: &Block<T, N>,
    pack: Pack,
    streaming: bool,
    bufs: [*mut T; N],
    row_buf: *mut T,
) where
    T: Element,
    V: Vector<T>,
    S: Stream,
    E: Expr<T, N>,
{
    if streaming && t.out_cs == 1 {
        // The first and last line of an output row not aligned to lines
        // take normal stores, which read the line first: ask for them now,
        // so they arrive while the strided inputs are packed (4000x4000, `b`
        // column-major, one thread: 1-3% in four runs of four).
        for i in 0..t.rows as isize {
            let row = t.out.wrapping_offset(i * t.out_rs);
            prefetch(row.cast_const());
            prefetch(row.wrapping_add(t.cols - 1).cast_const());
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
            pack_operand(
                buf,
                pack.stride,
                t.ins[k],
                t.in_rs[k],
                t.in_cs[k],
                t.rows,
                t.cols,
            )
        };
        ins[k] = buf.cast_const();
        in_rs[k] = pack.stride as isize;
    }
    for i in 0..t.rows as isize {
        let row: [*const T; N] = array::from_fn(|k| ins[k].wrapping_offset(i * in_rs[k]));
        let out = t.out.wrapping_offset(i * t.out_rs);
        // SAFETY: each input row now has `cols` contiguous readable elements
        // (packed, or unit stride already); the output row is written either
        // directly (unit stride; with streaming stores only when `streaming`,
        // where this function's contract gives `S`'s instruction set) or
        // through `row_buf`, then element by element at its stride, inside
        // the tile.
        unsafe {
            if t.out_cs == 1 && streaming {
                row_streaming::<T, V, S, E, N>(e, row, out, t.cols);
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

/// Copies the `rows x cols` elements at `src` (strides `rs`, `cs`) into
/// `buf`, row-major with row stride `stride`, reading `src` in its own
/// memory order.
///
/// Not inlined into the SIMD clones: it is a copy, bound by the strided
/// reads, and inside an AVX-512 clone LLVM turns the column-order writes
/// into `vscatterqpd`, which is slow on current cores.
///
/// # Safety
/// Every `(r, c)` with `r < rows`, `c < cols` is readable at
/// `src + r * rs + c * cs`; `buf` is writable for `rows * stride` elements,
/// `cols <= stride`.
#[inline(never)]
unsafe fn pack_operand<T: Copy>(
    buf: *mut T,
    stride: usize,
    src: *const T,
    rs: isize,
    cs: isize,
    rows: usize,
    cols: usize,
) {
    let copy = |r: usize, c: usize| {
        // SAFETY: `(r, c)` is inside the tile, and `r * stride + c <
        // rows * stride`, inside the buffer (the function's contract).
        unsafe {
            buf.add(r * stride + c)
                .write(*src.offset(r as isize * rs + c as isize * cs))
        }
    };
    if rs.unsigned_abs() < cs.unsigned_abs() {
        // Down the columns, a line's worth of them at a time: each buffer
        // row then gets a whole line per block instead of one element per
        // column (at 4000x4000 the pack took 13 ms instead of 19).
        let block = (64 / core::mem::size_of::<T>()).max(1);
        let mut c = 0;
        while c < cols {
            let width = block.min(cols - c);
            for p in c + PREFETCH_COLS..(c + PREFETCH_COLS + width).min(cols) {
                prefetch_run(src.wrapping_offset(p as isize * cs), rs, rows);
            }
            for r in 0..rows {
                (c..c + width).for_each(|c| copy(r, c));
            }
            c += width;
        }
    } else {
        (0..rows).for_each(|r| (0..cols).for_each(|c| copy(r, c)));
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
/// to the first 64-byte boundary of `out`, then steps of up to
/// `STREAM_BYTES` computed into an aligned L1 buffer (same vector code as
/// [`row_contiguous`]) and copied out with non-temporal stores, down to the
/// last whole line, then the tail of the last line with normal stores.
/// Every element is computed by the same arithmetic.
///
/// The last step is shortened rather than left to normal stores: a row that
/// ends between two steps would otherwise write up to `STREAM_BYTES` with
/// normal stores, each line read from memory first. For the 512-column rows
/// of a packed tile whose output is not 64-byte aligned (any `Vec` from
/// glibc's `malloc`, 16 bytes past a page) that was 24% of the output
/// (4000x4000, `b` column-major, one thread: 37.3 ms, 31.2 ms aligned).
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
    let line = 64 / size;
    // `out` is aligned to `size`, so the distance to the next line is a
    // whole number of elements.
    let head = ((64 - out as usize % 64) % 64) / size;
    if len < head + line {
        // No whole line to stream. SAFETY: forwarded.
        unsafe { row_contiguous::<T, V, E, N>(e, ins, out, len) };
        return;
    }
    let lines = (len - head) / line;
    let mut buf = LineBuf([0; STREAM_BYTES]);
    let tmp = buf.0.as_mut_ptr().cast::<T>();
    // SAFETY: `head <= len`; the pointers stay inside each row.
    unsafe { row_contiguous::<T, V, E, N>(e, ins, out, head) };
    let mut i = head;
    let end = head + lines * line;
    while i < end {
        let n = (STREAM_BYTES / size).min(end - i);
        // SAFETY: `i + n <= end <= len`: inside every row. `tmp` holds
        // `STREAM_BYTES / size >= n` elements and is 64-byte aligned, as is
        // `out + i` (from `head` on, in whole lines); `n` is whole lines and
        // the copy writes `out[i..i + n]` only.
        unsafe {
            let at: [*const T; N] = array::from_fn(|k| ins[k].add(i));
            row_contiguous::<T, V, E, N>(e, at, tmp, n);
            S::copy_lines(
                out.add(i).cast::<u8>(),
                tmp.cast_const().cast::<u8>(),
                n / line,
            );
        }
        i += n;
    }
    // SAFETY: the rest of the row, `end..len`, less than a line.
    unsafe {
        let at: [*const T; N] = array::from_fn(|k| ins[k].add(end));
        row_contiguous::<T, V, E, N>(e, at, out.add(end), len - end);
    }
}

/// How many columns ahead a transposing pack prefetches (one block of
/// columns, for f64). Each column is a short run (`PACK_ROWS` elements) far
/// from the last, which the hardware prefetchers do not follow: without it
/// the pack waited on memory one run at a time (4000x4000, `b`
/// column-major: 80 ms, with it 45 ms; 4 to 64 columns ahead measured
/// alike).
const PREFETCH_COLS: usize = 8;

/// Prefetches the `rows` elements at `p` with stride `rs`: every cache line
/// they touch, once, with the T2 hint (into L2 on current x86 cores; T0,
/// into L1, measured the same). A run that does not start on a line
/// boundary touches one line more than its length suggests (64 f64 at a
/// 16-byte offset: 9 lines); that line is prefetched too (no measurable
/// change at 4000x4000: the cost of misaligned operands was the streaming
/// rows', see [`row_streaming`]). A hint: it never faults, whatever the
/// address; a no-op where stable Rust has no prefetch instruction.
#[inline(always)]
fn prefetch_run<T>(p: *const T, rs: isize, rows: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        const LINE: usize = 64;
        if rows == 0 {
            return;
        }
        let size = core::mem::size_of::<T>();
        let span = rs.unsigned_abs() * size;
        let last = p.wrapping_offset((rows as isize - 1) * rs).cast::<u8>();
        if span <= LINE {
            // A dense run: walk its lines from the lowest address.
            let first = p.cast::<u8>();
            let lo = if rs < 0 { last } else { first };
            let lines = (lo as usize % LINE + (rows - 1) * span + size).div_ceil(LINE);
            let base = lo.wrapping_sub(lo as usize % LINE);
            (0..lines).for_each(|l| prefetch(base.wrapping_add(l * LINE)));
        } else {
            (0..rows).for_each(|r| prefetch(p.wrapping_offset(r as isize * rs)));
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (p, rs, rows);
}

/// Prefetches the cache line holding `p`, with the T2 hint. A hint: it
/// never faults, whatever the address; a no-op where stable Rust has no
/// prefetch instruction.
#[inline(always)]
fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    {
        use core::arch::x86_64::{_MM_HINT_T2, _mm_prefetch};
        // SAFETY: a prefetch is a hint that does not access memory
        // architecturally, so any address is sound; the pointer is only
        // computed (`wrapping_*`), never dereferenced. SSE is in the x86_64
        // baseline.
        unsafe { _mm_prefetch::<_MM_HINT_T2>(p.cast::<i8>()) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}
