//! The crate's one error type.
//!
//! Every check happens before anything is written: when a function returns an
//! [`Error`], the output it was given is untouched.

use core::fmt;

use crate::isa::Isa;

/// A shape `(rows, cols)`, as NumPy prints it.
pub type Shape = (usize, usize);

/// Everything that can go wrong in this crate, with the shapes involved.
///
/// ```
/// use fuse2d::{Error, Matrix};
///
/// let a = Matrix::<f64>::zeros(2000, 2000);
/// let b = Matrix::<f64>::zeros(2000, 1999);
/// let err = fuse2d::fused(a.as_ref(), b.as_ref()).unwrap_err();
/// assert_eq!(err.to_string(), "arrays have different shapes: (2000, 2000) vs (2000, 1999)");
/// assert!(matches!(err, Error::ShapeMismatch { .. }));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// Two inputs of one call have different shapes.
    ShapeMismatch {
        /// The shape of the first input.
        left: Shape,
        /// The shape of the first input that differs from it.
        right: Shape,
    },
    /// The output's shape is not the inputs' shape.
    OutputShape {
        /// The inputs' shape.
        expected: Shape,
        /// The output's shape.
        found: Shape,
    },
    /// A view would reach an element outside the slice it borrows.
    OutOfBounds {
        /// The view's shape.
        shape: Shape,
        /// The view's row and column strides, in elements.
        strides: (isize, isize),
        /// The index of the view's first element in the slice.
        offset: usize,
        /// The slice's length.
        len: usize,
    },
    /// A sub-view does not fit in the view it is taken from.
    SubviewOutOfRange {
        /// The parent view's shape.
        parent: Shape,
        /// The sub-view's first row and column.
        start: (usize, usize),
        /// The sub-view's shape.
        shape: Shape,
    },
    /// A contiguous constructor got a slice whose length is not `rows * cols`.
    LengthMismatch {
        /// The requested shape.
        shape: Shape,
        /// The slice's length.
        len: usize,
    },
    /// A view cannot be broadcast to a shape (NumPy's rule: only axes of
    /// length 1 stretch).
    Broadcast {
        /// The view's shape.
        from: Shape,
        /// The requested shape.
        to: Shape,
    },
    /// A mutable view whose strides make two of its elements the same memory.
    OverlappingOutput {
        /// The view's shape.
        shape: Shape,
        /// The view's row and column strides, in elements.
        strides: (isize, isize),
    },
    /// A dimension or stride computation does not fit in `isize`/`usize`.
    Overflow {
        /// The shape involved.
        shape: Shape,
    },
    /// Memory for a result of this shape could not be allocated.
    Alloc {
        /// The shape of the result.
        shape: Shape,
    },
    /// The requested instruction set is not available on this CPU, or is
    /// above the process-wide cap `FUSE2D_MAX_ISA`.
    UnsupportedIsa {
        /// The instruction set asked for.
        requested: Isa,
        /// The best instruction set available (after the cap).
        available: Isa,
    },
    /// `FUSE2D_MAX_ISA` holds a value that names no instruction set.
    InvalidIsaCap {
        /// The variable's value.
        value: String,
    },
    /// A configuration value is out of its range (e.g. zero threads).
    InvalidConfig {
        /// What is wrong, in words.
        reason: &'static str,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::ShapeMismatch { left, right } => {
                write!(f, "arrays have different shapes: {left:?} vs {right:?}")
            }
            Error::OutputShape { expected, found } => write!(
                f,
                "output has shape {found:?} but the inputs have shape {expected:?}"
            ),
            Error::OutOfBounds {
                shape,
                strides,
                offset,
                len,
            } => write!(
                f,
                "a view of shape {shape:?} with strides {strides:?} at offset {offset} \
                 reaches outside a slice of length {len}"
            ),
            Error::SubviewOutOfRange {
                parent,
                start,
                shape,
            } => write!(
                f,
                "sub-view of shape {shape:?} starting at {start:?} does not fit in a view of shape {parent:?}"
            ),
            Error::LengthMismatch { shape, len } => write!(
                f,
                "a contiguous {shape:?} view needs a slice of length rows * cols, got {len}"
            ),
            Error::Broadcast { from, to } => {
                write!(
                    f,
                    "cannot broadcast an array of shape {from:?} to shape {to:?}"
                )
            }
            Error::OverlappingOutput { shape, strides } => write!(
                f,
                "a mutable view of shape {shape:?} with strides {strides:?} would write some elements twice"
            ),
            Error::Overflow { shape } => {
                write!(
                    f,
                    "dimension overflow: shape {shape:?} does not fit in memory indices"
                )
            }
            Error::Alloc { shape } => {
                write!(f, "could not allocate a result of shape {shape:?}")
            }
            Error::UnsupportedIsa {
                requested,
                available,
            } => write!(
                f,
                "instruction set {requested} is not available here (best available: {available})"
            ),
            Error::InvalidIsaCap { value } => write!(
                f,
                "FUSE2D_MAX_ISA={value:?} names no instruction set \
                 (expected one of: scalar, sse2, avx2, avx512, neon)"
            ),
            Error::InvalidConfig { reason } => write!(f, "invalid configuration: {reason}"),
        }
    }
}

impl std::error::Error for Error {}
