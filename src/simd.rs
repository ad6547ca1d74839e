//! Element types and lane types: the vocabulary expressions are written in.
//!
//! An expression is generic over a *lane type* `V: Lanes<T>`. The kernels
//! instantiate it with:
//!
//! * `V = T` (plain `f64`/`f32`) on the scalar path, and inside the AVX2 and
//!   AVX-512 clones, where LLVM auto-vectorises the loop to ymm/zmm (see
//!   `../shared/ARCHITECTURE.md` §2: `wide` stays 128-bit there);
//! * `V = wide::f64x4` / `wide::f32x8` on the SSE2 baseline and on NEON,
//!   where `wide` really compiles to those instructions.
//!
//! Every operation here rounds exactly once, as IEEE 754 says, on every lane
//! type; that is what makes results bitwise equal across paths.

use core::ops::{Add, Div, Mul, Neg, Sub};

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
    impl Sealed for wide::f32x8 {}
    impl Sealed for wide::f64x4 {}
}

/// A floating-point element type: `f64` or `f32`.
pub trait Element:
    sealed::Sealed
    + Copy
    + Send
    + Sync
    + PartialEq
    + PartialOrd
    + core::fmt::Debug
    + core::fmt::Display
    + Default
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + Vector<Self>
    + 'static
{
    /// Zero.
    const ZERO: Self;
    /// The explicit `wide` vector used on the SSE2 and NEON paths.
    #[doc(hidden)]
    type Wide: Vector<Self>;
    /// Converts an `f64` constant to this type, rounding to nearest.
    fn from_f64(x: f64) -> Self;
}

impl Element for f64 {
    const ZERO: Self = 0.0;
    type Wide = wide::f64x4;
    #[inline(always)]
    fn from_f64(x: f64) -> Self {
        x
    }
}

impl Element for f32 {
    const ZERO: Self = 0.0;
    type Wide = wide::f32x8;
    #[inline(always)]
    fn from_f64(x: f64) -> Self {
        x as f32
    }
}

/// A lane type an expression computes with: one element (`f64`) or several
/// (`wide::f64x4`), always with the same per-lane semantics.
///
/// Sealed: the kernels rely on each operation rounding exactly as its scalar
/// counterpart does.
pub trait Lanes<T: Element>:
    sealed::Sealed
    + Copy
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
{
    /// Every lane set to `x`.
    fn splat(x: T) -> Self;

    /// Every lane set to the constant `c`, rounded to `T`.
    #[inline(always)]
    fn constant(c: f64) -> Self {
        Self::splat(T::from_f64(c))
    }
}

/// What the kernels need beyond arithmetic: width, loads and stores.
#[doc(hidden)]
pub trait Vector<T: Element>: Lanes<T> {
    /// Elements per vector.
    const LANES: usize;
    /// Loads `LANES` elements from `p`.
    ///
    /// # Safety
    /// `p..p + LANES` must be readable (no alignment needed).
    unsafe fn load(p: *const T) -> Self;
    /// Stores `LANES` elements to `p`.
    ///
    /// # Safety
    /// `p..p + LANES` must be writable (no alignment needed).
    unsafe fn store(self, p: *mut T);
}

/// The widest vector any lane type has, in elements (for tail buffers).
pub(crate) const MAX_LANES: usize = 8;

macro_rules! scalar_lanes {
    ($t:ty) => {
        impl Lanes<$t> for $t {
            #[inline(always)]
            fn splat(x: $t) -> Self {
                x
            }
        }

        impl Vector<$t> for $t {
            const LANES: usize = 1;
            #[inline(always)]
            unsafe fn load(p: *const $t) -> Self {
                // SAFETY: the caller guarantees `p` is readable.
                unsafe { p.read() }
            }
            #[inline(always)]
            unsafe fn store(self, p: *mut $t) {
                // SAFETY: the caller guarantees `p` is writable.
                unsafe { p.write(self) }
            }
        }
    };
}

scalar_lanes!(f64);
scalar_lanes!(f32);

macro_rules! wide_lanes {
    ($v:ty, $t:ty, $n:literal) => {
        impl Lanes<$t> for $v {
            #[inline(always)]
            fn splat(x: $t) -> Self {
                <$v>::splat(x)
            }
        }

        impl Vector<$t> for $v {
            const LANES: usize = $n;
            #[inline(always)]
            unsafe fn load(p: *const $t) -> Self {
                // SAFETY: the caller guarantees `p..p + LANES` is readable;
                // `read_unaligned` needs no alignment.
                <$v>::new(unsafe { p.cast::<[$t; $n]>().read_unaligned() })
            }
            #[inline(always)]
            unsafe fn store(self, p: *mut $t) {
                // SAFETY: the caller guarantees `p..p + LANES` is writable;
                // `write_unaligned` needs no alignment.
                unsafe { p.cast::<[$t; $n]>().write_unaligned(self.to_array()) }
            }
        }
    };
}

wide_lanes!(wide::f64x4, f64, 4);
wide_lanes!(wide::f32x8, f32, 8);
