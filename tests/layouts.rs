//! Every shape and every layout, on every instruction set this process may
//! use, bitwise against `fuse2d::reference`; and nothing outside the output
//! view is ever written.

mod common;

use common::{
    Layout, Operand, Rng, SENTINEL, assert_flagship_eq, assert_slice_bits_eq,
    assert_untouched_outside, check_flagship, check_layouts, for_each_isa,
};
use fuse2d::{Config, Flagship, Isa, MatMut, MatRef, Matrix, reference};

/// Degenerate, thin and prime shapes.
const EDGE_SHAPES: [(usize, usize); 20] = [
    (0, 0),
    (0, 1),
    (0, 7),
    (0, 33),
    (1, 0),
    (7, 0),
    (33, 0),
    (1, 1),
    (1, 2),
    (1, 7),
    (1, 33),
    (2, 1),
    (7, 1),
    (33, 1),
    (7, 13),
    (13, 7),
    (31, 17),
    (17, 31),
    (101, 3),
    (3, 101),
];

/// `L - 1, L, L + 1` for every lane count `L` (2, 4, 8, 16), and 32, 33.
const LANE_WIDTHS: [usize; 14] = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33];

/// Every lane width with a few row counts, both ways round (column-major and
/// transposed operands make the row count the inner dimension).
fn lane_shapes() -> Vec<(usize, usize)> {
    let mut v = Vec::new();
    for &w in &LANE_WIDTHS {
        for r in [1, 2, 3, 5] {
            v.push((r, w));
            v.push((w, r));
        }
    }
    v.sort_unstable();
    v.dedup();
    v
}

fn all_shapes() -> Vec<(usize, usize)> {
    let mut v = EDGE_SHAPES.to_vec();
    v.extend(lane_shapes());
    v
}

/// A few shapes for the exhaustive layout cross-product. With 8 and 16 rows
/// a column-major output's columns are whole cache lines apart (f64), so
/// row-major inputs against it take the transposed output's path.
const CROSS_SHAPES: [(usize, usize); 7] =
    [(0, 3), (3, 5), (5, 9), (9, 4), (2, 17), (8, 5), (16, 11)];

#[test]
fn contiguous_row_major_every_shape() {
    let mut rng = Rng::new(1);
    for_each_isa(|isa, _| {
        for (r, c) in all_shapes() {
            let l = Layout::RowMajor;
            check_layouts(isa, (r, c), (l, l, l), &mut || rng.mixed());
        }
    });
}

#[test]
fn same_layout_for_all_operands_every_shape() {
    let mut rng = Rng::new(2);
    for_each_isa(|isa, _| {
        for (r, c) in all_shapes() {
            for l in Layout::OUTPUTS {
                check_layouts(isa, (r, c), (l, l, l), &mut || rng.mixed());
            }
        }
    });
}

#[test]
fn each_operand_alone_in_every_layout() {
    let mut rng = Rng::new(3);
    let rm = Layout::RowMajor;
    for_each_isa(|isa, _| {
        for (r, c) in all_shapes() {
            for l in Layout::INPUTS {
                check_layouts(isa, (r, c), (l, rm, rm), &mut || rng.mixed());
                check_layouts(isa, (r, c), (rm, l, rm), &mut || rng.mixed());
                if l.writable() {
                    check_layouts(isa, (r, c), (rm, rm, l), &mut || rng.mixed());
                }
            }
        }
    });
}

#[test]
fn every_layout_triple_on_small_shapes() {
    let mut rng = Rng::new(4);
    for_each_isa(|isa, _| {
        for shape in CROSS_SHAPES {
            for la in Layout::INPUTS {
                for lb in Layout::INPUTS {
                    for lo in Layout::OUTPUTS {
                        check_layouts(isa, shape, (la, lb, lo), &mut || rng.mixed());
                    }
                }
            }
        }
    });
}

#[test]
fn column_major_for_a_for_b_for_out_and_all_three() {
    let (rm, cm) = (Layout::RowMajor, Layout::ColMajor);
    let mut rng = Rng::new(5);
    for_each_isa(|isa, _| {
        for (r, c) in all_shapes() {
            for combo in [(cm, rm, rm), (rm, cm, rm), (rm, rm, cm), (cm, cm, cm)] {
                check_layouts(isa, (r, c), combo, &mut || rng.mixed());
            }
        }
    });
}

#[test]
fn padded_rows_and_misaligned_starts() {
    let mut rng = Rng::new(6);
    let layouts = [
        Layout::Padded { pad: 1, offset: 0 },
        Layout::Padded { pad: 5, offset: 0 },
        Layout::Padded { pad: 8, offset: 3 },
        Layout::Padded { pad: 1, offset: 1 },
        Layout::Offset(1),
        Layout::Offset(3),
        Layout::ColPadded { pad: 1 },
    ];
    for_each_isa(|isa, _| {
        for (r, c) in all_shapes() {
            for la in layouts {
                for lo in layouts {
                    check_layouts(isa, (r, c), (la, Layout::Offset(1), lo), &mut || {
                        rng.mixed()
                    });
                }
            }
        }
    });
}

#[test]
fn negative_strides() {
    let mut rng = Rng::new(7);
    let layouts = [
        Layout::ReverseRows,
        Layout::ReverseCols,
        Layout::ReverseBoth,
        Layout::NegStrides { pad: 0 },
        Layout::NegStrides { pad: 3 },
        Layout::NegColMajor { pad: 0 },
        Layout::NegColMajor { pad: 2 },
    ];
    for_each_isa(|isa, _| {
        for (r, c) in all_shapes() {
            for l in layouts {
                let rm = Layout::RowMajor;
                check_layouts(isa, (r, c), (l, l, l), &mut || rng.mixed());
                check_layouts(isa, (r, c), (l, rm, rm), &mut || rng.mixed());
                check_layouts(isa, (r, c), (rm, rm, l), &mut || rng.mixed());
                check_layouts(isa, (r, c), (rm, l, Layout::ReverseBoth), &mut || {
                    rng.mixed()
                });
            }
        }
    });
}

#[test]
fn negative_strides_read_the_reversed_elements() {
    // Independent of the reference: reversing an input's rows and the
    // output's rows together gives the plain result, element for element.
    let mut rng = Rng::new(8);
    for_each_isa(|isa, cfg| {
        for (r, c) in all_shapes() {
            let a = Matrix::from_fn(r, c, |_, _| rng.normal());
            let b = Matrix::from_fn(r, c, |_, _| rng.normal());
            let plain = cfg.fused(a.as_ref(), b.as_ref()).unwrap();
            let mut rev = Matrix::from_fn(r, c, |_, _| SENTINEL);
            cfg.fused_into(
                a.as_ref().reverse_rows().reverse_cols(),
                b.as_ref().reverse_rows().reverse_cols(),
                rev.as_mut().reverse_rows().reverse_cols(),
            )
            .unwrap();
            assert_slice_bits_eq(
                rev.as_slice(),
                plain.as_slice(),
                &format!("isa={isa} {r}x{c} reversed"),
            );
        }
    });
}

#[test]
fn transposed_views() {
    let mut rng = Rng::new(9);
    let t = Layout::Transposed;
    let rm = Layout::RowMajor;
    for_each_isa(|isa, _| {
        for (r, c) in all_shapes() {
            for combo in [
                (t, rm, rm),
                (rm, t, rm),
                (rm, rm, t),
                (t, t, t),
                (t, Layout::ColMajor, rm),
            ] {
                check_layouts(isa, (r, c), combo, &mut || rng.mixed());
            }
        }
    });
}

#[test]
fn transposing_everything_transposes_the_result() {
    let mut rng = Rng::new(10);
    for_each_isa(|isa, cfg| {
        for (r, c) in all_shapes() {
            let a = Matrix::from_fn(r, c, |_, _| rng.mixed());
            let b = Matrix::from_fn(r, c, |_, _| rng.mixed());
            let want = reference::fused(a.as_ref(), b.as_ref()).unwrap();
            let mut out_t = Matrix::from_fn(c, r, |_, _| SENTINEL);
            cfg.fused_into(a.as_ref().t(), b.as_ref().t(), out_t.as_mut())
                .unwrap();
            assert_flagship_eq(
                out_t.as_ref().t(),
                want.as_ref(),
                a.as_ref(),
                b.as_ref(),
                &format!("isa={isa} {r}x{c} transposed inputs"),
            );
        }
    });
}

#[test]
fn quadrants_as_inputs_and_as_outputs() {
    let mut rng = Rng::new(11);
    let rm = Layout::RowMajor;
    for_each_isa(|isa, _| {
        for (r, c) in all_shapes() {
            for q in 0..4 {
                let l = Layout::Quadrant(q);
                for combo in [(l, rm, rm), (rm, l, rm), (rm, rm, l), (l, l, l)] {
                    check_layouts(isa, (r, c), combo, &mut || rng.mixed());
                }
                // A quadrant of one parent shape next to a quadrant of another.
                let other = Layout::Quadrant(3 - q);
                check_layouts(isa, (r, c), (l, other, other), &mut || rng.mixed());
            }
        }
    });
}

#[test]
fn all_four_quadrants_of_one_output() {
    // The talk's pattern: each quadrant of the output computed from the
    // matching quadrants of the inputs gives the whole result.
    let mut rng = Rng::new(12);
    for_each_isa(|isa, cfg| {
        for (r, c) in all_shapes() {
            let a = Matrix::from_fn(r, c, |_, _| rng.mixed());
            let b = Matrix::from_fn(r, c, |_, _| rng.mixed());
            let want = reference::fused(a.as_ref(), b.as_ref()).unwrap();
            let mut out = Matrix::from_fn(r, c, |_, _| SENTINEL);
            let qa = a.as_ref().quadrants();
            let qb = b.as_ref().quadrants();
            for (k, qo) in out.as_mut().quadrants().into_iter().enumerate() {
                let report = cfg.run(&Flagship, [qa[k], qb[k]], qo).unwrap();
                assert_eq!(report.isa, isa);
            }
            assert_slice_bits_eq(
                out.as_slice(),
                want.as_slice(),
                &format!("isa={isa} {r}x{c} by quadrants"),
            );
        }
    });
}

#[test]
fn stride_zero_broadcasting_inputs() {
    let mut rng = Rng::new(13);
    let rm = Layout::RowMajor;
    let bc = [
        Layout::BroadcastRow,
        Layout::BroadcastCol,
        Layout::BroadcastAll,
    ];
    for_each_isa(|isa, _| {
        for (r, c) in all_shapes() {
            for l in bc {
                for lo in [
                    rm,
                    Layout::ColMajor,
                    Layout::ReverseBoth,
                    Layout::Quadrant(3),
                ] {
                    check_layouts(isa, (r, c), (l, rm, lo), &mut || rng.mixed());
                    check_layouts(isa, (r, c), (rm, l, lo), &mut || rng.mixed());
                    check_layouts(isa, (r, c), (l, l, lo), &mut || rng.mixed());
                }
            }
        }
    });
}

#[test]
fn broadcasting_reads_one_row_or_column() {
    // Independent of the reference: a row-broadcast input gives the same
    // result as the materialised matrix with that row repeated.
    let mut rng = Rng::new(14);
    for_each_isa(|isa, cfg| {
        for (r, c) in all_shapes() {
            let row: Vec<f64> = (0..c).map(|_| rng.normal()).collect();
            let col: Vec<f64> = (0..r).map(|_| rng.normal()).collect();
            let a = MatRef::from_strided(&row, (r, c), (0, 1), 0).unwrap();
            let b = MatRef::from_strided(&col, (r, c), (1, 0), 0).unwrap();
            let a_full = Matrix::from_fn(r, c, |_, j| row[j]);
            let b_full = Matrix::from_fn(r, c, |i, _| col[i]);
            let got = cfg.fused(a, b).unwrap();
            let want = cfg.fused(a_full.as_ref(), b_full.as_ref()).unwrap();
            assert_slice_bits_eq(
                got.as_slice(),
                want.as_slice(),
                &format!("isa={isa} {r}x{c} broadcast vs materialised"),
            );
        }
    });
}

#[test]
fn output_buffer_outside_the_view_is_untouched() {
    // An output view in the middle of a sentinel-filled buffer, with gaps
    // between rows and between elements.
    let mut rng = Rng::new(15);
    for_each_isa(|isa, cfg| {
        for (r, c) in all_shapes() {
            let a = Matrix::from_fn(r, c, |_, _| rng.mixed());
            let b = Matrix::from_fn(r, c, |_, _| rng.mixed());
            let want = reference::fused(a.as_ref(), b.as_ref()).unwrap();
            // Every other element of every other row, starting at offset 5.
            let (rs, cs, off) = (2 * (2 * c + 3), 2, 5);
            let len = off + r * rs + 7;
            let mut buf = vec![SENTINEL; len];
            let out = MatMut::from_strided(&mut buf, (r, c), (rs as isize, cs), off).unwrap();
            cfg.fused_into(a.as_ref(), b.as_ref(), out).unwrap();
            let ctx = format!("isa={isa} {r}x{c} gapped output");
            for (k, x) in buf.iter().enumerate() {
                let inside =
                    k >= off && (k - off) % rs < 2 * c && (k - off) % 2 == 0 && (k - off) / rs < r;
                if inside {
                    let (i, j) = ((k - off) / rs, (k - off) % rs / 2);
                    assert_eq!(
                        x.to_bits(),
                        want.get(i, j).unwrap().to_bits(),
                        "{ctx}: element ({i}, {j})"
                    );
                } else {
                    assert_eq!(
                        x.to_bits(),
                        SENTINEL.to_bits(),
                        "{ctx}: buffer index {k} outside the view was written"
                    );
                }
            }
        }
    });
}

#[test]
fn allocating_fused_matches_reference() {
    let mut rng = Rng::new(16);
    for_each_isa(|isa, cfg| {
        for (r, c) in all_shapes() {
            for l in Layout::INPUTS {
                let a = Operand::new(l, r, c, || rng.mixed());
                let b = Operand::new(Layout::ColMajor, r, c, || rng.mixed());
                let got = cfg.fused(a.view(), b.view()).unwrap();
                let want = reference::fused(a.view(), b.view()).unwrap();
                assert_eq!(got.shape(), (r, c));
                assert_flagship_eq(
                    got.as_ref(),
                    want.as_ref(),
                    a.view(),
                    b.view(),
                    &format!("isa={isa} {r}x{c} Config::fused a={l:?}"),
                );
            }
        }
    });
}

#[test]
fn default_config_runs_the_best_isa() {
    let best = Isa::detect();
    assert_eq!(Isa::supported().last(), Some(&best));
    assert_eq!(Config::new().resolve_isa(), Ok(best));
    let mut rng = Rng::new(17);
    for (r, c) in all_shapes() {
        let a = Operand::new(Layout::RowMajor, r, c, || rng.mixed());
        let b = Operand::new(Layout::Padded { pad: 1, offset: 1 }, r, c, || rng.mixed());
        let mut out = Operand::<f64>::output(Layout::ReverseRows, r, c);
        let report = Config::new()
            .run(&Flagship, [a.view(), b.view()], out.view_mut())
            .unwrap();
        assert_eq!(report.isa, best, "{r}x{c}: default config");
        let want = reference::fused(a.view(), b.view()).unwrap();
        let ctx = format!("default config {r}x{c}");
        assert_flagship_eq(out.view(), want.as_ref(), a.view(), b.view(), &ctx);
        assert_untouched_outside(&out, &ctx);
        // And the free functions.
        let got = fuse2d::fused(a.view(), b.view()).unwrap();
        assert_flagship_eq(got.as_ref(), want.as_ref(), a.view(), b.view(), &ctx);
        let mut out2 = Operand::<f64>::output(Layout::Quadrant(1), r, c);
        fuse2d::fused_into(a.view(), b.view(), out2.view_mut()).unwrap();
        assert_flagship_eq(out2.view(), want.as_ref(), a.view(), b.view(), &ctx);
        assert_untouched_outside(&out2, &ctx);
    }
}

#[test]
fn forced_isa_is_reported_even_for_empty_shapes() {
    for_each_isa(|isa, cfg| {
        assert_eq!(cfg.resolve_isa(), Ok(isa));
        for (r, c) in [(0, 0), (0, 5), (5, 0)] {
            let a = Matrix::<f64>::zeros(r, c);
            let mut out = Matrix::<f64>::zeros(r, c);
            let report = cfg
                .run(&Flagship, [a.as_ref(), a.as_ref()], out.as_mut())
                .unwrap();
            assert_eq!(report.isa, isa, "{r}x{c}");
        }
    });
}

#[test]
fn f32_lane_boundaries_and_layouts() {
    // f32 vectors hold twice as many lanes (8 on SSE2/NEON).
    let mut rng = Rng::new(18);
    for_each_isa(|isa, _| {
        for (r, c) in all_shapes() {
            for l in Layout::OUTPUTS {
                let a = Operand::new(l, r, c, || rng.mixed() as f32);
                let b = Operand::new(Layout::RowMajor, r, c, || rng.mixed() as f32);
                check_flagship(isa, &a, &b, l, " (f32)");
                check_flagship(isa, &b, &a, Layout::RowMajor, " (f32)");
            }
        }
    });
}

#[test]
fn large_2000x2000_once_per_isa() {
    let n = 2000;
    let mut rng = Rng::new(19);
    let a = Operand::new(Layout::RowMajor, n, n, || rng.mixed());
    let b = Operand::new(Layout::RowMajor, n, n, || rng.mixed());
    let mut want = Operand::<f64>::output(Layout::RowMajor, n, n);
    reference::fused_into(a.view(), b.view(), want.view_mut()).unwrap();
    for_each_isa(|isa, cfg| {
        let mut out = Operand::<f64>::output(Layout::RowMajor, n, n);
        let report = cfg
            .run(&Flagship, [a.view(), b.view()], out.view_mut())
            .unwrap();
        assert_eq!(report.isa, isa);
        assert_flagship_eq(
            out.view(),
            want.view(),
            a.view(),
            b.view(),
            &format!("isa={isa} 2000x2000"),
        );
    });
}

#[test]
fn layouts_above_the_size_where_work_is_split() {
    // Shapes with more elements than a small call (tens of thousands), so
    // any tiling or threading of the default configuration is exercised
    // with every kind of layout, and row lengths that are not multiples of
    // any lane count.
    let mut rng = Rng::new(20);
    let rm = Layout::RowMajor;
    let combos = [
        (rm, rm, rm),
        (Layout::ColMajor, rm, rm),
        (rm, rm, Layout::ColMajor),
        (
            Layout::Transposed,
            Layout::ReverseBoth,
            Layout::Padded { pad: 1, offset: 1 },
        ),
        (
            Layout::BroadcastRow,
            Layout::NegColMajor { pad: 1 },
            Layout::Quadrant(1),
        ),
        (
            Layout::Offset(1),
            Layout::BroadcastCol,
            Layout::NegStrides { pad: 3 },
        ),
    ];
    for_each_isa(|isa, _| {
        for shape in [(257, 263), (1, 70_001), (70_001, 1), (3, 33_333)] {
            for combo in combos {
                check_layouts(isa, shape, combo, &mut || rng.mixed());
            }
        }
    });
}

/// Column-major operands of every shape around the pack's transpose blocks
/// (f64: 8, 4 and 2 on a side for AVX-512, AVX2, SSE2 and NEON; f32: 8 and
/// 4), in f64 and in f32: whole blocks, an edge below, an edge to the
/// right, both, over several strips, with columns off alignment or in
/// reverse order (a negative stride between the transposed rows), and the
/// layouts that take the element-by-element copy instead (reversed column
/// runs).
#[test]
fn column_major_operands_around_the_transpose_blocks() {
    const SIDES: [usize; 10] = [3, 7, 8, 9, 15, 16, 17, 23, 64, 67];
    let (rm, cm) = (Layout::RowMajor, Layout::ColMajor);
    let combos = [
        (rm, cm, rm),
        (cm, cm, rm),
        (rm, rm, cm),
        (Layout::ColPadded { pad: 3 }, Layout::Transposed, rm),
        (rm, Layout::NegColMajor { pad: 1 }, rm),
        (Layout::ColMajorReverseCols, Layout::ColMajorReverseCols, rm),
    ];
    let mut rng = Rng::new(21);
    for_each_isa(|isa, _| {
        for r in SIDES {
            for c in SIDES {
                for (la, lb, lo) in combos {
                    let a = Operand::new(la, r, c, || rng.mixed());
                    let b = Operand::new(lb, r, c, || rng.mixed());
                    check_flagship(isa, &a, &b, lo, "");
                    let a = Operand::new(la, r, c, || rng.mixed() as f32);
                    let b = Operand::new(lb, r, c, || rng.mixed() as f32);
                    check_flagship(isa, &a, &b, lo, " (f32)");
                }
            }
        }
    });
}
