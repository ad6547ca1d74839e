//! The `ndarray` and `approx` features, used as a downstream crate would.
//! Run with `cargo test --all-features` (CI does).
#![cfg(all(feature = "ndarray", feature = "approx"))]

use approx::{AbsDiffEq, RelativeEq, UlpsEq, assert_relative_eq, assert_ulps_eq};
use fuse2d::{Config, Isa, MatMut, MatRef, Matrix, expr, nd, reference};
use ndarray::{Array2, ShapeBuilder, s};

expr!(Hypot = |x, y| (x * x + y * y).sqrt());

fn arrays(rows: usize, cols: usize) -> (Array2<f64>, Array2<f64>) {
    let a = Array2::from_shape_fn((rows, cols), |(i, j)| (i * cols + j) as f64 * 0.25 - 7.0);
    // Column-major storage.
    let b = Array2::from_shape_fn((rows, cols).f(), |(i, j)| {
        1.0 / (1.0 + i as f64 + 2.0 * j as f64)
    });
    (a, b)
}

fn bits(a: &Array2<f64>) -> Vec<u64> {
    a.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn ndarray_views_of_any_strides_zero_copy() {
    let (a, b) = arrays(40, 60);
    let cases = [
        (a.view(), b.view()),
        (a.t(), b.t()),
        (a.slice(s![..;2, ..;3]), b.slice(s![1..;2, ..;-3])),
        (a.slice(s![..;-1, 5..25]), b.slice(s![..;-1, 10..30])),
    ];
    for (k, (va, vb)) in cases.into_iter().enumerate() {
        // Zero-copy: the view points into the array's own memory.
        let ma = MatRef::from(va);
        assert_eq!(ma.as_ptr(), va.as_ptr(), "case {k}");
        assert_eq!(ma.shape(), va.dim());
        let want = reference::fused(MatRef::from(va), MatRef::from(vb)).unwrap();
        for &isa in Isa::supported() {
            let got = nd::eval(&Config::new().isa(isa), &fuse2d::Flagship, [va, vb]).unwrap();
            let want_nd: Array2<f64> = want.clone().into();
            assert_eq!(bits(&got), bits(&want_nd), "case {k} isa {isa}");
        }
        let got = nd::fused(va, vb).unwrap();
        assert_eq!(got.dim(), va.dim());
    }
}

#[test]
fn ndarray_output_views() {
    let (a, b) = arrays(30, 20);
    let want: Array2<f64> = reference::fused(a.view().into(), b.view().into())
        .unwrap()
        .into();
    // A column-major, reversed output view of a bigger array.
    let mut big = Array2::<f64>::from_elem((32, 22).f(), f64::NAN);
    nd::fused_into(a.view(), b.view(), big.slice_mut(s![1..31, 1..21;-1])).unwrap();
    let got = big.slice(s![1..31, 1..21;-1]).to_owned();
    assert_eq!(bits(&got), bits(&want));
    // Untouched outside the view.
    assert!(big.row(0).iter().all(|x| x.is_nan()) && big.column(0).iter().all(|x| x.is_nan()));
    // A shape error leaves the output untouched.
    let mut out = Array2::<f64>::zeros((20, 30));
    let err = nd::fused_into(a.view(), b.view(), out.view_mut()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "output has shape (20, 30) but the inputs have shape (30, 20)"
    );
    assert!(out.iter().all(|&x| x == 0.0));
    // Any expression, with a configuration.
    let h = nd::eval(&Config::new().threads(2), &Hypot, [a.view(), b.view()]).unwrap();
    assert_eq!(h[(3, 4)], a[(3, 4)].hypot(b[(3, 4)]));
    // MatMut from an ndarray view is zero-copy too.
    let mut o = Array2::<f64>::zeros((30, 20));
    let p = o.as_mut_ptr();
    let mut m = MatMut::try_from(o.view_mut()).unwrap();
    assert_eq!(m.as_mut_ptr(), p);
}

#[test]
fn approx_traits_for_matrix_and_views() {
    let a = Matrix::from_fn(5, 7, |i, j| (i * 7 + j) as f64 / 3.0);
    let b = Matrix::from_fn(5, 7, |i, j| (i * 7 + j) as f64 * (1.0 / 3.0));
    assert_relative_eq!(a, b, max_relative = 1e-15);
    assert_ulps_eq!(a.as_ref(), b.as_ref(), max_ulps = 1);
    assert!(a.abs_diff_eq(&b, 1e-12));
    let mut c = b.clone();
    c.as_mut_slice()[17] += 1e-9;
    assert!(!a.relative_eq(&c, 1e-15, 1e-15));
    assert!(a.relative_eq(&c, 1e-15, 1e-9));
    assert!(!a.ulps_eq(&c, 0.0, 4));
    // Different shapes are never equal, whatever the tolerance.
    let d = Matrix::from_fn(7, 5, |i, j| (j * 7 + i) as f64 / 3.0);
    assert!(!a.abs_diff_eq(&d, f64::INFINITY));
    assert!(a.as_ref().abs_diff_eq(&d.as_ref().t(), 1e-12));
    let mut e = a.clone();
    let mut f = b.clone();
    assert!(e.as_mut().relative_eq(&f.as_mut(), 1e-15, 1e-15));
}
