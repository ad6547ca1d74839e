//! aarch64: NEON is always on, and `wide` compiles to `fadd/fmul v.2d` there.
//! No streaming stores: [`StoreMode::Streaming`](crate::StoreMode) falls back
//! to normal stores.

use crate::expr::Expr;
use crate::kernel::{NoStream, run_block};
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
    unsafe { run_block::<T, T::Wide, NoStream, E, N>(e, b, streaming) }
}
