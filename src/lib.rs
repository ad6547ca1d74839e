//! # fuse2d
//!
//! Fused elementwise expressions over strided 2D arrays, at the speed of the
//! memory system. The flagship is `out = (a + b) * 2 + a * b`, computed in one
//! pass, no temporaries, with SIMD kernels chosen at run time for the CPU
//! (AVX-512, AVX2, SSE2 on x86_64; NEON on aarch64; a scalar fallback), and
//! bitwise equal to the plain scalar [`reference`] on every path.
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
//! ## Environment
//!
//! `FUSE2D_MAX_ISA=sse2` (or `scalar`, `avx2`, ...) caps the instruction set
//! for the whole process, so a test suite or benchmark can be rerun on each
//! lower path.

#![warn(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]

#[cfg(feature = "approx")]
mod approx_eq;
mod arch;
mod cache;
mod config;
mod error;
mod expr;
mod isa;
mod kernel;
mod matrix;
#[cfg(feature = "ndarray")]
pub mod nd;
mod par;
mod plan;
pub mod reference;
mod simd;
mod view;

pub use cache::CacheInfo;
pub use config::{Config, DEFAULT_SERIAL_THRESHOLD, Report, StoreMode};
pub use error::{Error, Shape};
pub use expr::{Expr, Flagship};
pub use isa::{Isa, MAX_ISA_ENV};
pub use matrix::Matrix;
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
