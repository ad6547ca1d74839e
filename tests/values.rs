//! Special values (NaNs with their signs and payloads, infinities, signed
//! zeros, subnormals, huge and tiny magnitudes) in every lane position, on
//! every instruction set, bitwise against `fuse2d::reference`.

mod common;

use common::{
    Bits, Layout, Operand, Rng, assert_flagship_eq, check_flagship, for_each_isa, show, specials,
    specials_f32,
};
use fuse2d::{Flagship, Isa, MatRef, Matrix, reference};

/// Widths covering body and tail of every vector width: `1..=17` and
/// `31, 32, 33`.
fn widths() -> Vec<usize> {
    (1..=17).chain([31, 32, 33]).collect()
}

/// Every ordered pair of the special pool.
fn pairs() -> Vec<(f64, f64)> {
    let pool = specials();
    let mut v = Vec::new();
    for &x in &pool {
        for &y in &pool {
            v.push((x, y));
        }
    }
    v
}

/// The flagship formula computed here, independently of the crate.
fn formula(x: f64, y: f64) -> f64 {
    (x + y) * 2.0 + x * y
}

/// Sanity of the oracle itself: a non-NaN reference result is exactly the
/// IEEE result of the formula; a NaN one is NaN exactly when that is.
fn check_reference_semantics(a: MatRef<'_, f64>, b: MatRef<'_, f64>, want: MatRef<'_, f64>) {
    for i in 0..a.rows() {
        for j in 0..a.cols() {
            let (x, y) = (a.get(i, j).unwrap(), b.get(i, j).unwrap());
            let (w, f) = (want.get(i, j).unwrap(), formula(x, y));
            if f.is_nan() {
                assert!(
                    w.is_nan(),
                    "reference({}, {}) = {}, expected a NaN",
                    show(x),
                    show(y),
                    show(w)
                );
            } else {
                assert_eq!(
                    w.to_bits(),
                    f.to_bits(),
                    "reference({}, {}) = {}, expected {}",
                    show(x),
                    show(y),
                    show(w),
                    show(f)
                );
            }
        }
    }
}

/// Runs `isa` on row-major `a`, `b` and compares with the reference.
fn check_matrices(isa: Isa, a: &Matrix<f64>, b: &Matrix<f64>, ctx: &str) {
    let want = reference::fused(a.as_ref(), b.as_ref()).unwrap();
    check_reference_semantics(a.as_ref(), b.as_ref(), want.as_ref());
    let mut got = Matrix::from_fn(a.rows(), a.cols(), |_, _| common::SENTINEL);
    let report = fuse2d::Config::new()
        .isa(isa)
        .run(&Flagship, [a.as_ref(), b.as_ref()], got.as_mut())
        .unwrap();
    assert_eq!(report.isa, isa, "{ctx}");
    let ctx = format!("isa={isa} {ctx}");
    assert_flagship_eq(got.as_ref(), want.as_ref(), a.as_ref(), b.as_ref(), &ctx);
}

#[test]
fn every_special_pair_in_every_lane_position() {
    // Row k holds pair k at column (k + shift) % w, in a background of
    // ordinary values; over all shifts every pair visits every column, so
    // every lane of the vector body and every tail position.
    let pairs = pairs();
    let mut rng = Rng::new(100);
    for_each_isa(|isa, _| {
        for w in widths() {
            for shift in 0..w {
                let mut a = Matrix::from_fn(pairs.len(), w, |_, _| rng.normal());
                let mut b = Matrix::from_fn(pairs.len(), w, |_, _| rng.normal());
                for (k, &(x, y)) in pairs.iter().enumerate() {
                    let j = (k + shift) % w;
                    a.as_mut_slice()[k * w + j] = x;
                    b.as_mut_slice()[k * w + j] = y;
                }
                check_matrices(isa, &a, &b, &format!("width {w}, shift {shift}"));
            }
        }
    });
}

#[test]
fn special_pairs_filling_whole_vectors() {
    // Every lane of a row holds the same pair: specials in all lanes at once.
    let pairs = pairs();
    for_each_isa(|isa, _| {
        for w in widths() {
            let a = Matrix::from_fn(pairs.len(), w, |k, _| pairs[k].0);
            let b = Matrix::from_fn(pairs.len(), w, |k, _| pairs[k].1);
            check_matrices(isa, &a, &b, &format!("uniform rows, width {w}"));
        }
    });
}

#[test]
fn specials_next_to_each_other() {
    // Dense random specials: neighbouring lanes hold different specials.
    let mut rng = Rng::new(101);
    for_each_isa(|isa, _| {
        for w in widths() {
            for rows in [1, 2, 7] {
                let a = Matrix::from_fn(rows, w, |_, _| rng.special());
                let b = Matrix::from_fn(rows, w, |_, _| rng.special());
                check_matrices(isa, &a, &b, &format!("dense specials {rows}x{w}"));
            }
        }
    });
}

#[test]
fn specials_in_strided_and_broadcast_layouts() {
    // The strided (element by element) paths see the same values.
    let mut rng = Rng::new(102);
    let layouts = [
        Layout::ColMajor,
        Layout::ReverseBoth,
        Layout::Padded { pad: 1, offset: 1 },
        Layout::Transposed,
        Layout::BroadcastRow,
        Layout::BroadcastCol,
        Layout::BroadcastAll,
    ];
    for_each_isa(|isa, _| {
        for w in widths() {
            for la in layouts {
                for lb in layouts {
                    let a = Operand::new(la, 5, w, || rng.special());
                    let b = Operand::new(lb, 5, w, || rng.special());
                    let lo = if la.writable() {
                        la
                    } else {
                        Layout::NegStrides { pad: 1 }
                    };
                    let out = check_flagship(isa, &a, &b, lo, " (specials)");
                    check_reference_semantics(a.view(), b.view(), out.view());
                }
            }
        }
    });
}

#[test]
fn nan_sign_and_payload_match_the_reference() {
    // One NaN operand among ordinary values: the reference keeps (a quieted
    // form of) that NaN; every path must produce the very same bits.
    let nans = [
        f64::NAN,
        -f64::NAN,
        f64::from_bits(0x7ff8_0000_0000_0001),
        f64::from_bits(0xfff8_dead_beef_cafe),
        f64::from_bits(0x7ff0_0000_0000_0001),
        f64::from_bits(0xfff4_0000_0000_0000),
        f64::from_bits(0x7fff_ffff_ffff_ffff),
        f64::from_bits(0xffff_ffff_ffff_ffff),
    ];
    let others = [1.5, -0.0, 0.0, f64::INFINITY, f64::NEG_INFINITY, f64::MAX];
    for_each_isa(|isa, _| {
        for w in widths() {
            for &n in &nans {
                for &o in &others {
                    for nan_first in [true, false] {
                        let (x, y) = if nan_first { (n, o) } else { (o, n) };
                        let a = Matrix::from_fn(3, w, |i, j| if (i + j) % 2 == 0 { x } else { o });
                        let b = Matrix::from_fn(3, w, |_, _| y);
                        let want = reference::fused(a.as_ref(), b.as_ref()).unwrap();
                        let got = fuse2d::Config::new()
                            .isa(isa)
                            .fused(a.as_ref(), b.as_ref())
                            .unwrap();
                        let ctx = format!("isa={isa} width {w}: a={} b={}", show(x), show(y));
                        assert!(got.as_slice().iter().any(|v| v.is_nan()), "{ctx}");
                        assert_flagship_eq(
                            got.as_ref(),
                            want.as_ref(),
                            a.as_ref(),
                            b.as_ref(),
                            &ctx,
                        );
                    }
                }
            }
        }
    });
}

#[test]
fn signed_zeros_and_infinities_exact() {
    // Results fixed by IEEE 754, checked on every path without the oracle.
    let cases: [(f64, f64, f64); 10] = [
        (-0.0, -0.0, 0.0), // (-0 + -0) * 2 = -0; -0 * -0 = +0; -0 + +0 = +0
        (0.0, -0.0, 0.0),
        (-0.0, 0.0, 0.0),
        (f64::INFINITY, 1.0, f64::INFINITY),
        (f64::NEG_INFINITY, 1.0, f64::NEG_INFINITY),
        (f64::MAX, f64::MAX, f64::INFINITY),
        (f64::MAX, f64::MIN, f64::NEG_INFINITY), // 0 * 2 + -inf
        (f64::from_bits(1), f64::from_bits(1), f64::from_bits(4)), // products underflow to 0
        (1e-160, 1e-160, formula(1e-160, 1e-160)),
        (2.0, 3.0, 16.0),
    ];
    for_each_isa(|isa, cfg| {
        for w in widths() {
            for &(x, y, want) in &cases {
                let a = Matrix::from_fn(2, w, |_, _| x);
                let b = Matrix::from_fn(2, w, |_, _| y);
                let got = cfg.fused(a.as_ref(), b.as_ref()).unwrap();
                for (k, v) in got.as_slice().iter().enumerate() {
                    assert_eq!(
                        v.to_bits(),
                        want.to_bits(),
                        "isa={isa} width {w} element {k}: f({}, {}) = {}, expected {}",
                        show(x),
                        show(y),
                        show(*v),
                        show(want)
                    );
                }
            }
        }
    });
    // The invalid operations give NaN.
    for_each_isa(|isa, cfg| {
        for (x, y) in [(f64::INFINITY, f64::NEG_INFINITY), (0.0, f64::INFINITY)] {
            let a = Matrix::from_fn(1, 9, |_, _| x);
            let b = Matrix::from_fn(1, 9, |_, _| y);
            let got = cfg.fused(a.as_ref(), b.as_ref()).unwrap();
            assert!(
                got.as_slice().iter().all(|v| v.is_nan()),
                "isa={isa} f({x}, {y})"
            );
        }
    });
}

#[test]
fn random_bit_patterns() {
    let mut rng = Rng::new(103);
    for_each_isa(|isa, _| {
        for w in widths() {
            for rows in [1, 3, 8] {
                let a = Matrix::from_fn(rows, w, |_, _| rng.any_bits());
                let b = Matrix::from_fn(rows, w, |_, _| rng.any_bits());
                check_matrices(isa, &a, &b, &format!("random bits {rows}x{w}"));
            }
        }
    });
}

/// A value generator.
type Gen = fn(&mut Rng) -> f64;

#[test]
fn huge_and_tiny_magnitudes() {
    let mut rng = Rng::new(104);
    for_each_isa(|isa, _| {
        for w in widths() {
            let gens: [(&str, Gen, Gen); 4] = [
                ("huge x huge", Rng::huge, Rng::huge),
                ("tiny x tiny", Rng::tiny, Rng::tiny),
                ("huge x tiny", Rng::huge, Rng::tiny),
                ("tiny x normal", Rng::tiny, Rng::normal),
            ];
            for (name, ga, gb) in gens {
                let a = Matrix::from_fn(6, w, |_, _| ga(&mut rng));
                let b = Matrix::from_fn(6, w, |_, _| gb(&mut rng));
                check_matrices(isa, &a, &b, &format!("{name}, width {w}"));
            }
        }
    });
}

#[test]
fn subnormal_results_are_not_flushed() {
    // Inputs and results in the subnormal range: no path may flush them to
    // zero (FTZ/DAZ would change the bits).
    let tiny = f64::from_bits(0x0000_0000_0000_1000);
    for_each_isa(|isa, cfg| {
        for w in widths() {
            let a = Matrix::from_fn(2, w, |_, j| tiny * (j + 1) as f64);
            let b = Matrix::from_fn(2, w, |_, _| -tiny / 2.0);
            let got = cfg.fused(a.as_ref(), b.as_ref()).unwrap();
            for j in 0..w {
                let x = tiny * (j + 1) as f64;
                let want = (x - tiny / 2.0) * 2.0;
                assert!(want != 0.0 && want.is_subnormal());
                assert_eq!(
                    got.get(0, j).unwrap().to_bits(),
                    want.to_bits(),
                    "isa={isa} width {w} column {j}"
                );
            }
        }
    });
}

#[test]
fn f32_special_pairs_in_every_lane_position() {
    let pool = specials_f32();
    let pairs: Vec<(f32, f32)> = pool
        .iter()
        .flat_map(|&x| pool.iter().map(move |&y| (x, y)))
        .collect();
    let mut rng = Rng::new(105);
    for_each_isa(|isa, cfg| {
        for w in widths() {
            for shift in 0..w {
                let mut a = Matrix::from_fn(pairs.len(), w, |_, _| rng.normal() as f32);
                let mut b = Matrix::from_fn(pairs.len(), w, |_, _| rng.normal() as f32);
                for (k, &(x, y)) in pairs.iter().enumerate() {
                    let j = (k + shift) % w;
                    a.as_mut_slice()[k * w + j] = x;
                    b.as_mut_slice()[k * w + j] = y;
                }
                let want = reference::fused(a.as_ref(), b.as_ref()).unwrap();
                let got = cfg.fused(a.as_ref(), b.as_ref()).unwrap();
                let ctx = format!("isa={isa} f32 width {w} shift {shift}");
                assert_flagship_eq(got.as_ref(), want.as_ref(), a.as_ref(), b.as_ref(), &ctx);
                // And the oracle agrees with the formula where it is not NaN.
                for (k, &(x, y)) in pairs.iter().enumerate() {
                    let f = (x + y) * 2.0 + x * y;
                    let w_ = want.get(k, (k + shift) % w).unwrap();
                    assert!(f.is_nan() == w_.is_nan() && (f.is_nan() || f.bits() == w_.bits()));
                }
            }
        }
    });
}
