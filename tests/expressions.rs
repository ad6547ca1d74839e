//! User-defined expressions through the public API, f32, broadcasting, and
//! the exactness contract: bitwise equal to scalar evaluation on every ISA,
//! thread count and layout; `mul_add` within ulps (bitwise where fused).

mod common;

use common::{Bits, Layout, Operand, Rng, assert_bitwise_eq, specials, specials_f32};
use fuse2d::{
    Config, Element, Error, Expr, Isa, Lanes, MatRef, Matrix, StoreMode, expr, reference,
};

expr!(Hypot = |x, y| (x * x + y * y).sqrt());
expr!(Clamp { lo, hi } = |x| x.max(lo).min(hi));
expr!(Rational = |x, y, z| -(x - y) / (z.abs() + V::constant(0.5)));
expr!(Mix4 = |a, b, c, d| (a * b - c) / d + a.min(d) - b.max(c));
expr!(Axpy { alpha } = |x, y| alpha * x + y);
expr!(Fma = |x, y, z| x.mul_add(y, z));

/// A hand-written expression (the trait, for what the macro cannot say):
/// a constant captured per call and a branch-free select through min/max.
struct SoftThreshold(f64);

impl Expr<f64, 1> for SoftThreshold {
    #[inline(always)]
    fn eval<V: Lanes<f64>>(&self, [x]: [V; 1]) -> V {
        let t = V::splat(self.0);
        let zero = V::constant(0.0);
        (x - t).max(zero) - (-x - t).max(zero)
    }
}

/// Bitwise equality with the reference, with the one freedom Rust's float
/// semantics leave (RFC 3514): when two NaNs meet in one operation (two NaN
/// inputs, or an input NaN and one made by an invalid operation such as
/// `inf - inf` or `0 / 0`), which payload and sign survive is the
/// compiler's choice, and LLVM may commute `+` and `*`. So where an
/// element's inputs include a NaN, its result must be a NaN, of any bits;
/// every other element must match to the bit — including NaNs that the
/// expression makes from non-NaN inputs.
fn assert_exact<T: Bits, const N: usize>(
    got: MatRef<'_, T>,
    want: MatRef<'_, T>,
    ins: [MatRef<'_, T>; N],
    ctx: &str,
) {
    assert_eq!(got.shape(), want.shape(), "{ctx}");
    for i in 0..got.rows() {
        for j in 0..got.cols() {
            let (g, w) = (got.get(i, j).unwrap(), want.get(i, j).unwrap());
            let nan_input = ins.iter().any(|v| is_nan(v.get(i, j).unwrap()));
            let ok = if nan_input && is_nan(w) {
                is_nan(g)
            } else {
                g.bits() == w.bits()
            };
            assert!(
                ok,
                "{ctx}: mismatch at ({i}, {j}): got {}, reference {}",
                common::show(g),
                common::show(w)
            );
        }
    }
}

/// NaN is the one value not equal to itself (generic over f32 and f64).
#[allow(clippy::eq_op)]
fn is_nan<T: PartialEq>(x: T) -> bool {
    x != x
}

/// The configurations every expression is checked under: each ISA, 1 and 3
/// threads (the latter forced parallel with small tiles), normal and
/// streaming stores.
fn configs() -> Vec<Config> {
    let mut v = Vec::new();
    for &isa in Isa::supported() {
        v.push(Config::new().isa(isa).threads(1));
        v.push(
            Config::new()
                .isa(isa)
                .threads(3)
                .serial_threshold(0)
                .tile_elems(300)
                .store(StoreMode::Streaming),
        );
    }
    v
}

const LAYOUTS: [Layout; 6] = [
    Layout::RowMajor,
    Layout::ColMajor,
    Layout::ReverseCols,
    Layout::Quadrant(3),
    Layout::Offset(1),
    Layout::Padded { pad: 3, offset: 0 },
];

/// Checks `e` bitwise against `reference::eval_into` for every config,
/// every input layout (rotating through operands) and output layout.
fn check_exact<T: Bits, E: Expr<T, N>, const N: usize>(
    e: &E,
    name: &str,
    mut fill: impl FnMut() -> T,
) {
    let (rows, cols) = (37, 29);
    for (k, &lin) in LAYOUTS.iter().enumerate() {
        let ins: Vec<Operand<T>> = (0..N)
            .map(|n| Operand::new(LAYOUTS[(k + n) % LAYOUTS.len()], rows, cols, &mut fill))
            .collect();
        let views: [MatRef<'_, T>; N] = core::array::from_fn(|n| ins[n].view());
        for lout in [Layout::RowMajor, Layout::Transposed, lin] {
            if !lout.writable() {
                continue;
            }
            let mut want = Operand::<T>::output(lout, rows, cols);
            reference::eval_into(e, views, want.view_mut()).unwrap();
            for cfg in configs() {
                let mut got = Operand::<T>::output(lout, rows, cols);
                let r = cfg.run(e, views, got.view_mut()).unwrap();
                let ctx = format!("{name} isa={} ins from {lin:?} out={lout:?} {cfg:?}", r.isa);
                assert_exact(got.view(), want.view(), views, &ctx);
            }
        }
    }
}

#[test]
fn user_expressions_are_bitwise_exact_f64() {
    let mut rng = Rng::new(1);
    check_exact(&Hypot, "hypot", || rng.mixed());
    check_exact(&Clamp { lo: -1.0, hi: 2.5 }, "clamp", || rng.mixed());
    check_exact(&Rational, "rational", || rng.mixed());
    check_exact(&Mix4, "mix4", || rng.mixed());
    check_exact(&Axpy { alpha: -3.25 }, "axpy", || rng.mixed());
    check_exact(&SoftThreshold(0.75), "soft threshold", || rng.normal());
}

#[test]
fn user_expressions_are_bitwise_exact_f32() {
    let mut rng = Rng::new(2);
    let pool = specials_f32();
    let mut f32s = move || {
        if rng.below(4) == 0 {
            pool[rng.below(pool.len())]
        } else {
            rng.normal() as f32
        }
    };
    check_exact(&fuse2d::Flagship, "flagship f32", &mut f32s);
    check_exact(&Hypot, "hypot f32", &mut f32s);
    check_exact(
        &Clamp {
            lo: -1.0f32,
            hi: 2.5,
        },
        "clamp f32",
        &mut f32s,
    );
    check_exact(&Rational, "rational f32", &mut f32s);
    check_exact(&Mix4, "mix4 f32", &mut f32s);
}

/// `min`/`max`: `other` whenever the comparison is false (NaN, equal zeros),
/// identically on every path.
#[test]
fn min_max_nan_and_signed_zero_rules() {
    expr!(Min = |x, y| x.min(y));
    expr!(Max = |x, y| x.max(y));
    let nan = f64::NAN;
    let cases: [(f64, f64, f64, f64); 6] = [
        // (x, y, min(x, y), max(x, y))
        (nan, 1.0, 1.0, 1.0),
        (1.0, nan, nan, nan),
        (-0.0, 0.0, 0.0, 0.0),
        (0.0, -0.0, -0.0, -0.0),
        (1.0, 2.0, 1.0, 2.0),
        (
            f64::NEG_INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::INFINITY,
        ),
    ];
    // 19 copies so every lane position and the tail see each case.
    let n = 19;
    let xs: Vec<f64> = (0..n * cases.len())
        .map(|k| cases[k % cases.len()].0)
        .collect();
    let ys: Vec<f64> = (0..n * cases.len())
        .map(|k| cases[k % cases.len()].1)
        .collect();
    let x = MatRef::from_slice(&xs, n, cases.len()).unwrap();
    let y = MatRef::from_slice(&ys, n, cases.len()).unwrap();
    for cfg in configs() {
        let isa = cfg.resolve_isa().unwrap();
        let lo = cfg.eval(&Min, [x, y]).unwrap();
        let hi = cfg.eval(&Max, [x, y]).unwrap();
        for (k, (&a, &b)) in lo.as_slice().iter().zip(hi.as_slice()).enumerate() {
            let (_, _, want_lo, want_hi) = cases[k % cases.len()];
            assert_eq!(
                a.to_bits(),
                want_lo.to_bits(),
                "isa={isa} element {k}: min = {a:?}, want {want_lo:?}"
            );
            assert_eq!(
                b.to_bits(),
                want_hi.to_bits(),
                "isa={isa} element {k}: max = {b:?}, want {want_hi:?}"
            );
        }
    }
}

/// `mul_add`: fused (bitwise the software `fma`) on AVX2, AVX-512 and NEON;
/// a multiply then an add on SSE2 and scalar, within 1 ulp of fused on
/// inputs without cancellation (all positive).
#[test]
fn mul_add_contract() {
    let mut rng = Rng::new(3);
    let mut pos = || rng.normal().abs() + 1e-3;
    let (rows, cols) = (23, 41);
    let ops: Vec<Matrix<f64>> = (0..3)
        .map(|_| Matrix::from_fn(rows, cols, |_, _| pos()))
        .collect();
    let ins = [ops[0].as_ref(), ops[1].as_ref(), ops[2].as_ref()];
    let mut fused = Matrix::zeros(rows, cols);
    reference::eval_into(&Fma, ins, fused.as_mut()).unwrap();
    // The reference really is fused: it differs from mul-then-add somewhere.
    let unfused = Matrix::from_fn(rows, cols, |i, j| {
        ops[0].get(i, j).unwrap() * ops[1].get(i, j).unwrap() + ops[2].get(i, j).unwrap()
    });
    assert_ne!(
        fused, unfused,
        "reference::eval_into should use a fused multiply-add"
    );
    for cfg in configs() {
        let isa = cfg.resolve_isa().unwrap();
        let got = cfg.eval(&Fma, ins).unwrap();
        match isa {
            Isa::Avx2 | Isa::Avx512 | Isa::Neon => {
                assert_bitwise_eq(
                    got.as_ref(),
                    fused.as_ref(),
                    &format!("mul_add fused on {isa}"),
                );
            }
            _ => {
                approx::assert_ulps_eq!(got.as_slice(), fused.as_slice(), max_ulps = 1);
                assert_bitwise_eq(
                    got.as_ref(),
                    unfused.as_ref(),
                    &format!("mul_add unfused on {isa}"),
                );
            }
        }
    }
}

/// Row, column and scalar broadcasting, as NumPy does it.
#[test]
fn broadcasting() {
    let (rows, cols) = (67, 45);
    let mut rng = Rng::new(4);
    let m = Matrix::from_fn(rows, cols, |_, _| rng.mixed());
    let row: Vec<f64> = (0..cols).map(|j| j as f64 * 0.5 - 3.0).collect();
    let col: Vec<f64> = (0..rows).map(|i| 1.0 / (i as f64 + 1.0)).collect();
    let scalar = 2.75;
    let row_b = MatRef::broadcast_row(&row, rows).unwrap();
    let col_b = MatRef::broadcast_col(&col, cols).unwrap();
    let col_b2 = MatRef::from_slice(&col, rows, 1)
        .unwrap()
        .broadcast_to((rows, cols))
        .unwrap();
    let s_b = MatRef::broadcast_scalar(&scalar, rows, cols).unwrap();
    assert_eq!(col_b, col_b2);
    for (name, b) in [("row", row_b), ("col", col_b), ("scalar", s_b)] {
        for (i, j) in [(0, 0), (rows - 1, cols - 1), (13, 7)] {
            let want = match name {
                "row" => row[j],
                "col" => col[i],
                _ => scalar,
            };
            assert_eq!(b.get(i, j), Some(want), "{name} broadcast at ({i}, {j})");
        }
        let want = reference::fused(m.as_ref(), b).unwrap();
        for cfg in configs() {
            let got = cfg.fused(m.as_ref(), b).unwrap();
            assert_bitwise_eq(
                got.as_ref(),
                want.as_ref(),
                &format!("{name} broadcast {cfg:?}"),
            );
        }
    }
    // NumPy's rule: only length-1 axes stretch.
    let short = MatRef::from_slice(&row[..3], 1, 3).unwrap();
    assert_eq!(
        short.broadcast_to((5, 4)).unwrap_err(),
        Error::Broadcast {
            from: (1, 3),
            to: (5, 4)
        }
    );
    assert_eq!(
        short.broadcast_to((5, 4)).unwrap_err().to_string(),
        "cannot broadcast an array of shape (1, 3) to shape (5, 4)"
    );
    assert_eq!(short.broadcast_to((0, 3)).unwrap().shape(), (0, 3));
    // A broadcast view cannot be an output: the mutable constructor refuses
    // stride-0 layouts.
    let mut buf = vec![0.0; 3];
    assert!(matches!(
        fuse2d::MatMut::from_strided(&mut buf, (4, 3), (0, 1), 0),
        Err(Error::OverlappingOutput { .. })
    ));
}

/// The special-value pool through a user expression with sqrt and division.
#[test]
fn special_values_through_user_expressions() {
    let pool = specials();
    let n = pool.len();
    let xs: Vec<f64> = (0..n * n).map(|k| pool[k / n]).collect();
    let ys: Vec<f64> = (0..n * n).map(|k| pool[k % n]).collect();
    let x = MatRef::from_slice(&xs, n, n).unwrap();
    let y = MatRef::from_slice(&ys, n, n).unwrap();
    let mut want = Matrix::zeros(n, n);
    reference::eval_into(&Hypot, [x, y], want.as_mut()).unwrap();
    let mut want_r = Matrix::zeros(n, n);
    reference::eval_into(&Rational, [x, y, x], want_r.as_mut()).unwrap();
    for cfg in configs() {
        let got = cfg.eval(&Hypot, [x, y]).unwrap();
        assert_exact(
            got.as_ref(),
            want.as_ref(),
            [x, y],
            &format!("hypot specials {cfg:?}"),
        );
        let got = cfg.eval(&Rational, [x, y, x]).unwrap();
        assert_exact(
            got.as_ref(),
            want_r.as_ref(),
            [x, y],
            &format!("rational specials {cfg:?}"),
        );
    }
}

/// One generic function serves both element types.
#[test]
fn generic_over_the_element_type() {
    fn run<T: Element>() -> Matrix<T> {
        let a = Matrix::from_fn(5, 9, |i, j| T::from_f64((i * 9 + j) as f64));
        Config::new()
            .eval(&Hypot, [a.as_ref(), a.as_ref()])
            .unwrap()
    }
    assert_eq!(run::<f64>().get(4, 8), Some(44.0f64.hypot(44.0)));
    assert_eq!(run::<f32>().get(4, 8), Some((2.0f32 * 44.0 * 44.0).sqrt()));
}
