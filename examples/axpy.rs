//! `alpha * x + y` with a scalar captured in the expression, on every ISA.

use fuse2d::{Config, Isa, Matrix, expr, reference};

expr!(Axpy { alpha } = |x, y| alpha * x + y);

fn main() -> Result<(), fuse2d::Error> {
    let (rows, cols) = (500, 700);
    let x = Matrix::from_fn(rows, cols, |i, j| (i as f64).sin() + j as f64);
    let y = Matrix::from_fn(rows, cols, |i, j| (i * j) as f64 * 1e-3);
    let e = Axpy { alpha: -2.5 };
    let mut want = Matrix::zeros(rows, cols);
    reference::eval_into(&e, [x.as_ref(), y.as_ref()], want.as_mut())?;
    for &isa in Isa::supported() {
        let got = Config::new().isa(isa).eval(&e, [x.as_ref(), y.as_ref()])?;
        assert_eq!(got, want, "axpy differs from the reference on {isa}");
    }
    println!(
        "axpy: -2.5 * x + y on {rows}x{cols}; out[7, 11] = {}; equal to the reference on {:?}",
        want.get(7, 11).unwrap_or(f64::NAN),
        Isa::supported()
    );
    Ok(())
}
