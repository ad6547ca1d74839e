//! The scalar reference: plain index loops over the views, no SIMD, no
//! threads, no cleverness. It is the oracle every test compares against, and
//! public so users can check their own results with it.
//!
//! ```
//! use fuse2d::{reference, Matrix};
//!
//! let a = Matrix::from_fn(3, 3, |i, j| (i * 3 + j) as f64);
//! let b = Matrix::from_fn(3, 3, |_, _| 0.5);
//! let fast = fuse2d::fused(a.as_ref(), b.as_ref())?;
//! let slow = reference::fused(a.as_ref(), b.as_ref())?;
//! assert_eq!(fast, slow);
//! # Ok::<(), fuse2d::Error>(())
//! ```

use crate::error::Error;
use crate::expr::Expr;
use crate::matrix::Matrix;
use crate::plan::check_shapes;
use crate::simd::Element;
use crate::view::{MatMut, MatRef};

/// `out[i, j] = (a[i, j] + b[i, j]) * 2 + a[i, j] * b[i, j]`, one element at
/// a time, each operation rounded on its own (as NumPy does).
pub fn fused_into<T: Element>(
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    mut out: MatMut<'_, T>,
) -> Result<(), Error> {
    let (rows, cols) = check_shapes([a.shape(), b.shape()], out.shape())?;
    let two = T::from_f64(2.0);
    for i in 0..rows {
        for j in 0..cols {
            let (x, y) = (at(a, i, j), at(b, i, j));
            *out.get_mut(i, j)
                .expect("(i, j) is inside the checked shape") = (x + y) * two + x * y;
        }
    }
    Ok(())
}

/// The reference result of the flagship expression, in a new matrix.
pub fn fused<T: Element>(a: MatRef<'_, T>, b: MatRef<'_, T>) -> Result<Matrix<T>, Error> {
    check_shapes([a.shape(), b.shape()], a.shape())?;
    let mut out = Matrix::try_zeros(a.rows(), a.cols())?;
    fused_into(a, b, out.as_mut())?;
    Ok(out)
}

/// Evaluates any expression one element at a time with scalar lanes
/// (`V = T`): the reference for user-defined expressions.
pub fn eval_into<T: Element, E: Expr<T, N>, const N: usize>(
    e: &E,
    ins: [MatRef<'_, T>; N],
    mut out: MatMut<'_, T>,
) -> Result<(), Error> {
    let (rows, cols) = check_shapes(ins.map(|v| v.shape()), out.shape())?;
    for i in 0..rows {
        for j in 0..cols {
            let x: [T; N] = ins.map(|v| at(v, i, j));
            *out.get_mut(i, j)
                .expect("(i, j) is inside the checked shape") = e.eval(x);
        }
    }
    Ok(())
}

fn at<T: Element>(v: MatRef<'_, T>, i: usize, j: usize) -> T {
    v.get(i, j).expect("(i, j) is inside the checked shape")
}
