//! Packing: operands with a non-unit inner stride (a column-major input
//! against a row-major output, a broadcast) are copied, in their own memory
//! order, into row-major strips the kernel then reads like any row. The
//! strip shape, the per-thread buffers they live in, the copy, and the
//! prefetches that keep the copy from waiting on memory.
//!
//! The transposing pack and the prefetches are inlined into the per-ISA
//! entry points; the element-by-element copy is baseline code on purpose
//! (see [`pack_copy`]), and the strip and scratch bookkeeping has no vector
//! code (`tests/disasm.rs` checks all of it).

use crate::cache::CacheInfo;
use crate::plan::Block;

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
    /// need seen, about L2/4 plus one row, and lives as long as the thread.
    static SCRATCH: core::cell::Cell<Vec<Line>> = const { core::cell::Cell::new(Vec::new()) };
}

/// This thread's scratch, taken out of [`SCRATCH`] for one block and put
/// back on drop. A call made while it is out (an expression that calls
/// fuse2d from inside the kernel) finds the slot empty and grows its own;
/// the larger of the two is kept.
pub(crate) struct Scratch(Vec<Line>);

impl Scratch {
    /// Room for `len` elements of `T`, 64-byte aligned.
    pub(crate) fn take<T>(len: usize) -> Scratch {
        let lines = (len * core::mem::size_of::<T>()).div_ceil(64);
        let mut v = SCRATCH.take();
        if v.len() < lines {
            v.resize(lines, Line([0; 64]));
        }
        Scratch(v)
    }

    pub(crate) fn as_mut_ptr<T>(&mut self) -> *mut T {
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
/// and written in row runs of a strip's width, which the hardware
/// prefetchers follow. On AMD Zen 4 (2026-11-29, the `mixp` probe, `b`
/// column-major, 4000x4000 f64, one thread, medians of 9 in one process,
/// all row-major 9.9-10.4 ms) with strips of L2/4: 32 rows 17.9-18.5 ms,
/// 64 16.7-16.9, 128 19.7; in a slower minute 48 rows 19.9, 64 19.3, 96
/// 20.8. On an Intel Xeon with L2/16 strips, 32 rows had beaten 64 and 16 (against
/// all-row-major in the same run, 1000/2000/4000 squared: 16 rows
/// 0.71/0.74/0.58, 32 rows 0.74/0.78/0.56, 64 rows 0.73/0.71/0.54).
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

/// The packed strips' shape, `(rows, columns)`, for a block with
/// `packed` inputs of `T` packed (at least one is assumed). Public for
/// `benches/roofs.rs`, which times the pack's access patterns with plain
/// loops over this very shape; not part of the API.
///
/// ```
/// let (rows, cols) = fuse2d::packed_strip::<f64>(1);
/// assert!(rows > 0 && cols >= 64 && cols % 64 == 0);
/// ```
#[doc(hidden)]
pub fn packed_strip<T>(packed: usize) -> (usize, usize) {
    (PACK_ROWS, Pack::cols::<T>(packed))
}

impl Pack {
    /// The strip shape for a block of `N` inputs of `T`, some of them strided.
    pub(crate) fn new<T, const N: usize>(b: &Block<T, N>) -> Pack {
        let cols = Pack::cols::<T>(b.in_cs.iter().filter(|&&s| s != 1).count());
        Pack {
            cols,
            stride: cols + 64 / core::mem::size_of::<T>(),
        }
    }

    /// Columns per strip with `packed` inputs of `T` packed.
    fn cols<T>(packed: usize) -> usize {
        let packed = packed.max(1);
        let size = core::mem::size_of::<T>();
        // The strips of all packed operands together fill a quarter of L2
        // (512 columns of f64 in 64 rows with 1 MiB of L2), leaving L2 to
        // the tiles of the other operands. On AMD Zen 4 (1 MiB L2; `mixp`,
        // `b` column-major, one thread, medians of 9-11 in one process,
        // ms): 4000x4000, 32-row strips, L2/16 20.7, L2/8 18.6-18.7, L2/4
        // 17.9-18.5; 64-row strips L2/8 18.2, L2/4 16.7-16.9, L2/2 16.8;
        // 2000x2000: 32 rows L2/16 5.10, 64 rows L2/4 3.91, L2/8 4.36;
        // 1000x1000: 0.86, 0.69, 0.71. Measured before on an Intel Xeon (2
        // MiB L2) with 32-row strips, as throughput against all-row-major
        // (1000/2000/4000 squared): L2/8 0.73/0.77/0.54, L2/16
        // 0.74/0.78/0.56, L2/32 0.73/0.73/0.50.
        ((CacheInfo::get().l2 / (4 * packed * PACK_ROWS * size)) / 64 * 64).max(64)
    }

    /// Elements of one operand's pack buffer.
    pub(crate) fn capacity(self) -> usize {
        PACK_ROWS * self.stride
    }

    /// The default tile of the parallel grid for mixed layouts: one strip.
    pub(crate) fn tile_elems<T, const N: usize>(b: &Block<T, N>) -> usize {
        PACK_ROWS * Pack::new(b).cols
    }
}

/// An instruction set's in-register transposes of square blocks, for
/// 64-bit and for 32-bit elements: the inner step of packing a column-major
/// operand, and of turning a transposed output's steps (`turn`). The
/// defaults are those of an instruction set without them: the pack then
/// copies element by element, and a turned block is stored element by
/// element.
///
/// Each writes `dst[j * ds + i] = src[i * ss + j]` for every `i, j < side`:
/// source rows become destination columns. They only move bits (no
/// arithmetic), so NaN payloads survive.
pub(crate) trait Transpose {
    /// Side of the 64-bit block in elements (AVX-512: 8, AVX2: 4, SSE2 and
    /// NEON: 2); 0 where there is none.
    const SIDE_64: usize = 0;
    /// Side of the 32-bit block (AVX-512 and AVX2: 8, SSE2 and NEON: 4).
    const SIDE_32: usize = 0;
    /// The `SIDE_64 x SIDE_64` transpose.
    ///
    /// # Safety
    /// Those elements are readable at `src` and writable at `dst`
    /// (unaligned is fine), and the CPU has the instruction set.
    #[inline(always)]
    unsafe fn transpose_64(_dst: *mut f64, _ds: usize, _src: *const f64, _ss: isize) {
        unreachable!("the pack transposes only where the side is not 0")
    }
    /// The `SIDE_32 x SIDE_32` transpose.
    ///
    /// # Safety
    /// As [`Transpose::transpose_64`].
    #[inline(always)]
    unsafe fn transpose_32(_dst: *mut f32, _ds: usize, _src: *const f32, _ss: isize) {
        unreachable!("the pack transposes only where the side is not 0")
    }
}

/// `A`'s transpose block side for elements of `T` (0: none).
#[inline(always)]
pub(crate) fn side<T, A: Transpose>() -> usize {
    match core::mem::size_of::<T>() {
        8 => A::SIDE_64,
        4 => A::SIDE_32,
        _ => 0,
    }
}

/// `A`'s transpose of one block of `T`, by its width.
///
/// # Safety
/// `side::<T, A>() > 0`, and the contract of [`Transpose::transpose_64`]
/// for a block of that side.
#[inline(always)]
pub(crate) unsafe fn transpose<T, A: Transpose>(dst: *mut T, ds: usize, src: *const T, ss: isize) {
    // SAFETY: forwarded; `T` has the width of the element type it is moved
    // as, so moving it moves its bits.
    unsafe {
        if core::mem::size_of::<T>() == 8 {
            A::transpose_64(dst.cast(), ds, src.cast(), ss)
        } else {
            A::transpose_32(dst.cast(), ds, src.cast(), ss)
        }
    }
}

/// One operand's tile to pack: the `rows x cols` elements at `src`
/// (strides `rs`, `cs`), to be copied into `buf`, row-major with row stride
/// `stride`, reading `src` in its own memory order.
#[derive(Clone, Copy)]
pub(crate) struct PackJob<T> {
    pub buf: *mut T,
    pub stride: usize,
    pub src: *const T,
    pub rs: isize,
    pub cs: isize,
    pub rows: usize,
    pub cols: usize,
}

impl<T> PackJob<T> {
    /// The part of this job of `rows x cols` elements from `(r0, c0)`. The
    /// pointers are only computed (`wrapping_*`): a part inside the job
    /// keeps its contract.
    #[inline(always)]
    fn part(self, r0: usize, rows: usize, c0: usize, cols: usize) -> PackJob<T> {
        PackJob {
            buf: self.buf.wrapping_add(r0 * self.stride + c0),
            src: self
                .src
                .wrapping_offset(r0 as isize * self.rs + c0 as isize * self.cs),
            rows,
            cols,
            ..self
        }
    }

    /// Prefetches the source runs of columns `from..from + width` (those
    /// that exist), all `rows` of each.
    #[inline(always)]
    fn prefetch_cols(self, from: usize, width: usize) {
        for c in from..(from + width).min(self.cols) {
            prefetch_run(
                self.src.wrapping_offset(c as isize * self.cs),
                self.rs,
                self.rows,
            );
        }
    }
}

/// Packs `job`. A column-major operand (`rs == 1`) goes through `A`'s
/// in-register transpose, a block's side of columns at a time, prefetched
/// [`PREFETCH_COLS`] columns ahead; the edges that do not fill a block, and
/// every other layout, go through [`pack_copy`]. See `docs/performance.md`
/// ("Mixed layouts") for what it gained.
///
/// # Safety
/// As [`pack_copy`], and the CPU has `A`'s instruction set.
#[inline(always)]
pub(crate) unsafe fn pack_operand<T: Copy, A: Transpose>(job: PackJob<T>) {
    let PackJob {
        buf,
        stride,
        src,
        rs,
        cs,
        rows,
        cols,
    } = job;
    let side = side::<T, A>();
    if side == 0 || rs != 1 || rows < side || cols < side {
        // SAFETY: forwarded.
        return unsafe { pack_copy(job) };
    }
    let (whole_rows, whole_cols) = (rows - rows % side, cols - cols % side);
    for c in (0..whole_cols).step_by(side) {
        job.prefetch_cols(c + PREFETCH_COLS, side);
        for r in (0..whole_rows).step_by(side) {
            // SAFETY: the block is rows `r..r + side` and columns
            // `c..c + side` of the tile, inside it (`whole_*` are at most
            // `rows`, `cols`); element `(r + j, c + i)` is read at
            // `src + j + (c + i) * cs` (`rs == 1`) and written at
            // `buf + (r + j) * stride + c + i`, inside the buffer; `side`
            // is `A`'s for `T`.
            unsafe {
                transpose::<T, A>(
                    buf.add(r * stride + c),
                    stride,
                    src.offset(r as isize + c as isize * cs),
                    cs,
                )
            };
        }
    }
    // SAFETY: the rows below the last whole block (all columns), then the
    // columns right of it (the rows above): parts of the job.
    unsafe {
        pack_copy(job.part(whole_rows, rows - whole_rows, 0, cols));
        pack_copy(job.part(0, whole_rows, whole_cols, cols - whole_cols));
    }
}

/// The element-by-element copy: [`pack_operand`] without a transpose.
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
unsafe fn pack_copy<T: Copy>(job: PackJob<T>) {
    let PackJob {
        buf,
        stride,
        src,
        rs,
        cs,
        rows,
        cols,
    } = job;
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
            job.prefetch_cols(c + PREFETCH_COLS, width);
            for r in 0..rows {
                (c..c + width).for_each(|c| copy(r, c));
            }
            c += width;
        }
    } else {
        (0..rows).for_each(|r| (0..cols).for_each(|c| copy(r, c)));
    }
}

/// How many columns ahead a transposing pack prefetches (two blocks of
/// columns, for f64). Each column is a short run (`PACK_ROWS` elements) far
/// from the last, which the hardware prefetchers do not follow: without it
/// the pack waited on memory one run at a time (4000x4000, `b`
/// column-major: 80 ms, with it 45 ms). 4 to 64 columns ahead measured
/// alike until the streaming rows began to prefetch the next row of `a`;
/// since then 16 beats 8 (4000x4000 one / two threads, col-major `b` /
/// row-major: 0.60-0.61 / 0.61-0.62 -> 0.65-0.67 / 0.66-0.69; 32: 0.65 /
/// 0.66-0.67).
const PREFETCH_COLS: usize = 16;

/// Prefetches the `rows` elements at `p` with stride `rs`: every cache line
/// they touch, once, with the T2 hint (into L2 on current x86 cores; T0,
/// into L1, measured the same). A run that does not start on a line
/// boundary touches one line more than its length suggests (64 f64 at a
/// 16-byte offset: 9 lines); that line is prefetched too (no measurable
/// change at 4000x4000: the cost of misaligned operands was the streaming
/// rows', see `kernel::row_lines`). A hint: it never faults, whatever the
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
pub(crate) fn prefetch<T>(p: *const T) {
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
