//! `approx` comparisons (feature `approx`) for `Matrix` and the views, so
//! users can `assert_relative_eq!` results in their own tests. Two operands
//! of different shapes are never equal.
//!
//! ```
//! use approx::assert_relative_eq;
//! use fuse2d::Matrix;
//!
//! let a = Matrix::from_fn(2, 2, |i, j| (i + j) as f64 / 3.0);
//! let b = Matrix::from_fn(2, 2, |i, j| (i + j) as f64 * (1.0 / 3.0));
//! assert_relative_eq!(a, b, max_relative = 1e-15);
//! assert_relative_eq!(a.as_ref(), b.as_ref(), max_relative = 1e-15);
//! approx::assert_ulps_eq!(a, b, max_ulps = 2);
//! ```

use approx::{AbsDiffEq, RelativeEq, UlpsEq};

use crate::matrix::Matrix;
use crate::view::{MatMut, MatRef};

/// True when both have one shape and `f` holds for every pair of elements.
fn all_pairs<T: Copy>(a: MatRef<'_, T>, b: MatRef<'_, T>, f: impl Fn(&T, &T) -> bool) -> bool {
    a.shape() == b.shape()
        && (0..a.rows()).all(|i| {
            (0..a.cols()).all(|j| match (a.get(i, j), b.get(i, j)) {
                (Some(x), Some(y)) => f(&x, &y),
                _ => false,
            })
        })
}

macro_rules! approx_impls {
    ($ty:ty, $($lt:lifetime)?, $view:ident) => {
        impl<$($lt,)? T: AbsDiffEq + Copy> AbsDiffEq for $ty
        where
            T::Epsilon: Copy,
        {
            type Epsilon = T::Epsilon;
            fn default_epsilon() -> T::Epsilon {
                T::default_epsilon()
            }
            fn abs_diff_eq(&self, other: &Self, epsilon: T::Epsilon) -> bool {
                all_pairs($view(self), $view(other), |x, y| x.abs_diff_eq(y, epsilon))
            }
        }

        impl<$($lt,)? T: RelativeEq + Copy> RelativeEq for $ty
        where
            T::Epsilon: Copy,
        {
            fn default_max_relative() -> T::Epsilon {
                T::default_max_relative()
            }
            fn relative_eq(&self, other: &Self, epsilon: T::Epsilon, max_relative: T::Epsilon) -> bool {
                all_pairs($view(self), $view(other), |x, y| x.relative_eq(y, epsilon, max_relative))
            }
        }

        impl<$($lt,)? T: UlpsEq + Copy> UlpsEq for $ty
        where
            T::Epsilon: Copy,
        {
            fn default_max_ulps() -> u32 {
                T::default_max_ulps()
            }
            fn ulps_eq(&self, other: &Self, epsilon: T::Epsilon, max_ulps: u32) -> bool {
                all_pairs($view(self), $view(other), |x, y| x.ulps_eq(y, epsilon, max_ulps))
            }
        }
    };
}

fn matrix_view<T>(m: &Matrix<T>) -> MatRef<'_, T> {
    m.as_ref()
}

fn same_view<'a, T>(v: &MatRef<'a, T>) -> MatRef<'a, T> {
    *v
}

approx_impls!(Matrix<T>, , matrix_view);
approx_impls!(MatRef<'a, T>, 'a, same_view);
approx_impls!(MatMut<'a, T>, 'a, mut_view);

fn mut_view<'s, T>(v: &'s MatMut<'_, T>) -> MatRef<'s, T> {
    v.as_ref()
}
