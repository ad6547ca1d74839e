//! ndarray interop (feature `ndarray`): views of any strides convert
//! zero-copy, results come back as `Array2`.
//!
//! ```
//! use ndarray::{Array2, ShapeBuilder};
//!
//! let a = Array2::from_shape_fn((3, 4), |(i, j)| (i * 4 + j) as f64);
//! // Column-major `b`, and a reversed view of it: any strides work.
//! let b = Array2::from_shape_fn((3, 4).f(), |(i, j)| (i + j) as f64);
//! let out: Array2<f64> = fuse2d::nd::fused(a.view(), b.view())?;
//! assert_eq!(out[(2, 3)], (11.0 + 5.0) * 2.0 + 11.0 * 5.0);
//!
//! let mut into = Array2::zeros((3, 4));
//! fuse2d::nd::fused_into(a.view(), b.slice(ndarray::s![.., ..;-1]), into.view_mut())?;
//! assert_eq!(into[(0, 0)], (0.0 + 3.0) * 2.0 + 0.0 * 3.0);
//! # Ok::<(), fuse2d::Error>(())
//! ```

use ndarray::{Array2, ArrayView2, ArrayViewMut2};

use crate::error::Error;
use crate::matrix::Matrix;
use crate::simd::Element;
use crate::view::{MatMut, MatRef};
use crate::{Config, Flagship};

impl<'a, T> From<ArrayView2<'a, T>> for MatRef<'a, T> {
    /// Zero-copy: the same pointer, shape and strides.
    fn from(v: ArrayView2<'a, T>) -> Self {
        let (rows, cols) = v.dim();
        let s = v.strides();
        // SAFETY: an `ArrayView2<'a, T>` guarantees that every element its
        // shape and strides reach is a valid, shared-borrowed `T` for `'a`,
        // and that the element count fits in `isize` (invariants 1-3).
        unsafe { MatRef::from_raw_parts(v.as_ptr(), (rows, cols), (s[0], s[1])) }
    }
}

impl<'a, T> TryFrom<ArrayViewMut2<'a, T>> for MatMut<'a, T> {
    type Error = Error;

    /// Zero-copy; fails with [`Error::OverlappingOutput`] for the rare
    /// interleaved layouts the view's no-overlap rule does not accept.
    fn try_from(mut v: ArrayViewMut2<'a, T>) -> Result<Self, Error> {
        let (rows, cols) = v.dim();
        let s = v.strides();
        let strides = (s[0], s[1]);
        let ptr = v.as_mut_ptr();
        // SAFETY: an `ArrayViewMut2<'a, T>` guarantees every reachable
        // element is a valid `T` exclusively borrowed for `'a`, and that the
        // element count fits in `isize`; `from_raw_parts_mut` checks that no
        // two elements overlap.
        unsafe { MatMut::from_raw_parts_mut(ptr, (rows, cols), strides) }
    }
}

impl<T> From<Matrix<T>> for Array2<T> {
    /// Moves the row-major buffer into an `Array2` (no copy).
    fn from(m: Matrix<T>) -> Self {
        let shape = m.shape();
        Array2::from_shape_vec(shape, m.into_vec())
            .expect("a Matrix's buffer holds rows * cols elements")
    }
}

/// `(a + b) * 2 + a * b` of two ndarray views, as a new `Array2`.
pub fn fused<T: Element>(a: ArrayView2<'_, T>, b: ArrayView2<'_, T>) -> Result<Array2<T>, Error> {
    eval(&Config::new(), &Flagship, [a, b])
}

/// `out = (a + b) * 2 + a * b` into an ndarray view; on error `out` is untouched.
pub fn fused_into<T: Element>(
    a: ArrayView2<'_, T>,
    b: ArrayView2<'_, T>,
    out: ArrayViewMut2<'_, T>,
) -> Result<(), Error> {
    Config::new().fused_into(a.into(), b.into(), out.try_into()?)
}

/// Any expression over ndarray views, with a configuration, as a new `Array2`.
pub fn eval<T: Element, E: crate::Expr<T, N>, const N: usize>(
    cfg: &Config,
    expr: &E,
    ins: [ArrayView2<'_, T>; N],
) -> Result<Array2<T>, Error> {
    Ok(cfg.eval(expr, ins.map(MatRef::from))?.into())
}
