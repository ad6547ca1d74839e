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

/// Runs `f` on `threads` contiguous pieces of `(a, b, c)` at once, on a
/// rayon pool of exactly `threads` threads kept for the process (as
/// fuse2d keeps its pools). Threads spawned per call made the two-thread
/// roof at 2000x2000 slower than fuse2d itself (about 2.0 ms against 1.6
/// on a kept pool). Pieces are whole cache lines (multiples of 8 f64), so
/// no two threads write the same line.
fn split3<F>(a: &mut [f64], b: &[f64], c: &[f64], threads: usize, f: F)
where
    F: Fn(&mut [f64], &[f64], &[f64]) + Sync,
{
    assert!(
        a.len() == b.len() && a.len() == c.len(),
        "triad lengths differ"
    );
    let threads = threads.max(1);
    if threads == 1 || a.len() < 2 * 8 {
        f(a, b, c);
        return;
    }
    let chunk = a.len().div_ceil(threads).next_multiple_of(8);
    let f = &f;
    pool(threads).scope(|s| {
        for ((x, y), z) in a
            .chunks_mut(chunk)
            .zip(b.chunks(chunk))
            .zip(c.chunks(chunk))
        {
            s.spawn(move |_| f(x, y, z));
        }
    });
}

/// A rayon pool of exactly `threads` threads, built on first use and kept.
fn pool(threads: usize) -> &'static rayon::ThreadPool {
    use std::sync::{Mutex, OnceLock};
    static POOLS: OnceLock<Mutex<Vec<(usize, &'static rayon::ThreadPool)>>> = OnceLock::new();
    let mut pools = POOLS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(&(_, p)) = pools.iter().find(|(t, _)| *t == threads) {
        return p;
    }
    let p = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a benchmark's thread pool");
    let p: &'static rayon::ThreadPool = Box::leak(Box::new(p));
    pools.push((threads, p));
    p
}

#[path = "triad.rs"]
mod triad;

/// `a[i] = b[i] + 3.0 * c[i]` with ordinary stores, on `threads` threads.
pub fn triad_normal(a: &mut [f64], b: &[f64], c: &[f64], threads: usize) {
    split3(a, b, c, threads, |x, y, z| {
        triad::triad_normal(x, y, z, 3.0)
    });
}

/// `a[i] = b[i] + 3.0 * c[i]` with the widest non-temporal stores the CPU
/// has (ordinary ones off x86_64), on `threads` threads. The criterion
/// suite leaves this row out off x86_64.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
pub fn triad_stream(a: &mut [f64], b: &[f64], c: &[f64], threads: usize) {
    split3(a, b, c, threads, |x, y, z| {
        triad::triad_stream(x, y, z, 3.0)
    });
}
