//! aarch64: NEON is always on, and `wide` compiles to `fadd/fmul v.2d` there.
//! No streaming stores: [`StoreMode::Streaming`](crate::StoreMode) falls back
//! to normal stores. The pack transposes 2x2 blocks (`zip1`/`zip2`).

use crate::expr::Expr;
use core::arch::aarch64::{vld1q_f64, vst1q_f64, vzip1q_f64, vzip2q_f64};

use crate::kernel::{Stream, run_block};
use crate::pack::Transpose;
use crate::plan::Block;
use crate::simd::Element;

/// # Safety
/// Block invariants.
#[inline(never)]
pub(super) unsafe fn neon<T: Element, E: Expr<T, N>, const N: usize>(
    e: &E,
    b: &Block<T, N>,
    streaming: bool,
) {
    // SAFETY: forwarded from this function's contract.
    unsafe { run_block::<T, T::Wide, Neon, E, N>(e, b, streaming) }
}

/// NEON's primitives: no streaming stores, a 2x2 transpose.
struct Neon;

impl Stream for Neon {}

impl Transpose for Neon {
    const SIDE: usize = 2;
    #[inline(always)]
    unsafe fn transpose(dst: *mut f64, ds: usize, src: *const f64, ss: isize) {
        // SAFETY: the caller guarantees the 2x2 block is readable at `src`
        // (rows `ss` apart) and writable at `dst` (rows `ds` apart); NEON
        // is always on for aarch64; `vld1q`/`vst1q` need no alignment.
        unsafe {
            let (r0, r1) = (vld1q_f64(src), vld1q_f64(src.offset(ss)));
            vst1q_f64(dst, vzip1q_f64(r0, r1));
            vst1q_f64(dst.add(ds), vzip2q_f64(r0, r1));
        }
    }
}
