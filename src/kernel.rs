//! The algorithm, written once: a block is rows; a row is contiguous (vector
//! body + padded tail) or strided (element by element). Generic over the lane
//! type `V`, so each instruction set only chooses `V` and its target features
//! (see `arch/`).

use core::array;

use crate::expr::Expr;
use crate::plan::Block;
use crate::simd::{Element, MAX_LANES, Vector};

/// Runs `e` over every element of `b`.
///
/// # Safety
/// `b` upholds the [`Block`] invariants, and the CPU supports whatever target
/// features the caller was compiled with.
#[inline(always)]
pub(crate) unsafe fn run_block<T, V, E, const N: usize>(e: &E, b: &Block<T, N>)
where
    T: Element,
    V: Vector<T>,
    E: Expr<T, N>,
{
    // The layout test is made once per block, not per row.
    if b.unit_inner() {
        for i in 0..b.rows as isize {
            let ins = array::from_fn(|k| b.ins[k].wrapping_offset(i * b.in_rs[k]));
            let out = b.out.wrapping_offset(i * b.out_rs);
            // SAFETY: row `i < rows` of every operand is `cols` contiguous
            // elements inside its borrow (block invariants, unit inner stride).
            unsafe { row_contiguous::<T, V, E, N>(e, ins, out, b.cols) };
        }
    } else {
        for i in 0..b.rows as isize {
            let ins = array::from_fn(|k| b.ins[k].wrapping_offset(i * b.in_rs[k]));
            let out = b.out.wrapping_offset(i * b.out_rs);
            // SAFETY: row `i < rows`, `cols` elements at the block's inner strides.
            unsafe { row_strided::<T, E, N>(e, ins, b.in_cs, out, b.out_cs, b.cols) };
        }
    }
}

/// One contiguous row: `V`-wide body, then the tail through a padded buffer so
/// it runs the very same vector arithmetic as the body.
///
/// # Safety
/// `ins[k][..len]` readable, `out[..len]` writable and disjoint from them.
#[inline(always)]
unsafe fn row_contiguous<T, V, E, const N: usize>(
    e: &E,
    ins: [*const T; N],
    out: *mut T,
    len: usize,
) where
    T: Element,
    V: Vector<T>,
    E: Expr<T, N>,
{
    let body = len - len % V::LANES;
    let mut i = 0;
    while i < body {
        // SAFETY: `i + LANES <= body <= len`: inside every operand's row.
        unsafe {
            let x: [V; N] = array::from_fn(|k| V::load(ins[k].add(i)));
            e.eval(x).store(out.add(i));
        }
        i += V::LANES;
    }
    if i < len {
        let rem = len - i;
        let mut buf = [[T::ZERO; MAX_LANES]; N];
        for k in 0..N {
            // SAFETY: `ins[k][i..len]` is readable; `rem < LANES <= MAX_LANES`.
            unsafe { core::ptr::copy_nonoverlapping(ins[k].add(i), buf[k].as_mut_ptr(), rem) };
        }
        let mut res = [T::ZERO; MAX_LANES];
        // SAFETY: the buffers hold `MAX_LANES >= LANES` elements; the copy out
        // writes `rem` elements inside `out[i..len]`.
        unsafe {
            let x: [V; N] = array::from_fn(|k| V::load(buf[k].as_ptr()));
            e.eval(x).store(res.as_mut_ptr());
            core::ptr::copy_nonoverlapping(res.as_ptr(), out.add(i), rem);
        }
    }
}

/// One strided row, element by element.
///
/// # Safety
/// For `j < len`, `ins[k] + j * in_cs[k]` readable and `out + j * out_cs`
/// writable, the latter pairwise distinct and disjoint from the former.
#[inline(always)]
unsafe fn row_strided<T, E, const N: usize>(
    e: &E,
    ins: [*const T; N],
    in_cs: [isize; N],
    out: *mut T,
    out_cs: isize,
    len: usize,
) where
    T: Element,
    E: Expr<T, N>,
{
    for j in 0..len as isize {
        // SAFETY: `j < len`: in range by the contract above.
        unsafe {
            let x: [T; N] = array::from_fn(|k| *ins[k].offset(j * in_cs[k]));
            *out.offset(j * out_cs) = e.eval(x);
        }
    }
}
