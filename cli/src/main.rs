//! Short demo until the benchmarks issue makes this the full comparison.

use std::time::Instant;

use fuse2d::{Isa, Matrix};

fn main() -> Result<(), fuse2d::Error> {
    let n = 2000;
    let a = Matrix::from_fn(n, n, |i, j| (i * n + j) as f64 * 1e-3);
    let b = Matrix::from_fn(n, n, |i, j| 1.0 / (1.0 + (i + j) as f64));
    println!(
        "fuse2d: (a + b) * 2 + a * b on {n}x{n} f64; ISAs {:?}",
        Isa::supported()
    );
    let reference = fuse2d::reference::fused(a.as_ref(), b.as_ref())?;
    for &isa in Isa::supported() {
        let cfg = fuse2d::Config::new().isa(isa);
        let mut out = Matrix::zeros(n, n);
        let mut times = Vec::new();
        for _ in 0..7 {
            let t = Instant::now();
            cfg.fused_into(a.as_ref(), b.as_ref(), out.as_mut())?;
            times.push(t.elapsed().as_secs_f64());
        }
        times.sort_by(f64::total_cmp);
        let med = times[times.len() / 2];
        let same = out
            .as_slice()
            .iter()
            .zip(reference.as_slice())
            .all(|(x, y)| x.to_bits() == y.to_bits());
        println!(
            "{isa:>7}: median {:7.2} ms  {:6.1} GB/s  bitwise equal to reference: {same}",
            med * 1e3,
            (24 * n * n) as f64 / med / 1e9
        );
    }
    Ok(())
}
