//! Strided 2D views over borrowed memory: the Rust twin of Python's buffer
//! protocol (`buf`, `shape`, `strides`), with strides counted in elements.
//!
//! # Invariants
//!
//! Every [`MatRef`] and [`MatMut`] upholds, from its construction on:
//!
//! 1. **Shape.** `rows`, `cols` and `rows * cols` are at most `isize::MAX`.
//! 2. **Reach.** For every `0 <= i < rows`, `0 <= j < cols`, the element
//!    `ptr + i * row_stride + j * col_stride` lies inside the slice the view
//!    borrows (so each such offset also fits in `isize`). An empty view
//!    (`rows == 0` or `cols == 0`) reaches no element and its pointer is never
//!    dereferenced.
//! 3. **Borrow.** The memory is borrowed for `'a`: shared for `MatRef`,
//!    exclusive for `MatMut`, exactly as `&'a [T]` and `&'a mut [T]`.
//! 4. **No overlap (`MatMut` only).** Distinct `(i, j)` reach distinct
//!    elements. Checked as: the axis with the larger `|stride|` steps over the
//!    whole extent of the other (`|s_big| >= |s_small| * n_small`, `s_small != 0`),
//!    which covers row-major, column-major, padded and reversed layouts.
//!
//! The safe constructors check 1, 2 and 4 once, against the slice's length,
//! in overflow-free `i128` arithmetic. Every operation that derives a view
//! (sub-view, split, quadrants, transpose, reversal) selects a subset of the
//! elements of its parent or re-labels them, so it keeps all four by
//! construction; the kernels then need no bounds checks.

use core::marker::PhantomData;

use crate::error::{Error, Shape};

/// Geometry of a view: shape and strides (elements), without the pointer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Geometry {
    pub rows: usize,
    pub cols: usize,
    pub rs: isize,
    pub cs: isize,
}

impl Geometry {
    fn shape(self) -> Shape {
        (self.rows, self.cols)
    }

    fn is_empty(self) -> bool {
        self.rows == 0 || self.cols == 0
    }

    /// Checks invariant 1.
    fn check_shape(self) -> Result<(), Error> {
        let max = isize::MAX as usize;
        match self.rows.checked_mul(self.cols) {
            Some(n) if self.rows <= max && self.cols <= max && n <= max => Ok(()),
            _ => Err(Error::Overflow {
                shape: self.shape(),
            }),
        }
    }

    /// Checks invariants 1 and 2 for a view at `offset` in a slice of `len`.
    fn check(self, offset: usize, len: usize) -> Result<(), Error> {
        self.check_shape()?;
        let out_of_bounds = Error::OutOfBounds {
            shape: self.shape(),
            strides: (self.rs, self.cs),
            offset,
            len,
        };
        if self.is_empty() {
            return if offset <= len {
                Ok(())
            } else {
                Err(out_of_bounds)
            };
        }
        // i128 holds every product of a usize and an isize exactly.
        let span = |n: usize, s: isize| (n as i128 - 1) * s as i128;
        let (r, c) = (span(self.rows, self.rs), span(self.cols, self.cs));
        let lo = offset as i128 + r.min(0) + c.min(0);
        let hi = offset as i128 + r.max(0) + c.max(0);
        if lo >= 0 && hi < len as i128 {
            Ok(())
        } else {
            Err(out_of_bounds)
        }
    }

    /// Checks invariant 4 (no two elements share memory).
    fn check_no_overlap(self) -> Result<(), Error> {
        let overlap = Err(Error::OverlappingOutput {
            shape: self.shape(),
            strides: (self.rs, self.cs),
        });
        // Only axes with more than one index can collide.
        let mut axes = [(self.rows, self.rs), (self.cols, self.cs)];
        if self.is_empty() {
            return Ok(());
        }
        axes.sort_by_key(|&(_, s)| s.unsigned_abs());
        let live: Vec<(usize, isize)> = axes.into_iter().filter(|&(n, _)| n > 1).collect();
        match live.as_slice() {
            [] => Ok(()),
            [(_, s)] => {
                if *s != 0 {
                    Ok(())
                } else {
                    overlap
                }
            }
            [(n_small, s_small), (_, s_big)] => {
                let reach = s_small.unsigned_abs() as u128 * *n_small as u128;
                if *s_small != 0 && s_big.unsigned_abs() as u128 >= reach {
                    Ok(())
                } else {
                    overlap
                }
            }
            _ => unreachable!("a 2D view has two axes"),
        }
    }

    /// The element offset of `(i, j)`; in range by invariant 2 when `i < rows`, `j < cols`.
    #[inline]
    fn offset(self, i: usize, j: usize) -> isize {
        i as isize * self.rs + j as isize * self.cs
    }

    /// The offset and geometry of a sub-view, checked against this one.
    fn sub(
        self,
        row: usize,
        col: usize,
        nrows: usize,
        ncols: usize,
    ) -> Result<(isize, Self), Error> {
        let fits =
            |start: usize, n: usize, total: usize| start.checked_add(n).is_some_and(|e| e <= total);
        if !fits(row, nrows, self.rows) || !fits(col, ncols, self.cols) {
            return Err(Error::SubviewOutOfRange {
                parent: self.shape(),
                start: (row, col),
                shape: (nrows, ncols),
            });
        }
        let g = Geometry {
            rows: nrows,
            cols: ncols,
            ..self
        };
        // An empty sub-view keeps its parent's pointer: it is never dereferenced.
        let off = if g.is_empty() {
            0
        } else {
            self.offset(row, col)
        };
        Ok((off, g))
    }

    fn transpose(self) -> Self {
        Geometry {
            rows: self.cols,
            cols: self.rows,
            rs: self.cs,
            cs: self.rs,
        }
    }

    /// The offset and geometry of the same elements with rows in reverse order.
    fn reverse_rows(self) -> (isize, Self) {
        if self.is_empty() {
            return (0, self);
        }
        let off = self.offset(self.rows - 1, 0);
        (
            off,
            Geometry {
                rs: -self.rs,
                ..self
            },
        )
    }

    fn quadrant_bounds(self) -> [(usize, usize, usize, usize); 4] {
        let (v, h) = (self.rows / 2, self.cols / 2);
        let (r2, c2) = (self.rows - v, self.cols - h);
        [(0, 0, v, h), (0, h, v, c2), (v, 0, r2, h), (v, h, r2, c2)]
    }
}

/// A read-only strided 2D view of `T`, borrowed for `'a`.
///
/// Cheap to copy. Strides are signed and counted in elements; a stride may
/// be zero (broadcasting) or negative (reversed order).
///
/// ```
/// use fuse2d::MatRef;
///
/// let data: Vec<f64> = (0..12).map(f64::from).collect();
/// // 3 x 4, row-major.
/// let m = MatRef::from_slice(&data, 3, 4)?;
/// assert_eq!(m.get(1, 2), Some(6.0));
/// // Every other column: 3 x 2 with strides (4, 2).
/// let odd = MatRef::from_strided(&data, (3, 2), (4, 2), 1)?;
/// assert_eq!(odd.get(2, 1), Some(11.0));
/// // Transposed: 4 x 3, no copy.
/// assert_eq!(m.t().get(2, 1), Some(6.0));
/// # Ok::<(), fuse2d::Error>(())
/// ```
pub struct MatRef<'a, T> {
    ptr: *const T,
    geo: Geometry,
    _borrow: PhantomData<&'a [T]>,
}

/// A mutable strided 2D view of `T`, borrowed exclusively for `'a`.
///
/// No two of its elements share memory (checked at construction).
///
/// ```
/// use fuse2d::MatMut;
///
/// let mut data = vec![0.0f64; 6];
/// let mut m = MatMut::from_slice(&mut data, 2, 3)?;
/// if let Some(x) = m.get_mut(1, 2) {
///     *x = 5.0;
/// }
/// assert_eq!(data[5], 5.0);
/// # Ok::<(), fuse2d::Error>(())
/// ```
pub struct MatMut<'a, T> {
    ptr: *mut T,
    geo: Geometry,
    _borrow: PhantomData<&'a mut [T]>,
}

// SAFETY: a `MatRef` is a shared borrow of `T`s, like `&'a [T]`, which is
// `Send` and `Sync` exactly when `T: Sync`.
unsafe impl<T: Sync> Send for MatRef<'_, T> {}
// SAFETY: as above.
unsafe impl<T: Sync> Sync for MatRef<'_, T> {}
// SAFETY: a `MatMut` is an exclusive borrow of `T`s, like `&'a mut [T]`,
// which is `Send` when `T: Send` and `Sync` when `T: Sync`.
unsafe impl<T: Send> Send for MatMut<'_, T> {}
// SAFETY: as above; through `&MatMut` only reads are possible.
unsafe impl<T: Sync> Sync for MatMut<'_, T> {}

impl<T> Clone for MatRef<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for MatRef<'_, T> {}

/// Element-wise equality (IEEE: NaN != NaN); views of different shapes or
/// layouts compare by their elements, not their strides.
impl<T: PartialEq + Copy> PartialEq<MatRef<'_, T>> for MatRef<'_, T> {
    fn eq(&self, other: &MatRef<'_, T>) -> bool {
        self.shape() == other.shape()
            && (0..self.rows()).all(|i| (0..self.cols()).all(|j| self.get(i, j) == other.get(i, j)))
    }
}

/// Element-wise equality, as for [`MatRef`].
impl<T: PartialEq + Copy> PartialEq<MatMut<'_, T>> for MatMut<'_, T> {
    fn eq(&self, other: &MatMut<'_, T>) -> bool {
        self.as_ref() == other.as_ref()
    }
}

impl<T> core::fmt::Debug for MatRef<'_, T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("MatRef")
            .field("shape", &self.shape())
            .field("strides", &self.strides())
            .finish()
    }
}

impl<T> core::fmt::Debug for MatMut<'_, T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("MatMut")
            .field("shape", &self.shape())
            .field("strides", &self.strides())
            .finish()
    }
}

fn contiguous_len(rows: usize, cols: usize, len: usize) -> Result<(), Error> {
    match rows.checked_mul(cols) {
        None => Err(Error::Overflow {
            shape: (rows, cols),
        }),
        Some(n) if n != len => Err(Error::LengthMismatch {
            shape: (rows, cols),
            len,
        }),
        Some(_) => Ok(()),
    }
}

fn strides_from(rs: usize, cs: usize, shape: Shape) -> Result<(isize, isize), Error> {
    match (isize::try_from(rs), isize::try_from(cs)) {
        (Ok(r), Ok(c)) => Ok((r, c)),
        _ => Err(Error::Overflow { shape }),
    }
}

/// Accessors shared by both view types.
macro_rules! view_accessors {
    () => {
        /// Number of rows.
        #[inline]
        pub fn rows(&self) -> usize {
            self.geo.rows
        }

        /// Number of columns.
        #[inline]
        pub fn cols(&self) -> usize {
            self.geo.cols
        }

        /// `(rows, cols)`.
        #[inline]
        pub fn shape(&self) -> Shape {
            self.geo.shape()
        }

        /// `(row_stride, col_stride)`, in elements.
        #[inline]
        pub fn strides(&self) -> (isize, isize) {
            (self.geo.rs, self.geo.cs)
        }

        /// True when the view has no element.
        #[inline]
        pub fn is_empty(&self) -> bool {
            self.geo.is_empty()
        }

        /// The element at `(i, j)`, or `None` out of range.
        #[inline]
        pub fn get(&self, i: usize, j: usize) -> Option<T>
        where
            T: Copy,
        {
            if i < self.geo.rows && j < self.geo.cols {
                // SAFETY: `(i, j)` is in range, so by invariant 2 the element
                // lies inside the borrowed slice.
                Some(unsafe { *self.ptr.offset(self.geo.offset(i, j)) })
            } else {
                None
            }
        }

        /// True when each row is contiguous and rows follow each other
        /// (row-major, no padding).
        #[inline]
        pub fn is_row_major_contiguous(&self) -> bool {
            let g = self.geo;
            (g.cols <= 1 || g.cs == 1) && (g.rows <= 1 || g.rs == g.cols as isize)
        }
    };
}

impl<'a, T> MatRef<'a, T> {
    /// A row-major `rows x cols` view of `data`; `data.len()` must be `rows * cols`.
    pub fn from_slice(data: &'a [T], rows: usize, cols: usize) -> Result<Self, Error> {
        contiguous_len(rows, cols, data.len())?;
        let (rs, cs) = strides_from(cols, 1, (rows, cols))?;
        Self::from_strided(data, (rows, cols), (rs, cs), 0)
    }

    /// A column-major `rows x cols` view of `data` (Fortran order).
    pub fn from_slice_col_major(data: &'a [T], rows: usize, cols: usize) -> Result<Self, Error> {
        contiguous_len(rows, cols, data.len())?;
        let (cs, rs) = strides_from(rows, 1, (rows, cols))?;
        Self::from_strided(data, (rows, cols), (rs, cs), 0)
    }

    /// A view of `shape` whose element `(i, j)` is
    /// `data[offset + i * strides.0 + j * strides.1]`.
    ///
    /// Strides may be negative or zero. Fails with [`Error::OutOfBounds`]
    /// if any element falls outside `data`, or [`Error::Overflow`].
    pub fn from_strided(
        data: &'a [T],
        shape: Shape,
        strides: (isize, isize),
        offset: usize,
    ) -> Result<Self, Error> {
        let geo = Geometry {
            rows: shape.0,
            cols: shape.1,
            rs: strides.0,
            cs: strides.1,
        };
        geo.check(offset, data.len())?;
        Ok(MatRef {
            // `offset <= len` was checked, so this stays within (or one past) the slice.
            ptr: data.as_ptr().wrapping_add(offset),
            geo,
            _borrow: PhantomData,
        })
    }

    /// A `rows x row.len()` view whose every row is `row` (row stride 0),
    /// as NumPy broadcasts a 1-D array across a matrix.
    ///
    /// ```
    /// let row = [1.0, 2.0, 3.0];
    /// let m = fuse2d::MatRef::broadcast_row(&row, 4)?;
    /// assert_eq!((m.shape(), m.get(3, 2)), ((4, 3), Some(3.0)));
    /// # Ok::<(), fuse2d::Error>(())
    /// ```
    pub fn broadcast_row(row: &'a [T], rows: usize) -> Result<Self, Error> {
        Self::from_strided(row, (rows, row.len()), (0, 1), 0)
    }

    /// A `col.len() x cols` view whose every column is `col` (column stride 0).
    pub fn broadcast_col(col: &'a [T], cols: usize) -> Result<Self, Error> {
        Self::from_strided(col, (col.len(), cols), (1, 0), 0)
    }

    /// A `rows x cols` view of one value (both strides 0).
    pub fn broadcast_scalar(value: &'a T, rows: usize, cols: usize) -> Result<Self, Error> {
        Self::from_strided(core::slice::from_ref(value), (rows, cols), (0, 0), 0)
    }

    /// This view stretched to `shape` by NumPy's rule: an axis of length 1
    /// may become any length (stride 0); others must already match, else
    /// [`Error::Broadcast`].
    ///
    /// ```
    /// let col = [1.0, 2.0];
    /// let c = fuse2d::MatRef::from_slice(&col, 2, 1)?.broadcast_to((2, 5))?;
    /// assert_eq!(c.get(1, 4), Some(2.0));
    /// assert!(fuse2d::MatRef::from_slice(&col, 2, 1)?.broadcast_to((3, 5)).is_err());
    /// # Ok::<(), fuse2d::Error>(())
    /// ```
    pub fn broadcast_to(self, shape: Shape) -> Result<Self, Error> {
        let axis = |n: usize, s: isize, to: usize| match (n, to) {
            _ if n == to => Some(s),
            (1, _) => Some(0),
            _ => None,
        };
        let g = self.geo;
        match (axis(g.rows, g.rs, shape.0), axis(g.cols, g.cs, shape.1)) {
            (Some(rs), Some(cs)) => {
                let geo = Geometry {
                    rows: shape.0,
                    cols: shape.1,
                    rs,
                    cs,
                };
                // The stretched view reaches only elements the original
                // reaches (stride-0 axes repeat index 0), but the new
                // shape must itself satisfy invariant 1.
                geo.check_shape()?;
                // A source axis of length 0 only "broadcasts" to 0, so an
                // empty source always gives an empty view.
                Ok(self.with(0, geo))
            }
            _ => Err(Error::Broadcast {
                from: g.shape(),
                to: shape,
            }),
        }
    }

    view_accessors!();

    /// The pointer to element `(0, 0)`; for an empty view it is not dereferenceable.
    #[inline]
    pub fn as_ptr(&self) -> *const T {
        self.ptr
    }

    fn with(self, off: isize, geo: Geometry) -> Self {
        MatRef {
            // In bounds by invariant 2 whenever `geo` is non-empty; never
            // dereferenced otherwise. `wrapping_offset` is always defined.
            ptr: self.ptr.wrapping_offset(off),
            geo,
            _borrow: PhantomData,
        }
    }

    /// The `nrows x ncols` block starting at `(row, col)`.
    pub fn submatrix(
        self,
        row: usize,
        col: usize,
        nrows: usize,
        ncols: usize,
    ) -> Result<Self, Error> {
        let (off, geo) = self.geo.sub(row, col, nrows, ncols)?;
        Ok(self.with(off, geo))
    }

    /// Rows `..row` and rows `row..`.
    pub fn split_at_row(self, row: usize) -> Result<(Self, Self), Error> {
        let rest = self
            .rows()
            .checked_sub(row)
            .ok_or(Error::SubviewOutOfRange {
                parent: self.shape(),
                start: (row, 0),
                shape: (0, self.cols()),
            })?;
        Ok((
            self.submatrix(0, 0, row, self.cols())?,
            self.submatrix(row, 0, rest, self.cols())?,
        ))
    }

    /// The talk's four quadrants, split at `rows / 2` and `cols / 2`, in the
    /// order top-left, top-right, bottom-left, bottom-right.
    pub fn quadrants(self) -> [Self; 4] {
        self.geo.quadrant_bounds().map(|(r, c, nr, nc)| {
            let (off, geo) = self
                .geo
                .sub(r, c, nr, nc)
                .expect("quadrant bounds lie inside the view by construction");
            self.with(off, geo)
        })
    }

    /// The transpose (no copy).
    pub fn t(self) -> Self {
        self.with(0, self.geo.transpose())
    }

    /// The same elements with rows in reverse order (negative row stride).
    pub fn reverse_rows(self) -> Self {
        let (off, geo) = self.geo.reverse_rows();
        self.with(off, geo)
    }

    /// The same elements with columns in reverse order (negative column stride).
    pub fn reverse_cols(self) -> Self {
        self.t().reverse_rows().t()
    }
}

impl<'a, T> MatMut<'a, T> {
    /// A row-major `rows x cols` view of `data`; `data.len()` must be `rows * cols`.
    pub fn from_slice(data: &'a mut [T], rows: usize, cols: usize) -> Result<Self, Error> {
        contiguous_len(rows, cols, data.len())?;
        let (rs, cs) = strides_from(cols, 1, (rows, cols))?;
        Self::from_strided(data, (rows, cols), (rs, cs), 0)
    }

    /// A column-major `rows x cols` view of `data` (Fortran order).
    pub fn from_slice_col_major(
        data: &'a mut [T],
        rows: usize,
        cols: usize,
    ) -> Result<Self, Error> {
        contiguous_len(rows, cols, data.len())?;
        let (cs, rs) = strides_from(rows, 1, (rows, cols))?;
        Self::from_strided(data, (rows, cols), (rs, cs), 0)
    }

    /// A view of `shape` whose element `(i, j)` is
    /// `data[offset + i * strides.0 + j * strides.1]`.
    ///
    /// Strides may be negative, but no two elements may share memory
    /// ([`Error::OverlappingOutput`]); every element must lie inside `data`
    /// ([`Error::OutOfBounds`]).
    pub fn from_strided(
        data: &'a mut [T],
        shape: Shape,
        strides: (isize, isize),
        offset: usize,
    ) -> Result<Self, Error> {
        let geo = Geometry {
            rows: shape.0,
            cols: shape.1,
            rs: strides.0,
            cs: strides.1,
        };
        geo.check(offset, data.len())?;
        geo.check_no_overlap()?;
        Ok(MatMut {
            ptr: data.as_mut_ptr().wrapping_add(offset),
            geo,
            _borrow: PhantomData,
        })
    }

    view_accessors!();

    /// The pointer to element `(0, 0)`; for an empty view it is not dereferenceable.
    #[inline]
    pub fn as_mut_ptr(&mut self) -> *mut T {
        self.ptr
    }

    /// A mutable reference to the element at `(i, j)`, or `None` out of range.
    #[inline]
    pub fn get_mut(&mut self, i: usize, j: usize) -> Option<&mut T> {
        if i < self.geo.rows && j < self.geo.cols {
            // SAFETY: in range, so inside the exclusively borrowed slice
            // (invariant 2); the `&mut self` borrow keeps it unique.
            Some(unsafe { &mut *self.ptr.offset(self.geo.offset(i, j)) })
        } else {
            None
        }
    }

    /// A read-only view of the same elements, borrowing this one.
    #[inline]
    pub fn as_ref(&self) -> MatRef<'_, T> {
        MatRef {
            ptr: self.ptr,
            geo: self.geo,
            _borrow: PhantomData,
        }
    }

    /// A shorter-lived mutable view of the same elements (reborrow).
    #[inline]
    pub fn rb_mut(&mut self) -> MatMut<'_, T> {
        MatMut {
            ptr: self.ptr,
            geo: self.geo,
            _borrow: PhantomData,
        }
    }

    fn with(self, off: isize, geo: Geometry) -> Self {
        MatMut {
            // As in `MatRef::with`: in bounds whenever non-empty.
            ptr: self.ptr.wrapping_offset(off),
            geo,
            _borrow: PhantomData,
        }
    }

    /// The `nrows x ncols` block starting at `(row, col)`.
    pub fn submatrix(
        self,
        row: usize,
        col: usize,
        nrows: usize,
        ncols: usize,
    ) -> Result<Self, Error> {
        let (off, geo) = self.geo.sub(row, col, nrows, ncols)?;
        Ok(self.with(off, geo))
    }

    /// Rows `..row` and rows `row..`, both mutable: they share no element.
    pub fn split_at_row(self, row: usize) -> Result<(Self, Self), Error> {
        let parent = self.geo;
        let (top, top_geo) = parent.sub(0, 0, row, parent.cols)?;
        let rest = parent.rows - row;
        let (bottom, bottom_geo) = parent.sub(row, 0, rest, parent.cols)?;
        let ptr = self.ptr;
        Ok((
            MatMut {
                ptr: ptr.wrapping_offset(top),
                geo: top_geo,
                _borrow: PhantomData,
            },
            MatMut {
                ptr: ptr.wrapping_offset(bottom),
                geo: bottom_geo,
                _borrow: PhantomData,
            },
        ))
    }

    /// The talk's four quadrants, split at `rows / 2` and `cols / 2`, in the
    /// order top-left, top-right, bottom-left, bottom-right. They are
    /// disjoint (invariant 4), so all four may be written at once.
    pub fn quadrants(self) -> [Self; 4] {
        let (ptr, parent) = (self.ptr, self.geo);
        parent.quadrant_bounds().map(|(r, c, nr, nc)| {
            let (off, geo) = parent
                .sub(r, c, nr, nc)
                .expect("quadrant bounds lie inside the view by construction");
            MatMut {
                ptr: ptr.wrapping_offset(off),
                geo,
                _borrow: PhantomData,
            }
        })
    }

    /// The transpose (no copy).
    pub fn t(self) -> Self {
        let geo = self.geo.transpose();
        self.with(0, geo)
    }

    /// The same elements with rows in reverse order (negative row stride).
    pub fn reverse_rows(self) -> Self {
        let (off, geo) = self.geo.reverse_rows();
        self.with(off, geo)
    }

    /// The same elements with columns in reverse order (negative column stride).
    pub fn reverse_cols(self) -> Self {
        self.t().reverse_rows().t()
    }

    /// Sets every element to `value`.
    pub fn fill(&mut self, value: T)
    where
        T: Copy,
    {
        for i in 0..self.rows() {
            for j in 0..self.cols() {
                if let Some(x) = self.get_mut(i, j) {
                    *x = value;
                }
            }
        }
    }
}

// Raw constructors for zero-copy interop (ndarray).
#[allow(dead_code)]
impl<'a, T> MatRef<'a, T> {
    /// # Safety
    /// Every element `ptr + i * strides.0 + j * strides.1` (`i < rows`,
    /// `j < cols`) is a valid `T` borrowed shared for `'a`, and
    /// `rows * cols <= isize::MAX`.
    pub(crate) unsafe fn from_raw_parts(
        ptr: *const T,
        shape: Shape,
        strides: (isize, isize),
    ) -> Self {
        MatRef {
            ptr,
            geo: Geometry {
                rows: shape.0,
                cols: shape.1,
                rs: strides.0,
                cs: strides.1,
            },
            _borrow: PhantomData,
        }
    }
}

#[allow(dead_code)]
impl<'a, T> MatMut<'a, T> {
    /// Checks invariant 4 (and 1); the caller vouches for the rest.
    ///
    /// # Safety
    /// Every element `ptr + i * strides.0 + j * strides.1` (`i < rows`,
    /// `j < cols`) is a valid `T` borrowed exclusively for `'a`.
    pub(crate) unsafe fn from_raw_parts_mut(
        ptr: *mut T,
        shape: Shape,
        strides: (isize, isize),
    ) -> Result<Self, Error> {
        let geo = Geometry {
            rows: shape.0,
            cols: shape.1,
            rs: strides.0,
            cs: strides.1,
        };
        geo.check_shape()?;
        geo.check_no_overlap()?;
        Ok(MatMut {
            ptr,
            geo,
            _borrow: PhantomData,
        })
    }
}

// Crate-internal raw access for the planner.
impl<T> MatRef<'_, T> {
    pub(crate) fn raw(&self) -> (*const T, Geometry) {
        (self.ptr, self.geo)
    }
}

impl<T> MatMut<'_, T> {
    pub(crate) fn raw(&mut self) -> (*mut T, Geometry) {
        (self.ptr, self.geo)
    }
}
