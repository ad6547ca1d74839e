//! A hypotenuse `sqrt(x * x + y * y)` over a column-major `y`, on 2 threads.

use fuse2d::{Config, MatRef, Matrix, expr, reference};

expr!(Hypot = |x, y| (x * x + y * y).sqrt());

fn main() -> Result<(), fuse2d::Error> {
    let (rows, cols) = (600, 400);
    let x = Matrix::from_fn(rows, cols, |i, _| i as f64);
    // y stored column-major, as Fortran or `numpy.asfortranarray` would.
    let y_data: Vec<f64> = (0..rows * cols).map(|k| (k / rows) as f64).collect();
    let y = MatRef::from_slice_col_major(&y_data, rows, cols)?;
    let got = Config::new().threads(2).eval(&Hypot, [x.as_ref(), y])?;
    let mut want = Matrix::zeros(rows, cols);
    reference::eval_into(&Hypot, [x.as_ref(), y], want.as_mut())?;
    assert_eq!(got, want, "hypot differs from the reference");
    assert_eq!(got.get(3, 4), Some(5.0));
    println!(
        "hypot on {rows}x{cols} (y column-major): out[3, 4] = {}; equal to the reference",
        got.get(3, 4).unwrap_or(f64::NAN)
    );
    Ok(())
}
