//! x86_64: AVX-512 and AVX2 are `multiversion` target clones of the generic
//! kernel with `V = T`, which LLVM auto-vectorises to zmm/ymm (`wide` would
//! stay 128-bit inside them); SSE2 is the baseline, written with `wide`.
//! Each also brings its non-temporal store (`std::arch`), used by
//! [`StoreMode::Streaming`](crate::StoreMode).

use core::arch::x86_64::{
    __m128i, __m256i, __m512i, _mm_load_si128, _mm_sfence, _mm_stream_si128, _mm256_load_si256,
    _mm256_stream_si256, _mm512_load_si512, _mm512_stream_si512,
};

use multiversion::target;

use crate::expr::Expr;
use crate::kernel::{Stream, run_block};
use crate::plan::Block;
use crate::simd::Element;

/// # Safety
/// Block invariants; the CPU has AVX-512F, AVX-512VL, AVX2 and FMA.
#[target("x86_64+avx512f+avx512vl+avx2+fma")]
pub(super) unsafe fn avx512<T: Element, E: Expr<T, N>, const N: usize>(
    e: &E,
    b: &Block<T, N>,
    streaming: bool,
) {
    // SAFETY: forwarded from this function's contract.
    unsafe { run_block::<T, T, Avx512Stream, E, N>(e, b, streaming) }
}

/// # Safety
/// Block invariants; the CPU has AVX2 and FMA.
#[target("x86_64+avx2+fma")]
pub(super) unsafe fn avx2<T: Element, E: Expr<T, N>, const N: usize>(
    e: &E,
    b: &Block<T, N>,
    streaming: bool,
) {
    // SAFETY: forwarded from this function's contract.
    unsafe { run_block::<T, T, Avx2Stream, E, N>(e, b, streaming) }
}

/// # Safety
/// Block invariants (SSE2 is part of every x86_64 CPU).
#[inline(never)]
pub(super) unsafe fn sse2<T: Element, E: Expr<T, N>, const N: usize>(
    e: &E,
    b: &Block<T, N>,
    streaming: bool,
) {
    // SAFETY: forwarded from this function's contract.
    unsafe { run_block::<T, T::Wide, Sse2Stream, E, N>(e, b, streaming) }
}

struct Avx512Stream;
struct Avx2Stream;
struct Sse2Stream;

/// `sfence`: part of SSE, so of every x86_64 CPU.
#[inline(always)]
fn sfence() {
    // SAFETY: SSE is in the x86_64 baseline.
    unsafe { _mm_sfence() }
}

impl Stream for Avx512Stream {
    const AVAILABLE: bool = true;
    #[inline(always)]
    unsafe fn copy_lines(dst: *mut u8, src: *const u8, lines: usize) {
        for l in 0..lines {
            // SAFETY: the caller guarantees alignment, bounds and AVX-512F.
            unsafe {
                let v = _mm512_load_si512(src.add(l * 64).cast::<__m512i>());
                _mm512_stream_si512(dst.add(l * 64).cast::<__m512i>(), v);
            }
        }
    }
    #[inline(always)]
    fn fence() {
        sfence();
    }
}

impl Stream for Avx2Stream {
    const AVAILABLE: bool = true;
    #[inline(always)]
    unsafe fn copy_lines(dst: *mut u8, src: *const u8, lines: usize) {
        for h in 0..lines * 2 {
            // SAFETY: the caller guarantees alignment, bounds and AVX2.
            unsafe {
                let v = _mm256_load_si256(src.add(h * 32).cast::<__m256i>());
                _mm256_stream_si256(dst.add(h * 32).cast::<__m256i>(), v);
            }
        }
    }
    #[inline(always)]
    fn fence() {
        sfence();
    }
}

impl Stream for Sse2Stream {
    const AVAILABLE: bool = true;
    #[inline(always)]
    unsafe fn copy_lines(dst: *mut u8, src: *const u8, lines: usize) {
        for q in 0..lines * 4 {
            // SAFETY: the caller guarantees alignment and bounds; SSE2 is baseline.
            unsafe {
                let v = _mm_load_si128(src.add(q * 16).cast::<__m128i>());
                _mm_stream_si128(dst.add(q * 16).cast::<__m128i>(), v);
            }
        }
    }
    #[inline(always)]
    fn fence() {
        sfence();
    }
}
