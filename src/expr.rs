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

/// Defines an elementwise expression type from a closure-like body.
///
/// `expr!(Name = |x, y| body)` makes a unit struct `Name` implementing
/// [`Expr<T, 2>`] for every element type `T`; one to four inputs.
/// `expr!(Name { a, b } = |x| body)` makes a struct generic over the element
/// type with public fields `a: T`, `b: T`, each available in the body as a
/// lane value (broadcast to every lane). Inside the body, the lane type is
/// `V` (so constants are `V::constant(2.5)`), and the methods of [`Lanes`]
/// (`sqrt`, `abs`, `min`, `max`, `mul_add`) are in scope. Visibility may be
/// given before the name. For anything the macro cannot say, implement
/// [`Expr`] directly.
///
/// ```
/// use fuse2d::{Config, Matrix, expr, reference};
///
/// expr!(pub Hypot = |x, y| (x * x + y * y).sqrt());
/// expr!(Clamp { lo, hi } = |x| x.max(lo).min(hi));
/// expr!(Poly = |x| (x + V::constant(1.0)) * x);
///
/// let x = Matrix::from_fn(3, 5, |i, j| i as f64 - j as f64);
/// let y = Matrix::from_fn(3, 5, |i, j| (i * j) as f64);
/// let h = Config::new().eval(&Hypot, [x.as_ref(), y.as_ref()])?;
/// assert_eq!(h.get(2, 4), Some(8.0f64.hypot(-2.0)));
///
/// let c = Config::new().eval(&Clamp { lo: -1.0, hi: 1.0 }, [x.as_ref()])?;
/// assert_eq!(c.get(0, 4), Some(-1.0));
///
/// let mut want = Matrix::zeros(3, 5);
/// reference::eval_into(&Poly, [x.as_ref()], want.as_mut())?;
/// assert_eq!(Config::new().eval(&Poly, [x.as_ref()])?, want);
/// # Ok::<(), fuse2d::Error>(())
/// ```
#[macro_export]
macro_rules! expr {
    ($(#[$m:meta])* $vis:vis $name:ident = |$($x:ident),+ $(,)?| $body:expr) => {
        $(#[$m])*
        #[doc = concat!("\n\nThe elementwise expression `|", stringify!($($x),+), "| ", stringify!($body), "`.")]
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
        $vis struct $name;

        impl<T: $crate::Element> $crate::Expr<T, { $crate::expr!(@count $($x)+) }> for $name {
            #[inline(always)]
            #[allow(unused_imports)]
            fn eval<V: $crate::Lanes<T>>(
                &self,
                [$($x),+]: [V; { $crate::expr!(@count $($x)+) }],
            ) -> V {
                use $crate::Lanes as _;
                $body
            }
        }
    };
    ($(#[$m:meta])* $vis:vis $name:ident { $($p:ident),+ $(,)? } = |$($x:ident),+ $(,)?| $body:expr) => {
        $(#[$m])*
        #[doc = concat!("\n\nThe elementwise expression `|", stringify!($($x),+), "| ", stringify!($body),
            "` with parameters `", stringify!($($p),+), "`.")]
        #[derive(Clone, Copy, Debug, Default, PartialEq)]
        $vis struct $name<T> {
            $(
                #[doc = concat!("The parameter `", stringify!($p), "`.")]
                pub $p: T,
            )+
        }

        impl<T: $crate::Element> $crate::Expr<T, { $crate::expr!(@count $($x)+) }> for $name<T> {
            #[inline(always)]
            #[allow(unused_imports)]
            fn eval<V: $crate::Lanes<T>>(
                &self,
                [$($x),+]: [V; { $crate::expr!(@count $($x)+) }],
            ) -> V {
                use $crate::Lanes as _;
                $(let $p = V::splat(self.$p);)+
                $body
            }
        }
    };
    (@count $x:ident) => { 1 };
    (@count $x:ident $y:ident) => { 2 };
    (@count $x:ident $y:ident $z:ident) => { 3 };
    (@count $x:ident $y:ident $z:ident $w:ident) => { 4 };
}

expr! {
    /// The flagship expression of the talk: `(a + b) * 2 + a * b`, defined
    /// through [`expr!`] like any user expression.
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
    pub Flagship = |a, b| (a + b) * V::constant(2.0) + a * b
}
