//! x86_64: AVX-512 and AVX2 are `multiversion` target clones of the generic
//! kernel with `V = T`, which LLVM auto-vectorises to zmm/ymm (`wide` would
//! stay 128-bit inside them); SSE2 is the baseline, written with `wide`.

use multiversion::target;

use crate::expr::Expr;
use crate::kernel::run_block;
use crate::plan::Block;
use crate::simd::Element;

/// # Safety
/// Block invariants; the CPU has AVX-512F, AVX-512VL, AVX2 and FMA.
#[target("x86_64+avx512f+avx512vl+avx2+fma")]
pub(super) unsafe fn avx512<T: Element, E: Expr<T, N>, const N: usize>(e: &E, b: &Block<T, N>) {
    // SAFETY: forwarded from this function's contract.
    unsafe { run_block::<T, T, E, N>(e, b) }
}

/// # Safety
/// Block invariants; the CPU has AVX2 and FMA.
#[target("x86_64+avx2+fma")]
pub(super) unsafe fn avx2<T: Element, E: Expr<T, N>, const N: usize>(e: &E, b: &Block<T, N>) {
    // SAFETY: forwarded from this function's contract.
    unsafe { run_block::<T, T, E, N>(e, b) }
}

/// # Safety
/// Block invariants (SSE2 is part of every x86_64 CPU).
#[inline(never)]
pub(super) unsafe fn sse2<T: Element, E: Expr<T, N>, const N: usize>(e: &E, b: &Block<T, N>) {
    // SAFETY: forwarded from this function's contract.
    unsafe { run_block::<T, T::Wide, E, N>(e, b) }
}
