//! The flagship in f32 (twice the lanes per vector), on every ISA.

use fuse2d::{Config, Isa, Matrix, reference};

fn main() -> Result<(), fuse2d::Error> {
    let n = 1000;
    let a = Matrix::from_fn(n, n, |i, j| (i as f32 - j as f32) * 0.5);
    let b = Matrix::from_fn(n, n, |i, j| 1.0 / (1.0 + (i + j) as f32));
    let want = reference::fused(a.as_ref(), b.as_ref())?;
    for &isa in Isa::supported() {
        let got = Config::new().isa(isa).fused(a.as_ref(), b.as_ref())?;
        let same = got
            .as_slice()
            .iter()
            .zip(want.as_slice())
            .all(|(x, y)| x.to_bits() == y.to_bits());
        assert!(same, "f32 result differs from the reference on {isa}");
    }
    println!(
        "f32 (a + b) * 2 + a * b on {n}x{n}: out[10, 3] = {}; bitwise equal to the reference on {:?}",
        want.get(10, 3).unwrap_or(f32::NAN),
        Isa::supported()
    );
    Ok(())
}
