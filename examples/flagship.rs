//! The talk's example: `(a + b) * 2 + a * b` on 2000x2000 f64, whole and by
//! quadrants, checked bitwise against the scalar reference.

use fuse2d::{Config, Isa, Matrix, reference};

fn main() -> Result<(), fuse2d::Error> {
    let n = 2000;
    let a = Matrix::from_fn(n, n, |i, j| (i * n + j) as f64 * 1e-3);
    let b = Matrix::from_fn(n, n, |i, j| 1.0 / (1.0 + (i + j) as f64));
    let want = reference::fused(a.as_ref(), b.as_ref())?;

    let out = fuse2d::fused(a.as_ref(), b.as_ref())?;
    // The talk's memoryview version: one call per quadrant.
    let mut quads = Matrix::zeros(n, n);
    let cfg = Config::new().threads(2);
    for ((qa, qb), qo) in a
        .as_ref()
        .quadrants()
        .into_iter()
        .zip(b.as_ref().quadrants())
        .zip(quads.as_mut().quadrants())
    {
        cfg.fused_into(qa, qb, qo)?;
    }
    let same = |m: &Matrix<f64>| {
        m.as_slice()
            .iter()
            .zip(want.as_slice())
            .all(|(x, y)| x.to_bits() == y.to_bits())
    };
    assert!(
        same(&out) && same(&quads),
        "result differs from the reference"
    );
    println!(
        "(a + b) * 2 + a * b on {n}x{n} f64 with {}: out[1999, 1999] = {}; whole and quadrants bitwise equal to the reference",
        Isa::detect(),
        out.get(n - 1, n - 1).unwrap_or(f64::NAN)
    );
    Ok(())
}
