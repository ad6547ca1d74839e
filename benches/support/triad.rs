//! STREAM's triad, `a[i] = b[i] + s * c[i]`: the memory roof that the
//! benches and the CLI measure fuse2d against, in the same run. One file,
//! included with `#[path]` by both (the CLI is not published), so the roof
//! is the same code everywhere.
//!
//! [`triad_stream`] uses the widest non-temporal store the CPU has
//! (AVX-512F, AVX, or SSE2), chosen at run time: a roof must not be slower
//! than the kernel it judges, and on an Intel Xeon a triad with 16-byte
//! `movntpd` ran 7-10% below the one with 64-byte stores (2000x2000 and
//! 4000x4000 f64, one thread).

/// The triad with ordinary stores. Each store first reads its line
/// (write-allocate): 32 bytes of traffic per element, counted as 24.
pub fn triad_normal(a: &mut [f64], b: &[f64], c: &[f64], s: f64) {
    assert!(
        a.len() == b.len() && a.len() == c.len(),
        "triad lengths differ"
    );
    for ((x, &y), &z) in a.iter_mut().zip(b).zip(c) {
        *x = y + s * z;
    }
}

/// True when [`triad_stream`] really uses non-temporal stores on this
/// architecture.
#[allow(dead_code)] // read by the CLI only
pub const HAS_STREAMING_STORES: bool = cfg!(target_arch = "x86_64");

/// The triad with non-temporal stores (then `sfence`): the written lines
/// skip the cache and the read for ownership, so 24 bytes per element
/// really is the traffic. Elsewhere than x86_64 it is [`triad_normal`]
/// (see [`HAS_STREAMING_STORES`]), where the criterion suite does not use it.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
pub fn triad_stream(a: &mut [f64], b: &[f64], c: &[f64], s: f64) {
    assert!(
        a.len() == b.len() && a.len() == c.len(),
        "triad lengths differ"
    );
    #[cfg(target_arch = "x86_64")]
    {
        // Each call: the feature it needs was detected just before; the
        // lengths were checked above.
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: AVX-512F detected; equal lengths.
            unsafe { x86::avx512(a, b, c, s) }
        } else if std::arch::is_x86_feature_detected!("avx") {
            // SAFETY: AVX detected; equal lengths.
            unsafe { x86::avx(a, b, c, s) }
        } else {
            // SAFETY: SSE2 is in the x86_64 baseline; equal lengths.
            unsafe { x86::sse2(a, b, c, s) }
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    triad_normal(a, b, c, s);
}

/// Runs a triad kernel over `threads` contiguous chunks of the arrays, one
/// chunk per thread of a rayon pool of that many threads, built once and
/// kept, as fuse2d's `Config::threads` does (`1`: on the calling thread).
/// Spawning threads per call would charge the roof a cost fuse2d does not
/// pay (it made the benches' two-thread roof at 2000x2000 slower than
/// fuse2d itself: 1.97-3.35 ms, against 1.83 on a kept pool).
/// Chunk boundaries fall on 64-byte multiples of the element index so no two
/// threads write the same cache line.
pub fn triad_threads(
    kernel: fn(&mut [f64], &[f64], &[f64], f64),
    a: &mut [f64],
    b: &[f64],
    c: &[f64],
    s: f64,
    threads: usize,
) {
    let n = a.len().min(b.len()).min(c.len());
    if threads <= 1 || n == 0 {
        kernel(&mut a[..n], &b[..n], &c[..n], s);
        return;
    }
    let chunk = n.div_ceil(threads).next_multiple_of(8);
    pool(threads).scope(|scope| {
        for ((x, y), z) in a[..n]
            .chunks_mut(chunk)
            .zip(b[..n].chunks(chunk))
            .zip(c[..n].chunks(chunk))
        {
            scope.spawn(move |_| kernel(x, y, z, s));
        }
    });
}

/// A rayon pool of exactly `threads` threads, built on first use and kept
/// for the life of the process (a handful of counts are asked for).
/// Falls back to the global pool if the threads cannot be spawned.
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
        .or_else(|_| rayon::ThreadPoolBuilder::new().build())
        .expect("rayon can build a default pool");
    let p: &'static rayon::ThreadPool = Box::leak(Box::new(p));
    pools.push((threads, p));
    p
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    /// One non-temporal triad per vector width: an ordinary-store head up
    /// to the vector's alignment (which the non-temporal store needs), the
    /// streamed body, an ordinary-store tail, then `sfence` so the streamed
    /// data is visible before the slice is handed on.
    macro_rules! stream_triad {
        ($name:ident, $feature:literal, $lanes:literal,
         $set1:ident, $loadu:ident, $add:ident, $mul:ident, $stream:ident) => {
            /// # Safety
            /// The CPU has the target feature; the slices have one length.
            #[target_feature(enable = $feature)]
            pub unsafe fn $name(a: &mut [f64], b: &[f64], c: &[f64], s: f64) {
                let n = a.len();
                let head = a.as_ptr().align_offset($lanes * 8).min(n);
                let body_end = head + (n - head) / $lanes * $lanes;
                super::triad_normal(&mut a[..head], &b[..head], &c[..head], s);
                let (pa, pb, pc) = (a.as_mut_ptr(), b.as_ptr(), c.as_ptr());
                let vs = $set1(s);
                let mut k = head;
                while k < body_end {
                    // SAFETY: `k + lanes <= body_end <= n`, and the three
                    // slices hold `n` elements, so every lane is in bounds;
                    // `pa + k` is aligned to the vector (`head` aligned it,
                    // `k - head` is a multiple of the lanes); `a` is
                    // borrowed mutably, so it overlaps neither input. The
                    // CPU has the feature (the function's contract).
                    unsafe {
                        let v = $add($loadu(pb.add(k)), $mul(vs, $loadu(pc.add(k))));
                        $stream(pa.add(k), v);
                    }
                    k += $lanes;
                }
                super::triad_normal(&mut a[body_end..], &b[body_end..], &c[body_end..], s);
                _mm_sfence();
            }
        };
    }

    stream_triad!(
        avx512,
        "avx512f",
        8,
        _mm512_set1_pd,
        _mm512_loadu_pd,
        _mm512_add_pd,
        _mm512_mul_pd,
        _mm512_stream_pd
    );
    stream_triad!(
        avx,
        "avx",
        4,
        _mm256_set1_pd,
        _mm256_loadu_pd,
        _mm256_add_pd,
        _mm256_mul_pd,
        _mm256_stream_pd
    );
    stream_triad!(
        sse2,
        "sse2",
        2,
        _mm_set1_pd,
        _mm_loadu_pd,
        _mm_add_pd,
        _mm_mul_pd,
        _mm_stream_pd
    );
}
