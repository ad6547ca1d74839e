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
    impl<T> Sealed for super::Plain<T> {}
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
    /// The one-element lane type of the scalar path.
    #[doc(hidden)]
    type Plain: Vector<Self>;
    /// Converts an `f64` constant to this type, rounding to nearest.
    fn from_f64(x: f64) -> Self;
}

impl Element for f64 {
    const ZERO: Self = 0.0;
    type Wide = wide::f64x4;
    type Plain = Plain<f64>;
    #[inline(always)]
    fn from_f64(x: f64) -> Self {
        x
    }
}

impl Element for f32 {
    const ZERO: Self = 0.0;
    type Wide = wide::f32x8;
    type Plain = Plain<f32>;
    #[inline(always)]
    fn from_f64(x: f64) -> Self {
        x as f32
    }
}

/// A lane type an expression computes with: one element (`f64`) or several
/// (`wide::f64x4`), always with the same per-lane semantics.
///
/// # Exactness
///
/// `+ - * /`, [`neg`](core::ops::Neg), [`sqrt`](Lanes::sqrt),
/// [`abs`](Lanes::abs), [`min`](Lanes::min) and [`max`](Lanes::max) give
/// bitwise the same result on every lane type, hence on every ISA path:
/// each rounds once, as IEEE 754 specifies, and `min`/`max` are defined as
/// selections (below), not as the ISA's own min instruction.
/// [`mul_add`](Lanes::mul_add) is the one exception: see its docs.
///
/// NaNs: a NaN result is a NaN on every path, and NaNs an expression makes
/// from non-NaN inputs (`0 / 0`, `inf - inf`, `sqrt(-1)`) have the same bits
/// on every path of one platform. When two NaNs meet in one operation,
/// Rust leaves the surviving payload and sign to the compiler (RFC 3514;
/// LLVM may commute `+` and `*`), so where an input is NaN the result's NaN
/// bits may differ between paths: it is one of the input NaNs, quieted.
/// (Seen on an Intel Xeon, which returns the first operand's NaN: the AVX2
/// streaming path and the reference passed on different ones of two input
/// NaNs. The flagship's tests check exactly this rule.)
///
/// Sealed: the kernels rely on these semantics.
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

    /// Square root, correctly rounded. A negative input gives the
    /// platform's default NaN, the same on every path of one platform.
    fn sqrt(self) -> Self;

    /// Absolute value: clears the sign bit (also of a NaN).
    fn abs(self) -> Self;

    /// `if self < other { self } else { other }`, lane by lane.
    ///
    /// So when either is NaN, or both are zeros of either sign, the result
    /// is `other` — exactly x86's `minpd` rule, and the same on every path
    /// (NEON included, where it is a compare and a select).
    fn min(self, other: Self) -> Self;

    /// `if self > other { self } else { other }`, lane by lane; `other` when
    /// either is NaN or both are zeros.
    fn max(self, other: Self) -> Self;

    /// `self * a + b`.
    ///
    /// Fused (one rounding) where the path has hardware FMA: the AVX2 and
    /// AVX-512 clones and NEON; also in [`crate::reference::eval_into`],
    /// which uses the exact software `fma`. On the SSE2 and scalar paths, which
    /// have no FMA instruction, it is a multiply then an add (two roundings)
    /// to stay fast: the result can differ from the fused one in the last
    /// bits, so compare with a tolerance (ulps), never bitwise.
    fn mul_add(self, a: Self, b: Self) -> Self;
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

/// One element as a lane type for the scalar path: the same arithmetic as
/// `T`, except that [`Lanes::mul_add`] is a multiply then an add (the
/// baseline has no FMA instruction, and software `fma` is about 11x slower).
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq)]
#[repr(transparent)]
pub struct Plain<T>(T);

macro_rules! scalar_lanes {
    ($t:ty) => {
        impl Lanes<$t> for $t {
            #[inline(always)]
            fn splat(x: $t) -> Self {
                x
            }
            #[inline(always)]
            fn sqrt(self) -> Self {
                <$t>::sqrt(self)
            }
            #[inline(always)]
            fn abs(self) -> Self {
                <$t>::abs(self)
            }
            #[inline(always)]
            fn min(self, other: Self) -> Self {
                if self < other { self } else { other }
            }
            #[inline(always)]
            fn max(self, other: Self) -> Self {
                if self > other { self } else { other }
            }
            #[inline(always)]
            fn mul_add(self, a: Self, b: Self) -> Self {
                <$t>::mul_add(self, a, b)
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

        impl Lanes<$t> for Plain<$t> {
            #[inline(always)]
            fn splat(x: $t) -> Self {
                Plain(x)
            }
            #[inline(always)]
            fn sqrt(self) -> Self {
                Plain(Lanes::sqrt(self.0))
            }
            #[inline(always)]
            fn abs(self) -> Self {
                Plain(Lanes::abs(self.0))
            }
            #[inline(always)]
            fn min(self, other: Self) -> Self {
                Plain(Lanes::min(self.0, other.0))
            }
            #[inline(always)]
            fn max(self, other: Self) -> Self {
                Plain(Lanes::max(self.0, other.0))
            }
            #[inline(always)]
            fn mul_add(self, a: Self, b: Self) -> Self {
                Plain(self.0 * a.0 + b.0)
            }
        }

        impl Vector<$t> for Plain<$t> {
            const LANES: usize = 1;
            #[inline(always)]
            unsafe fn load(p: *const $t) -> Self {
                // SAFETY: the caller guarantees `p` is readable.
                Plain(unsafe { p.read() })
            }
            #[inline(always)]
            unsafe fn store(self, p: *mut $t) {
                // SAFETY: the caller guarantees `p` is writable.
                unsafe { p.write(self.0) }
            }
        }
    };
}

macro_rules! plain_ops {
    ($($op:ident $f:ident),*) => {$(
        impl<T: core::ops::$op<Output = T>> core::ops::$op for Plain<T> {
            type Output = Self;
            #[inline(always)]
            fn $f(self, rhs: Self) -> Self {
                Plain(core::ops::$op::$f(self.0, rhs.0))
            }
        }
    )*};
}

plain_ops!(Add add, Sub sub, Mul mul, Div div);

impl<T: Neg<Output = T>> Neg for Plain<T> {
    type Output = Self;
    #[inline(always)]
    fn neg(self) -> Self {
        Plain(-self.0)
    }
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
            #[inline(always)]
            fn sqrt(self) -> Self {
                <$v>::sqrt(self)
            }
            #[inline(always)]
            fn abs(self) -> Self {
                <$v>::abs(self)
            }
            #[inline(always)]
            fn min(self, other: Self) -> Self {
                self.simd_lt(other).select(self, other)
            }
            #[inline(always)]
            fn max(self, other: Self) -> Self {
                self.simd_gt(other).select(self, other)
            }
            #[inline(always)]
            fn mul_add(self, a: Self, b: Self) -> Self {
                // Fused on NEON (`vfmaq`); a multiply and an add on the
                // SSE2 baseline, which has no FMA.
                <$v>::mul_add(self, a, b)
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
