//! The baseline strategies fuse2d is measured against, the memory-roof
//! triads, and the rule both harnesses time a run by ([`time_warm`]).
//!
//! Every strategy computes the talk's `out = (a + b) * 2 + a * b` and, like
//! [`fuse2d::reference`], rounds each operation on its own (no FMA), so each
//! result is bitwise equal to the reference's: the CLI checks that on every
//! run.
//!
//! This file depends on `std` and `fuse2d` only, so the criterion benches can
//! include it with `#[path = "../cli/src/strategies.rs"] mod strategies;`.
//!
//! | strategy | what it stands for |
//! |---|---|
//! | [`naive`] | the loop a Rust user writes first: `out[i * n + j] = ...` over `Vec`s, bounds-checked |
//! | [`unfused`] | NumPy's `(a + b) * 2 + a * b`: one full pass per operator, each into a fresh temporary |
//! | [`quadrant_threads`] | the talk's Cython memoryview quadrants, one thread per quadrant |
//! | [`triad_normal`] / [`triad_streaming`] | STREAM's triad: the memory roof (24 bytes per element) |

#![allow(dead_code)] // Not every includer uses every item.

use fuse2d::{Element, MatMut, MatRef};

/// An element type the CLI measures: [`fuse2d::Element`] plus the bit
/// pattern, for the bitwise comparison with the reference.
pub trait Real: Element {
    /// The NumPy name of the type (`float64`, `float32`).
    const NUMPY: &'static str;
    /// The IEEE 754 bit pattern, widened to 64 bits.
    fn bits(self) -> u64;
    /// Reads one value from its bytes in native order (`size_of::<Self>()`
    /// of them), as NumPy's `tofile` writes it.
    fn from_ne(bytes: &[u8]) -> Option<Self>;
}

impl Real for f64 {
    const NUMPY: &'static str = "float64";
    fn bits(self) -> u64 {
        self.to_bits()
    }
    fn from_ne(bytes: &[u8]) -> Option<Self> {
        Some(f64::from_ne_bytes(bytes.try_into().ok()?))
    }
}

impl Real for f32 {
    const NUMPY: &'static str = "float32";
    fn bits(self) -> u64 {
        u64::from(self.to_bits())
    }
    fn from_ne(bytes: &[u8]) -> Option<Self> {
        Some(f32::from_ne_bytes(bytes.try_into().ok()?))
    }
}

/// True when `bytes` (a result NumPy wrote with `tofile`: native byte
/// order) hold bitwise the values of `want`, in order.
pub fn same_bits<T: Real>(bytes: &[u8], want: &[T]) -> bool {
    bytes.len() == core::mem::size_of_val(want)
        && bytes
            .chunks_exact(core::mem::size_of::<T>())
            .zip(want)
            .all(|(c, &w)| T::from_ne(c).map(T::bits) == Some(w.bits()))
}

/// The talk's first input: `a[i, j] = (i * cols + j) * 1e-3`, computed in
/// `f64` and rounded to `T` (NumPy: `np.arange(rows * cols).reshape(rows,
/// cols) * 1e-3`, then `astype`).
pub fn input_a<T: Element>(i: usize, j: usize, cols: usize) -> T {
    T::from_f64((i * cols + j) as f64 * 1e-3)
}

/// The second input: `b[i, j] = 1 / (1 + i + j)`, computed in `f64` and
/// rounded to `T`.
pub fn input_b<T: Element>(i: usize, j: usize) -> T {
    T::from_f64(1.0 / (1.0 + (i + j) as f64))
}

/// Where an operand's elements sit in its buffer: element `(i, j)` is
/// `data[offset + i * rs + j * cs]` (non-negative strides, in elements).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    /// Number of rows.
    pub rows: usize,
    /// Number of columns.
    pub cols: usize,
    /// Index of element `(0, 0)` in the buffer.
    pub offset: usize,
    /// Row stride, in elements.
    pub rs: usize,
    /// Column stride, in elements.
    pub cs: usize,
}

impl Geometry {
    /// Row-major, contiguous (C order).
    pub fn row_major(rows: usize, cols: usize) -> Self {
        Geometry {
            rows,
            cols,
            offset: 0,
            rs: cols,
            cs: 1,
        }
    }

    /// Column-major, contiguous (Fortran order).
    pub fn col_major(rows: usize, cols: usize) -> Self {
        Geometry {
            rows,
            cols,
            offset: 0,
            rs: 1,
            cs: rows,
        }
    }

    /// The top-left `rows x cols` quadrant of a row-major `2 rows x 2 cols`
    /// matrix: a strided view (row stride `2 * cols`), as `big[:v, :h]` in
    /// the talk.
    pub fn top_left_quadrant(rows: usize, cols: usize) -> Self {
        Geometry {
            rows,
            cols,
            offset: 0,
            rs: 2 * cols,
            cs: 1,
        }
    }

    /// The buffer length this geometry needs at least.
    pub fn reach(&self) -> usize {
        if self.rows == 0 || self.cols == 0 {
            return self.offset;
        }
        self.offset + (self.rows - 1) * self.rs + (self.cols - 1) * self.cs + 1
    }

    /// True for contiguous row-major storage (the naive loop's own layout).
    pub fn is_row_major(&self) -> bool {
        self.offset == 0 && self.cs == 1 && self.rs == self.cols
    }

    /// Buffer index of element `(i, j)`.
    #[inline(always)]
    pub fn at(&self, i: usize, j: usize) -> usize {
        self.offset + i * self.rs + j * self.cs
    }
}

/// An operand: a buffer and where its elements sit in it.
#[derive(Clone, Debug)]
pub struct Operand<T> {
    /// The whole buffer (for a quadrant view, the whole big matrix).
    pub data: Vec<T>,
    /// Where the operand's elements are.
    pub geo: Geometry,
}

impl<T: Element> Operand<T> {
    /// A buffer of `len` elements (at least `geo.reach()`), with element
    /// `(i, j)` of the operand set to `f(i, j)` and the rest zero, allocated
    /// as a `fuse2d::Matrix` is. `None` when the memory cannot be allocated.
    pub fn try_new(geo: Geometry, len: usize, f: impl Fn(usize, usize) -> T) -> Option<Self> {
        let len = len.max(geo.reach());
        // Through `Matrix`, so a large buffer gets the huge-page advice
        // NumPy gives its arrays too (see `fuse2d::Matrix`).
        let mut data = fuse2d::Matrix::<T>::try_zeros(1, len).ok()?.into_vec();
        for i in 0..geo.rows {
            for j in 0..geo.cols {
                data[geo.at(i, j)] = f(i, j);
            }
        }
        Some(Operand { data, geo })
    }

    /// The operand as a fuse2d view.
    pub fn view(&self) -> MatRef<'_, T> {
        let g = self.geo;
        MatRef::from_strided(
            &self.data,
            (g.rows, g.cols),
            (g.rs as isize, g.cs as isize),
            g.offset,
        )
        .expect("the buffer covers the geometry by construction")
    }

    /// The operand as a mutable fuse2d view.
    pub fn view_mut(&mut self) -> MatMut<'_, T> {
        let g = self.geo;
        MatMut::from_strided(
            &mut self.data,
            (g.rows, g.cols),
            (g.rs as isize, g.cs as isize),
            g.offset,
        )
        .expect("the buffer covers the geometry, and layouts used here do not overlap")
    }

    /// Element `(i, j)`.
    pub fn get(&self, i: usize, j: usize) -> T {
        self.data[self.geo.at(i, j)]
    }

    /// Sets every element of the operand to zero (untimed, between strategies).
    pub fn clear(&mut self) {
        let g = self.geo;
        for i in 0..g.rows {
            for j in 0..g.cols {
                self.data[g.at(i, j)] = T::ZERO;
            }
        }
    }
}

fn same_shape<T>(a: &Operand<T>, b: &Operand<T>, out: &Operand<T>) -> (usize, usize) {
    let s = (out.geo.rows, out.geo.cols);
    assert_eq!((a.geo.rows, a.geo.cols), s, "a and out differ in shape");
    assert_eq!((b.geo.rows, b.geo.cols), s, "b and out differ in shape");
    s
}

/// The loop a Rust user writes first: index loops over `Vec`s, every access
/// bounds-checked, `out[i * n + j] = (a[i * n + j] + b[i * n + j]) * 2.0 +
/// a[i * n + j] * b[i * n + j]`. For the strided layouts the index is
/// `offset + i * row_stride + j * col_stride`, still bounds-checked.
pub fn naive<T: Element>(a: &Operand<T>, b: &Operand<T>, out: &mut Operand<T>) {
    let (rows, cols) = same_shape(a, b, out);
    let two = T::from_f64(2.0);
    if a.geo.is_row_major() && b.geo.is_row_major() && out.geo.is_row_major() {
        let n = cols;
        let (a, b, out) = (&a.data, &b.data, &mut out.data);
        for i in 0..rows {
            for j in 0..n {
                out[i * n + j] = (a[i * n + j] + b[i * n + j]) * two + a[i * n + j] * b[i * n + j];
            }
        }
    } else {
        let (ga, gb, go) = (a.geo, b.geo, out.geo);
        for i in 0..rows {
            for j in 0..cols {
                let (x, y) = (a.data[ga.at(i, j)], b.data[gb.at(i, j)]);
                out.data[go.at(i, j)] = (x + y) * two + x * y;
            }
        }
    }
}

#[cfg(target_os = "linux")]
unsafe extern "C" {
    /// glibc's `madvise(2)` (std links the C library on Linux).
    fn madvise(
        addr: *mut core::ffi::c_void,
        len: usize,
        advice: core::ffi::c_int,
    ) -> core::ffi::c_int;
}

/// A new, empty array of capacity `n`, allocated as NumPy allocates array
/// data: `malloc`, then on Linux, for 4 MiB and more, `madvise(...,
/// MADV_HUGEPAGE)` over the page-aligned part (NumPy's `npy_alloc_cache`
/// does this since 1.16), so the fresh pages fault in as huge pages where
/// the kernel allows it. Without it, a temporary would cost thousands of
/// 4 KiB page faults that NumPy does not pay.
pub fn numpy_alloc<T>(n: usize) -> Vec<T> {
    let v: Vec<T> = Vec::with_capacity(n);
    #[cfg(target_os = "linux")]
    {
        const MADV_HUGEPAGE: core::ffi::c_int = 14;
        const PAGE: usize = 4096;
        let bytes = v.capacity() * core::mem::size_of::<T>();
        if bytes >= 1 << 22 {
            let p = v.as_ptr() as usize;
            let start = p.next_multiple_of(PAGE);
            let len = (p + bytes - start) / PAGE * PAGE;
            // SAFETY: `start..start + len` lies inside the allocation `v`
            // owns (page-aligned start rounded up, length rounded down), and
            // MADV_HUGEPAGE is advice only: it changes neither the mapping's
            // contents nor its validity. A failure (e.g. THP disabled) is
            // ignored, as NumPy ignores it.
            unsafe {
                madvise(start as *mut core::ffi::c_void, len, MADV_HUGEPAGE);
            }
        }
    }
    v
}

/// One elementwise pass of two operands into a freshly allocated row-major
/// temporary, as a NumPy ufunc without `out=` does.
fn pass_new<T: Element>(x: &Operand<T>, y: &Operand<T>, f: impl Fn(T, T) -> T) -> Vec<T> {
    let (gx, gy) = (x.geo, y.geo);
    let mut t = numpy_alloc(gx.rows * gx.cols);
    if gx.is_row_major() && gy.is_row_major() {
        t.extend(x.data.iter().zip(&y.data).map(|(&p, &q)| f(p, q)));
    } else {
        for i in 0..gx.rows {
            t.extend((0..gx.cols).map(|j| f(x.data[gx.at(i, j)], y.data[gy.at(i, j)])));
        }
    }
    t
}

/// NumPy's `(a + b) * 2 + a * b`, unfused: four full passes, each writing a
/// new temporary (`t1 = a + b`, `t2 = t1 * 2`, `t3 = a * b`), the last one
/// `out = t2 + t3` into the output. Temporaries are freed when Python would
/// drop them. 3 extra arrays allocated (see [`numpy_alloc`]), ~8
/// array-sized memory streams instead of 3.
///
/// (NumPy 1.13+ can elide some temporaries in place for large arrays; this
/// is the textbook cost the talk started from.)
pub fn unfused<T: Element>(a: &Operand<T>, b: &Operand<T>, out: &mut Operand<T>) {
    let (rows, cols) = same_shape(a, b, out);
    let two = T::from_f64(2.0);
    let t1 = pass_new(a, b, |x, y| x + y);
    let mut t2 = numpy_alloc(rows * cols);
    t2.extend(t1.iter().map(|&x| x * two));
    drop(t1);
    let t3 = pass_new(a, b, |x, y| x * y);
    let go = out.geo;
    if go.is_row_major() {
        for ((o, &p), &q) in out.data.iter_mut().zip(&t2).zip(&t3) {
            *o = p + q;
        }
    } else {
        for i in 0..rows {
            for j in 0..cols {
                out.data[go.at(i, j)] = t2[i * cols + j] + t3[i * cols + j];
            }
        }
    }
}

/// The talk's Cython memoryview kernel (`add_arrays_2d_views` with
/// `boundscheck(False)`): a plain double loop over strided views, no bounds
/// checks, strides read at run time.
pub fn memoryview_loop<T: Element>(a: MatRef<'_, T>, b: MatRef<'_, T>, mut out: MatMut<'_, T>) {
    let (rows, cols) = out.shape();
    assert_eq!(a.shape(), (rows, cols), "a and out differ in shape");
    assert_eq!(b.shape(), (rows, cols), "b and out differ in shape");
    if rows == 0 || cols == 0 {
        return;
    }
    let two = T::from_f64(2.0);
    let ((ars, acs), (brs, bcs), (ors, ocs)) = (a.strides(), b.strides(), out.strides());
    let (pa, pb, po) = (a.as_ptr(), b.as_ptr(), out.as_mut_ptr());
    for i in 0..rows as isize {
        for j in 0..cols as isize {
            // SAFETY: `0 <= i < rows` and `0 <= j < cols`, so by the views'
            // invariant 2 (see `fuse2d::MatRef`) each of these offsets stays
            // inside the slice its view borrows, and the products fit in
            // `isize`. `out` is borrowed exclusively, so it aliases neither
            // `a` nor `b`.
            unsafe {
                let x = *pa.offset(i * ars + j * acs);
                let y = *pb.offset(i * brs + j * bcs);
                *po.offset(i * ors + j * ocs) = (x + y) * two + x * y;
            }
        }
    }
}

/// The talk's quadrant split: the output and both inputs cut into their four
/// quadrants (`MatRef::quadrants`, `MatMut::quadrants`), each quadrant on its
/// own `std::thread::scope` thread running [`memoryview_loop`], as the
/// talk's `parallel.parallel(num_threads=4)` did. Four threads whatever the
/// core count.
pub fn quadrant_threads<T: Element>(a: MatRef<'_, T>, b: MatRef<'_, T>, out: MatMut<'_, T>) {
    let (qa, qb, qo) = (a.quadrants(), b.quadrants(), out.quadrants());
    std::thread::scope(|s| {
        for ((x, y), o) in qa.into_iter().zip(qb).zip(qo) {
            s.spawn(move || memoryview_loop(x, y, o));
        }
    });
}

/// The number of threads [`quadrant_threads`] uses.
pub const QUADRANT_THREADS: usize = 4;

// STREAM's triad, the memory roof: the same file the benches use, so both
// measure against the same code (`triad_normal`, and `triad_streaming` with
// the widest non-temporal stores this CPU has).
#[path = "../../benches/support/triad.rs"]
mod triad;

pub use triad::{
    HAS_STREAMING_STORES, triad_normal, triad_stream as triad_streaming, triad_threads,
};

/// The 8-byte-aligned middle of a float buffer, as `f64`s, for the triads
/// (which only need bytes to move: they run on the operands' own memory).
pub fn as_f64<T: Real>(v: &[T]) -> &[f64] {
    // SAFETY: `T` is `f32` or `f64` (`Real` is implemented for nothing
    // else): plain bytes with no padding, and every 8-byte pattern is a
    // valid `f64`; `align_to` only hands out properly aligned elements.
    unsafe { v.align_to::<f64>().1 }
}

/// [`as_f64`] for a buffer the triad writes.
pub fn as_f64_mut<T: Real>(v: &mut [T]) -> &mut [f64] {
    // SAFETY: as in `as_f64`; any `f64` written is, back as `T`, some
    // valid (if meaningless) float, and every strategy rewrites the buffer.
    unsafe { v.align_to_mut::<f64>().1 }
}

/// Untimed runs of an entry right before each of its timed runs.
///
/// One is not enough at sizes that fit in cache: after a contender that
/// ran on two threads (presumably leaving half the data in the other
/// core's caches) or wrote with streaming stores (leaving the output in no
/// cache), the next one's first run was 1.7-4.5x slower and its second
/// still 1.3-2x (fuse2d, two threads, after the two-thread streaming triad,
/// medians of 41: 256x256 0.066-0.090 / 0.033-0.040 / 0.020 ms for runs one
/// to three, against 0.020 after nothing; 1000x1000 0.80-0.89 / 0.64-0.75 /
/// 0.48-0.56 against 0.48); the third is back. At 2000x2000 (streamed) the first run
/// already is.
pub const UNTIMED_RUNS: usize = 2;

/// Runs `run` [`UNTIMED_RUNS`] times, then once more timed: the seconds
/// of that last run, which starts from the cache state its own runs left.
pub fn time_warm(mut run: impl FnMut()) -> f64 {
    for _ in 0..UNTIMED_RUNS {
        run();
    }
    let t = std::time::Instant::now();
    run();
    t.elapsed().as_secs_f64()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layouts(rows: usize, cols: usize) -> Vec<(&'static str, [Geometry; 3], [usize; 3])> {
        let rm = Geometry::row_major(rows, cols);
        let q = Geometry::top_left_quadrant(rows, cols);
        let big = 4 * rows * cols;
        vec![
            ("contiguous", [rm, rm, rm], [0; 3]),
            ("quadrants", [q, q, q], [big; 3]),
            (
                "colmajor-b",
                [rm, Geometry::col_major(rows, cols), rm],
                [0; 3],
            ),
        ]
    }

    /// A strategy under test, writing into the output operand.
    type Run<'a, T> = &'a dyn Fn(&mut Operand<T>);

    fn check_all<T: Real>() {
        for (rows, cols) in [(37, 23), (1, 1), (2, 9), (8, 8)] {
            for (name, [ga, gb, go], [la, lb, lo]) in layouts(rows, cols) {
                let a = Operand::try_new(ga, la, |i, j| input_a::<T>(i, j, cols)).unwrap();
                let b = Operand::try_new(gb, lb, |i, j| input_b::<T>(i, j)).unwrap();
                let want = fuse2d::reference::fused(a.view(), b.view()).unwrap();
                let mut out = Operand::try_new(go, lo, |_, _| T::ZERO).unwrap();
                let strategies: [(&str, Run<'_, T>); 3] = [
                    ("naive", &|o| naive(&a, &b, o)),
                    ("unfused", &|o| unfused(&a, &b, o)),
                    ("quadrants", &|o| {
                        quadrant_threads(a.view(), b.view(), o.view_mut())
                    }),
                ];
                for (s, run) in strategies {
                    out.clear();
                    run(&mut out);
                    for i in 0..rows {
                        for j in 0..cols {
                            let (got, exp) = (out.get(i, j), want.get(i, j).unwrap());
                            assert_eq!(
                                got.bits(),
                                exp.bits(),
                                "{s} on {name} {rows}x{cols} at ({i}, {j}): {got} vs {exp}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn strategies_bitwise_equal_reference_f64() {
        check_all::<f64>();
    }

    #[test]
    fn strategies_bitwise_equal_reference_f32() {
        check_all::<f32>();
    }

    #[test]
    fn quadrant_layout_leaves_the_rest_alone() {
        let (rows, cols) = (5, 7);
        let q = Geometry::top_left_quadrant(rows, cols);
        let a = Operand::try_new(q, 4 * rows * cols, |i, j| input_a::<f64>(i, j, cols)).unwrap();
        let mut out = Operand::try_new(q, 4 * rows * cols, |_, _| 0.0).unwrap();
        naive(&a, &a, &mut out);
        let touched = (0..rows)
            .flat_map(|i| (0..cols).map(move |j| q.at(i, j)))
            .collect::<Vec<_>>();
        for (k, &x) in out.data.iter().enumerate() {
            if !touched.contains(&k) {
                assert_eq!(x, 0.0, "index {k} outside the quadrant was written");
            }
        }
    }

    #[test]
    fn triads_compute_the_triad() {
        for n in [0usize, 1, 2, 3, 17, 1000, 1001] {
            // Offset by one element to test the unaligned head too.
            for skip in [0usize, 1] {
                let b: Vec<f64> = (0..n + 1).map(|k| k as f64).collect();
                let c: Vec<f64> = (0..n + 1).map(|k| 1.0 / (1.0 + k as f64)).collect();
                let want: Vec<f64> = (skip..n + 1).map(|k| b[k] + 3.0 * c[k]).collect();
                for kernel in [
                    triad_normal as fn(&mut [f64], &[f64], &[f64], f64),
                    triad_streaming,
                ] {
                    for threads in [1, 2, 3] {
                        let mut a = vec![f64::NAN; n + 1];
                        triad_threads(kernel, &mut a[skip..], &b[skip..], &c[skip..], 3.0, threads);
                        assert_eq!(&a[skip..], &want[..], "n {n} skip {skip} threads {threads}");
                    }
                }
            }
        }
    }

    #[test]
    fn time_warm_times_only_the_last_of_its_runs() {
        let mut calls = 0;
        let secs = time_warm(|| {
            calls += 1;
            // The untimed runs take 200 ms each, the timed one nothing.
            if calls <= UNTIMED_RUNS {
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
        });
        assert_eq!(calls, UNTIMED_RUNS + 1);
        assert!(secs < 0.2, "timed an untimed run: {secs} s");
    }
}
