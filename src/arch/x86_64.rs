//! x86_64: AVX-512 and AVX2 are `multiversion` target clones of the generic
//! kernel with `V = T`, which LLVM auto-vectorises to zmm/ymm (`wide` would
//! stay 128-bit inside them); SSE2 is the baseline, written with `wide`.
//! Each also brings its two primitives (`std::arch`): the non-temporal
//! store of [`StoreMode::Streaming`](crate::StoreMode), and the in-register
//! transpose that packs a column-major operand.

use core::arch::x86_64::*;
// Under Miri (`tests/miri.rs`), which cannot run the inline assembly the
// non-temporal stores are written in, aligned ordinary stores to the same
// addresses stand in for them: Miri still checks the bounds and the
// alignment of each (the same as the streaming store's).
#[cfg(miri)]
use {
    _mm_store_si128 as _mm_stream_si128, _mm256_store_si256 as _mm256_stream_si256,
    _mm512_store_si512 as _mm512_stream_si512,
};

use multiversion::target;

use crate::cross::crossed_block;
use crate::expr::Expr;
use crate::kernel::{Stores, Stream, run_block};
use crate::pack::Transpose;
use crate::plan::Block;
use crate::simd::Element;

/// # Safety
/// Block invariants; the CPU has AVX-512F, AVX-512VL, AVX2 and FMA.
#[target("x86_64+avx512f+avx512vl+avx2+fma")]
pub(super) unsafe fn avx512<T: Element, E: Expr<T, N>, const N: usize>(
    e: &E,
    b: &Block<T, N>,
    stores: Stores,
) {
    // SAFETY: forwarded from this function's contract.
    unsafe { run_block::<T, T, Avx512, E, N>(e, b, stores) }
}

/// # Safety
/// Block invariants; the CPU has AVX2 and FMA.
#[target("x86_64+avx2+fma")]
pub(super) unsafe fn avx2<T: Element, E: Expr<T, N>, const N: usize>(
    e: &E,
    b: &Block<T, N>,
    stores: Stores,
) {
    // SAFETY: forwarded from this function's contract.
    unsafe { run_block::<T, T, Avx2, E, N>(e, b, stores) }
}

/// # Safety
/// Block invariants (SSE2 is part of every x86_64 CPU).
#[inline(never)]
pub(super) unsafe fn sse2<T: Element, E: Expr<T, N>, const N: usize>(
    e: &E,
    b: &Block<T, N>,
    stores: Stores,
) {
    // SAFETY: forwarded from this function's contract.
    unsafe { run_block::<T, T::Wide, Sse2, E, N>(e, b, stores) }
}

/// The crossed tiles (`cross::runs`), in functions of their
/// own: inlined into the entry points above, their code changed how LLVM
/// compiled the turned tiles there, which ran slower (2000x2000 f64, one
/// thread, the `pinc` probe, a column-major output / all row-major, two
/// runs: AVX2 0.60-0.63 against 0.67-0.80 with the crossed code apart).
///
/// # Safety
/// As [`avx512`], and `cross::runs` holds for `b` with `stores` and
/// `Isa::Avx512`.
#[target("x86_64+avx512f+avx512vl+avx2+fma")]
#[inline(never)]
pub(super) unsafe fn avx512_crossed<T: Element, E: Expr<T, N>, const N: usize>(
    e: &E,
    b: &Block<T, N>,
    stores: Stores,
) {
    // SAFETY: forwarded from this function's contract.
    unsafe { crossed_block::<T, T, Avx512, E, N>(e, b, stores) }
}

/// # Safety
/// As [`avx2`], and `cross::runs` holds for `b` with `stores` and
/// `Isa::Avx2`.
#[target("x86_64+avx2+fma")]
#[inline(never)]
pub(super) unsafe fn avx2_crossed<T: Element, E: Expr<T, N>, const N: usize>(
    e: &E,
    b: &Block<T, N>,
    stores: Stores,
) {
    // SAFETY: forwarded from this function's contract.
    unsafe { crossed_block::<T, T, Avx2, E, N>(e, b, stores) }
}

/// # Safety
/// As [`sse2`], and `cross::runs` holds for `b` with `stores` and
/// `Isa::Sse2`.
#[inline(never)]
pub(super) unsafe fn sse2_crossed<T: Element, E: Expr<T, N>, const N: usize>(
    e: &E,
    b: &Block<T, N>,
    stores: Stores,
) {
    // SAFETY: forwarded from this function's contract.
    unsafe { crossed_block::<T, T::Wide, Sse2, E, N>(e, b, stores) }
}

/// The primitives of each instruction set.
struct Avx512;
struct Avx2;
struct Sse2;

/// `sfence`: part of SSE, so of every x86_64 CPU.
#[cfg(not(miri))]
#[inline(always)]
pub(super) fn sfence() {
    // SAFETY: SSE is in the x86_64 baseline.
    unsafe { _mm_sfence() }
}

/// Under Miri (`tests/miri.rs`), which has no `sfence` and treats a
/// non-temporal store as an ordinary one: a sequentially consistent fence,
/// which orders at least as much.
#[cfg(miri)]
#[inline(always)]
pub(super) fn sfence() {
    core::sync::atomic::fence(core::sync::atomic::Ordering::SeqCst);
}

impl Stream for Avx512 {
    const AVAILABLE: bool = true;
    const LINES: bool = true;
    #[inline(always)]
    unsafe fn store_line(dst: *mut u8, src: *const u8) {
        // SAFETY: the caller guarantees alignment, bounds and AVX-512F.
        unsafe {
            let v = _mm512_load_si512(src.cast::<__m512i>());
            _mm512_store_si512(dst.cast::<__m512i>(), v);
        }
    }
    #[inline(always)]
    unsafe fn copy_line(dst: *mut u8, src: *const u8) {
        // SAFETY: the caller guarantees alignment, bounds and AVX-512F.
        unsafe {
            let v = _mm512_load_si512(src.cast::<__m512i>());
            _mm512_stream_si512(dst.cast::<__m512i>(), v);
        }
    }
}

impl Stream for Avx2 {
    const AVAILABLE: bool = true;
    const LINES: bool = true;
    #[inline(always)]
    unsafe fn store_line(dst: *mut u8, src: *const u8) {
        for h in 0..2 {
            // SAFETY: the caller guarantees alignment, bounds and AVX2.
            unsafe {
                let v = _mm256_load_si256(src.add(h * 32).cast::<__m256i>());
                _mm256_store_si256(dst.add(h * 32).cast::<__m256i>(), v);
            }
        }
    }
    /// Each half passes `black_box`, as the streamed copy passes its
    /// inline assembly: seen through, the line's buffer is optimised away
    /// and LLVM's SLP vectoriser computes the step's line (8 `f64`) as one
    /// ymm vector and four scalars (`perf annotate`); kept, the line is
    /// two vectors. `b` column-major, `Normal` in cache, one thread, µs
    /// (`pcx`, docs/performance.md "The roof"): crossed 200x200 25.1 ->
    /// 18.7 (packed 21.2), 720x720 335 -> 256 (packed 331). Not in
    /// `store_line`: the line rows of `Normal` out of cache ran 3-7%
    /// slower with it.
    #[inline(always)]
    unsafe fn store_step_line(dst: *mut u8, src: *const u8) {
        for h in 0..2 {
            // SAFETY: the caller guarantees alignment, bounds and AVX2.
            unsafe {
                let v = core::hint::black_box(_mm256_load_si256(src.add(h * 32).cast::<__m256i>()));
                _mm256_store_si256(dst.add(h * 32).cast::<__m256i>(), v);
            }
        }
    }
    #[inline(always)]
    unsafe fn copy_line(dst: *mut u8, src: *const u8) {
        for h in 0..2 {
            // SAFETY: the caller guarantees alignment, bounds and AVX2.
            unsafe {
                let v = _mm256_load_si256(src.add(h * 32).cast::<__m256i>());
                _mm256_stream_si256(dst.add(h * 32).cast::<__m256i>(), v);
            }
        }
    }
}

impl Stream for Sse2 {
    const AVAILABLE: bool = true;
    const LINES: bool = true;
    #[inline(always)]
    unsafe fn store_line(dst: *mut u8, src: *const u8) {
        for q in 0..4 {
            // SAFETY: the caller guarantees alignment and bounds; SSE2 is baseline.
            unsafe {
                let v = _mm_load_si128(src.add(q * 16).cast::<__m128i>());
                _mm_store_si128(dst.add(q * 16).cast::<__m128i>(), v);
            }
        }
    }
    #[inline(always)]
    unsafe fn copy_line(dst: *mut u8, src: *const u8) {
        for q in 0..4 {
            // SAFETY: the caller guarantees alignment and bounds; SSE2 is baseline.
            unsafe {
                let v = _mm_load_si128(src.add(q * 16).cast::<__m128i>());
                _mm_stream_si128(dst.add(q * 16).cast::<__m128i>(), v);
            }
        }
    }
}

impl Transpose for Avx512 {
    const SIDE_64: usize = 8;
    const SIDE_32: usize = 8;
    /// Pairs of rows interleaved (`unpck`), then 128-bit pairs
    /// (`vpermt2pd`), then 256-bit halves: 24 shuffles for 64 elements.
    #[inline(always)]
    unsafe fn transpose_64(dst: *mut f64, ds: usize, src: *const f64, ss: isize) {
        // SAFETY: the caller guarantees the 8x8 block is readable at `src`
        // (rows `ss` apart) and writable at `dst` (rows `ds` apart), and
        // AVX-512F; the loads and stores are unaligned ones.
        unsafe {
            let r: [_; 8] = core::array::from_fn(|i| _mm512_loadu_pd(src.offset(i as isize * ss)));
            // Source rows 2k and 2k+1 interleaved: t[2k] their even
            // elements (r[2k][0], r[2k+1][0], r[2k][2], ..), t[2k+1] the odd.
            let t: [_; 8] = core::array::from_fn(|i| {
                let (x, y) = (r[i / 2 * 2], r[i / 2 * 2 + 1]);
                if i % 2 == 0 {
                    _mm512_unpacklo_pd(x, y)
                } else {
                    _mm512_unpackhi_pd(x, y)
                }
            });
            // s[0..4]: elements {0, 4}, {2, 6}, {1, 5}, {3, 7} of source
            // rows 0-3, four of each; s[4..8] the same of rows 4-7.
            let lo = _mm512_setr_epi64(0, 1, 8, 9, 4, 5, 12, 13);
            let hi = _mm512_setr_epi64(2, 3, 10, 11, 6, 7, 14, 15);
            let s: [_; 8] = core::array::from_fn(|i| {
                let (half, k) = (i / 4 * 4, i % 4);
                let (x, y) = (t[half + k / 2], t[half + k / 2 + 2]);
                _mm512_permutex2var_pd(x, if k % 2 == 0 { lo } else { hi }, y)
            });
            // Destination row c is element c of every source row: a
            // 256-bit half (low for c < 4) of s[k] and of s[k + 4], where
            // s[HOLDS[c % 4]] holds element c.
            let first = _mm512_setr_epi64(0, 1, 2, 3, 8, 9, 10, 11);
            let second = _mm512_setr_epi64(4, 5, 6, 7, 12, 13, 14, 15);
            const HOLDS: [usize; 4] = [0, 2, 1, 3];
            for c in 0..8 {
                let k = HOLDS[c % 4];
                let idx = if c < 4 { first } else { second };
                let col = _mm512_permutex2var_pd(s[k], idx, s[k + 4]);
                _mm512_storeu_pd(dst.add(c * ds), col);
            }
        }
    }
    /// The AVX 8x8 (ymm) transpose: a 16x16 zmm one would take twice the
    /// shuffles per element on one shuffle port.
    #[inline(always)]
    unsafe fn transpose_32(dst: *mut f32, ds: usize, src: *const f32, ss: isize) {
        // SAFETY: forwarded; AVX-512F implies AVX.
        unsafe { transpose_8x8_ps(dst, ds, src, ss) }
    }
}

impl Transpose for Avx2 {
    const SIDE_64: usize = 4;
    const SIDE_32: usize = 8;
    #[inline(always)]
    unsafe fn transpose_64(dst: *mut f64, ds: usize, src: *const f64, ss: isize) {
        // SAFETY: the caller guarantees the 4x4 block is readable at `src`
        // (rows `ss` apart) and writable at `dst` (rows `ds` apart), and
        // AVX; the loads and stores are unaligned ones.
        unsafe {
            let r: [_; 4] = core::array::from_fn(|i| _mm256_loadu_pd(src.offset(i as isize * ss)));
            // (r0[0], r1[0], r0[2], r1[2]) and so on.
            let even01 = _mm256_unpacklo_pd(r[0], r[1]);
            let odd01 = _mm256_unpackhi_pd(r[0], r[1]);
            let even23 = _mm256_unpacklo_pd(r[2], r[3]);
            let odd23 = _mm256_unpackhi_pd(r[2], r[3]);
            _mm256_storeu_pd(dst, _mm256_permute2f128_pd::<0x20>(even01, even23));
            _mm256_storeu_pd(dst.add(ds), _mm256_permute2f128_pd::<0x20>(odd01, odd23));
            _mm256_storeu_pd(
                dst.add(2 * ds),
                _mm256_permute2f128_pd::<0x31>(even01, even23),
            );
            _mm256_storeu_pd(
                dst.add(3 * ds),
                _mm256_permute2f128_pd::<0x31>(odd01, odd23),
            );
        }
    }
    #[inline(always)]
    unsafe fn transpose_32(dst: *mut f32, ds: usize, src: *const f32, ss: isize) {
        // SAFETY: forwarded.
        unsafe { transpose_8x8_ps(dst, ds, src, ss) }
    }
}

impl Transpose for Sse2 {
    const SIDE_64: usize = 2;
    const SIDE_32: usize = 4;
    #[inline(always)]
    unsafe fn transpose_64(dst: *mut f64, ds: usize, src: *const f64, ss: isize) {
        // SAFETY: the caller guarantees the 2x2 block is readable at `src`
        // (rows `ss` apart) and writable at `dst` (rows `ds` apart); SSE2
        // is baseline; the loads and stores are unaligned ones.
        unsafe {
            let (r0, r1) = (_mm_loadu_pd(src), _mm_loadu_pd(src.offset(ss)));
            _mm_storeu_pd(dst, _mm_unpacklo_pd(r0, r1));
            _mm_storeu_pd(dst.add(ds), _mm_unpackhi_pd(r0, r1));
        }
    }
    #[inline(always)]
    unsafe fn transpose_32(dst: *mut f32, ds: usize, src: *const f32, ss: isize) {
        // SAFETY: the caller guarantees the 4x4 block is readable at `src`
        // (rows `ss` apart) and writable at `dst` (rows `ds` apart); SSE is
        // baseline; the loads and stores are unaligned ones.
        unsafe {
            let r: [_; 4] = core::array::from_fn(|i| _mm_loadu_ps(src.offset(i as isize * ss)));
            // (r0[0], r1[0], r0[1], r1[1]) and so on.
            let lo01 = _mm_unpacklo_ps(r[0], r[1]);
            let hi01 = _mm_unpackhi_ps(r[0], r[1]);
            let lo23 = _mm_unpacklo_ps(r[2], r[3]);
            let hi23 = _mm_unpackhi_ps(r[2], r[3]);
            _mm_storeu_ps(dst, _mm_movelh_ps(lo01, lo23));
            _mm_storeu_ps(dst.add(ds), _mm_movehl_ps(lo23, lo01));
            _mm_storeu_ps(dst.add(2 * ds), _mm_movelh_ps(hi01, hi23));
            _mm_storeu_ps(dst.add(3 * ds), _mm_movehl_ps(hi23, hi01));
        }
    }
}

/// The 8x8 transpose of 32-bit elements with AVX (ymm), shared by the
/// AVX-512 and AVX2 paths: rows interleaved in pairs (`unpck`), then pairs
/// of pairs (`shufps`), then 128-bit halves: 24 shuffles for 64 elements.
///
/// # Safety
/// The 8x8 block is readable at `src` (rows `ss` apart) and writable at
/// `dst` (rows `ds` apart), and the CPU has AVX.
#[inline(always)]
unsafe fn transpose_8x8_ps(dst: *mut f32, ds: usize, src: *const f32, ss: isize) {
    // SAFETY: the caller's contract; the loads and stores are unaligned ones.
    unsafe {
        let r: [_; 8] = core::array::from_fn(|i| _mm256_loadu_ps(src.offset(i as isize * ss)));
        // Per 128-bit half: t[2k] = (r[2k][0], r[2k+1][0], r[2k][1],
        // r[2k+1][1]), t[2k+1] the same for elements 2 and 3.
        let t: [_; 8] = core::array::from_fn(|i| {
            let (x, y) = (r[i / 2 * 2], r[i / 2 * 2 + 1]);
            if i % 2 == 0 {
                _mm256_unpacklo_ps(x, y)
            } else {
                _mm256_unpackhi_ps(x, y)
            }
        });
        // u[4h + e]: element e (and e + 4, in the high half) of source rows
        // 4h..4h + 4.
        let u: [_; 8] = core::array::from_fn(|i| {
            let (h, e) = (i / 4 * 4, i % 4);
            let (x, y) = (t[h + e / 2], t[h + e / 2 + 2]);
            if e % 2 == 0 {
                _mm256_shuffle_ps::<0x44>(x, y)
            } else {
                _mm256_shuffle_ps::<0xEE>(x, y)
            }
        });
        for e in 0..4 {
            _mm256_storeu_ps(
                dst.add(e * ds),
                _mm256_permute2f128_ps::<0x20>(u[e], u[e + 4]),
            );
            _mm256_storeu_ps(
                dst.add((e + 4) * ds),
                _mm256_permute2f128_ps::<0x31>(u[e], u[e + 4]),
            );
        }
    }
}
