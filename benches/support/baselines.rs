//! The baselines the benches compare fuse2d with, written here on purpose
//! (the benches depend on nothing but the library and ndarray):
//!
//! - [`naive`]: the flagship as a user writes it, index loops with bounds
//!   checks;
//! - [`unfused`]: NumPy's evaluation of `(a + b) * 2 + a * b`, one full pass
//!   per operator, each allocating its result;
//! - [`triad_normal`] and [`triad_stream`]: STREAM's triad
//!   `a[i] = b[i] + 3.0 * c[i]` with ordinary and with non-temporal stores,
//!   split over a kept rayon pool: the memory roof, measured in the same run.
//!
//! All of them count 24 bytes per element (two loads, one store), as STREAM
//! does, so their GB/s compare directly with fuse2d's.

/// `out = (a + b) * 2 + a * b` as a user writes it: index loops over
/// row-major buffers, every access bounds-checked.
pub fn naive(a: &[f64], b: &[f64], out: &mut [f64], rows: usize, cols: usize) {
    for i in 0..rows {
        for j in 0..cols {
            let k = i * cols + j;
            out[k] = (a[k] + b[k]) * 2.0 + a[k] * b[k];
        }
    }
}

/// NumPy's `(a + b) * 2 + a * b`: `t1 = a + b; t2 = t1 * 2; t3 = a * b;
/// out = t2 + t3`, four passes, each allocating its result (a temporary is
/// freed once its last use is done, as NumPy's reference counting does).
pub fn unfused(a: &[f64], b: &[f64]) -> Vec<f64> {
    let t1: Vec<f64> = a.iter().zip(b).map(|(x, y)| x + y).collect();
    let t2: Vec<f64> = t1.iter().map(|x| x * 2.0).collect();
    drop(t1);
    let t3: Vec<f64> = a.iter().zip(b).map(|(x, y)| x * y).collect();
    t2.iter().zip(&t3).map(|(x, y)| x + y).collect()
}

#[path = "triad.rs"]
mod triad;

/// `a[i] = b[i] + 3.0 * c[i]` with ordinary stores, on `threads` threads
/// of a kept rayon pool ([`triad::triad_threads`]).
pub fn triad_normal(a: &mut [f64], b: &[f64], c: &[f64], threads: usize) {
    assert!(
        a.len() == b.len() && a.len() == c.len(),
        "triad lengths differ"
    );
    triad::triad_threads(triad::triad_normal, a, b, c, 3.0, threads);
}

/// `a[i] = b[i] + 3.0 * c[i]` with the widest non-temporal stores the CPU
/// has (ordinary ones off x86_64), on `threads` threads. The criterion
/// suite leaves this row out off x86_64.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
pub fn triad_stream(a: &mut [f64], b: &[f64], c: &[f64], threads: usize) {
    assert!(
        a.len() == b.len() && a.len() == c.len(),
        "triad lengths differ"
    );
    triad::triad_threads(triad::triad_stream, a, b, c, 3.0, threads);
}
