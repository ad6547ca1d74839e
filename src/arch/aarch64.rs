//! aarch64: NEON is always on, and `wide` compiles to `fadd/fmul v.2d` there.
//! No streaming stores: [`StoreMode::Streaming`](crate::StoreMode) falls back
//! to normal stores. The pack transposes 2x2 blocks of f64 and 4x4 of f32
//! (`zip1`/`zip2`).

use crate::expr::Expr;
use core::arch::aarch64::{
    vld1q_f32, vld1q_f64, vreinterpretq_f32_f64, vreinterpretq_f64_f32, vst1q_f32, vst1q_f64,
    vzip1q_f32, vzip1q_f64, vzip2q_f32, vzip2q_f64,
};

use crate::kernel::{Stores, Stream, run_block};
use crate::pack::Transpose;
use crate::plan::Block;
use crate::simd::Element;

/// # Safety
/// Block invariants.
#[inline(never)]
pub(super) unsafe fn neon<T: Element, E: Expr<T, N>, const N: usize>(
    e: &E,
    b: &Block<T, N>,
    stores: Stores,
) {
    // SAFETY: forwarded from this function's contract.
    unsafe { run_block::<T, T::Wide, Neon, E, N>(e, b, stores) }
}

/// NEON's primitives: no streaming stores, 2x2 and 4x4 transposes.
struct Neon;

impl Stream for Neon {}

impl Transpose for Neon {
    const SIDE_64: usize = 2;
    const SIDE_32: usize = 4;
    #[inline(always)]
    unsafe fn transpose_64(dst: *mut f64, ds: usize, src: *const f64, ss: isize) {
        // SAFETY: the caller guarantees the 2x2 block is readable at `src`
        // (rows `ss` apart) and writable at `dst` (rows `ds` apart); NEON
        // is always on for aarch64; `vld1q`/`vst1q` need no alignment.
        unsafe {
            let (r0, r1) = (vld1q_f64(src), vld1q_f64(src.offset(ss)));
            vst1q_f64(dst, vzip1q_f64(r0, r1));
            vst1q_f64(dst.add(ds), vzip2q_f64(r0, r1));
        }
    }
    #[inline(always)]
    unsafe fn transpose_32(dst: *mut f32, ds: usize, src: *const f32, ss: isize) {
        // SAFETY: the caller guarantees the 4x4 block is readable at `src`
        // (rows `ss` apart) and writable at `dst` (rows `ds` apart); NEON
        // is always on for aarch64; `vld1q`/`vst1q` need no alignment.
        unsafe {
            let r: [_; 4] = core::array::from_fn(|i| vld1q_f32(src.offset(i as isize * ss)));
            // (r0[0], r1[0], r0[1], r1[1]) and so on; then pairs of those,
            // as 64-bit lanes, give the columns.
            let lo01 = vreinterpretq_f64_f32(vzip1q_f32(r[0], r[1]));
            let hi01 = vreinterpretq_f64_f32(vzip2q_f32(r[0], r[1]));
            let lo23 = vreinterpretq_f64_f32(vzip1q_f32(r[2], r[3]));
            let hi23 = vreinterpretq_f64_f32(vzip2q_f32(r[2], r[3]));
            vst1q_f32(dst, vreinterpretq_f32_f64(vzip1q_f64(lo01, lo23)));
            vst1q_f32(dst.add(ds), vreinterpretq_f32_f64(vzip2q_f64(lo01, lo23)));
            vst1q_f32(
                dst.add(2 * ds),
                vreinterpretq_f32_f64(vzip1q_f64(hi01, hi23)),
            );
            vst1q_f32(
                dst.add(3 * ds),
                vreinterpretq_f32_f64(vzip2q_f64(hi01, hi23)),
            );
        }
    }
}
