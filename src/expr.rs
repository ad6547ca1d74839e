//! Elementwise expressions: written once, compiled for every path.

use crate::simd::{Element, Lanes};

/// An elementwise expression of `N` input arrays.
///
/// `eval` is written once, as scalar-looking generic code over a lane type
/// `V`; the driver runs it with `V = T` on the scalar path and inside the
/// AVX2/AVX-512 clones, and with `wide` vectors on SSE2 and NEON. Keep it
/// `#[inline(always)]` so each clone compiles it with its own features.
///
/// Built from `+ - * /` and negation, an expression gives bitwise the same
/// result on every path, because each of those operations rounds once.
///
/// ```
/// use fuse2d::{Config, Element, Expr, Lanes, Matrix};
///
/// /// `a * x + y` with a scalar `a` captured in the expression.
/// struct Axpy(f64);
///
/// impl Expr<f64, 2> for Axpy {
///     #[inline(always)]
///     fn eval<V: Lanes<f64>>(&self, [x, y]: [V; 2]) -> V {
///         V::splat(self.0) * x + y
///     }
/// }
///
/// let x = Matrix::from_fn(3, 4, |i, j| (i + j) as f64);
/// let y = Matrix::from_fn(3, 4, |_, _| 1.0);
/// let mut out = Matrix::zeros(3, 4);
/// Config::new().run(&Axpy(2.0), [x.as_ref(), y.as_ref()], out.as_mut())?;
/// assert_eq!(out.get(2, 3), Some(11.0));
/// # Ok::<(), fuse2d::Error>(())
/// ```
pub trait Expr<T: Element, const N: usize>: Sync {
    /// Computes one lane-wise result from `N` lane-wise inputs.
    fn eval<V: Lanes<T>>(&self, inputs: [V; N]) -> V;
}

/// The flagship expression of the talk: `(a + b) * 2 + a * b`.
///
/// No FMA: every operation rounds on its own, as NumPy's
/// `(a + b) * 2 + a * b` does, so the result is bitwise the reference's.
///
/// ```
/// use fuse2d::{Expr, Flagship};
///
/// let r: f64 = Flagship.eval([3.0, 4.0]);
/// assert_eq!(r, (3.0 + 4.0) * 2.0 + 3.0 * 4.0);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flagship;

impl<T: Element> Expr<T, 2> for Flagship {
    #[inline(always)]
    fn eval<V: Lanes<T>>(&self, [a, b]: [V; 2]) -> V {
        (a + b) * V::constant(2.0) + a * b
    }
}
