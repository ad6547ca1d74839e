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

/// STREAM triad with ordinary stores, a plain loop the compiler vectorises.
fn triad_normal_piece(a: &mut [f64], b: &[f64], c: &[f64]) {
    for ((x, &y), &z) in a.iter_mut().zip(b).zip(c) {
        *x = y + 3.0 * z;
    }
}

/// `a[i] = b[i] + 3.0 * c[i]` with ordinary stores, on `threads` threads.
pub fn triad_normal(a: &mut [f64], b: &[f64], c: &[f64], threads: usize) {
    split3(a, b, c, threads, triad_normal_piece);
}

/// STREAM triad with non-temporal stores (`_mm_stream_pd`, SSE2, the x86_64
/// baseline): an aligned head and the odd tail with normal stores, the body
/// streamed two lanes at a time, then `_mm_sfence` so the streamed data is
/// visible before the piece is handed back.
#[cfg(target_arch = "x86_64")]
fn triad_stream_piece(a: &mut [f64], b: &[f64], c: &[f64]) {
    use std::arch::x86_64::{
        _mm_add_pd, _mm_loadu_pd, _mm_mul_pd, _mm_set1_pd, _mm_sfence, _mm_stream_pd,
    };

    let n = a.len();
    assert!(b.len() == n && c.len() == n, "triad lengths differ");
    // Elements before `a` reaches 16-byte alignment (0 or 1 for f64).
    let head = a.as_ptr().align_offset(16).min(n);
    let pairs = (n - head) / 2;
    let tail = head + 2 * pairs;
    triad_normal_piece(&mut a[..head], &b[..head], &c[..head]);
    // SAFETY: SSE2 is part of the x86_64 baseline, so the CPU has it.
    let three = unsafe { _mm_set1_pd(3.0) };
    let (pa, pb, pc) = (a.as_mut_ptr(), b.as_ptr(), c.as_ptr());
    for k in 0..pairs {
        let i = head + 2 * k;
        // SAFETY: `i + 1 < tail <= n`, and `a`, `b`, `c` all have `n`
        // elements, so both lanes of each access are in bounds; `pa + i` is
        // 16-byte aligned (`head` aligned it and `i - head` is even), as
        // `_mm_stream_pd` requires; `_mm_loadu_pd` takes any alignment. SSE2
        // is part of the x86_64 baseline, so the CPU has every intrinsic
        // used.
        unsafe {
            let y = _mm_loadu_pd(pb.add(i));
            let z = _mm_loadu_pd(pc.add(i));
            _mm_stream_pd(pa.add(i), _mm_add_pd(y, _mm_mul_pd(three, z)));
        }
    }
    triad_normal_piece(&mut a[tail..], &b[tail..], &c[tail..]);
    // SAFETY: SSE is part of the x86_64 baseline. The fence orders the
    // streamed stores before anything that follows (the thread's join, or
    // the caller's next read).
    unsafe { _mm_sfence() };
}

/// `a[i] = b[i] + 3.0 * c[i]` with non-temporal stores, on `threads` threads.
#[cfg(target_arch = "x86_64")]
pub fn triad_stream(a: &mut [f64], b: &[f64], c: &[f64], threads: usize) {
    split3(a, b, c, threads, triad_stream_piece);
}

/// Elsewhere there are no non-temporal stores to call: the triad with
/// ordinary stores stands in, so `versus.rs` builds on every target (the
/// criterion suite leaves this row out there).
#[cfg(not(target_arch = "x86_64"))]
#[allow(dead_code)]
pub fn triad_stream(a: &mut [f64], b: &[f64], c: &[f64], threads: usize) {
    triad_normal(a, b, c, threads);
}
