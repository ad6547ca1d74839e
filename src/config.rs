//! The configuration value every computing call goes through.

use crate::arch;
use crate::error::Error;
use crate::expr::{Expr, Flagship};
use crate::isa::Isa;
use crate::matrix::Matrix;
use crate::plan::{check_shapes, plan};
use crate::simd::Element;
use crate::view::{MatMut, MatRef};

/// How to run a computation: which instruction set (and, as the crate grows,
/// threads, tiling and store mode). A small builder; `Config::new()` is the
/// default: the best ISA this process may use.
///
/// ```
/// use fuse2d::{Config, Isa, Matrix};
///
/// let a = Matrix::from_fn(4, 5, |i, j| (i + j) as f64);
/// let b = Matrix::from_fn(4, 5, |i, j| i as f64 - j as f64);
/// let mut out = Matrix::zeros(4, 5);
/// // Force the scalar path for this call.
/// Config::new().isa(Isa::Scalar).fused_into(a.as_ref(), b.as_ref(), out.as_mut())?;
/// assert_eq!(out, fuse2d::reference::fused(a.as_ref(), b.as_ref())?);
/// # Ok::<(), fuse2d::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Config {
    isa: Option<Isa>,
}

/// What a computation did, for callers and tests that want to know.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Report {
    /// The instruction set the kernels ran with.
    pub isa: Isa,
    /// How many blocks (tiles) the kernel was called on.
    pub tiles: usize,
}

impl Config {
    /// The default configuration.
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs with `isa` instead of the best available one. A call with an
    /// ISA this process may not use fails with [`Error::UnsupportedIsa`].
    pub fn isa(mut self, isa: Isa) -> Self {
        self.isa = Some(isa);
        self
    }

    /// The instruction set a call with this configuration would use.
    pub fn resolve_isa(&self) -> Result<Isa, Error> {
        Isa::resolve(self.isa)
    }

    /// Runs any expression of `N` inputs into `out`.
    ///
    /// Every check (ISA, shapes) happens before anything is written: on
    /// error, `out` is untouched.
    pub fn run<T: Element, E: Expr<T, N>, const N: usize>(
        &self,
        expr: &E,
        ins: [MatRef<'_, T>; N],
        mut out: MatMut<'_, T>,
    ) -> Result<Report, Error> {
        let isa = self.resolve_isa()?;
        let block = plan(&ins, &mut out)?;
        if block.len() == 0 {
            return Ok(Report { isa, tiles: 0 });
        }
        // SAFETY: `plan` built the block from validated views borrowed for
        // this call (block invariants); `isa` comes from `resolve_isa`, so
        // the CPU supports it.
        unsafe { arch::run(isa, expr, &block) };
        Ok(Report { isa, tiles: 1 })
    }

    /// `out = (a + b) * 2 + a * b`, written into the caller's output.
    pub fn fused_into<T: Element>(
        &self,
        a: MatRef<'_, T>,
        b: MatRef<'_, T>,
        out: MatMut<'_, T>,
    ) -> Result<(), Error> {
        self.run(&Flagship, [a, b], out).map(|_| ())
    }

    /// `(a + b) * 2 + a * b`, in a new row-major matrix.
    pub fn fused<T: Element>(
        &self,
        a: MatRef<'_, T>,
        b: MatRef<'_, T>,
    ) -> Result<Matrix<T>, Error> {
        self.eval(&Flagship, [a, b])
    }

    /// Runs any expression into a new row-major matrix.
    pub fn eval<T: Element, E: Expr<T, N>, const N: usize>(
        &self,
        expr: &E,
        ins: [MatRef<'_, T>; N],
    ) -> Result<Matrix<T>, Error> {
        let Some(first) = ins.first() else {
            return Err(Error::InvalidConfig {
                reason: "an expression needs at least one input to take its shape from",
            });
        };
        let (rows, cols) = check_shapes(ins.map(|v| v.shape()), first.shape())?;
        self.resolve_isa()?;
        let mut out = Matrix::try_zeros(rows, cols)?;
        self.run(expr, ins, out.as_mut())?;
        Ok(out)
    }
}
