//! An owned row-major matrix, for results.

use crate::error::{Error, Shape};
use crate::simd::Element;
use crate::view::{MatMut, MatRef};

/// An owned, contiguous, row-major `rows x cols` matrix.
///
/// ```
/// use fuse2d::Matrix;
///
/// let m = Matrix::from_fn(2, 3, |i, j| (10 * i + j) as f64);
/// assert_eq!(m.shape(), (2, 3));
/// assert_eq!(m.as_slice(), &[0.0, 1.0, 2.0, 10.0, 11.0, 12.0]);
/// assert_eq!(m.as_ref().t().get(2, 1), Some(12.0));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Matrix<T> {
    data: Vec<T>,
    rows: usize,
    cols: usize,
}

impl<T: Element> Matrix<T> {
    /// A `rows x cols` matrix of zeros.
    ///
    /// Panics if `rows * cols` overflows or memory runs out, like `vec!`;
    /// [`Matrix::try_zeros`] reports those as an [`Error`] instead.
    pub fn zeros(rows: usize, cols: usize) -> Self {
        match Self::try_zeros(rows, cols) {
            Ok(m) => m,
            Err(e) => panic!("Matrix::zeros: {e}"),
        }
    }

    /// A `rows x cols` matrix of zeros, or [`Error::Overflow`] /
    /// [`Error::Alloc`] if it cannot be made.
    pub fn try_zeros(rows: usize, cols: usize) -> Result<Self, Error> {
        let shape = (rows, cols);
        // The same bounds as every view (view invariant 1), and a size in
        // bytes that fits an allocation.
        let max = isize::MAX as usize;
        let n = rows
            .checked_mul(cols)
            .filter(|&n| rows <= max && cols <= max && n <= max / core::mem::size_of::<T>().max(1))
            .ok_or(Error::Overflow { shape })?;
        let mut data = Vec::new();
        data.try_reserve_exact(n)
            .map_err(|_| Error::Alloc { shape })?;
        data.resize(n, T::ZERO);
        Ok(Matrix { data, rows, cols })
    }

    /// A matrix whose element `(i, j)` is `f(i, j)`.
    pub fn from_fn(rows: usize, cols: usize, mut f: impl FnMut(usize, usize) -> T) -> Self {
        let mut m = Self::zeros(rows, cols);
        for (k, x) in m.data.iter_mut().enumerate() {
            *x = f(k / cols, k % cols);
        }
        m
    }

    /// Takes a row-major `Vec` of length `rows * cols`.
    pub fn from_vec(rows: usize, cols: usize, data: Vec<T>) -> Result<Self, Error> {
        // Validates the length the same way the views do.
        MatRef::from_slice(&data, rows, cols)?;
        Ok(Matrix { data, rows, cols })
    }

    /// A copy of any view, in row-major order.
    pub fn from_view(view: MatRef<'_, T>) -> Self {
        Self::from_fn(view.rows(), view.cols(), |i, j| {
            view.get(i, j)
                .expect("(i, j) ranges over the view's own shape")
        })
    }
}

impl<T> Matrix<T> {
    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// `(rows, cols)`.
    pub fn shape(&self) -> Shape {
        (self.rows, self.cols)
    }

    /// The element at `(i, j)`, or `None` out of range.
    pub fn get(&self, i: usize, j: usize) -> Option<T>
    where
        T: Copy,
    {
        (i < self.rows && j < self.cols).then(|| self.data[i * self.cols + j])
    }

    /// The elements in row-major order.
    pub fn as_slice(&self) -> &[T] {
        &self.data
    }

    /// The elements in row-major order, mutably.
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        &mut self.data
    }

    /// The row-major `Vec`.
    pub fn into_vec(self) -> Vec<T> {
        self.data
    }

    /// A read-only view of the whole matrix.
    pub fn as_ref(&self) -> MatRef<'_, T> {
        MatRef::from_slice(&self.data, self.rows, self.cols)
            .expect("a Matrix's length is rows * cols by construction")
    }

    /// A mutable view of the whole matrix.
    pub fn as_mut(&mut self) -> MatMut<'_, T> {
        MatMut::from_slice(&mut self.data, self.rows, self.cols)
            .expect("a Matrix's length is rows * cols by construction")
    }
}
