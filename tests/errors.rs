//! Every error case: the right variant, a message naming the shapes
//! involved, and an output buffer left exactly as it was (bitwise).

mod common;

use common::{SENTINEL, assert_slice_bits_eq, for_each_isa};
use fuse2d::{Config, Error, Expr, Flagship, Isa, Lanes, MatMut, MatRef, Matrix, reference};

/// A recognisable output buffer: sentinel NaNs and ordinary values mixed,
/// so "unchanged" is checked on bits, NaN or not.
fn output_buffer(len: usize) -> Vec<f64> {
    (0..len)
        .map(|k| {
            if k % 3 == 0 {
                SENTINEL
            } else {
                k as f64 + 0.25
            }
        })
        .collect()
}

/// Asserts `err`'s message contains the Debug form of each shape.
fn assert_mentions(err: &Error, shapes: &[(usize, usize)]) {
    let msg = err.to_string();
    for s in shapes {
        assert!(
            msg.contains(&format!("{s:?}")),
            "message of {err:?} does not mention shape {s:?}: {msg:?}"
        );
    }
}

// ---------------------------------------------------------------------------
// Shapes of a call
// ---------------------------------------------------------------------------

#[test]
fn inputs_of_different_shapes_exact_message() {
    let a = Matrix::<f64>::zeros(2000, 2000);
    let b = Matrix::<f64>::zeros(2000, 1999);
    let msg = "arrays have different shapes: (2000, 2000) vs (2000, 1999)";
    let expected = Error::ShapeMismatch {
        left: (2000, 2000),
        right: (2000, 1999),
    };

    let err = fuse2d::fused(a.as_ref(), b.as_ref()).unwrap_err();
    assert_eq!(err, expected);
    assert_eq!(err.to_string(), msg);

    // Into an output: of the first input's shape, and of the second's.
    for out_shape in [(2000, 2000), (2000, 1999)] {
        let mut buf = output_buffer(out_shape.0 * out_shape.1);
        let before = buf.clone();
        let out = MatMut::from_slice(&mut buf, out_shape.0, out_shape.1).unwrap();
        let err = fuse2d::fused_into(a.as_ref(), b.as_ref(), out).unwrap_err();
        assert_eq!(err.to_string(), msg, "output {out_shape:?}");
        assert_slice_bits_eq(&buf, &before, "output after a shape mismatch");
    }

    for_each_isa(|isa, cfg| {
        let err = cfg.fused(a.as_ref(), b.as_ref()).unwrap_err();
        assert_eq!(err.to_string(), msg, "isa={isa} Config::fused");
        let mut buf = output_buffer(2000 * 2000);
        let before = buf.clone();
        let out = MatMut::from_slice(&mut buf, 2000, 2000).unwrap();
        let err = cfg
            .run(&Flagship, [a.as_ref(), b.as_ref()], out)
            .unwrap_err();
        assert_eq!(err, expected, "isa={isa} Config::run");
        assert_eq!(err.to_string(), msg, "isa={isa} Config::run");
        assert_slice_bits_eq(&buf, &before, &format!("isa={isa} output after the error"));
    });
}

#[test]
fn reference_reports_input_shape_mismatch_like_the_fast_path() {
    // The oracle must fail the same way as the code it checks.
    let a = Matrix::<f64>::zeros(2000, 2000);
    let b = Matrix::<f64>::zeros(2000, 1999);
    let msg = "arrays have different shapes: (2000, 2000) vs (2000, 1999)";

    let mut buf = output_buffer(2000 * 2000);
    let before = buf.clone();
    let out = MatMut::from_slice(&mut buf, 2000, 2000).unwrap();
    let err = reference::fused_into(a.as_ref(), b.as_ref(), out).unwrap_err();
    assert_eq!(err.to_string(), msg, "reference::fused_into");
    assert_slice_bits_eq(&buf, &before, "reference::fused_into output");

    let err = reference::fused(a.as_ref(), b.as_ref()).unwrap_err();
    assert_eq!(
        err,
        fuse2d::fused(a.as_ref(), b.as_ref()).unwrap_err(),
        "reference::fused and fused disagree on the error"
    );
    assert_eq!(err.to_string(), msg, "reference::fused");
}

#[test]
fn inputs_of_different_shapes_small() {
    let data: Vec<f64> = (0..12).map(f64::from).collect();
    let cases = [
        ((2, 3), (3, 2)),
        ((3, 4), (3, 3)),
        ((1, 1), (1, 0)),
        ((0, 0), (0, 1)),
        ((0, 5), (5, 0)),
    ];
    for_each_isa(|isa, cfg| {
        for (sa, sb) in cases {
            let a = MatRef::from_strided(&data, sa, (1, 1), 0).unwrap();
            let b = MatRef::from_strided(&data, sb, (1, 1), 0).unwrap();
            let expected = Error::ShapeMismatch {
                left: sa,
                right: sb,
            };
            let mut buf = output_buffer(sa.0 * sa.1 + 3);
            let before = buf.clone();
            let out = MatMut::from_strided(&mut buf, sa, (sa.1 as isize, 1), 1).unwrap();
            let err = cfg.run(&Flagship, [a, b], out).unwrap_err();
            assert_eq!(err, expected, "isa={isa} {sa:?} vs {sb:?}");
            assert_eq!(
                err.to_string(),
                format!("arrays have different shapes: {sa:?} vs {sb:?}")
            );
            assert_mentions(&err, &[sa, sb]);
            assert_slice_bits_eq(&buf, &before, &format!("isa={isa} {sa:?} vs {sb:?}"));
            assert_eq!(cfg.fused(a, b).unwrap_err(), expected);
        }
    });
}

/// `x + y + z`, to check the first input that differs is the one named.
struct Sum3;

impl Expr<f64, 3> for Sum3 {
    fn eval<V: Lanes<f64>>(&self, [x, y, z]: [V; 3]) -> V {
        x + y + z
    }
}

#[test]
fn third_input_of_another_shape() {
    let (a, b, c) = (
        Matrix::<f64>::zeros(2, 3),
        Matrix::<f64>::zeros(2, 3),
        Matrix::<f64>::zeros(3, 2),
    );
    for_each_isa(|isa, cfg| {
        let mut out = Matrix::from_fn(2, 3, |i, j| SENTINEL + (i + j) as f64);
        let before = out.clone();
        let err = cfg
            .run(&Sum3, [a.as_ref(), b.as_ref(), c.as_ref()], out.as_mut())
            .unwrap_err();
        assert_eq!(
            err,
            Error::ShapeMismatch {
                left: (2, 3),
                right: (3, 2)
            },
            "isa={isa}"
        );
        assert_slice_bits_eq(out.as_slice(), before.as_slice(), "output");
    });
}

#[test]
fn output_of_the_wrong_shape() {
    let data: Vec<f64> = (0..30).map(f64::from).collect();
    let cases = [
        ((2, 2), (2, 3)),
        ((2, 3), (3, 2)),
        ((2, 2), (0, 0)),
        ((0, 3), (3, 0)),
        ((0, 0), (1, 1)),
        ((5, 1), (1, 5)),
    ];
    for_each_isa(|isa, cfg| {
        for (si, so) in cases {
            let a = MatRef::from_strided(&data, si, (si.1 as isize, 1), 0).unwrap();
            // The output: a padded, reversed view in a larger buffer.
            let mut buf = output_buffer(so.0 * (so.1 + 2) + 1);
            let before = buf.clone();
            let out = MatMut::from_strided(&mut buf, so, (so.1 as isize + 2, 1), 1)
                .unwrap()
                .reverse_rows();
            let err = cfg.run(&Flagship, [a, a], out).unwrap_err();
            assert_eq!(
                err,
                Error::OutputShape {
                    expected: si,
                    found: so
                },
                "isa={isa}"
            );
            assert_eq!(
                err.to_string(),
                format!("output has shape {so:?} but the inputs have shape {si:?}")
            );
            assert_mentions(&err, &[si, so]);
            assert_slice_bits_eq(&buf, &before, &format!("isa={isa} {si:?} into {so:?}"));
        }
    });
    // The reference checks it too, and writes nothing either.
    let a = Matrix::<f64>::zeros(2, 2);
    let mut out = Matrix::from_fn(2, 3, |_, _| SENTINEL);
    let err = reference::fused_into(a.as_ref(), a.as_ref(), out.as_mut()).unwrap_err();
    assert_eq!(
        err,
        Error::OutputShape {
            expected: (2, 2),
            found: (2, 3)
        }
    );
    assert!(
        out.as_slice()
            .iter()
            .all(|x| x.to_bits() == SENTINEL.to_bits())
    );
}

// ---------------------------------------------------------------------------
// View construction
// ---------------------------------------------------------------------------

type Shape = (usize, usize);
type Strides = (isize, isize);
/// `(shape, strides, offset)` of a view.
type Geo = (Shape, Strides, usize);

/// `(shape, strides, offset)` that reach outside a slice of length 10.
const OUT_OF_BOUNDS: [Geo; 14] = [
    ((3, 4), (4, 1), 0),          // last element at 11
    ((2, 5), (5, 1), 1),          // one past the end
    ((1, 11), (0, 1), 0),         // a row longer than the slice
    ((10, 2), (1, 0), 1),         // a column reaching index 10
    ((2, 2), (-2, 1), 1),         // negative row stride before the start
    ((2, 2), (1, -1), 0),         // negative column stride before the start
    ((2, 3), (-3, -1), 4),        // both negative, reaching -1
    ((1, 1), (0, 0), 10),         // offset == len, non-empty
    ((1, 1), (0, 0), usize::MAX), // offset far past the end
    ((0, 0), (1, 1), 11),         // empty view, offset past the end
    ((0, 3), (3, 1), 11),         // empty view, offset past the end
    ((2, 2), (isize::MAX, 1), 0), // huge stride, no overflow panic
    ((2, 2), (isize::MIN, 1), 9), // hugely negative stride
    ((2, 2), (isize::MAX, isize::MAX), usize::MAX),
];

#[test]
fn from_strided_reaching_outside_the_slice() {
    let data = [1.5f64; 10];
    for (shape, strides, offset) in OUT_OF_BOUNDS {
        let expected = Error::OutOfBounds {
            shape,
            strides,
            offset,
            len: 10,
        };
        let err = MatRef::from_strided(&data, shape, strides, offset).unwrap_err();
        assert_eq!(err, expected, "MatRef {shape:?} {strides:?} at {offset}");
        assert_mentions(&err, &[shape]);
        let msg = err.to_string();
        assert!(msg.contains(&format!("{strides:?}")), "{msg}");
        assert!(msg.contains("10"), "{msg}");

        let mut buf = output_buffer(10);
        let before = buf.clone();
        let err = MatMut::from_strided(&mut buf, shape, strides, offset).unwrap_err();
        assert_eq!(err, expected, "MatMut {shape:?} {strides:?} at {offset}");
        assert_slice_bits_eq(&buf, &before, "buffer after a failed MatMut");
    }
}

#[test]
fn from_strided_just_inside_the_slice_is_accepted() {
    // The boundaries of the cases above, one element less: these must work.
    let data: Vec<f64> = (0..10).map(f64::from).collect();
    let ok: [(Shape, Strides, usize, f64); 7] = [
        ((3, 3), (3, 1), 0, 8.0),  // last at 2 * 3 + 2
        ((2, 5), (5, 1), 0, 9.0),  // exactly the slice
        ((2, 2), (-2, 1), 2, 1.0), // reaches index 0
        ((2, 2), (1, -1), 1, 1.0), // reaches index 0
        ((1, 1), (0, 0), 9, 9.0),  // the last element
        ((0, 0), (1, 1), 10, 0.0), // empty view at the very end
        ((10, 1), (1, 0), 0, 9.0), // a column of the whole slice
    ];
    for (shape, strides, offset, last) in ok {
        let v = MatRef::from_strided(&data, shape, strides, offset)
            .unwrap_or_else(|e| panic!("{shape:?} {strides:?} at {offset}: {e}"));
        assert_eq!(v.shape(), shape);
        assert_eq!(v.strides(), strides);
        if !v.is_empty() {
            assert_eq!(v.get(shape.0 - 1, shape.1 - 1), Some(last), "{shape:?}");
        }
    }
}

#[test]
fn overflowing_shapes() {
    let empty: [f64; 0] = [];
    let data = [0.0f64; 4];
    let over = |shape| Error::Overflow { shape };
    let huge = usize::MAX;
    let past_isize = isize::MAX as usize + 1;
    // rows * cols overflows usize.
    for (r, c) in [(huge, 2), (2, huge), (huge, huge), (1 << 33, 1 << 33)] {
        assert_eq!(MatRef::from_slice(&empty, r, c).unwrap_err(), over((r, c)));
        assert_eq!(
            MatRef::from_slice_col_major(&empty, r, c).unwrap_err(),
            over((r, c))
        );
        assert_eq!(
            MatRef::from_strided(&data, (r, c), (1, 1), 0).unwrap_err(),
            over((r, c))
        );
        let mut buf = output_buffer(4);
        let before = buf.clone();
        assert_eq!(
            MatMut::from_slice(&mut buf, r, c).unwrap_err(),
            over((r, c))
        );
        assert_eq!(
            MatMut::from_slice_col_major(&mut buf, r, c).unwrap_err(),
            over((r, c))
        );
        assert_eq!(
            MatMut::from_strided(&mut buf, (r, c), (0, 0), 0).unwrap_err(),
            over((r, c))
        );
        assert_slice_bits_eq(&buf, &before, "buffer after an overflow error");
        let err = Matrix::<f64>::try_zeros(r, c).unwrap_err();
        assert_eq!(err, over((r, c)));
        assert_mentions(&err, &[(r, c)]);
    }
    // A dimension past isize::MAX, even with no element at all.
    for (r, c) in [(past_isize, 0), (0, past_isize), (huge, 0)] {
        assert_eq!(
            MatRef::from_strided(&empty, (r, c), (1, 1), 0).unwrap_err(),
            over((r, c)),
            "{r} x {c}"
        );
        assert_eq!(
            MatRef::from_slice(&empty, r, c).unwrap_err(),
            over((r, c)),
            "{r} x {c}"
        );
        assert_eq!(
            MatRef::from_slice_col_major(&empty, r, c).unwrap_err(),
            over((r, c)),
            "{r} x {c}"
        );
    }
    // rows * cols fits in usize but not in isize.
    let (r, c) = (1usize << 32, 1usize << 31);
    assert_eq!(
        MatRef::from_strided(&data, (r, c), (0, 0), 0).unwrap_err(),
        over((r, c))
    );
}

#[test]
fn try_zeros_overflow_and_alloc_failure() {
    let size = std::mem::size_of::<f64>();
    for (r, c) in [
        (usize::MAX, 2),
        (2, usize::MAX),
        (usize::MAX, usize::MAX),
        (isize::MAX as usize / size + 1, 1), // elements fit, bytes do not
        (1, isize::MAX as usize),
    ] {
        let err = Matrix::<f64>::try_zeros(r, c).unwrap_err();
        assert_eq!(err, Error::Overflow { shape: (r, c) }, "{r} x {c}");
        assert_mentions(&err, &[(r, c)]);
    }
    // 2^59 f64 = 4 EiB: a valid size no machine can allocate.
    let (r, c) = (1usize << 30, 1usize << 29);
    let err = Matrix::<f64>::try_zeros(r, c).unwrap_err();
    assert_eq!(err, Error::Alloc { shape: (r, c) });
    assert_eq!(
        err.to_string(),
        format!("could not allocate a result of shape {:?}", (r, c))
    );
    assert_eq!(Matrix::<f64>::try_zeros(0, 0).unwrap().shape(), (0, 0));
}

#[test]
fn try_zeros_with_a_dimension_past_isize_max() {
    // No element, but a dimension no view may have (view invariant 1):
    // either `try_zeros` refuses it as `Matrix::from_vec` does, or the
    // matrix it returns must still be usable.
    for (r, c) in [(usize::MAX, 0), (0, isize::MAX as usize + 1)] {
        assert_eq!(
            Matrix::<f64>::from_vec(r, c, Vec::new()).unwrap_err(),
            Error::Overflow { shape: (r, c) }
        );
        match Matrix::<f64>::try_zeros(r, c) {
            Err(err) => assert_eq!(err, Error::Overflow { shape: (r, c) }),
            Ok(mut m) => {
                assert_eq!(m.as_ref().shape(), (r, c));
                assert_eq!(m.as_mut().shape(), (r, c));
            }
        }
    }
}

#[test]
fn overlapping_mutable_views() {
    // (shape, strides, offset), all in bounds of a buffer of 64.
    let cases: [Geo; 11] = [
        ((3, 4), (0, 1), 0),  // every row the same memory
        ((3, 4), (4, 0), 0),  // every column the same memory
        ((3, 4), (0, 0), 0),  // one element for all
        ((1, 4), (7, 0), 0),  // one row, stride 0 along it
        ((4, 1), (0, 7), 0),  // one column, stride 0 along it
        ((3, 4), (1, 1), 0),  // diagonals alias
        ((2, 3), (2, 1), 0),  // rows overlap by one element
        ((3, 4), (3, 1), 0),  // rows overlap by one element
        ((4, 3), (1, 3), 0),  // column-major, columns overlap by one element
        ((2, 3), (-2, 1), 2), // negative row stride, overlapping
        ((3, 3), (2, -1), 2), // negative column stride, overlapping
    ];
    for (shape, strides, offset) in cases {
        let mut buf = output_buffer(64);
        let before = buf.clone();
        let err = MatMut::from_strided(&mut buf, shape, strides, offset).unwrap_err();
        assert_eq!(
            err,
            Error::OverlappingOutput { shape, strides },
            "{shape:?} {strides:?}"
        );
        assert_mentions(&err, &[shape]);
        assert!(err.to_string().contains(&format!("{strides:?}")));
        assert_slice_bits_eq(&buf, &before, "buffer after an overlap error");
        // The same geometry is a fine read-only view (broadcasting).
        let data = [0.0f64; 64];
        MatRef::from_strided(&data, shape, strides, offset)
            .unwrap_or_else(|e| panic!("read-only {shape:?} {strides:?}: {e}"));
    }
}

#[test]
fn non_overlapping_mutable_views_are_accepted() {
    let cases: [Geo; 10] = [
        ((3, 4), (4, 1), 0),
        ((3, 4), (1, 3), 0),
        ((3, 4), (5, 1), 0),
        ((3, 4), (-4, -1), 11),
        ((3, 4), (-1, 3), 2),
        ((1, 4), (0, 1), 0), // a single row may have any row stride
        ((4, 1), (1, 0), 0), // a single column may have any column stride
        ((1, 1), (0, 0), 5), // a single element
        ((0, 4), (0, 0), 0), // empty: nothing to overlap
        ((3, 2), (2, 1), 0),
    ];
    for (shape, strides, offset) in cases {
        let mut buf = vec![SENTINEL; 16];
        let mut v = MatMut::from_strided(&mut buf, shape, strides, offset)
            .unwrap_or_else(|e| panic!("{shape:?} {strides:?}: {e}"));
        v.fill(1.0);
        let written = buf.iter().filter(|x| **x == 1.0).count();
        assert_eq!(written, shape.0 * shape.1, "{shape:?} {strides:?}");
    }
}

#[test]
fn length_mismatch() {
    let data = [0.0f64; 5];
    for (r, c) in [(2, 3), (1, 4), (0, 1), (6, 1), (5, 0)] {
        let expected = Error::LengthMismatch {
            shape: (r, c),
            len: 5,
        };
        assert_eq!(MatRef::from_slice(&data, r, c).unwrap_err(), expected);
        assert_eq!(
            MatRef::from_slice_col_major(&data, r, c).unwrap_err(),
            expected
        );
        let mut buf = output_buffer(5);
        let before = buf.clone();
        assert_eq!(MatMut::from_slice(&mut buf, r, c).unwrap_err(), expected);
        assert_eq!(
            MatMut::from_slice_col_major(&mut buf, r, c).unwrap_err(),
            expected
        );
        assert_slice_bits_eq(&buf, &before, "buffer after a length mismatch");
        let err = Matrix::from_vec(r, c, data.to_vec()).unwrap_err();
        assert_eq!(err, expected);
        assert_mentions(&err, &[(r, c)]);
        assert!(err.to_string().contains('5'));
    }
}

#[test]
fn submatrix_out_of_range() {
    let data: Vec<f64> = (0..12).map(f64::from).collect();
    let m = MatRef::from_slice(&data, 3, 4).unwrap();
    let bad = [
        (2, 0, 2, 4),
        (0, 1, 3, 4),
        (3, 0, 1, 1),
        (4, 0, 0, 0),
        (0, 5, 0, 0),
        (0, 0, usize::MAX, 1),
        (usize::MAX, 0, 2, 1),
        (1, usize::MAX, 1, 2),
    ];
    for (r0, c0, nr, nc) in bad {
        let expected = Error::SubviewOutOfRange {
            parent: (3, 4),
            start: (r0, c0),
            shape: (nr, nc),
        };
        let err = m.submatrix(r0, c0, nr, nc).unwrap_err();
        assert_eq!(err, expected);
        assert_mentions(&err, &[(3, 4), (r0, c0), (nr, nc)]);
        let mut buf = output_buffer(12);
        let before = buf.clone();
        let mm = MatMut::from_slice(&mut buf, 3, 4).unwrap();
        assert_eq!(mm.submatrix(r0, c0, nr, nc).unwrap_err(), expected);
        assert_slice_bits_eq(&buf, &before, "buffer after a failed submatrix");
    }
    // The edges that do fit.
    for (r0, c0, nr, nc) in [(3, 4, 0, 0), (0, 0, 3, 4), (2, 3, 1, 1), (3, 0, 0, 4)] {
        let s = m.submatrix(r0, c0, nr, nc).unwrap();
        assert_eq!(s.shape(), (nr, nc));
    }
    assert_eq!(m.submatrix(2, 3, 1, 1).unwrap().get(0, 0), Some(11.0));
}

#[test]
fn split_at_row_past_the_end() {
    let data: Vec<f64> = (0..12).map(f64::from).collect();
    let m = MatRef::from_slice(&data, 3, 4).unwrap();
    for row in [4, 5, usize::MAX] {
        let err = m.split_at_row(row).unwrap_err();
        assert!(
            matches!(err, Error::SubviewOutOfRange { parent: (3, 4), .. }),
            "MatRef::split_at_row({row}): {err:?}"
        );
        assert_mentions(&err, &[(3, 4)]);
        let mut buf = output_buffer(12);
        let before = buf.clone();
        let err = MatMut::from_slice(&mut buf, 3, 4)
            .unwrap()
            .split_at_row(row)
            .unwrap_err();
        assert!(
            matches!(err, Error::SubviewOutOfRange { parent: (3, 4), .. }),
            "MatMut::split_at_row({row}): {err:?}"
        );
        assert_mentions(&err, &[(3, 4)]);
        assert_slice_bits_eq(&buf, &before, "buffer after a failed split");
    }
    // At the end is fine: everything on top, nothing below.
    let (top, bottom) = m.split_at_row(3).unwrap();
    assert_eq!((top.shape(), bottom.shape()), ((3, 4), (0, 4)));
    let mut buf = output_buffer(12);
    let (top, bottom) = MatMut::from_slice(&mut buf, 3, 4)
        .unwrap()
        .split_at_row(3)
        .unwrap();
    assert_eq!((top.shape(), bottom.shape()), ((3, 4), (0, 4)));
}

// ---------------------------------------------------------------------------
// Instruction sets
// ---------------------------------------------------------------------------

/// Instruction sets of `Isa::ALL` this process may not use.
fn unsupported() -> Vec<Isa> {
    Isa::ALL
        .into_iter()
        .filter(|isa| !Isa::supported().contains(isa))
        .collect()
}

#[test]
fn unsupported_isa_is_an_error_and_writes_nothing() {
    let missing = unsupported();
    #[cfg(target_arch = "x86_64")]
    assert!(missing.contains(&Isa::Neon), "{missing:?}");
    #[cfg(target_arch = "aarch64")]
    assert!(
        missing.contains(&Isa::Avx512) && missing.contains(&Isa::Sse2),
        "{missing:?}"
    );
    assert!(!missing.is_empty());
    let a = Matrix::from_fn(5, 9, |i, j| (i * 9 + j) as f64);
    for isa in missing {
        assert!(!isa.is_supported());
        let cfg = Config::new().isa(isa);
        let expected = Error::UnsupportedIsa {
            requested: isa,
            available: Isa::detect(),
        };
        assert_eq!(cfg.resolve_isa(), Err(expected.clone()));

        let mut out = Matrix::from_fn(5, 9, |i, j| SENTINEL + (i + j) as f64);
        let before = out.clone();
        let err = cfg
            .run(&Flagship, [a.as_ref(), a.as_ref()], out.as_mut())
            .unwrap_err();
        assert_eq!(err, expected, "Config::run with {isa}");
        assert!(err.to_string().contains(isa.name()), "{err}");
        assert!(err.to_string().contains(Isa::detect().name()), "{err}");
        assert_slice_bits_eq(out.as_slice(), before.as_slice(), "output");

        let err = cfg
            .fused_into(a.as_ref(), a.as_ref(), out.as_mut())
            .unwrap_err();
        assert_eq!(err, expected, "Config::fused_into with {isa}");
        assert_slice_bits_eq(out.as_slice(), before.as_slice(), "output");

        assert_eq!(cfg.fused(a.as_ref(), a.as_ref()).unwrap_err(), expected);

        // Even an empty call checks the ISA.
        let e = Matrix::<f64>::zeros(0, 3);
        let mut eo = Matrix::<f64>::zeros(0, 3);
        assert_eq!(
            cfg.run(&Flagship, [e.as_ref(), e.as_ref()], eo.as_mut())
                .unwrap_err(),
            expected
        );
    }
}

#[test]
fn supported_isas_respect_the_cap() {
    let supported = Isa::supported();
    assert_eq!(supported.first(), Some(&Isa::Scalar));
    assert_eq!(supported.last(), Some(&Isa::detect()));
    for w in supported.windows(2) {
        assert!(w[0].vector_bits() < w[1].vector_bits(), "{supported:?}");
    }
    // An empty (or blank) value means no cap, as documented.
    let cap = std::env::var(fuse2d::MAX_ISA_ENV).unwrap_or_default();
    if !cap.trim().is_empty() {
        let cap: Isa = cap.parse().expect("the test run's cap is valid");
        for isa in supported {
            assert!(
                isa.vector_bits() <= cap.vector_bits(),
                "{isa} is above the cap {cap}"
            );
        }
        if cap == Isa::Scalar {
            assert_eq!(supported, [Isa::Scalar]);
        }
    }
}

const INVALID_CAP: &str = "avx9000";

/// Runs in a child process with `FUSE2D_MAX_ISA` set to a bad value.
#[test]
#[ignore = "run by invalid_isa_cap_is_reported, in a child process"]
fn child_with_invalid_isa_cap() {
    let value = std::env::var(fuse2d::MAX_ISA_ENV).unwrap_or_default();
    if value != INVALID_CAP {
        // Run by hand (`--ignored`) without the child's environment.
        return;
    }
    let expected = Error::InvalidIsaCap {
        value: value.clone(),
    };
    let a = Matrix::from_fn(2, 3, |i, j| (i + j) as f64);
    let mut out = Matrix::from_fn(2, 3, |_, _| SENTINEL);
    let err = fuse2d::fused_into(a.as_ref(), a.as_ref(), out.as_mut()).unwrap_err();
    assert_eq!(err, expected);
    assert!(err.to_string().contains(&value), "{err}");
    assert!(
        out.as_slice()
            .iter()
            .all(|x| x.to_bits() == SENTINEL.to_bits())
    );
    assert_eq!(fuse2d::fused(a.as_ref(), a.as_ref()).unwrap_err(), expected);
    assert_eq!(Config::new().isa(Isa::Scalar).resolve_isa(), Err(expected));
}

#[test]
fn invalid_isa_cap_is_reported() {
    let exe = std::env::current_exe().unwrap();
    // Under an emulator (the aarch64 suite runs in qemu-user) the child must
    // be started through it too: `FUSE2D_TEST_RUNNER="qemu-aarch64 -L ..."`.
    let runner = std::env::var("FUSE2D_TEST_RUNNER").unwrap_or_default();
    let mut words = runner.split_whitespace();
    let mut cmd = match words.next() {
        Some(program) => {
            let mut c = std::process::Command::new(program);
            c.args(words).arg(&exe);
            c
        }
        None => std::process::Command::new(&exe),
    };
    let out = cmd
        .args([
            "--exact",
            "child_with_invalid_isa_cap",
            "--ignored",
            "--test-threads=1",
        ])
        .env(fuse2d::MAX_ISA_ENV, INVALID_CAP)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "child failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn isa_names_parse_back() {
    for isa in Isa::ALL {
        assert_eq!(isa.name().parse::<Isa>(), Ok(isa));
        assert_eq!(isa.to_string(), isa.name());
    }
    let err = "mmx".parse::<Isa>().unwrap_err();
    assert_eq!(
        err,
        Error::InvalidIsaCap {
            value: "mmx".into()
        }
    );
}

// ---------------------------------------------------------------------------
// The error type
// ---------------------------------------------------------------------------

/// An expression of no input at all.
struct One;

impl Expr<f64, 0> for One {
    fn eval<V: Lanes<f64>>(&self, _: [V; 0]) -> V {
        V::constant(1.0)
    }
}

#[test]
fn expression_without_inputs_cannot_take_a_shape() {
    let none: [MatRef<'_, f64>; 0] = [];
    let err = Config::new().eval(&One, none).unwrap_err();
    assert!(matches!(err, Error::InvalidConfig { .. }), "{err:?}");
    assert!(
        err.to_string().starts_with("invalid configuration"),
        "{err}"
    );
}

#[test]
fn error_implements_std_error() {
    fn is_std_error<E: std::error::Error + Send + Sync + Clone + 'static>() {}
    is_std_error::<Error>();
    let err = Error::Overflow {
        shape: (usize::MAX, 2),
    };
    let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(err.clone());
    assert_eq!(boxed.to_string(), err.to_string());
    assert!(boxed.source().is_none());
    assert_eq!(boxed.downcast_ref::<Error>(), Some(&err));
    // `?` converts it into a boxed error.
    fn fails() -> Result<(), Box<dyn std::error::Error>> {
        let a = Matrix::<f64>::zeros(1, 2);
        let b = Matrix::<f64>::zeros(2, 1);
        fuse2d::fused(a.as_ref(), b.as_ref())?;
        Ok(())
    }
    assert_eq!(
        fails().unwrap_err().to_string(),
        "arrays have different shapes: (1, 2) vs (2, 1)"
    );
}

#[test]
fn every_message_names_its_shapes() {
    let variants: Vec<(Error, Vec<(usize, usize)>)> = vec![
        (
            Error::ShapeMismatch {
                left: (2, 3),
                right: (4, 5),
            },
            vec![(2, 3), (4, 5)],
        ),
        (
            Error::OutputShape {
                expected: (2, 3),
                found: (4, 5),
            },
            vec![(2, 3), (4, 5)],
        ),
        (
            Error::OutOfBounds {
                shape: (2, 3),
                strides: (7, -1),
                offset: 9,
                len: 11,
            },
            vec![(2, 3)],
        ),
        (
            Error::SubviewOutOfRange {
                parent: (2, 3),
                start: (4, 5),
                shape: (6, 7),
            },
            vec![(2, 3), (4, 5), (6, 7)],
        ),
        (
            Error::LengthMismatch {
                shape: (2, 3),
                len: 5,
            },
            vec![(2, 3)],
        ),
        (
            Error::OverlappingOutput {
                shape: (2, 3),
                strides: (0, 1),
            },
            vec![(2, 3)],
        ),
        (Error::Overflow { shape: (2, 3) }, vec![(2, 3)]),
        (Error::Alloc { shape: (2, 3) }, vec![(2, 3)]),
    ];
    for (err, shapes) in &variants {
        assert_mentions(err, shapes);
    }
    // The other numbers too.
    let oob = variants[2].0.to_string();
    assert!(
        oob.contains("(7, -1)") && oob.contains('9') && oob.contains("11"),
        "{oob}"
    );
    assert!(variants[4].0.to_string().contains('5'));
    assert!(variants[5].0.to_string().contains("(0, 1)"));
    // The variants without a shape name what they are about.
    let isa = Error::UnsupportedIsa {
        requested: Isa::Neon,
        available: Isa::Scalar,
    };
    assert!(isa.to_string().contains("neon") && isa.to_string().contains("scalar"));
    let cap = Error::InvalidIsaCap {
        value: "bogus".into(),
    };
    assert!(cap.to_string().contains("bogus"));
}
