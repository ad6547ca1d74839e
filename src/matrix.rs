//! An owned row-major matrix, for results.
//!
//! On Linux a buffer of [`HUGE_PAGE_MIN_BYTES`] or more is advised to use
//! transparent huge pages before it is first written, as NumPy does for
//! its arrays: a 2000x2000 `f64` matrix then takes 16 TLB entries instead of
//! 7813, which a column-major walk (one page per column run) and two
//! threads on different halves both feel. The kernel may ignore the advice
//! (THP set to `never`, no free huge pages); nothing else changes.

use crate::error::{Error, Shape};
use crate::simd::Element;
use crate::view::{MatMut, MatRef};

/// An owned, contiguous, row-major `rows x cols` matrix.
///
/// ```
/// use fuse2d::Matrix;
///
/// let m = Matrix::from_fn(2, 3, |i, j| (10 * i + j) as f64);
/// assert_eq!(m.shape(), (2, 3));
/// assert_eq!(m.as_slice(), &[0.0, 1.0, 2.0, 10.0, 11.0, 12.0]);
/// assert_eq!(m.as_ref().t().get(2, 1), Some(12.0));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Matrix<T> {
    data: Vec<T>,
    rows: usize,
    cols: usize,
}

impl<T: Element> Matrix<T> {
    /// A `rows x cols` matrix of zeros.
    ///
    /// Panics if `rows * cols` overflows or memory runs out, like `vec!`;
    /// [`Matrix::try_zeros`] reports those as an [`Error`] instead.
    pub fn zeros(rows: usize, cols: usize) -> Self {
        match Self::try_zeros(rows, cols) {
            Ok(m) => m,
            Err(e) => panic!("Matrix::zeros: {e}"),
        }
    }

    /// A `rows x cols` matrix of zeros, or [`Error::Overflow`] /
    /// [`Error::Alloc`] if it cannot be made.
    pub fn try_zeros(rows: usize, cols: usize) -> Result<Self, Error> {
        let shape = (rows, cols);
        // The same bounds as every view (view invariant 1), and a size in
        // bytes that fits an allocation.
        let max = isize::MAX as usize;
        let n = rows
            .checked_mul(cols)
            .filter(|&n| rows <= max && cols <= max && n <= max / core::mem::size_of::<T>().max(1))
            .ok_or(Error::Overflow { shape })?;
        let mut data: Vec<T> = Vec::new();
        data.try_reserve_exact(n)
            .map_err(|_| Error::Alloc { shape })?;
        advise_huge_pages(
            data.as_mut_ptr().cast::<u8>(),
            n * core::mem::size_of::<T>(),
        );
        data.resize(n, T::ZERO);
        Ok(Matrix { data, rows, cols })
    }

    /// A matrix whose element `(i, j)` is `f(i, j)`.
    pub fn from_fn(rows: usize, cols: usize, mut f: impl FnMut(usize, usize) -> T) -> Self {
        let mut m = Self::zeros(rows, cols);
        for (k, x) in m.data.iter_mut().enumerate() {
            *x = f(k / cols, k % cols);
        }
        m
    }

    /// Takes a row-major `Vec` of length `rows * cols`.
    pub fn from_vec(rows: usize, cols: usize, data: Vec<T>) -> Result<Self, Error> {
        // Validates the length the same way the views do.
        MatRef::from_slice(&data, rows, cols)?;
        Ok(Matrix { data, rows, cols })
    }

    /// A copy of any view, in row-major order.
    pub fn from_view(view: MatRef<'_, T>) -> Self {
        Self::from_fn(view.rows(), view.cols(), |i, j| {
            view.get(i, j)
                .expect("(i, j) ranges over the view's own shape")
        })
    }
}

impl<T> Matrix<T> {
    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// `(rows, cols)`.
    pub fn shape(&self) -> Shape {
        (self.rows, self.cols)
    }

    /// The element at `(i, j)`, or `None` out of range.
    pub fn get(&self, i: usize, j: usize) -> Option<T>
    where
        T: Copy,
    {
        (i < self.rows && j < self.cols).then(|| self.data[i * self.cols + j])
    }

    /// The elements in row-major order.
    pub fn as_slice(&self) -> &[T] {
        &self.data
    }

    /// The elements in row-major order, mutably.
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        &mut self.data
    }

    /// The row-major `Vec`.
    pub fn into_vec(self) -> Vec<T> {
        self.data
    }

    /// A read-only view of the whole matrix.
    pub fn as_ref(&self) -> MatRef<'_, T> {
        MatRef::from_slice(&self.data, self.rows, self.cols)
            .expect("a Matrix's length is rows * cols by construction")
    }

    /// A mutable view of the whole matrix.
    pub fn as_mut(&mut self) -> MatMut<'_, T> {
        MatMut::from_slice(&mut self.data, self.rows, self.cols)
            .expect("a Matrix's length is rows * cols by construction")
    }
}

/// Buffers of at least this many bytes get the huge-page advice (NumPy's
/// threshold too): below it a 2 MiB page would mostly hold other data.
const HUGE_PAGE_MIN_BYTES: usize = 4 << 20;

/// Advises the kernel to back the whole pages of `bytes` bytes at `p` with
/// transparent huge pages, if there are at least [`HUGE_PAGE_MIN_BYTES`].
/// Call it before the memory is first written: pages already faulted in
/// stay small until the kernel's background thread merges them.
#[cfg(all(target_os = "linux", not(miri)))]
fn advise_huge_pages(p: *mut u8, bytes: usize) {
    // SAFETY: `sysconf` only reads a system constant.
    let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096);
    if let Some((start, len)) = advice_range(p as usize, bytes, page) {
        // SAFETY: the range is whole pages inside the caller's allocation
        // (`p..p + bytes`, `advice_range`), and `MADV_HUGEPAGE` only changes
        // how the kernel backs those pages, never their contents or whether
        // they are mapped. It can fail (a kernel without THP): the advice is
        // then simply not taken, so the result is ignored.
        unsafe { libc::madvise(start as *mut libc::c_void, len, libc::MADV_HUGEPAGE) };
    }
}

/// Elsewhere there is no such advice to give (nor under Miri, which has
/// no `madvise`).
#[cfg(any(not(target_os = "linux"), miri))]
fn advise_huge_pages(_: *mut u8, _: usize) {}

/// The whole `page`-sized pages inside `addr..addr + bytes`, as (start,
/// length), when the buffer is big enough for the advice and holds any.
#[cfg_attr(any(not(target_os = "linux"), miri), allow(dead_code))]
fn advice_range(addr: usize, bytes: usize, page: usize) -> Option<(usize, usize)> {
    if bytes < HUGE_PAGE_MIN_BYTES || page == 0 {
        return None;
    }
    let start = addr.checked_next_multiple_of(page)?;
    let end = (addr + bytes) / page * page;
    (end > start).then(|| (start, end - start))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `VmFlags` of the mapping that holds `p`, from `/proc/self/smaps`.
    #[cfg(target_os = "linux")]
    fn vm_flags(p: usize) -> Option<String> {
        let smaps = std::fs::read_to_string("/proc/self/smaps").ok()?;
        let mut inside = false;
        for line in smaps.lines() {
            let range = line
                .split_whitespace()
                .next()
                .and_then(|r| r.split_once('-'));
            if let Some((lo, hi)) = range
                && let (Ok(lo), Ok(hi)) =
                    (usize::from_str_radix(lo, 16), usize::from_str_radix(hi, 16))
            {
                inside = (lo..hi).contains(&p);
            } else if inside && let Some(flags) = line.strip_prefix("VmFlags:") {
                return Some(flags.trim().to_owned());
            }
        }
        None
    }

    #[test]
    fn the_advice_covers_whole_pages_of_large_buffers_only() {
        let mib = 1 << 20;
        assert_eq!(advice_range(0x1010, 4 * mib - 1, 4096), None);
        assert_eq!(
            advice_range(0x1010, 4 * mib, 4096),
            Some((0x2000, 4 * mib - 4096))
        );
        assert_eq!(advice_range(0x2000, 4 * mib, 4096), Some((0x2000, 4 * mib)));
        assert_eq!(advice_range(0x1010, 8 * mib, 0), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    #[cfg_attr(miri, ignore = "Miri has no madvise nor /proc")]
    fn a_large_matrix_is_advised_to_use_huge_pages() {
        let has_hg = |p: usize| {
            vm_flags(p)
                .expect("the buffer is mapped")
                .split_whitespace()
                .any(|f| f == "hg")
        };
        // The control: the same advice given directly. Where it does not
        // show (a kernel without THP, or qemu-user, which accepts the call
        // and does nothing), there is nothing to check.
        let mut control = vec![0u8; 8 << 20];
        let p = control.as_mut_ptr() as usize;
        let start = p.next_multiple_of(4096);
        // SAFETY: advice on whole pages inside `control`, which it owns.
        unsafe { libc::madvise(start as *mut libc::c_void, 4 << 20, libc::MADV_HUGEPAGE) };
        if !has_hg(start) {
            return;
        }
        let big = Matrix::<f64>::zeros(1024, 1024); // 8 MiB
        let mid = big.as_slice().as_ptr() as usize + (4 << 20);
        assert!(
            has_hg(mid),
            "an 8 MiB Matrix is not advised for huge pages: VmFlags {:?}",
            vm_flags(mid)
        );
        assert!(big.as_slice().iter().all(|&x| x == 0.0));
    }
}
