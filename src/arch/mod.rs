//! Per-instruction-set entry points. Each is one line: it picks the lane type
//! and the target features, and inlines the generic [`crate::kernel`] into them.
//! Beside it, each ISA implements its two primitives on a marker type: the
//! non-temporal line copy ([`crate::kernel::Stream`]) and the block
//! transposes of the pack and of a transposed output
//! ([`crate::pack::Transpose`]); an ISA without one takes the
//! trait's defaults. The `sfence` that ends a thread's run of streamed
//! tiles is [`fence`]. The ISA is resolved once per call, before any
//! splitting, and every block (tile) calls [`run`] once.

#[cfg(target_arch = "aarch64")]
mod aarch64;
#[cfg(target_arch = "x86_64")]
mod x86_64;

#[cfg(target_arch = "x86_64")]
use crate::cross;
use crate::expr::Expr;
use crate::isa::Isa;
use crate::kernel::{Stores, Stream, run_block};
use crate::pack::Transpose;
use crate::plan::Block;
use crate::simd::Element;

/// Runs `e` over `b` with the kernel compiled for `isa`, its output stored
/// as `stores` says (non-temporal stores only where the ISA has them).
///
/// # Safety
/// `b` upholds the [`Block`] invariants and `isa` is in [`Isa::supported`]
/// (which [`Isa::resolve`] guarantees).
pub(crate) unsafe fn run<T: Element, E: Expr<T, N>, const N: usize>(
    isa: Isa,
    e: &E,
    b: &Block<T, N>,
    stores: Stores,
) {
    debug_assert!(isa.is_supported());
    // A crossed tile has functions of its own (x86_64 only: nothing else
    // crosses, `cross::runs`).
    #[cfg(target_arch = "x86_64")]
    let crossed = cross::runs(b, stores, isa);
    // SAFETY: in every arm, the caller upholds the block invariants, and
    // `isa` is supported by this CPU, so the arm's target features are
    // present; the crossed arms only for a crossed block.
    unsafe {
        match isa {
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 if crossed => x86_64::avx512_crossed(e, b, stores),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 if crossed => x86_64::avx2_crossed(e, b, stores),
            #[cfg(target_arch = "x86_64")]
            Isa::Sse2 if crossed => x86_64::sse2_crossed(e, b, stores),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => x86_64::avx512(e, b, stores),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => x86_64::avx2(e, b, stores),
            #[cfg(target_arch = "x86_64")]
            Isa::Sse2 => x86_64::sse2(e, b, stores),
            #[cfg(target_arch = "aarch64")]
            Isa::Neon => aarch64::neon(e, b, stores),
            // `Scalar`, and ISAs of other architectures (never supported here).
            _ => run_block::<T, T::Plain, Portable, E, N>(e, b, stores),
        }
    }
}

/// Makes this thread's streaming stores visible before anything it does
/// next (`sfence`), so that the tiles it wrote can be handed on. Streaming
/// stores exist only on x86_64; elsewhere there is nothing to order.
#[inline]
pub(crate) fn fence() {
    #[cfg(target_arch = "x86_64")]
    x86_64::sfence();
}

/// The primitives of the scalar path: none (normal stores, an
/// element-by-element pack).
struct Portable;

impl Stream for Portable {}

impl Transpose for Portable {}
