//! The plan: validated views turned into one normalised [`Block`].
//!
//! Normalising first (as faer and ndarray's `Zip` do) lets the kernel see the
//! friendliest layout the operands allow:
//!
//! 1. the output's unit-stride axis becomes the inner one (column-major
//!    operands are walked in memory order, by transposing all operands);
//! 2. negative output strides are flipped, for every operand at once;
//! 3. when every operand is contiguous along both axes together (no padding),
//!    the whole matrix becomes one long row.
//!
//! Each step re-labels the same `(i, j) -> element` pairs for all operands
//! simultaneously, so the result is unchanged, element for element.

use crate::error::{Error, Shape};
use crate::simd::Element;
use crate::view::{MatMut, MatRef};

/// `N` inputs and one output of a common shape, as raw pointers and strides.
///
/// # Invariants
/// Built only by [`plan`] (or [`Block::tile`] from a valid block): every
/// element `(i, j)`, `i < rows`, `j < cols`, of each input is readable and of
/// the output writable, the output's elements are pairwise distinct and
/// disjoint from the inputs' (the view invariants and Rust's borrow rules),
/// and all borrows outlive the block.
pub(crate) struct Block<T, const N: usize> {
    pub rows: usize,
    pub cols: usize,
    pub ins: [*const T; N],
    pub in_rs: [isize; N],
    pub in_cs: [isize; N],
    pub out: *mut T,
    pub out_rs: isize,
    pub out_cs: isize,
}

impl<T, const N: usize> Clone for Block<T, N> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T, const N: usize> Copy for Block<T, N> {}

// SAFETY: a block stands for shared borrows of its inputs and an exclusive
// borrow of its output, both of `T: Element` (which is `Send + Sync`).
// Tiles handed to different threads cover disjoint output elements
// (`Block::tile` of disjoint ranges), so no element is written by two threads.
unsafe impl<T: Element, const N: usize> Send for Block<T, N> {}
// SAFETY: as above; a `&Block` gives no access by itself.
unsafe impl<T: Element, const N: usize> Sync for Block<T, N> {}

impl<T, const N: usize> Block<T, N> {
    /// True when every operand has unit stride along the inner axis.
    #[inline(always)]
    pub fn unit_inner(&self) -> bool {
        self.out_cs == 1 && self.in_cs.iter().all(|&s| s == 1)
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        self.rows * self.cols
    }

    fn transpose(&mut self) {
        core::mem::swap(&mut self.rows, &mut self.cols);
        core::mem::swap(&mut self.in_rs, &mut self.in_cs);
        core::mem::swap(&mut self.out_rs, &mut self.out_cs);
    }

    /// Reverses the column order of every operand. Requires `cols > 0`.
    fn flip_cols(&mut self) {
        let last = self.cols as isize - 1;
        for k in 0..N {
            self.ins[k] = self.ins[k].wrapping_offset(last * self.in_cs[k]);
            self.in_cs[k] = -self.in_cs[k];
        }
        self.out = self.out.wrapping_offset(last * self.out_cs);
        self.out_cs = -self.out_cs;
    }

    fn flip_rows(&mut self) {
        self.transpose();
        self.flip_cols();
        self.transpose();
    }

    /// Collapses rows into one long row when every operand allows it.
    fn collapse(&mut self) {
        let cols = self.cols as isize;
        let fits = |rs: isize, cs: isize| cs.checked_mul(cols) == Some(rs);
        if self.rows > 1
            && fits(self.out_rs, self.out_cs)
            && (0..N).all(|k| fits(self.in_rs[k], self.in_cs[k]))
        {
            self.cols *= self.rows;
            self.rows = 1;
        }
    }

    /// The sub-block of rows `r0..r0 + nr` and columns `c0..c0 + nc`.
    ///
    /// The caller keeps the ranges inside the block; the result then
    /// upholds the block invariants.
    pub fn tile(&self, r0: usize, nr: usize, c0: usize, nc: usize) -> Self {
        debug_assert!(r0 + nr <= self.rows && c0 + nc <= self.cols);
        let at = |rs: isize, cs: isize| r0 as isize * rs + c0 as isize * cs;
        let mut t = *self;
        t.rows = nr;
        t.cols = nc;
        for k in 0..N {
            t.ins[k] = self.ins[k].wrapping_offset(at(self.in_rs[k], self.in_cs[k]));
        }
        t.out = self.out.wrapping_offset(at(self.out_rs, self.out_cs));
        t
    }
}

/// Checks shapes and builds the normalised block, writing nothing.
pub(crate) fn plan<T, const N: usize>(
    ins: &[MatRef<'_, T>; N],
    out: &mut MatMut<'_, T>,
) -> Result<Block<T, N>, Error> {
    check_shapes(ins.each_ref().map(|v| v.shape()), out.shape())?;
    let raw_ins = ins.map(|v| v.raw());
    let (out_ptr, og) = out.raw();
    let mut b = Block {
        rows: og.rows,
        cols: og.cols,
        ins: raw_ins.map(|(p, _)| p),
        in_rs: raw_ins.map(|(_, g)| g.rs),
        in_cs: raw_ins.map(|(_, g)| g.cs),
        out: out_ptr,
        out_rs: og.rs,
        out_cs: og.cs,
    };
    if b.len() == 0 {
        return Ok(b);
    }
    // 1. The output's smaller stride becomes the inner axis; a single
    //    column is turned into a single row.
    let outer_is_inner = if b.rows > 1 && b.cols > 1 {
        b.out_rs.unsigned_abs() < b.out_cs.unsigned_abs()
    } else {
        b.cols == 1 && b.rows > 1
    };
    if outer_is_inner {
        b.transpose();
    }
    // 2. Walk the output forwards.
    if b.out_cs < 0 {
        b.flip_cols();
    }
    if b.rows > 1 && b.out_rs < 0 {
        b.flip_rows();
    }
    // 3. One long row where possible.
    b.collapse();
    Ok(b)
}

/// Checks that all inputs share one shape and the output has it too.
pub(crate) fn check_shapes<const N: usize>(ins: [Shape; N], out: Shape) -> Result<Shape, Error> {
    let shape = ins.first().copied().unwrap_or(out);
    if let Some(&bad) = ins.iter().find(|&&s| s != shape) {
        return Err(Error::ShapeMismatch {
            left: shape,
            right: bad,
        });
    }
    if out != shape {
        return Err(Error::OutputShape {
            expected: shape,
            found: out,
        });
    }
    Ok(shape)
}
