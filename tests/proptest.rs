//! Property tests: random shapes (`0..40 x 0..40`), random layouts, random
//! values (arbitrary bit patterns, ordinary ranges, the special pool), on
//! every instruction set this process may use, bitwise against the
//! reference.

mod common;

use common::{
    Layout, Operand, SENTINEL, assert_flagship_eq, assert_slice_bits_eq, check_flagship,
    for_each_isa, specials,
};
use fuse2d::{Flagship, MatMut, reference};
use proptest::collection::vec;
use proptest::prelude::*;

/// A value: any bit pattern, an ordinary number, a special, or a subnormal.
fn value() -> impl Strategy<Value = f64> {
    prop_oneof![
        3 => any::<u64>().prop_map(f64::from_bits),
        4 => -1e6f64..1e6,
        1 => -1.0f64..1.0,
        2 => proptest::sample::select(specials()),
        1 => any::<u64>().prop_map(|b| f64::from_bits(b & 0x800f_ffff_ffff_ffff)),
    ]
}

/// Specials only, so pairs of specials meet in the same element often.
fn special() -> impl Strategy<Value = f64> {
    proptest::sample::select(specials())
}

/// A layout; the broadcasting ones only when `broadcast`.
fn layout(broadcast: bool) -> BoxedStrategy<Layout> {
    let writable = prop_oneof![
        Just(Layout::RowMajor),
        (0usize..5, 0usize..3).prop_map(|(pad, offset)| Layout::Padded { pad, offset }),
        Just(Layout::ColMajor),
        (0usize..4).prop_map(|pad| Layout::ColPadded { pad }),
        (0usize..3).prop_map(Layout::Offset),
        Just(Layout::ReverseRows),
        Just(Layout::ReverseCols),
        Just(Layout::ReverseBoth),
        (0usize..3).prop_map(|pad| Layout::NegStrides { pad }),
        (0usize..3).prop_map(|pad| Layout::NegColMajor { pad }),
        Just(Layout::ColMajorReverseCols),
        Just(Layout::Transposed),
        (0usize..4).prop_map(Layout::Quadrant),
    ];
    if broadcast {
        prop_oneof![
            6 => writable,
            1 => Just(Layout::BroadcastRow),
            1 => Just(Layout::BroadcastCol),
            1 => Just(Layout::BroadcastAll),
        ]
        .boxed()
    } else {
        writable.boxed()
    }
}

/// Two inputs of one random shape and layouts, and an output layout.
#[derive(Debug)]
struct Case {
    a: Operand<f64>,
    b: Operand<f64>,
    out: Layout,
}

fn case(values: BoxedStrategy<f64>) -> impl Strategy<Value = Case> {
    (
        0usize..40,
        0usize..40,
        layout(true),
        layout(true),
        layout(false),
    )
        .prop_flat_map(move |(r, c, la, lb, lo)| {
            (
                vec(values.clone(), la.buffer_len(r, c)),
                vec(values.clone(), lb.buffer_len(r, c)),
            )
                .prop_map(move |(va, vb)| Case {
                    a: Operand::with_buffer(la, r, c, va),
                    b: Operand::with_buffer(lb, r, c, vb),
                    out: lo,
                })
        })
}

/// A parent operand and a block inside it.
#[derive(Debug)]
struct SubCase {
    a: Operand<f64>,
    b: Operand<f64>,
    out: Layout,
    /// `(row, col, nrows, ncols)` of the block.
    block: (usize, usize, usize, usize),
}

fn sub_case() -> impl Strategy<Value = SubCase> {
    (0usize..40, 0usize..40)
        .prop_flat_map(|(r, c)| {
            (
                Just((r, c)),
                0..=r,
                0..=c,
                layout(true),
                layout(true),
                layout(false),
            )
        })
        .prop_flat_map(|((r, c), r0, c0, la, lb, lo)| {
            (
                0..=r - r0,
                0..=c - c0,
                vec(value(), la.buffer_len(r, c)),
                vec(value(), lb.buffer_len(r, c)),
            )
                .prop_map(move |(nr, nc, va, vb)| SubCase {
                    a: Operand::with_buffer(la, r, c, va),
                    b: Operand::with_buffer(lb, r, c, vb),
                    out: lo,
                    block: (r0, c0, nr, nc),
                })
        })
}

proptest! {
    /// Any layouts for `a`, `b` and `out`, any values: bitwise the
    /// reference's, nothing written outside the output view, and the report
    /// names the forced ISA.
    #[test]
    fn flagship_matches_reference(case in case(value().boxed())) {
        for_each_isa(|isa, _| {
            check_flagship(isa, &case.a, &case.b, case.out, " (proptest)");
        });
    }

    /// Specials meeting specials, in any layout and lane position.
    #[test]
    fn specials_match_reference(case in case(special().boxed())) {
        for_each_isa(|isa, _| {
            check_flagship(isa, &case.a, &case.b, case.out, " (proptest specials)");
        });
    }

    /// A random block (`submatrix`) of each operand, the output's being a
    /// block of a sentinel-filled buffer, which must be written only there.
    #[test]
    fn sub_views_match_reference(case in sub_case()) {
        let (r0, c0, nr, nc) = case.block;
        let a = case.a.view().submatrix(r0, c0, nr, nc).unwrap();
        let b = case.b.view().submatrix(r0, c0, nr, nc).unwrap();
        let mut want = Operand::<f64>::output(case.out, case.a.rows, case.a.cols);
        reference::fused_into(a, b, want.view_mut().submatrix(r0, c0, nr, nc).unwrap())
            .unwrap();
        // The reference writes exactly the block's elements.
        let written = want.buf.iter().filter(|x| x.to_bits() != SENTINEL.to_bits()).count();
        prop_assert_eq!(written, nr * nc);
        for_each_isa(|isa, cfg| {
            let ctx = format!("isa={isa} block {:?} of {case:?}", case.block);
            let mut got = Operand::<f64>::output(case.out, case.a.rows, case.a.cols);
            let report = cfg
                .run(&Flagship, [a, b], got.view_mut().submatrix(r0, c0, nr, nc).unwrap())
                .unwrap();
            assert_eq!(report.isa, isa, "{ctx}");
            assert_slice_bits_eq(&got.buf, &want.buf, &ctx);
        });
    }

    /// Computing the top and bottom of a split output separately gives the
    /// whole result (independent of the reference).
    #[test]
    fn split_at_row_halves_compose(case in case(value().boxed()), at in 0usize..=40) {
        let (r, c) = (case.a.rows, case.a.cols);
        let k = at.min(r);
        for_each_isa(|isa, cfg| {
            let mut whole = Operand::<f64>::output(case.out, r, c);
            cfg.fused_into(case.a.view(), case.b.view(), whole.view_mut()).unwrap();
            let mut parts = Operand::<f64>::output(case.out, r, c);
            let (a_top, a_bot) = case.a.view().split_at_row(k).unwrap();
            let (b_top, b_bot) = case.b.view().split_at_row(k).unwrap();
            let (top, bot) = parts.view_mut().split_at_row(k).unwrap();
            cfg.fused_into(a_top, b_top, top).unwrap();
            cfg.fused_into(a_bot, b_bot, bot).unwrap();
            let ctx = format!("isa={isa} split at {k}: {case:?}");
            assert_slice_bits_eq(&parts.buf, &whole.buf, &ctx);
        });
    }

    /// The allocating entry points give the reference's matrix.
    #[test]
    fn allocating_fused_matches_reference(case in case(value().boxed())) {
        let want = reference::fused(case.a.view(), case.b.view()).unwrap();
        for_each_isa(|isa, cfg| {
            let got = cfg.fused(case.a.view(), case.b.view()).unwrap();
            let ctx = format!("isa={isa} {case:?}");
            assert_flagship_eq(got.as_ref(), want.as_ref(), case.a.view(), case.b.view(), &ctx);
        });
        let got = fuse2d::fused(case.a.view(), case.b.view()).unwrap();
        assert_flagship_eq(got.as_ref(), want.as_ref(), case.a.view(), case.b.view(), "fuse2d::fused");
    }

    /// A mutable view from `from_strided` with arbitrary small strides: either
    /// rejected (out of bounds, overlapping) with the buffer untouched, or
    /// written exactly at its own elements.
    #[test]
    fn arbitrary_output_strides(
        r in 0usize..6,
        c in 0usize..6,
        rs in -12isize..12,
        cs in -12isize..12,
        offset in 0usize..80,
        vals in vec(value(), 36),
    ) {
        let a = fuse2d::MatRef::from_strided(&vals, (r, c), (6, 1), 0).unwrap();
        for_each_isa(|isa, cfg| {
            let mut buf = vec![SENTINEL; 64];
            let result = MatMut::from_strided(&mut buf, (r, c), (rs, cs), offset)
                .map(|out| cfg.fused_into(a, a, out));
            let ctx = format!("isa={isa} {r}x{c} strides ({rs}, {cs}) at {offset}");
            match result {
                Err(_) => assert!(
                    buf.iter().all(|x| x.to_bits() == SENTINEL.to_bits()),
                    "{ctx}: rejected view, buffer changed"
                ),
                Ok(res) => {
                    res.unwrap();
                    let mut expected = vec![SENTINEL; 64];
                    for i in 0..r {
                        for j in 0..c {
                            let k = offset as isize + i as isize * rs + j as isize * cs;
                            let (x, y) = (a.get(i, j).unwrap(), a.get(i, j).unwrap());
                            let slot = &mut expected[usize::try_from(k).unwrap()];
                            assert_eq!(slot.to_bits(), SENTINEL.to_bits(), "{ctx}: aliasing accepted");
                            *slot = reference::fused(
                                fuse2d::MatRef::from_slice(&[x], 1, 1).unwrap(),
                                fuse2d::MatRef::from_slice(&[y], 1, 1).unwrap(),
                            )
                            .unwrap()
                            .get(0, 0)
                            .unwrap();
                        }
                    }
                    assert_slice_bits_eq(&buf, &expected, &ctx);
                }
            }
        });
    }
}
