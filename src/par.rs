//! Tiles and threads: a normalised block is cut into cache-sized tiles, and
//! the tiles are spread over rayon (work stealing) or handed out one
//! contiguous run per thread (static, like OpenMP's `schedule(static)`).
//!
//! The ISA is resolved before splitting and passed to every leaf; each leaf
//! calls the dispatched kernel once.

use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use crate::arch;
use crate::cache::CacheInfo;
use crate::cross;
use crate::expr::Expr;
use crate::isa::Isa;
use crate::kernel::Stores;
use crate::pack::{PACK_ROWS, Pack};
use crate::plan::Block;
use crate::simd::Element;
use crate::turn;

/// How tiles are shared among threads.
///
/// ```
/// use fuse2d::{Config, Schedule};
///
/// // The talk's `prange(..., schedule='static', num_threads=2)`.
/// let cfg = Config::new().threads(2).schedule(Schedule::Static);
/// # let _ = cfg;
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Schedule {
    /// rayon's work stealing over all tiles (adapts to busy cores).
    #[default]
    Dynamic,
    /// One contiguous run of tiles per thread, fixed in advance.
    Static,
}

/// Where a tile's elements live, seen from the kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    /// Every operand walks the inner axis with unit stride: tiles are runs of
    /// rows (or pieces of one long row), sized for L2.
    Streaming,
    /// Some operand crosses the inner axis (e.g. column-major `b` with a
    /// row-major output): strips of `PACK_ROWS` rows, packed in L2 by the
    /// kernel, so the strided operand is read in runs and the others in rows.
    Mixed,
    /// The output along its rows, some input contiguous down the columns,
    /// every other along the rows (`cross`): tiles of `cross::ROWS` rows,
    /// as wide as the block by default, so that the crossing columns are
    /// long runs and the other inputs' rows move on a line at a time.
    Crossed,
    /// Every input runs down the columns, the output along its rows (a
    /// transposed output, `turn`): panels of a few columns, as tall as the
    /// tile size allows, so each input's columns are long runs the hardware
    /// prefetchers follow.
    Turned,
}

/// The tiling of one block: `nr x nc` tiles of at most `rows_per x
/// cols_per` elements. Mixed layouts' strips have `rows_per` rows (the last
/// may have fewer); along rows, the rows are shared out evenly over the
/// `nr` rows of tiles. The last column of tiles may be narrower.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Grid {
    rows_per: usize,
    cols_per: usize,
    nr: usize,
    nc: usize,
    /// The first column of tiles is this many columns narrower than
    /// `cols_per`, so that every later one starts on a cache line of every
    /// output row (see [`line_shift`]).
    shift: usize,
    /// Which shape of block the tiles cut: mixed layouts' strips are
    /// numbered down the grid's columns (in `bands`), a turned block's
    /// panels are kept as they are for threads ([`Grid::for_threads`]).
    shape: Shape,
    /// Mixed layouts: the grid's rows are cut into this many bands of
    /// consecutive strips, numbered one after the other, each down its
    /// columns. One per thread on a parallel run, so the contiguous runs
    /// of tiles the threads take are row ranges: were they column panels,
    /// the line of each output row that straddles two panels would be
    /// written by two threads (two threads, `b` column-major: 12-23% faster
    /// from 724x724 to 1700x1700, the same at 2000x2000 and 4000x4000).
    bands: usize,
}

/// Default tile size in elements: for row tiles, enough of every operand to
/// fill about half of L2, at least 4096 elements; for mixed layouts, one
/// packed strip (`pack::Pack`).
pub(crate) fn default_tile_elems<T, const N: usize>(b: &Block<T, N>, shape: Shape) -> usize {
    let c = CacheInfo::get();
    let per_elem = core::mem::size_of::<T>() * (N + 1);
    match shape {
        Shape::Streaming => (c.l2 / 2 / per_elem).max(4096),
        Shape::Mixed => Pack::tile_elems(b),
        // At most `cross::ROWS` rows as wide as the block, and at least two
        // tiles, so that a block of fewer rows can still run on two threads
        // (or more: `Grid::for_threads` shares the rows out again).
        Shape::Crossed => cross::ROWS
            .min(b.rows.div_ceil(2))
            .saturating_mul(b.cols)
            .max(1),
        // Nothing is reused from one step of a panel to the next: the
        // height only sets the grain of the threads' work (4000x4000, 16
        // columns, one thread, by hand: panels of 2000 rows 3-4% slower
        // than 4000).
        Shape::Turned => (4 * c.l2 / per_elem).max(4096),
    }
}

/// By how many columns to narrow the first column of tiles so that the
/// boundaries between tiles fall on cache lines of the output, when every
/// output row starts at the same offset in its line (or there is one row).
/// Otherwise each output row of a tile (a packed strip's row, or a piece of
/// one long row) would begin and end with a partial line, which takes
/// normal stores, the line read from memory first, among the streaming
/// ones (and on two threads, two threads would write the line); aligned,
/// only the matrix's own first and last columns do. 0 when the rows'
/// offsets differ, when `cols_per` is not whole lines (small tiles set by
/// tests), or, unless `may_add`, when the shift would add a column of
/// tiles (always so for tiles of whole rows). The panels of a transposed
/// output may take one more: unaligned, every panel would store its lines
/// across two (4000x4000 one thread, the output 16 bytes past a line: 75
/// ms instead of 23).
fn line_shift<T, const N: usize>(b: &Block<T, N>, cols_per: usize, may_add: bool) -> usize {
    let size = core::mem::size_of::<T>();
    let line = 64 / size;
    let same_offset = b.rows == 1 || (b.out_rs.unsigned_abs() * size).is_multiple_of(64);
    if b.out_cs != 1 || !same_offset || !cols_per.is_multiple_of(line) {
        return 0;
    }
    // Elements of the first output row that precede its first line boundary
    // in that line, i.e. `shift` with `out + (k * cols_per - shift)` on a
    // line for every `k`.
    let shift = (b.out as usize % 64) / size;
    if may_add || (b.cols + shift).div_ceil(cols_per) == b.cols.div_ceil(cols_per) {
        shift
    } else {
        0
    }
}

impl Grid {
    pub(crate) fn new<T, const N: usize>(b: &Block<T, N>, shape: Shape, tile_elems: usize) -> Grid {
        let tile_elems = tile_elems.max(1);
        let (rows_per, cols_per) = match shape {
            Shape::Streaming if b.cols >= tile_elems => {
                // Long rows: pieces of whole 64-element runs (whole lines).
                (1, tile_elems.next_multiple_of(64).min(b.cols))
            }
            Shape::Streaming => ((tile_elems / b.cols).max(1), b.cols),
            // Strips of `PACK_ROWS` rows (fewer for small tile sizes, so
            // tests can force many tiles), as wide as the tile size allows.
            Shape::Mixed => {
                let rows = PACK_ROWS.min(tile_elems).min(b.rows);
                (rows, (tile_elems / rows).clamp(1, b.cols))
            }
            // Whole rows, as many as the tile size holds (by default up to
            // `cross::ROWS`); for tile sizes below a row, pieces of rows
            // in tiles of up to `cross::ROWS` rows (tests force these).
            Shape::Crossed if tile_elems >= b.cols => ((tile_elems / b.cols).min(b.rows), b.cols),
            Shape::Crossed => {
                let rows = cross::ROWS.min(tile_elems).min(b.rows);
                (rows, (tile_elems / rows).clamp(1, b.cols))
            }
            // Panels of `turn::panel_cols` columns (fewer for small tile
            // sizes; wider, in whole lines, when the rows are too few for a
            // panel to hold 4096 elements), as tall as the tile size allows.
            Shape::Turned => {
                let line = 64 / core::mem::size_of::<T>();
                let panel = turn::panel_cols::<T, N>();
                let cols = if b.rows.saturating_mul(panel) < 4096 {
                    (4096 / b.rows).next_multiple_of(line)
                } else {
                    panel
                };
                let cols = cols.min(tile_elems).clamp(1, b.cols);
                ((tile_elems / cols).clamp(1, b.rows), cols)
            }
        };
        Grid::cut(b, rows_per, cols_per, shape)
    }

    /// Tiles of `rows_per x cols_per` for `shape`, the first column of them
    /// shifted onto the output's lines.
    fn cut<T, const N: usize>(
        b: &Block<T, N>,
        rows_per: usize,
        cols_per: usize,
        shape: Shape,
    ) -> Grid {
        let shift = line_shift(b, cols_per, shape == Shape::Turned);
        Grid {
            rows_per,
            cols_per,
            nr: b.rows.div_ceil(rows_per),
            nc: (b.cols + shift).div_ceil(cols_per),
            shift,
            shape,
            bands: 1,
        }
    }

    /// The same block cut for a run on `threads` threads, so that their
    /// shares come out equal. Along rows (`Shape::Streaming`): as many tiles
    /// as the next multiple of `threads`, all of one size: pieces of rows
    /// to within one 64-element run, whole rows to within one row (at
    /// 1000x1000, tiles of L2/2 came out 23, 22 whole and one smaller: 12
    /// for one thread, 11 for the other). Mixed layouts keep their strips, which
    /// the pack sizes, and are numbered in one band per thread.
    pub(crate) fn for_threads<T, const N: usize>(self, b: &Block<T, N>, threads: usize) -> Grid {
        let threads = threads.max(1);
        match self.shape {
            // A tile's rows are shared out evenly already, and at the sizes
            // that run in parallel there are tens of panels or more.
            Shape::Turned => return self,
            Shape::Mixed => return self.banded(threads),
            // Pieces of rows keep their size; whole rows are shared out.
            Shape::Crossed if self.cols_per < b.cols => return self,
            Shape::Crossed | Shape::Streaming => {}
        }
        if self.cols_per >= b.cols {
            // Runs of whole rows, shared out evenly (`tile`).
            let nr = self.nr.next_multiple_of(threads).min(b.rows);
            Grid {
                nr,
                rows_per: b.rows.div_ceil(nr),
                ..self
            }
        } else {
            // Pieces of rows: the fewest pieces per row, no fewer than now,
            // that make the count a multiple of `threads`, still whole runs
            // of 64 elements.
            let nc = (self.nc..self.nc + threads)
                .find(|nc| (self.nr * nc).is_multiple_of(threads))
                .unwrap_or(self.nc);
            let cols_per = b.cols.div_ceil(nc).next_multiple_of(64).min(self.cols_per);
            Grid::cut(b, 1, cols_per, Shape::Streaming)
        }
    }

    /// The same tiles, numbered in `bands` bands of grid rows (at most one
    /// per grid row); no change along rows (`Shape::Streaming`), whose
    /// tiles are row ranges already.
    pub(crate) fn banded(self, bands: usize) -> Grid {
        Grid {
            bands: bands.clamp(1, self.nr.max(1)),
            ..self
        }
    }

    pub(crate) fn count(&self) -> usize {
        self.nr * self.nc
    }

    /// Tiles numbered down the columns of the grid (mixed layouts), not
    /// along its rows: consecutive strips then share their columns, so a
    /// column-major operand's pages stay in the TLB from one strip to the
    /// next (at 4000x4000 with `b` column-major: 1.35x faster than along
    /// the rows, where every strip touched all 4000 columns' pages).
    fn down(&self) -> bool {
        self.shape == Shape::Mixed
    }

    /// Tile `t` of `b`, in the grid's numbering.
    pub(crate) fn tile<T, const N: usize>(&self, b: &Block<T, N>, t: usize) -> Block<T, N> {
        let (i, j) = self.position(t);
        let (r0, nr) = if self.down() {
            // Strips of `rows_per` (the pack's) rows, the last one shorter.
            let r0 = i * self.rows_per;
            (r0, self.rows_per.min(b.rows - r0))
        } else {
            // The rows shared out evenly: every tile has `rows / nr` rows or
            // one more (at most `rows_per`), so consecutive runs of tiles
            // hold as many rows as can be. With `rows_per` each and the
            // last tile shorter, 2000 rows in 96 tiles of 21 gave two
            // threads 1008 and 992.
            let r0 = share_start(i, b.rows, self.nr);
            (r0, share_start(i + 1, b.rows, self.nr) - r0)
        };
        let c0 = (j * self.cols_per).saturating_sub(self.shift);
        let c1 = ((j + 1) * self.cols_per - self.shift).min(b.cols);
        b.tile(r0, nr, c0, c1 - c0)
    }

    /// The grid row and column of tile `t`: along the rows, or (`down`)
    /// down the columns of each band.
    fn position(&self, t: usize) -> (usize, usize) {
        if self.down() {
            // Band `band` holds grid rows `band * per_band..`, `in_band` of
            // them (the last band may have fewer), numbered down the
            // columns.
            let per_band = self.nr.div_ceil(self.bands);
            let (band, k) = (t / (per_band * self.nc), t % (per_band * self.nc));
            let in_band = per_band.min(self.nr - band * per_band);
            (band * per_band + k % in_band, k / in_band)
        } else {
            (t / self.nc, t % self.nc)
        }
    }
}

/// Where part `i` of `total` items shared out evenly over `parts` parts
/// begins: `i * total / parts`, rounded down, without overflow.
fn share_start(i: usize, total: usize, parts: usize) -> usize {
    (i as u128 * total as u128 / parts as u128) as usize
}

/// What one execution did.
pub(crate) struct Executed {
    pub tiles: usize,
    pub threads: usize,
}

/// The end of one thread's run of consecutive tiles (a rayon job, a
/// static block, or a whole serial call), dropped when the run ends, before
/// the tiles are handed on: one `sfence` there orders the run's streaming
/// stores (not one per tile: at 4000x4000 on two threads, where the fence
/// waits on a saturated memory, per tile cost 2-4%), and its tiles are
/// counted. It runs on unwinding too.
struct RunEnd<'a> {
    streaming: bool,
    tiles: usize,
    done: &'a AtomicUsize,
}

impl Drop for RunEnd<'_> {
    fn drop(&mut self) {
        if self.streaming {
            arch::fence();
        }
        self.done.fetch_add(self.tiles, Ordering::Relaxed);
    }
}

/// Runs every tile of `grid`, on the calling thread when `parallel` is
/// false, else in the current rayon pool with `schedule`.
///
/// # Safety
/// `b` upholds the block invariants and `isa` is supported.
pub(crate) unsafe fn execute<T: Element, E: Expr<T, N>, const N: usize>(
    isa: Isa,
    e: &E,
    b: &Block<T, N>,
    grid: Grid,
    stores: Stores,
    parallel: bool,
    schedule: Schedule,
) -> Executed {
    let grid = if parallel {
        grid.for_threads(b, rayon::current_num_threads())
    } else {
        grid
    };
    let done = AtomicUsize::new(0);
    let run_end = || RunEnd {
        streaming: stores == Stores::Streaming,
        tiles: 0,
        done: &done,
    };
    let leaf = |end: &mut RunEnd<'_>, t: usize| {
        let tile = grid.tile(b, t);
        // SAFETY: tiles of a valid block over disjoint index ranges are valid
        // blocks with disjoint outputs; `isa` is supported (caller).
        unsafe { arch::run(isa, e, &tile, stores) };
        end.tiles += 1;
    };
    let n = grid.count();
    let threads = if parallel {
        match schedule {
            // One `RunEnd` per rayon job, dropped at its end.
            Schedule::Dynamic => (0..n).into_par_iter().for_each_init(run_end, leaf),
            Schedule::Static => {
                rayon::broadcast(|ctx| {
                    let (w, p) = (ctx.index(), ctx.num_threads());
                    let mut end = run_end();
                    (share_start(w, n, p)..share_start(w + 1, n, p))
                        .for_each(|t| leaf(&mut end, t));
                });
            }
        }
        rayon::current_num_threads()
    } else {
        let mut end = run_end();
        (0..n).for_each(|t| leaf(&mut end, t));
        1
    };
    Executed {
        tiles: done.into_inner(),
        threads,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every numbering covers every tile of the grid exactly once.
    #[test]
    fn every_tile_once_in_every_order() {
        for (nr, nc) in [(1, 1), (1, 5), (5, 1), (7, 3), (32, 2), (125, 8), (3, 4)] {
            for down in [false, true] {
                for bands in [1, 2, 3, 4, 7, 8, 200] {
                    let g = Grid {
                        rows_per: 1,
                        cols_per: 1,
                        nr,
                        nc,
                        shift: 0,
                        shape: if down { Shape::Mixed } else { Shape::Streaming },
                        bands: 1,
                    }
                    .banded(bands);
                    let mut seen = vec![false; nr * nc];
                    for t in 0..g.count() {
                        let (i, j) = g.position(t);
                        assert!(i < nr && j < nc, "{nr}x{nc} {bands}: ({i}, {j})");
                        assert!(!seen[i * nc + j], "{nr}x{nc} {bands}: ({i}, {j}) twice");
                        seen[i * nc + j] = true;
                    }
                    assert!(seen.iter().all(|&x| x));
                }
            }
        }
    }

    /// A block of `rows x cols` f64 whose row-major output starts `offset`
    /// bytes past a line, rows `out_rs` apart; `b` column-major for
    /// `Shape::Mixed`, else row-major like `a`. Never dereferenced: only its
    /// addresses are looked at.
    fn block(
        shape: Shape,
        rows: usize,
        cols: usize,
        offset: usize,
        out_rs: usize,
    ) -> Block<f64, 2> {
        let b_cs = if shape == Shape::Mixed {
            rows as isize
        } else {
            1
        };
        Block {
            rows,
            cols,
            ins: [core::ptr::null(); 2],
            in_rs: [out_rs as isize, if b_cs == 1 { out_rs as isize } else { 1 }],
            in_cs: [1, b_cs],
            out: core::ptr::without_provenance_mut(1 << 20 | offset),
            out_rs: out_rs as isize,
            out_cs: 1,
        }
    }

    /// The columns `(c0, c1)` of the tiles of the grid's first row.
    fn panels(g: &Grid, b: &Block<f64, 2>) -> Vec<(usize, usize)> {
        let mut p: Vec<(usize, usize)> = (0..g.count())
            .map(|t| (g.position(t), g.tile(b, t)))
            .filter(|&((i, _), _)| i == 0)
            .map(|(_, t)| {
                let c0 = (t.out as usize - b.out as usize) / 8;
                (c0, c0 + t.cols)
            })
            .collect();
        p.sort_unstable();
        p
    }

    /// Tiles meet on the output's cache lines when every row starts at the
    /// same offset in its line (packed strips, and pieces of long rows), and
    /// always cover each column once, with no more columns of tiles than
    /// unshifted; also as cut for a parallel run.
    #[test]
    fn tiles_meet_on_output_lines() {
        let cases = [
            (Shape::Mixed, 70, [PACK_ROWS * 64, PACK_ROWS * 256, 1000]),
            (Shape::Streaming, 1, [64, 256, 1000]),
            (Shape::Streaming, 3, [64, 256, 5000]),
        ];
        for (shape, rows, tiles) in cases {
            for cols in [1_usize, 7, 63, 64, 65, 200, 250, 256, 257, 1000, 4000] {
                for offset in (0..64).step_by(8) {
                    for out_rs in [cols, cols + 1, cols.next_multiple_of(8), 4096] {
                        let out_rs = out_rs.max(cols);
                        let b = block(shape, rows, cols, offset, out_rs);
                        for (tile, threads) in tiles.iter().flat_map(|&t| [(t, 1), (t, 2), (t, 3)])
                        {
                            let g = Grid::new(&b, shape, tile).for_threads(&b, threads);
                            let p = panels(&g, &b);
                            let what = format!(
                                "{shape:?} {rows}x{cols}, offset {offset}, rs {out_rs}, tile {tile}, {threads} threads: {p:?}"
                            );
                            assert_eq!(p.first().map(|c| c.0), Some(0), "{what}");
                            assert_eq!(p.last().map(|c| c.1), Some(cols), "{what}");
                            assert!(p.windows(2).all(|w| w[0].1 == w[1].0), "{what}");
                            assert!(
                                p.iter().all(|&(c0, c1)| c0 < c1 && c1 - c0 <= g.cols_per),
                                "{what}"
                            );
                            assert!(p.len() <= cols.div_ceil(g.cols_per), "{what}");
                            let aligned = (rows == 1 || (out_rs * 8).is_multiple_of(64))
                                && g.cols_per.is_multiple_of(8);
                            if aligned && p.len() == (cols + offset / 8).div_ceil(g.cols_per) {
                                for &(c0, _) in &p[1..] {
                                    assert!(
                                        (b.out as usize + 8 * c0).is_multiple_of(64),
                                        "{what}: {c0}"
                                    );
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// On a parallel run the tiles along rows are cut so that each thread's
    /// contiguous run of them (as `Schedule::Static` hands them out, and as
    /// rayon's halving splits them when no thread is busy elsewhere) is
    /// within a line run (64 elements) per tile, or (tiles of whole rows)
    /// one row, of an equal share; and they still cover every element once.
    #[test]
    fn threads_get_equal_shares() {
        let sizes = [
            (1, 1_000_000),
            (3, 1_000_000),
            (1, 302_500),
            (1000, 1000),
            (550, 550),
            (1_000_000, 3),
            (2, 100),
            (7, 7),
        ];
        for (rows, cols) in sizes {
            // Rows one element longer than `cols`, so they do not collapse.
            let b = block(Shape::Streaming, rows, cols, 16, cols + 1);
            for tile in [64, 4096, 43_690, 100_000] {
                for threads in 1..=8 {
                    let g = Grid::new(&b, Shape::Streaming, tile).for_threads(&b, threads);
                    let n = g.count();
                    let what = format!("{rows}x{cols}, tile {tile}, {threads} threads: {g:?}");
                    let elems: Vec<usize> = (0..n).map(|t| g.tile(&b, t).len()).collect();
                    assert_eq!(elems.iter().sum::<usize>(), rows * cols, "{what}");
                    // Pieces of rows are whole runs of 64 elements; rows
                    // are shared out to within one row per thread.
                    let slack = if g.cols_per < cols {
                        (n / threads + 1) * 64
                    } else {
                        cols
                    };
                    let ideal = (rows * cols).div_ceil(threads);
                    for w in 0..threads {
                        let share: usize = elems
                            [share_start(w, n, threads)..share_start(w + 1, n, threads)]
                            .iter()
                            .sum();
                        assert!(
                            share <= ideal + slack,
                            "{what}: thread {w} has {share} of {}",
                            rows * cols
                        );
                    }
                }
            }
        }
    }

    /// A turned block (`turn`) is cut into panels of `turn::panel_cols`
    /// columns (8 for two f64 inputs) as tall as the tile allows, shifted
    /// onto the output's lines even where that adds a panel, left as they
    /// are for threads; few rows get wider panels.
    #[test]
    fn turned_blocks_in_panels() {
        let turned = |rows: usize, cols: usize, offset: usize| Block::<f64, 2> {
            rows,
            cols,
            ins: [core::ptr::null(); 2],
            in_rs: [1, 1],
            in_cs: [rows as isize, rows as isize + 3],
            out: core::ptr::without_provenance_mut(1 << 20 | offset),
            out_rs: cols as isize,
            out_cs: 1,
        };
        assert_eq!(turn::panel_cols::<f64, 2>(), 8);
        for offset in [0, 16, 56] {
            let b = turned(4000, 4000, offset);
            let g = Grid::new(&b, Shape::Turned, 8 * 4000);
            let shift = offset / 8;
            assert_eq!((g.rows_per, g.cols_per, g.shift), (4000, 8, shift));
            assert_eq!(g.count(), if shift == 0 { 500 } else { 501 });
            assert_eq!(g.for_threads(&b, 2), g);
            let p = panels(&g, &b);
            assert_eq!((p[0], p[p.len() - 1].1), ((0, 8 - shift), 4000));
            assert!(p.windows(2).all(|w| w[0].1 == w[1].0));
            for &(c0, c1) in &p[1..] {
                assert!((b.out as usize + 8 * c0).is_multiple_of(64));
                assert!(c1 - c0 <= 8);
            }
        }
        // Three rows: panels of 1368 columns (4096 elements and more).
        let b = turned(3, 100_000, 0);
        let g = Grid::new(&b, Shape::Turned, 1 << 20);
        assert_eq!((g.rows_per, g.cols_per, g.count()), (3, 1368, 74));
    }

    /// Even shares of counts near `usize::MAX` do not overflow.
    #[test]
    fn shares_of_huge_counts() {
        let total = usize::MAX / 2;
        assert_eq!(share_start(0, total, 4), 0);
        assert_eq!(share_start(2, total, 4), total / 2);
        assert_eq!(share_start(4, total, 4), total);
        assert_eq!(share_start(3, 10, 4), 7);
    }

    /// With two bands, the first half of the numbering is the top rows.
    #[test]
    fn bands_are_row_ranges() {
        let g = Grid {
            rows_per: 1,
            cols_per: 1,
            nr: 10,
            nc: 3,
            shift: 0,
            shape: Shape::Mixed,
            bands: 1,
        }
        .banded(2);
        assert!((0..15).all(|t| g.position(t).0 < 5));
        assert!((15..30).all(|t| g.position(t).0 >= 5));
        // Down the columns within a band.
        assert_eq!(g.position(1), (1, 0));
        assert_eq!(g.position(5), (0, 1));
    }
}
