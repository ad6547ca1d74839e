//! The baselines the benches compare fuse2d with, written here on purpose
//! (the benches depend on nothing but the library and ndarray):
//!
//! - [`naive`]: the flagship as a user writes it, index loops with bounds
//!   checks;
//! - [`unfused`]: NumPy's evaluation of `(a + b) * 2 + a * b`, one full pass
//!   per operator, each allocating its result;
//! - [`triad_normal`] and [`triad_stream`]: STREAM's triad
//!   `a[i] = b[i] + 3.0 * c[i]` with ordinary and with non-temporal stores,
//!   split over scoped threads: the memory roof, measured in the same run.
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

/// Runs `f` on `threads` contiguous pieces of `(a, b, c)` at once, one piece
/// on the calling thread and the others on scoped threads (spawned per call,
/// as a plain `std::thread::scope` user would). Pieces are whole cache lines
/// (multiples of 8 f64), so no two threads write the same line.
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
    std::thread::scope(|s| {
        let mut pieces = a
            .chunks_mut(chunk)
            .zip(b.chunks(chunk))
            .zip(c.chunks(chunk));
        let first = pieces.next();
        for ((x, y), z) in pieces {
            s.spawn(move || f(x, y, z));
        }
        if let Some(((x, y), z)) = first {
            f(x, y, z);
        }
    });
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
