//! # fuse2d
//!
//! Fused elementwise expressions over strided 2D arrays, at the speed of the
//! memory system. The flagship is `out = (a + b) * 2 + a * b`, computed in one
//! pass, no temporaries, with SIMD kernels chosen at run time for the CPU
//! (AVX-512, AVX2, SSE2 on x86_64; NEON on aarch64; a scalar fallback), and
//! bitwise equal to the plain scalar [`reference`](mod@reference) on every path.
//!
//! ```
//! use fuse2d::{Matrix, MatRef};
//!
//! let a = Matrix::from_fn(2000, 2000, |i, j| (i * 2000 + j) as f64);
//! let b = Matrix::from_fn(2000, 2000, |i, j| 1.0 / (1.0 + i as f64 + j as f64));
//!
//! // Allocate and return (the talk's `output=None`).
//! let out = fuse2d::fused(a.as_ref(), b.as_ref())?;
//! assert_eq!(out, fuse2d::reference::fused(a.as_ref(), b.as_ref())?);
//!
//! // Or write into a caller's output, here one quadrant of it.
//! let mut big = Matrix::zeros(4000, 4000);
//! let [top_left, ..] = big.as_mut().quadrants();
//! fuse2d::fused_into(a.as_ref(), b.as_ref(), top_left)?;
//! assert_eq!(big.get(1999, 1999), out.get(1999, 1999));
//! # Ok::<(), fuse2d::Error>(())
//! ```
//!
//! ## Layout of the crate
//!
//! Data flows one way: [views](MatRef) (validated once) → plan (layout
//! normalised, ISA resolved once) → kernel (the algorithm, written once,
//! generic over the lane type) → per-ISA entry points (`arch/`, one line each).
//! Bad input returns an [`Error`] before anything is written.
//!
//! ## Writing your own expression
//!
//! An expression is written once, as ordinary scalar-looking Rust over a
//! lane type `V`, and gets every ISA path, the tiling, the threads, the
//! streaming stores, the strided views and the error checks of the flagship,
//! which is itself defined this way. The [`expr!`] macro covers the common
//! case; implement [`Expr`] for anything else. One to four inputs, `f64` or
//! `f32`.
//!
//! ```
//! use fuse2d::{Config, MatRef, Matrix, expr, reference};
//!
//! // Two inputs, `sqrt` from the lane vocabulary.
//! expr!(Hypot = |x, y| (x * x + y * y).sqrt());
//! // Parameters become struct fields, broadcast to every lane.
//! expr!(Lerp { t } = |a, b| a + (b - a) * t);
//!
//! let a = Matrix::from_fn(300, 200, |i, j| (i + j) as f32);
//! let b = Matrix::from_fn(300, 200, |i, j| (i * j) as f32);
//! let row: Vec<f32> = (0..200).map(|j| j as f32).collect();
//! // Broadcast one row across all 300 rows, as NumPy would.
//! let r = MatRef::broadcast_row(&row, 300)?;
//!
//! let cfg = Config::new().threads(2);
//! let h = cfg.eval(&Hypot, [a.as_ref(), r])?;
//! let l = cfg.eval(&Lerp { t: 0.25 }, [a.as_ref(), b.as_ref()])?;
//!
//! // Bitwise the scalar evaluation of the same expression.
//! let mut want = Matrix::zeros(300, 200);
//! reference::eval_into(&Hypot, [a.as_ref(), r], want.as_mut())?;
//! assert_eq!(h, want);
//! assert_eq!(l.get(2, 3), Some(5.0 + (6.0 - 5.0) * 0.25));
//! # Ok::<(), fuse2d::Error>(())
//! ```
//!
//! The element type is checked at compile time: `f64` and `f32` operands
//! cannot meet in one call.
//!
//! ```compile_fail
//! let a = fuse2d::Matrix::<f64>::zeros(2, 2);
//! let b = fuse2d::Matrix::<f32>::zeros(2, 2);
//! let _ = fuse2d::fused(a.as_ref(), b.as_ref());
//! ```
//!
//! ## Exactness contract
//!
//! - The flagship, and any expression built from `+ - * /`, negation,
//!   constants, [`sqrt`](Lanes::sqrt), [`abs`](Lanes::abs),
//!   [`min`](Lanes::min) and [`max`](Lanes::max), gives bitwise the same result
//!   on every ISA path, thread count, tile size, store mode and layout as its
//!   scalar evaluation ([`reference`](mod@reference)): each of those operations rounds once,
//!   and nothing is contracted into an FMA.
//! - `min(x, y)` is `if x < y { x } else { y }` and `max(x, y)` is
//!   `if x > y { x } else { y }`, lane by lane: when either is NaN, or both are
//!   zeros, the result is `y`, on every path.
//! - [`mul_add`](Lanes::mul_add) is fused (one rounding) on AVX2, AVX-512 and
//!   NEON and in the reference; on SSE2 and scalar it is a multiply then an
//!   add: compare it in ulps, not bitwise.
//! - NaN results are NaN on every path; where two NaNs meet in one operation
//!   Rust lets the compiler pick the surviving payload, so NaN *bits* are
//!   guaranteed only where at most one NaN source is involved; where two
//!   meet, the result is one of the two, quieted (see [`Lanes`]).
//!
//! ## Memory
//!
//! fuse2d's own allocations are the result of the allocating entry points,
//! one thread pool per count asked of [`Config::threads`] (built once, then
//! reused), and, when some operand must be transposed on the fly (a
//! column-major input with a row-major output, say), pack buffers: those
//! are kept per thread for later calls, about a quarter of L2 for all
//! transposed inputs together plus one row, and freed when the thread exits. (rayon
//! may allocate for its own scheduling.) On Linux a [`Matrix`] of 4 MiB or
//! more asks for transparent huge pages (`madvise(MADV_HUGEPAGE)`) before
//! its first write, as NumPy does for its arrays; views of your own
//! buffers are used as they are.
//!
//! ## Cargo features
//!
//! - `ndarray`: `ArrayView2` → [`MatRef`] and `ArrayViewMut2` → [`MatMut`]
//!   zero-copy (any strides), `Matrix` → `Array2`, and `nd::{fused,
//!   fused_into, eval}`.
//! - `approx`: `AbsDiffEq`, `RelativeEq`, `UlpsEq` for [`Matrix`], [`MatRef`]
//!   and [`MatMut`].
//!
//! Both are off by default.
//!
//! ## Environment
//!
//! `FUSE2D_MAX_ISA=sse2` (or `scalar`, `avx2`, ...) caps the instruction set
//! for the whole process, so a test suite or benchmark can be rerun on each
//! lower path.

#![warn(missing_docs)]

#[cfg(feature = "approx")]
mod approx_eq;
mod arch;
mod cache;
mod config;
mod cross;
mod error;
mod expr;
mod isa;
mod kernel;
mod matrix;
#[cfg(feature = "ndarray")]
pub mod nd;
mod pack;
mod par;
mod plan;
pub mod reference;
mod simd;
mod turn;
mod view;

pub use cache::CacheInfo;
pub use config::{Config, DEFAULT_SERIAL_THRESHOLD, Report, StoreMode};
pub use error::{Error, Shape};
pub use expr::{Expr, Flagship};
pub use isa::{Isa, MAX_ISA_ENV};
pub use matrix::Matrix;
#[doc(hidden)]
pub use pack::packed_strip;
pub use par::Schedule;
#[doc(hidden)]
pub use simd::Vector;
pub use simd::{Element, Lanes};
pub use view::{MatMut, MatRef};

/// `(a + b) * 2 + a * b` in a new row-major matrix, with the default
/// [`Config`].
///
/// ```
/// let a = fuse2d::Matrix::from_fn(2, 2, |i, j| (i + j) as f64);
/// let out = fuse2d::fused(a.as_ref(), a.as_ref())?;
/// assert_eq!(out.as_slice(), &[0.0, 5.0, 5.0, 12.0]);
/// # Ok::<(), fuse2d::Error>(())
/// ```
pub fn fused<T: Element>(a: MatRef<'_, T>, b: MatRef<'_, T>) -> Result<Matrix<T>, Error> {
    Config::new().fused(a, b)
}

/// `out = (a + b) * 2 + a * b` into a caller's output, with the default
/// [`Config`]. On error, `out` is untouched.
///
/// ```
/// let a = fuse2d::Matrix::from_fn(2, 2, |i, j| (i + j) as f64);
/// let mut out = fuse2d::Matrix::zeros(2, 3);
/// let err = fuse2d::fused_into(a.as_ref(), a.as_ref(), out.as_mut()).unwrap_err();
/// assert_eq!(err.to_string(), "output has shape (2, 3) but the inputs have shape (2, 2)");
/// assert!(out.as_slice().iter().all(|&x| x == 0.0));
/// ```
pub fn fused_into<T: Element>(
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    out: MatMut<'_, T>,
) -> Result<(), Error> {
    Config::new().fused_into(a, b, out)
}

/// The README's example, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
