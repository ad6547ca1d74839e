//! The configuration value every computing call goes through.

use std::sync::{Arc, Mutex};

use rayon::ThreadPool;

use crate::cache::CacheInfo;
use crate::cross;
use crate::error::Error;
use crate::expr::{Expr, Flagship};
use crate::isa::Isa;
use crate::kernel::Stores;
use crate::matrix::Matrix;
use crate::par::{Grid, Schedule, Shape as TileShape, default_tile_elems, execute};
use crate::plan::{check_shapes, plan};
use crate::simd::Element;
use crate::turn;
use crate::view::{MatMut, MatRef};

/// How stores reach memory.
///
/// ```
/// use fuse2d::{Config, StoreMode};
///
/// let cfg = Config::new().store(StoreMode::Streaming);
/// # let _ = cfg;
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum StoreMode {
    /// Streaming when the output is at least [`Config::stream_threshold`]
    /// bytes and the output has a unit-stride axis; normal stores
    /// otherwise. The default threshold is an eighth of the last-level
    /// cache, but at most 8x L2: 4 MiB on an AMD Zen 4 (1 MiB L2, 32 MiB
    /// L3), where at 512x512 f64 (2 MiB out) normal stores were faster and
    /// from 724x724 (4 MiB out) on streaming ones were; 16 MiB on an Intel
    /// Xeon VM that reports the host's 480 MiB L3 (2 MiB L2), where normal
    /// stores were 3% faster at 1000x1000 (8 MB out), the two alike at
    /// 1448x1448 (17 MB) and streaming 14-21% faster at 2000x2000. The cap
    /// is there because a VM shares the L3 it reports with other tenants.
    /// See docs/performance.md.
    #[default]
    Auto,
    /// Ordinary stores: the written lines stay in cache. Where the output
    /// is at least [`Config::stream_threshold`] bytes (out of cache), each
    /// contiguous row is computed and stored a line at a time, its inputs
    /// asked for ahead, on the x86_64 instruction sets: what LLVM makes of
    /// the whole row runs behind that there (2000x2000 f64 on AMD Zen 4,
    /// one thread, AVX-512: 3.4-3.6 ms, a line at a time 2.6-3.0, ndarray's
    /// loop 2.8-3.2; see docs/performance.md). With AVX-512 and `f64` a
    /// column-major input of a row-major output is crossed in registers
    /// with ordinary stores, as where the output streams (in cache too).
    Normal,
    /// Non-temporal stores for the output rows (AVX-512, AVX2, SSE2), which
    /// skip the read-for-ownership of each output line; an `sfence` ends each
    /// thread's run of tiles, before the results are handed on. ISAs without
    /// them (scalar, NEON) use normal stores.
    Streaming,
}

/// Which threads run the tiles.
#[derive(Clone, Debug, Default)]
enum Threads {
    /// rayon's current pool (the global one unless inside `install`), which
    /// honours `RAYON_NUM_THREADS`.
    #[default]
    Current,
    /// Exactly this many threads (the talk's `num_threads`), from a pool
    /// built once per count and then reused.
    Count(usize),
    /// A pool the caller owns.
    Pool(Arc<ThreadPool>),
}

/// How to run a computation: instruction set, threads, schedule, tiling and
/// store mode. A small builder; `Config::new()` is the default: the best ISA
/// this process may use, rayon's current pool, work stealing, tiles sized
/// from the caches, [`StoreMode::Auto`], and inputs below
/// [`DEFAULT_SERIAL_THRESHOLD`] elements on the calling thread.
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
#[derive(Clone, Debug, Default)]
pub struct Config {
    isa: Option<Isa>,
    threads: Threads,
    schedule: Schedule,
    store: StoreMode,
    tile_elems: Option<usize>,
    serial_threshold: Option<usize>,
    stream_threshold: Option<usize>,
}

/// Inputs with fewer elements than this run on the calling thread by
/// default: below it, waking threads costs more than it saves.
///
/// 2^18 elements (512x512). Measured on a 2-core Intel Xeon VM (f64
/// flagship, one thread against two forced parallel, medians; `cargo bench
/// --bench versus -- serial`), with each kind of call in phases of its own
/// and with the two alternating: two threads were 1.1-1.3x faster from
/// 512x512, 1.5x at 724x724 and 1.7x at 1024x1024, but 0.65x at 362x362
/// and within noise of one thread at 256x256. (An earlier measurement on a
/// 2-core Zen 4, alternating calls only, put the crossover at 1024x1024;
/// alternating calls leave the second core idle between two-thread calls,
/// which on these VMs slows it down.) Override with
/// [`Config::serial_threshold`].
pub const DEFAULT_SERIAL_THRESHOLD: usize = 1 << 18;

/// What a computation did, for callers and tests that want to know.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Report {
    /// The instruction set the kernels ran with.
    pub isa: Isa,
    /// How many tiles the kernel ran on (each one dispatch).
    pub tiles: usize,
    /// How many threads could take tiles (1: the calling thread only).
    pub threads: usize,
    /// Whether the output rows used streaming stores (never on ISAs without
    /// them, nor for an output without a unit-stride axis).
    pub streaming: bool,
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

    /// Runs on exactly `n` threads (`1`: the calling thread only). The pool
    /// for each `n` is built on first use and reused. `0` is an
    /// [`Error::InvalidConfig`] when the configuration is used.
    pub fn threads(mut self, n: usize) -> Self {
        self.threads = Threads::Count(n);
        self
    }

    /// Runs in the caller's rayon pool.
    pub fn pool(mut self, pool: Arc<ThreadPool>) -> Self {
        self.threads = Threads::Pool(pool);
        self
    }

    /// Runs in rayon's current pool (the default).
    pub fn current_pool(mut self) -> Self {
        self.threads = Threads::Current;
        self
    }

    /// How tiles are shared among threads.
    pub fn schedule(mut self, schedule: Schedule) -> Self {
        self.schedule = schedule;
        self
    }

    /// How stores reach memory.
    pub fn store(mut self, store: StoreMode) -> Self {
        self.store = store;
        self
    }

    /// Tile size in elements, instead of the cache-derived default (mixed
    /// layouts use strips of at most 64 rows of about this many elements;
    /// on a parallel run, tiles along rows come out a little smaller where
    /// that gives every thread an equal share). `0` is an
    /// [`Error::InvalidConfig`] when used.
    pub fn tile_elems(mut self, elems: usize) -> Self {
        self.tile_elems = Some(elems);
        self
    }

    /// Inputs with fewer elements than this run on the calling thread
    /// (default [`DEFAULT_SERIAL_THRESHOLD`]; `0` always uses the pool).
    pub fn serial_threshold(mut self, elems: usize) -> Self {
        self.serial_threshold = Some(elems);
        self
    }

    /// With [`StoreMode::Auto`], outputs of at least this many bytes use
    /// streaming stores (default: an eighth of the last-level cache, at
    /// most 8x L2; see [`StoreMode::Auto`]); with [`StoreMode::Normal`],
    /// their rows go a line at a time (see [`StoreMode::Normal`]).
    pub fn stream_threshold(mut self, bytes: usize) -> Self {
        self.stream_threshold = Some(bytes);
        self
    }

    /// The instruction set a call with this configuration would use.
    pub fn resolve_isa(&self) -> Result<Isa, Error> {
        Isa::resolve(self.isa)
    }

    /// Checks everything that does not depend on the operands.
    fn validate(&self) -> Result<Isa, Error> {
        if matches!(self.threads, Threads::Count(0)) {
            return Err(Error::InvalidConfig {
                reason: "the thread count must be at least 1",
            });
        }
        if self.tile_elems == Some(0) {
            return Err(Error::InvalidConfig {
                reason: "the tile size must be at least 1 element",
            });
        }
        self.resolve_isa()
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
        let isa = self.validate()?;
        let block = plan(&ins, &mut out)?;
        if block.len() == 0 {
            return Ok(Report {
                isa,
                tiles: 0,
                threads: 1,
                streaming: false,
            });
        }
        let out_bytes = block.len().saturating_mul(core::mem::size_of::<T>());
        let stream_threshold = self.stream_threshold.unwrap_or_else(|| {
            let c = CacheInfo::get();
            (c.l3 / 8).min(8 * c.l2)
        });
        // Streaming stores serve unit-stride output rows (packed inputs or
        // not), on ISAs that have them; so do ordinary stores a line at a
        // time, for an output out of cache (`Stores::Lines`).
        let streamable = block.out_cs == 1 && isa.has_streaming_stores();
        let out_of_cache = out_bytes >= stream_threshold;
        let stores = match self.store {
            _ if !streamable => Stores::Normal,
            StoreMode::Normal if out_of_cache => Stores::Lines,
            StoreMode::Normal => Stores::Normal,
            StoreMode::Streaming => Stores::Streaming,
            StoreMode::Auto if out_of_cache => Stores::Streaming,
            StoreMode::Auto => Stores::Normal,
        };
        let streaming = stores == Stores::Streaming;
        let shape = if block.unit_inner() || block.rows == 1 {
            TileShape::Streaming
        } else if turn::is_turned(&block) {
            TileShape::Turned
        } else if cross::streams(&block, stores, isa) {
            TileShape::Crossed
        } else {
            TileShape::Mixed
        };
        let tile = self
            .tile_elems
            .unwrap_or_else(|| default_tile_elems(&block, shape));
        let grid = Grid::new(&block, shape, tile);
        let big = block.len() >= self.serial_threshold.unwrap_or(DEFAULT_SERIAL_THRESHOLD)
            && grid.count() > 1;
        let schedule = self.schedule;
        // SAFETY: for each call, `plan` built the block from validated
        // views borrowed for this call (block invariants); `isa` comes from
        // `resolve_isa`, so the CPU supports it.
        let run = |parallel: bool| unsafe {
            execute(isa, expr, &block, grid, stores, parallel, schedule)
        };
        let done = match &self.threads {
            _ if !big => run(false),
            Threads::Current => run(true),
            Threads::Count(1) => run(false),
            Threads::Count(n) => pool_with(*n)?.install(|| run(true)),
            Threads::Pool(pool) => pool.install(|| run(true)),
        };
        Ok(Report {
            isa,
            tiles: done.tiles,
            threads: done.threads,
            streaming,
        })
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
        self.validate()?;
        let mut out = Matrix::try_zeros(rows, cols)?;
        self.run(expr, ins, out.as_mut())?;
        Ok(out)
    }
}

/// The pool of exactly `n` threads, built on first use and kept.
fn pool_with(n: usize) -> Result<Arc<ThreadPool>, Error> {
    static POOLS: Mutex<Vec<(usize, Arc<ThreadPool>)>> = Mutex::new(Vec::new());
    let mut pools = POOLS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((_, p)) = pools.iter().find(|(k, _)| *k == n) {
        return Ok(Arc::clone(p));
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .thread_name(move |i| format!("fuse2d-{n}-{i}"))
        .build()
        .map_err(|_| Error::InvalidConfig {
            reason: "the thread pool could not be started",
        })?;
    let pool = Arc::new(pool);
    pools.push((n, Arc::clone(&pool)));
    Ok(pool)
}
