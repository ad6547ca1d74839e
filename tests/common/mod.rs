//! Helpers shared by the integration tests: a deterministic generator, the
//! special-value pool, bitwise comparison, and operands in every layout the
//! view API can express.

// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use fuse2d::{Config, Element, Flagship, Isa, MatMut, MatRef, Report, reference};

// ---------------------------------------------------------------------------
// Element bits
// ---------------------------------------------------------------------------

/// An element whose bit pattern can be compared and printed.
pub trait Bits: Element {
    /// The raw IEEE 754 bits, widened to `u64`.
    fn bits(self) -> u64;
    /// A NaN bit pattern no computation produces by chance, used to fill
    /// every element of an output buffer before a call.
    fn sentinel() -> Self;
    /// Width of `bits` in hex digits, for messages.
    const HEX_DIGITS: usize;
    /// The quiet-NaN bit, set in a signalling NaN when an operation passes
    /// it on.
    const QUIET: u64;
    /// Whether this is a NaN.
    fn is_nan(self) -> bool;
}

impl Bits for f64 {
    fn bits(self) -> u64 {
        self.to_bits()
    }
    fn sentinel() -> Self {
        SENTINEL
    }
    const HEX_DIGITS: usize = 16;
    const QUIET: u64 = 1 << 51;
    fn is_nan(self) -> bool {
        f64::is_nan(self)
    }
}

impl Bits for f32 {
    fn bits(self) -> u64 {
        u64::from(self.to_bits())
    }
    fn sentinel() -> Self {
        f32::from_bits(0x7fa5_e471)
    }
    const HEX_DIGITS: usize = 8;
    const QUIET: u64 = 1 << 22;
    fn is_nan(self) -> bool {
        f32::is_nan(self)
    }
}

/// A signalling-NaN bit pattern with a recognisable payload: arithmetic
/// never produces it (it would be quieted), so it marks "never written".
pub const SENTINEL: f64 = f64::from_bits(0x7ff4_5e47_14e1_0001);

/// Formats a value with its bits, e.g. `NaN (0x7ff8000000000000)`.
pub fn show<T: Bits>(x: T) -> String {
    format!("{x:?} (0x{:0w$x})", x.bits(), w = T::HEX_DIGITS)
}

// ---------------------------------------------------------------------------
// Deterministic values
// ---------------------------------------------------------------------------

/// xorshift64*: tiny, deterministic, good enough to scatter test values.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        // The state must never be zero.
        Rng((seed ^ 0x9e37_79b9_7f4a_7c15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        assert!(n > 0);
        (self.next_u64() % n as u64) as usize
    }

    /// A uniform value in `[-1000, 1000)` with a full 53-bit fraction.
    pub fn normal(&mut self) -> f64 {
        let unit = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        (unit - 0.5) * 2000.0
    }

    /// Any bit pattern at all: NaNs with every payload, infinities,
    /// subnormals, zeros and normals of every exponent.
    pub fn any_bits(&mut self) -> f64 {
        f64::from_bits(self.next_u64())
    }

    /// A value of huge magnitude (exponent near the top of the range).
    pub fn huge(&mut self) -> f64 {
        let sign = self.next_u64() & (1 << 63);
        let exp = 0x7fe - (self.next_u64() % 64); // 2^960 ..= 2^1023
        let frac = self.next_u64() & ((1 << 52) - 1);
        f64::from_bits(sign | (exp << 52) | frac)
    }

    /// A value of tiny magnitude: a subnormal or a normal near the bottom.
    pub fn tiny(&mut self) -> f64 {
        let sign = self.next_u64() & (1 << 63);
        let exp = self.next_u64() % 64; // 0 (subnormal) ..= 63
        let frac = self.next_u64() & ((1 << 52) - 1);
        f64::from_bits(sign | (exp << 52) | frac)
    }

    pub fn special(&mut self) -> f64 {
        let pool = specials();
        pool[self.below(pool.len())]
    }

    /// A mix: mostly normal values, with specials, arbitrary bit patterns,
    /// huge and tiny magnitudes sprinkled in.
    pub fn mixed(&mut self) -> f64 {
        match self.below(10) {
            0 => self.special(),
            1 => self.any_bits(),
            2 => self.huge(),
            3 => self.tiny(),
            _ => self.normal(),
        }
    }
}

/// The special-value pool: NaNs of both signs and several payloads
/// (including a signalling one), infinities, signed zeros, subnormals, the
/// extremes of the normal range and values whose sums or products overflow
/// or underflow.
pub fn specials() -> Vec<f64> {
    vec![
        f64::NAN,
        -f64::NAN,
        f64::from_bits(0x7ff8_0000_0000_0001), // quiet NaN, payload 1
        f64::from_bits(0xfff8_dead_beef_cafe), // negative quiet NaN, payload
        f64::from_bits(0x7ff0_0000_0000_0001), // signalling NaN
        f64::from_bits(0xfff4_0000_0000_0000), // negative signalling NaN
        f64::INFINITY,
        f64::NEG_INFINITY,
        0.0,
        -0.0,
        f64::from_bits(1),                     // smallest subnormal
        -f64::from_bits(1),                    // its negative
        f64::from_bits(0x000f_ffff_ffff_ffff), // largest subnormal
        f64::MIN_POSITIVE,
        -f64::MIN_POSITIVE,
        f64::MAX,
        f64::MIN,
        f64::MAX / 2.0, // a + b rounds to MAX, * 2 overflows
        1e300,
        -1e300,
        1e154, // squares to about 1e308
        1e-300,
        -1e-300,
        1e-160, // squares underflow to a subnormal
        f64::EPSILON,
        1.0,
        -1.0,
        2.0,
        -2.0,
        0.5,
        -0.5,
        3.0,
    ]
}

/// The special pool in `f32`.
pub fn specials_f32() -> Vec<f32> {
    vec![
        f32::NAN,
        -f32::NAN,
        f32::from_bits(0x7fc0_0001),
        f32::from_bits(0xffc0_beef),
        f32::from_bits(0x7f80_0001), // signalling NaN
        f32::INFINITY,
        f32::NEG_INFINITY,
        0.0,
        -0.0,
        f32::from_bits(1),
        -f32::from_bits(1),
        f32::from_bits(0x007f_ffff),
        f32::MIN_POSITIVE,
        f32::MAX,
        f32::MIN,
        f32::MAX / 2.0,
        1e30,
        -1e30,
        1e19,
        1e-30,
        1e-20,
        f32::EPSILON,
        1.0,
        -1.0,
        2.0,
        0.5,
        3.0,
    ]
}

// ---------------------------------------------------------------------------
// Comparisons
// ---------------------------------------------------------------------------

/// Panics unless `got` and `want` have the same shape and every element has
/// the same bits, naming the context, the first mismatching `(i, j)` and
/// both values.
pub fn assert_bitwise_eq<T: Bits>(got: MatRef<'_, T>, want: MatRef<'_, T>, ctx: &str) {
    assert_bits_eq_where(got, want, ctx, |_, _, _| false);
}

/// [`assert_bitwise_eq`] for a result computed from `a` and `b` with `+`
/// and `*`, as the documented exactness contract states it (`Lanes` in
/// `src/simd.rs`): every element bitwise equal to the reference, except
/// where `a` and `b` are *both* NaN. There the hardware passes on one of
/// the two NaNs (quieted), and which one depends on the operand order the
/// compiler chose (`x + y` and `y + x` are the same operation to LLVM; an
/// Intel core returns the first operand's NaN), so the result must be one of
/// those two quieted NaNs, and nothing else.
pub fn assert_flagship_eq<T: Bits>(
    got: MatRef<'_, T>,
    want: MatRef<'_, T>,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    ctx: &str,
) {
    assert_bits_eq_where(got, want, ctx, |i, j, g: T| {
        let (x, y) = (a.get(i, j).unwrap(), b.get(i, j).unwrap());
        Bits::is_nan(x) && Bits::is_nan(y) && {
            let g = g.bits();
            g == x.bits() | T::QUIET || g == y.bits() | T::QUIET
        }
    });
}

/// The comparison behind both: `also_ok(i, j, got)` may accept an element
/// whose bits differ.
fn assert_bits_eq_where<T: Bits>(
    got: MatRef<'_, T>,
    want: MatRef<'_, T>,
    ctx: &str,
    also_ok: impl Fn(usize, usize, T) -> bool,
) {
    assert_eq!(
        got.shape(),
        want.shape(),
        "{ctx}: result shape differs from the reference's"
    );
    for i in 0..got.rows() {
        for j in 0..got.cols() {
            let (g, w) = (got.get(i, j).unwrap(), want.get(i, j).unwrap());
            if g.bits() != w.bits() && !also_ok(i, j, g) {
                panic!(
                    "{ctx}: first bitwise mismatch at (i, j) = ({i}, {j}) of shape {:?}: \
                     got {}, reference {}",
                    got.shape(),
                    show(g),
                    show(w)
                );
            }
        }
    }
}

/// Panics unless the two slices are equal bit for bit.
pub fn assert_slice_bits_eq<T: Bits>(got: &[T], want: &[T], ctx: &str) {
    assert_eq!(got.len(), want.len(), "{ctx}: lengths differ");
    if let Some(k) = (0..got.len()).find(|&k| got[k].bits() != want[k].bits()) {
        panic!(
            "{ctx}: first bitwise difference at index {k}: got {}, expected {}",
            show(got[k]),
            show(want[k])
        );
    }
}

// ---------------------------------------------------------------------------
// Layouts
// ---------------------------------------------------------------------------

/// Every way a test places a logical `rows x cols` matrix in a buffer, each
/// built through the view API it is named after.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// `from_slice`: contiguous row-major.
    RowMajor,
    /// `from_strided`, row stride `cols + pad`, first element at `offset`.
    Padded { pad: usize, offset: usize },
    /// `from_slice_col_major`.
    ColMajor,
    /// `from_strided`, column-major with column stride `rows + pad`.
    ColPadded { pad: usize },
    /// `from_slice` on `&vec[off..]`: row-major, starting off alignment.
    Offset(usize),
    /// `from_slice_col_major` on `&vec[off..]`: column-major, starting off
    /// alignment.
    ColOffset(usize),
    /// `from_slice(..).reverse_rows()`.
    ReverseRows,
    /// `from_slice(..).reverse_cols()`.
    ReverseCols,
    /// `from_slice(..).reverse_rows().reverse_cols()`.
    ReverseBoth,
    /// `from_strided` with strides `(-(cols + pad), -1)`.
    NegStrides { pad: usize },
    /// `from_strided` with strides `(-1, rows + pad)`: column-major, rows reversed.
    NegColMajor { pad: usize },
    /// `from_slice_col_major(..).reverse_cols()`: column-major, columns
    /// reversed (unit row stride, negative column stride).
    ColMajorReverseCols,
    /// `from_slice(buf, cols, rows).t()`.
    Transposed,
    /// Quadrant `q` (TL, TR, BL, BR) of a larger row-major matrix, via `quadrants()`.
    Quadrant(usize),
    /// `from_strided` with row stride 0: every row is the same (inputs only).
    BroadcastRow,
    /// `from_strided` with column stride 0: every column the same (inputs only).
    BroadcastCol,
    /// `from_strided` with strides `(0, 0)`: one value everywhere (inputs only).
    BroadcastAll,
}

impl Layout {
    /// Layouts a `MatMut` can have.
    pub const OUTPUTS: [Layout; 17] = [
        Layout::RowMajor,
        Layout::Padded { pad: 3, offset: 0 },
        Layout::Padded { pad: 1, offset: 1 },
        Layout::ColMajor,
        Layout::ColPadded { pad: 2 },
        Layout::Offset(1),
        Layout::ReverseRows,
        Layout::ReverseCols,
        Layout::ReverseBoth,
        Layout::NegStrides { pad: 2 },
        Layout::NegColMajor { pad: 1 },
        Layout::ColMajorReverseCols,
        Layout::Transposed,
        Layout::Quadrant(0),
        Layout::Quadrant(1),
        Layout::Quadrant(2),
        Layout::Quadrant(3),
    ];

    /// Every layout, the broadcasting (input-only) ones included.
    pub const INPUTS: [Layout; 20] = [
        Layout::RowMajor,
        Layout::Padded { pad: 3, offset: 0 },
        Layout::Padded { pad: 1, offset: 1 },
        Layout::ColMajor,
        Layout::ColPadded { pad: 2 },
        Layout::Offset(1),
        Layout::ReverseRows,
        Layout::ReverseCols,
        Layout::ReverseBoth,
        Layout::NegStrides { pad: 2 },
        Layout::NegColMajor { pad: 1 },
        Layout::ColMajorReverseCols,
        Layout::Transposed,
        Layout::Quadrant(0),
        Layout::Quadrant(1),
        Layout::Quadrant(2),
        Layout::Quadrant(3),
        Layout::BroadcastRow,
        Layout::BroadcastCol,
        Layout::BroadcastAll,
    ];

    /// Whether a mutable view can have this layout.
    pub fn writable(self) -> bool {
        !matches!(
            self,
            Layout::BroadcastRow | Layout::BroadcastCol | Layout::BroadcastAll
        )
    }

    /// The length of the buffer a `rows x cols` operand of this layout needs.
    pub fn buffer_len(self, rows: usize, cols: usize) -> usize {
        match self {
            Layout::RowMajor
            | Layout::ColMajor
            | Layout::ReverseRows
            | Layout::ReverseCols
            | Layout::ReverseBoth
            | Layout::ColMajorReverseCols
            | Layout::Transposed => rows * cols,
            Layout::Padded { pad, offset } => offset + rows * (cols + pad),
            Layout::ColPadded { pad } => cols * (rows + pad),
            Layout::Offset(off) | Layout::ColOffset(off) => off + rows * cols + off,
            Layout::NegStrides { pad } => rows * (cols + pad) + 1,
            Layout::NegColMajor { pad } => cols * (rows + pad) + 1,
            Layout::Quadrant(q) => {
                let (r, c) = quadrant_parent(q, rows, cols);
                r * c
            }
            Layout::BroadcastRow => cols,
            Layout::BroadcastCol => rows,
            Layout::BroadcastAll => 1,
        }
    }
}

/// The shape of a parent matrix whose quadrant `q` is `rows x cols`; odd
/// where possible, so quadrants of different sizes are exercised.
pub fn quadrant_parent(q: usize, rows: usize, cols: usize) -> (usize, usize) {
    assert!(q < 4, "there are four quadrants");
    // Quadrants split at `n / 2`: the first part has `n / 2`, the second `n - n / 2`.
    let first = |n: usize| 2 * n + 1;
    let second = |n: usize| (2 * n).saturating_sub(1);
    let r = if q < 2 { first(rows) } else { second(rows) };
    let c = if q.is_multiple_of(2) {
        first(cols)
    } else {
        second(cols)
    };
    (r, c)
}

/// Offset of the first element of a view with strides `(-(cols + pad), -1)`.
fn neg_offset(rows: usize, cols: usize, pad: usize) -> usize {
    if rows == 0 || cols == 0 {
        0
    } else {
        (rows - 1) * (cols + pad) + (cols - 1)
    }
}

/// Unwraps a view the helpers built, naming the layout on failure.
fn built<V>(res: Result<V, fuse2d::Error>, ctx: &str) -> V {
    res.unwrap_or_else(|e| panic!("building a view {ctx}: {e}"))
}

fn stride(n: usize) -> isize {
    isize::try_from(n).unwrap()
}

/// A `rows x cols` operand in `layout`, owning its buffer (padding included).
#[derive(Clone, Debug)]
pub struct Operand<T> {
    pub layout: Layout,
    pub rows: usize,
    pub cols: usize,
    pub buf: Vec<T>,
}

impl<T: Bits> Operand<T> {
    /// Every element of the buffer (padding too) from `fill`.
    pub fn new(layout: Layout, rows: usize, cols: usize, mut fill: impl FnMut() -> T) -> Self {
        let len = layout.buffer_len(rows, cols);
        let buf = (0..len).map(|_| fill()).collect();
        Self::with_buffer(layout, rows, cols, buf)
    }

    /// Every element of the buffer set to `value`.
    pub fn filled(layout: Layout, rows: usize, cols: usize, value: T) -> Self {
        Self::new(layout, rows, cols, || value)
    }

    /// An output operand: every buffer element set to `T::sentinel()`.
    pub fn output(layout: Layout, rows: usize, cols: usize) -> Self {
        Self::filled(layout, rows, cols, T::sentinel())
    }

    /// Takes a buffer of exactly `layout.buffer_len(rows, cols)` elements.
    pub fn with_buffer(layout: Layout, rows: usize, cols: usize, buf: Vec<T>) -> Self {
        assert_eq!(buf.len(), layout.buffer_len(rows, cols), "{layout:?}");
        let op = Operand {
            layout,
            rows,
            cols,
            buf,
        };
        assert_eq!(
            op.view().shape(),
            (rows, cols),
            "test helper: {layout:?} built a view of the wrong shape"
        );
        op
    }

    /// e.g. `ColMajor 3x5`.
    pub fn describe(&self) -> String {
        format!("{:?} {}x{}", self.layout, self.rows, self.cols)
    }

    /// The read-only view, built through the API the layout names.
    pub fn view(&self) -> MatRef<'_, T> {
        let (r, c, buf) = (self.rows, self.cols, self.buf.as_slice());
        let ctx = self.describe();
        let ok = |res| built(res, &ctx);
        match self.layout {
            Layout::RowMajor => ok(MatRef::from_slice(buf, r, c)),
            Layout::Padded { pad, offset } => ok(MatRef::from_strided(
                buf,
                (r, c),
                (stride(c + pad), 1),
                offset,
            )),
            Layout::ColMajor => ok(MatRef::from_slice_col_major(buf, r, c)),
            Layout::ColPadded { pad } => {
                ok(MatRef::from_strided(buf, (r, c), (1, stride(r + pad)), 0))
            }
            Layout::Offset(off) => ok(MatRef::from_slice(&buf[off..off + r * c], r, c)),
            Layout::ColOffset(off) => {
                ok(MatRef::from_slice_col_major(&buf[off..off + r * c], r, c))
            }
            Layout::ReverseRows => ok(MatRef::from_slice(buf, r, c)).reverse_rows(),
            Layout::ReverseCols => ok(MatRef::from_slice(buf, r, c)).reverse_cols(),
            Layout::ReverseBoth => ok(MatRef::from_slice(buf, r, c))
                .reverse_rows()
                .reverse_cols(),
            Layout::NegStrides { pad } => ok(MatRef::from_strided(
                buf,
                (r, c),
                (-stride(c + pad), -1),
                neg_offset(r, c, pad),
            )),
            Layout::NegColMajor { pad } => ok(MatRef::from_strided(
                buf,
                (r, c),
                (-1, stride(r + pad)),
                if r * c == 0 { 0 } else { r - 1 },
            )),
            Layout::ColMajorReverseCols => {
                ok(MatRef::from_slice_col_major(buf, r, c)).reverse_cols()
            }
            Layout::Transposed => ok(MatRef::from_slice(buf, c, r)).t(),
            Layout::Quadrant(q) => {
                let (pr, pc) = quadrant_parent(q, r, c);
                ok(MatRef::from_slice(buf, pr, pc)).quadrants()[q]
            }
            Layout::BroadcastRow => ok(MatRef::from_strided(buf, (r, c), (0, 1), 0)),
            Layout::BroadcastCol => ok(MatRef::from_strided(buf, (r, c), (1, 0), 0)),
            Layout::BroadcastAll => ok(MatRef::from_strided(buf, (r, c), (0, 0), 0)),
        }
    }

    /// The mutable view, built through the API the layout names.
    pub fn view_mut(&mut self) -> MatMut<'_, T> {
        let (r, c) = (self.rows, self.cols);
        let ctx = self.describe();
        let buf = self.buf.as_mut_slice();
        let ok = |res| built(res, &ctx);
        match self.layout {
            Layout::RowMajor => ok(MatMut::from_slice(buf, r, c)),
            Layout::Padded { pad, offset } => ok(MatMut::from_strided(
                buf,
                (r, c),
                (stride(c + pad), 1),
                offset,
            )),
            Layout::ColMajor => ok(MatMut::from_slice_col_major(buf, r, c)),
            Layout::ColPadded { pad } => {
                ok(MatMut::from_strided(buf, (r, c), (1, stride(r + pad)), 0))
            }
            Layout::Offset(off) => ok(MatMut::from_slice(&mut buf[off..off + r * c], r, c)),
            Layout::ColOffset(off) => ok(MatMut::from_slice_col_major(
                &mut buf[off..off + r * c],
                r,
                c,
            )),
            Layout::ReverseRows => ok(MatMut::from_slice(buf, r, c)).reverse_rows(),
            Layout::ReverseCols => ok(MatMut::from_slice(buf, r, c)).reverse_cols(),
            Layout::ReverseBoth => ok(MatMut::from_slice(buf, r, c))
                .reverse_rows()
                .reverse_cols(),
            Layout::NegStrides { pad } => ok(MatMut::from_strided(
                buf,
                (r, c),
                (-stride(c + pad), -1),
                neg_offset(r, c, pad),
            )),
            Layout::NegColMajor { pad } => ok(MatMut::from_strided(
                buf,
                (r, c),
                (-1, stride(r + pad)),
                if r * c == 0 { 0 } else { r - 1 },
            )),
            Layout::ColMajorReverseCols => {
                ok(MatMut::from_slice_col_major(buf, r, c)).reverse_cols()
            }
            Layout::Transposed => ok(MatMut::from_slice(buf, c, r)).t(),
            Layout::Quadrant(q) => {
                let (pr, pc) = quadrant_parent(q, r, c);
                let quads = ok(MatMut::from_slice(buf, pr, pc)).quadrants();
                quads.into_iter().nth(q).unwrap()
            }
            Layout::BroadcastRow | Layout::BroadcastCol | Layout::BroadcastAll => {
                panic!("test bug: {ctx} is not a writable layout")
            }
        }
    }

    /// For each buffer element, whether the view reaches it (computed from
    /// the view's own pointer and strides).
    pub fn covered(&self) -> Vec<bool> {
        let mut mask = vec![false; self.buf.len()];
        let v = self.view();
        if v.is_empty() {
            return mask;
        }
        let size = std::mem::size_of::<T>();
        let base_bytes = (v.as_ptr() as usize)
            .checked_sub(self.buf.as_ptr() as usize)
            .expect("a view starts inside its buffer");
        assert_eq!(base_bytes % size, 0);
        let base = stride(base_bytes / size);
        let (rs, cs) = v.strides();
        for i in 0..self.rows {
            for j in 0..self.cols {
                let k = base + stride(i) * rs + stride(j) * cs;
                let k = usize::try_from(k).expect("a view's elements lie inside its buffer");
                mask[k] = true;
            }
        }
        mask
    }
}

/// Panics if an element of `out`'s buffer outside its view no longer holds
/// the sentinel bits.
pub fn assert_untouched_outside<T: Bits>(out: &Operand<T>, ctx: &str) {
    let covered = out.covered();
    let sentinel = T::sentinel().bits();
    for (k, (&x, &inside)) in out.buf.iter().zip(&covered).enumerate() {
        if !inside && x.bits() != sentinel {
            panic!(
                "{ctx}: buffer element {k} lies outside the output view ({}) but was \
                 overwritten with {} (sentinel {})",
                out.describe(),
                show(x),
                show(T::sentinel())
            );
        }
    }
}

// ---------------------------------------------------------------------------
// Running
// ---------------------------------------------------------------------------

/// Calls `f` with every instruction set this process may use and a
/// configuration forcing it.
pub fn for_each_isa(mut f: impl FnMut(Isa, Config)) {
    let isas = Isa::supported();
    assert!(
        isas.contains(&Isa::Scalar),
        "Isa::supported() must contain Scalar: {isas:?}"
    );
    for &isa in isas {
        f(isa, Config::new().isa(isa));
    }
}

/// Runs the flagship through `cfg` and through the reference, into fresh
/// sentinel-filled outputs of `out_layout`; checks the results are bitwise
/// equal and nothing outside the output view was written. Returns the
/// checked output and `cfg`'s report. `ctx` starts every failure message.
pub fn check_config<T: Bits>(
    cfg: &Config,
    a: &Operand<T>,
    b: &Operand<T>,
    out_layout: Layout,
    ctx: &str,
) -> (Operand<T>, Report) {
    let (rows, cols) = (a.rows, a.cols);
    let ctx = format!(
        "{ctx} shape={rows}x{cols} a={:?} b={:?} out={out_layout:?} cfg={cfg:?}",
        a.layout, b.layout
    );
    let mut fast = Operand::<T>::output(out_layout, rows, cols);
    let mut slow = Operand::<T>::output(out_layout, rows, cols);
    let report = cfg
        .run(&Flagship, [a.view(), b.view()], fast.view_mut())
        .unwrap_or_else(|e| panic!("{ctx}: Config::run failed: {e}"));
    reference::fused_into(a.view(), b.view(), slow.view_mut())
        .unwrap_or_else(|e| panic!("{ctx}: reference failed: {e}"));
    assert_flagship_eq(fast.view(), slow.view(), a.view(), b.view(), &ctx);
    assert_untouched_outside(&fast, &ctx);
    (fast, report)
}

/// [`check_config`] with `isa` forced; also checks the report names it.
pub fn check_flagship<T: Bits>(
    isa: Isa,
    a: &Operand<T>,
    b: &Operand<T>,
    out_layout: Layout,
    extra: &str,
) -> Operand<T> {
    let ctx = format!("isa={isa}{extra}");
    let (fast, report) = check_config(&Config::new().isa(isa), a, b, out_layout, &ctx);
    assert_eq!(report.isa, isa, "{ctx}: the report names another ISA");
    fast
}

/// `check_flagship` with both inputs filled from `rng.mixed()`-style `fill`.
pub fn check_layouts(
    isa: Isa,
    shape: (usize, usize),
    (la, lb, lo): (Layout, Layout, Layout),
    fill: &mut impl FnMut() -> f64,
) {
    let a = Operand::new(la, shape.0, shape.1, &mut *fill);
    let b = Operand::new(lb, shape.0, shape.1, &mut *fill);
    check_flagship(isa, &a, &b, lo, "");
}
