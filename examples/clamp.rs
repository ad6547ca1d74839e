//! Clamping with `min`/`max`, and what they do with NaN and signed zeros.

use fuse2d::{Config, MatRef, Matrix, expr, reference};

expr!(Clamp { lo, hi } = |x| x.max(lo).min(hi));

fn main() -> Result<(), fuse2d::Error> {
    let data = [-3.0, -0.0, 0.5, 7.0, f64::NAN, f64::INFINITY];
    let x = MatRef::from_slice(&data, 2, 3)?;
    let e = Clamp { lo: 0.0, hi: 1.0 };
    let got = Config::new().eval(&e, [x])?;
    let mut want = Matrix::zeros(2, 3);
    reference::eval_into(&e, [x], want.as_mut())?;
    let bits = |m: &Matrix<f64>| m.as_slice().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&got), bits(&want), "clamp differs from the reference");
    // max(NaN, 0) = 0: the comparison is false, so `other` wins.
    println!(
        "clamp to [0, 1] of {data:?} = {:?}; equal to the reference bit for bit",
        got.as_slice()
    );
    Ok(())
}
