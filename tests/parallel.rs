//! Threads, schedules, tiles and store modes: every combination is bitwise
//! the scalar reference, and the parallel path really runs (tile counts).

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{
    Bits, Layout, Operand, Rng, assert_bitwise_eq, assert_flagship_eq, assert_untouched_outside,
    check_config,
};
use fuse2d::{
    Config, Expr, Flagship, Isa, Lanes, Matrix, Report, Schedule, StoreMode, expr, reference,
};

/// Runs `cfg` and the reference on the same operands; returns the report.
fn check<T: Bits>(
    cfg: &Config,
    a: &Operand<T>,
    b: &Operand<T>,
    out_layout: Layout,
    ctx: &str,
) -> Report {
    check_config(cfg, a, b, out_layout, ctx).1
}

fn operands(
    shape: (usize, usize),
    la: Layout,
    lb: Layout,
    seed: u64,
) -> (Operand<f64>, Operand<f64>) {
    let mut rng = Rng::new(seed);
    let a = Operand::new(la, shape.0, shape.1, || rng.mixed());
    let b = Operand::new(lb, shape.0, shape.1, || rng.mixed());
    (a, b)
}

/// Every thread count 1..=8, both schedules, every store mode, several tile
/// sizes, on odd shapes above the serial threshold; the tile count proves
/// the tiled path ran.
#[test]
fn threads_schedules_tiles_and_store_modes() {
    let shapes = [(301, 257), (3, 40_009), (20_011, 5)];
    for (s, &shape) in shapes.iter().enumerate() {
        let (a, b) = operands(
            shape,
            Layout::RowMajor,
            Layout::Padded { pad: 3, offset: 0 },
            s as u64,
        );
        for (cfg, threads, store, tile) in every_config(&[None, Some(1), Some(1000), Some(4096)]) {
            let r = check(&cfg, &a, &b, Layout::RowMajor, "grid");
            assert_eq!(r.threads, threads, "{cfg:?}: ran on {} threads", r.threads);
            if let Some(t) = tile {
                let expected_min = (shape.0 * shape.1).div_ceil(t.next_multiple_of(64));
                assert!(
                    r.tiles >= expected_min.min(shape.0),
                    "{cfg:?}: only {} tiles",
                    r.tiles
                );
            }
            let nt = matches!(r.isa, Isa::Sse2 | Isa::Avx2 | Isa::Avx512);
            assert_eq!(
                r.streaming,
                nt && store == StoreMode::Streaming,
                "{cfg:?}: {r:?}"
            );
        }
    }
}

/// Every thread count 1..=8, both schedules, every store mode and each of
/// `tiles` (`None`: the default size), with no serial threshold: each
/// configuration with its thread count, store mode and tile size.
fn every_config(tiles: &[Option<usize>]) -> Vec<(Config, usize, StoreMode, Option<usize>)> {
    let mut all = Vec::new();
    for threads in 1..=8 {
        for schedule in [Schedule::Dynamic, Schedule::Static] {
            for store in [StoreMode::Auto, StoreMode::Normal, StoreMode::Streaming] {
                for &tile in tiles {
                    let mut cfg = Config::new()
                        .threads(threads)
                        .schedule(schedule)
                        .store(store)
                        .serial_threshold(0);
                    if let Some(t) = tile {
                        cfg = cfg.tile_elems(t);
                    }
                    all.push((cfg, threads, store, tile));
                }
            }
        }
    }
    all
}

/// Every ISA, each of `threads`, with no serial threshold, and three ways
/// to store: normal stores, streaming ones, and normal ones as out of cache
/// (a streaming threshold of 0: whole lines at a time, `kernel::Stores::Lines`
/// in the crate, on the ISAs with streaming stores): the configurations of
/// the line-offset tests.
fn isa_thread_store_configs(threads: &[usize]) -> Vec<Config> {
    stored_configs(threads)
        .into_iter()
        .map(|(cfg, _)| cfg)
        .collect()
}

/// How [`stored_configs`] has the output stored.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Stored {
    /// Normal stores, the output in cache (these tests' sizes).
    InCache,
    /// Streaming stores.
    Streamed,
    /// Normal stores as out of cache (a streaming threshold of 0).
    Lines,
}

/// [`isa_thread_store_configs`], each with how it stores.
fn stored_configs(threads: &[usize]) -> Vec<(Config, Stored)> {
    let mut all = Vec::new();
    for &isa in Isa::supported() {
        for &n in threads {
            let cfg = Config::new().isa(isa).threads(n).serial_threshold(0);
            all.push((cfg.clone().store(StoreMode::Normal), Stored::InCache));
            all.push((cfg.clone().store(StoreMode::Streaming), Stored::Streamed));
            all.push((
                cfg.store(StoreMode::Normal).stream_threshold(0),
                Stored::Lines,
            ));
        }
    }
    all
}

/// Every ISA, every output layout, mixed input layouts, through threads and
/// the streaming path: the layouts' tiling (packing) is exercised in parallel.
#[test]
fn every_isa_and_layout_in_parallel() {
    let shape = (203, 197);
    let layouts = [
        Layout::RowMajor,
        Layout::ColMajor,
        Layout::ReverseBoth,
        Layout::Transposed,
        Layout::Quadrant(1),
        Layout::Quadrant(2),
        Layout::NegColMajor { pad: 1 },
        Layout::ColMajorReverseCols,
        Layout::Offset(1),
    ];
    for &isa in Isa::supported() {
        for (k, &la) in layouts.iter().enumerate() {
            for &lb in &layouts[k..] {
                let (a, b) = operands(shape, la, lb, k as u64);
                for &lo in &layouts {
                    for store in [StoreMode::Normal, StoreMode::Streaming] {
                        let cfg = Config::new()
                            .isa(isa)
                            .threads(3)
                            .store(store)
                            .tile_elems(700)
                            .serial_threshold(0);
                        let r = check(&cfg, &a, &b, lo, "layouts");
                        assert_eq!(r.isa, isa);
                        assert!(r.tiles > 1, "{cfg:?}: {r:?}");
                    }
                }
            }
        }
    }
    // The broadcasting inputs, through the packed path.
    for lb in [
        Layout::BroadcastRow,
        Layout::BroadcastCol,
        Layout::BroadcastAll,
    ] {
        let (a, b) = operands(shape, Layout::ColMajor, lb, 9);
        let cfg = Config::new().threads(2).tile_elems(500).serial_threshold(0);
        check(&cfg, &a, &b, Layout::RowMajor, "broadcast");
    }
}

/// Mixed layouts wider than one packed strip (512 f64 columns with one
/// strided input on a 1 MiB L2, 1024 on 2 MiB, fewer with two) and taller
/// than its 64 rows:
/// the kernel walks several strips inside one tile (a single huge tile,
/// serial) and the grid cuts strips across threads (default tiles), with
/// normal and with streaming stores.
#[test]
fn mixed_layouts_across_several_packed_strips() {
    let shape = (131, 4500);
    for &isa in Isa::supported() {
        for (la, lb, lo) in [
            (Layout::RowMajor, Layout::ColMajor, Layout::RowMajor),
            (
                Layout::ColMajor,
                Layout::ColPadded { pad: 3 },
                Layout::RowMajor,
            ),
            (Layout::RowMajor, Layout::RowMajor, Layout::Transposed),
            (
                Layout::NegColMajor { pad: 1 },
                Layout::Padded { pad: 1, offset: 1 },
                Layout::RowMajor,
            ),
        ] {
            let (a, b) = operands(shape, la, lb, 11);
            for threads in [1, 2, 3] {
                for tile in [None, Some(usize::MAX)] {
                    for store in [StoreMode::Normal, StoreMode::Streaming] {
                        let mut cfg = Config::new()
                            .isa(isa)
                            .threads(threads)
                            .store(store)
                            .serial_threshold(0);
                        if let Some(t) = tile {
                            cfg = cfg.tile_elems(t);
                        }
                        let r = check(&cfg, &a, &b, lo, "strips");
                        // The output has a unit-stride axis: its packed rows
                        // stream where the ISA has non-temporal stores.
                        let nt = matches!(isa, Isa::Sse2 | Isa::Avx2 | Isa::Avx512);
                        assert_eq!(
                            r.streaming,
                            nt && store == StoreMode::Streaming,
                            "{cfg:?}: {r:?}"
                        );
                    }
                }
            }
        }
    }
}

/// A transposed output (inputs along their rows, the output down its
/// columns; `turn` in the crate): every thread count, schedule, store mode
/// and tile size, both precisions, bitwise the reference. With tiles of
/// `16 * 10_000` elements the grid is one panel per 16 input rows (a line
/// of f32; two of f64, widened from one so that a panel of 301 rows holds
/// 4096 elements; one panel more when the panels are shifted onto the
/// output's lines): 13 or 14 for 208 rows, where packed strips (the other
/// mixed layouts) are 5. The output's columns must be whole cache lines
/// apart for the panels (208 rows are, for f64 and f32); 203 rows are not,
/// and take the strips.
#[test]
fn transposed_output_in_panels() {
    fn run<T: Bits>(fill: &mut impl FnMut() -> T) {
        let shape = (208, 301);
        let a = Operand::new(Layout::RowMajor, shape.0, shape.1, &mut *fill);
        let b = Operand::new(Layout::Offset(1), shape.0, shape.1, &mut *fill);
        let odd = (203, 301);
        let a_odd = Operand::new(Layout::RowMajor, odd.0, odd.1, &mut *fill);
        let b_odd = Operand::new(Layout::Offset(1), odd.0, odd.1, &mut *fill);
        let cfg = Config::new().tile_elems(16 * 10_000).serial_threshold(0);
        let r = check_config(&cfg, &a_odd, &b_odd, Layout::ColMajor, "strips").1;
        assert_eq!(r.tiles, 5, "{r:?}");
        for (cfg, threads, _, tile) in every_config(&[None, Some(1), Some(100), Some(16 * 10_000)])
        {
            let r = check_config(&cfg, &a, &b, Layout::ColMajor, "turned").1;
            assert_eq!(r.threads, threads, "{cfg:?}: {r:?}");
            if tile == Some(16 * 10_000) {
                assert!(matches!(r.tiles, 13 | 14), "{cfg:?}: {r:?}");
            } else {
                assert!(r.tiles > 1, "{cfg:?}: {r:?}");
            }
        }
        // Every ISA, inputs along their rows in several ways (padded,
        // reversed, a quadrant), outputs down their columns in several.
        let ins = [
            Layout::Padded { pad: 1, offset: 1 },
            Layout::ReverseBoth,
            Layout::Quadrant(3),
        ];
        let outs = [
            Layout::ColPadded { pad: 16 },
            Layout::NegColMajor { pad: 16 },
            Layout::ColMajorReverseCols,
            Layout::Transposed,
        ];
        for &isa in Isa::supported() {
            for (k, &la) in ins.iter().enumerate() {
                let a = Operand::new(la, shape.0, shape.1, &mut *fill);
                let b = Operand::new(ins[(k + 1) % ins.len()], shape.0, shape.1, &mut *fill);
                for &lo in &outs {
                    for store in [StoreMode::Normal, StoreMode::Streaming] {
                        let cfg = Config::new()
                            .isa(isa)
                            .threads(2)
                            .store(store)
                            .serial_threshold(0);
                        let r = check_config(&cfg, &a, &b, lo, "turned layouts").1;
                        assert_eq!(r.isa, isa);
                    }
                }
            }
        }
    }
    let mut rng = Rng::new(41);
    run::<f64>(&mut || rng.mixed());
    let mut rng = Rng::new(42);
    run::<f32>(&mut || rng.mixed() as f32);
}

expr!(Sum3 = |x, y, z| (x + y) * z);
expr!(Mix4 = |w, x, y, z| (w - x) * y + z / w);

/// Three and four inputs into a transposed output: turned panels one line
/// of columns wide, with more input streams than the hardware prefetchers
/// follow (`f64`: 24 and 32, `f32`: 48 and 64), which the kernel then asks
/// for in software, at addresses past the panel too. Bitwise the reference
/// on every ISA, for one and three threads, both schedules, normal and
/// streaming stores and several tile sizes, nothing written outside the
/// output; 13 or 14 tiles for 208 rows at the tile size of
/// `transposed_output_in_panels` show the panels ran.
#[test]
fn turned_panels_with_three_and_four_inputs() {
    fn check_n<T: Bits, E: Expr<T, N>, const N: usize>(
        cfg: &Config,
        e: &E,
        ins: [&Operand<T>; N],
        out_layout: Layout,
        ctx: &str,
    ) -> Report {
        let (rows, cols) = (ins[0].rows, ins[0].cols);
        let views = ins.map(Operand::view);
        let ctx = format!("{ctx} {N} inputs out={out_layout:?} {cfg:?}");
        let mut fast = Operand::<T>::output(out_layout, rows, cols);
        let mut slow = Operand::<T>::output(out_layout, rows, cols);
        let r = cfg.run(e, views, fast.view_mut()).unwrap();
        reference::eval_into(e, views, slow.view_mut()).unwrap();
        assert_bitwise_eq(fast.view(), slow.view(), &ctx);
        assert_untouched_outside(&fast, &ctx);
        r
    }
    fn run<T: Bits>(fill: &mut impl FnMut() -> T) {
        let (rows, cols) = (208, 301);
        let layouts = [
            Layout::RowMajor,
            Layout::Offset(1),
            Layout::Padded { pad: 1, offset: 1 },
            Layout::Quadrant(3),
        ];
        let ins = layouts.map(|l| Operand::new(l, rows, cols, &mut *fill));
        let configs = every_config(&[None, Some(100), Some(16 * 10_000)]);
        for &isa in Isa::supported() {
            for (cfg, _, _, tile) in configs.iter().filter(|&&(_, threads, store, _)| {
                matches!(threads, 1 | 3) && store != StoreMode::Auto
            }) {
                let cfg = cfg.clone().isa(isa);
                for lo in [Layout::ColMajor, Layout::ColPadded { pad: 16 }] {
                    let [a, b, c, d] = [&ins[0], &ins[1], &ins[2], &ins[3]];
                    let r3 = check_n(&cfg, &Sum3, [a, b, c], lo, "sum3");
                    let r4 = check_n(&cfg, &Mix4, [b, c, d, a], lo, "mix4");
                    if *tile == Some(16 * 10_000) {
                        for r in [r3, r4] {
                            assert!(matches!(r.tiles, 13 | 14), "{cfg:?}: {r:?}");
                        }
                    }
                }
            }
        }
    }
    let mut rng = Rng::new(43);
    run::<f64>(&mut || rng.normal());
    let mut rng = Rng::new(44);
    run::<f32>(&mut || rng.normal() as f32);
}

/// Turned panels whose first input starts at each element offset of a
/// cache line: the bands of rows start where its runs lie inside one line,
/// and one more band at the top and the bottom each overlaps its
/// neighbour. Row counts below, at and around a band's height (up to 16,
/// `f32` with AVX-512), every ISA, both store modes, one and two threads:
/// bitwise the reference, nothing written outside the output (48 output
/// rows are whole lines apart, so the panels run).
#[test]
fn turned_bands_at_every_input_offset() {
    fn run<T: Bits>(fill: &mut impl FnMut() -> T) {
        let line = 64 / core::mem::size_of::<T>();
        for cols in [1, 2, 7, 8, 9, 15, 16, 17, 23, 31, 33, 40] {
            let b = Operand::new(Layout::Offset(3), 48, cols, &mut *fill);
            for offset in 0..line {
                let a = Operand::new(Layout::Offset(offset), 48, cols, &mut *fill);
                for cfg in isa_thread_store_configs(&[1, 2]) {
                    check(&cfg, &a, &b, Layout::ColMajor, "bands");
                }
            }
        }
    }
    let mut rng = Rng::new(45);
    run::<f64>(&mut || rng.mixed());
    let mut rng = Rng::new(46);
    run::<f32>(&mut || rng.mixed() as f32);
}

/// Runs `cfg` with the output starting at each element offset of a cache
/// line (`out_at(offset)`): bitwise the reference, nothing written outside,
/// and more than `min_tiles` tiles run.
fn at_every_line_offset<T: Bits>(
    cfg: &Config,
    (a, b): (&Operand<T>, &Operand<T>),
    out_at: impl Fn(usize) -> Layout,
    min_tiles: usize,
    ctx: &str,
) {
    for offset in 0..64 / core::mem::size_of::<T>() {
        let r = check(cfg, a, b, out_at(offset), ctx);
        assert!(
            r.tiles > min_tiles,
            "{ctx}, offset {offset}: {cfg:?}: {r:?}"
        );
    }
}

/// Mixed tiles whose boundaries the grid moves onto the output's cache
/// lines: output rows a whole number of lines apart (1100 + 4 columns),
/// starting at each element offset of a line, wider than two packed strips;
/// default tiles, one and two threads, both store modes, f64 and f32. `b`
/// runs backwards down its columns, so it is packed with streaming stores
/// too (a column-major `b` would be crossed then: see
/// `crossed_steps_at_every_output_offset`).
#[test]
fn mixed_tiles_on_output_lines_at_every_offset() {
    let shape = (70, 1100);
    let packed = Layout::NegColMajor { pad: 0 };
    let (a, b) = operands(shape, Layout::RowMajor, packed, 13);
    let mut rng = Rng::new(14);
    let a32 = Operand::new(Layout::RowMajor, shape.0, shape.1, || rng.mixed() as f32);
    let b32 = Operand::new(packed, shape.0, shape.1, || rng.mixed() as f32);
    let padded = |offset| Layout::Padded { pad: 4, offset };
    for cfg in isa_thread_store_configs(&[1, 2]) {
        at_every_line_offset(&cfg, (&a, &b), padded, 2, "line-aligned tiles");
        at_every_line_offset(&cfg, (&a32, &b32), padded, 1, "line-aligned tiles (f32)");
    }
}

/// Crossed blocks (a row-major output, some input column-major, `cross` in
/// the crate), which run where the output streams: row counts below, at
/// and around a step's height (a line: 8 rows of f64, 16 of f32), column
/// counts around the line, the output at every element offset of a line
/// with its rows a whole number of lines apart or not, `a` or `b` or both
/// crossing, the first crossing input's columns at every element offset of
/// a line, default and small tiles, every ISA, one and two threads, every
/// way to store: bitwise the reference, nothing written outside the
/// output. Streamed (or with ordinary stores where one input crosses,
/// with f64: with AVX-512, in cache with AVX2 too, out of cache with
/// SSE2), on one thread with default tiles, the grid of a
/// block two steps tall and two lines wide has two tiles (the packed
/// strips of the other mixed layouts and turned panels: one), which shows
/// the crossed path ran; smaller blocks take the packed strips.
#[test]
fn crossed_steps_at_every_output_offset() {
    fn run<T: Bits>(fill: &mut impl FnMut() -> T) {
        let line = 64 / core::mem::size_of::<T>();
        let shapes = [
            (2, 5),
            (7, 9),
            (8, 8),
            (9, 17),
            (17, 40),
            (33, 23),
            (40, 67),
            (70, 45),
        ];
        for (rows, cols) in shapes {
            let row = Operand::new(Layout::RowMajor, rows, cols, &mut *fill);
            let col = Operand::new(Layout::ColMajor, rows, cols, &mut *fill);
            let padded = Operand::new(Layout::ColPadded { pad: 3 }, rows, cols, &mut *fill);
            // Column runs at every offset in a line: the steps start where
            // the first crossing input's runs lie inside lines.
            let shifted: Vec<Operand<T>> = (1..line)
                .map(|off| Operand::new(Layout::ColOffset(off), rows, cols, &mut *fill))
                .collect();
            for (off, b) in shifted.iter().enumerate() {
                for cfg in isa_thread_store_configs(&[1, 2]) {
                    let out = Layout::Padded {
                        pad: line - cols % line,
                        offset: off % 3,
                    };
                    check(&cfg, &row, b, out, "crossed, b off lines");
                    check(&cfg, b, &padded, out, "crossed, a off lines");
                }
            }
            // Both inputs crossing into output rows whole lines apart is a
            // turned block (`transposed_output_in_panels`), not crossed.
            for (a, b, both) in [
                (&row, &col, false),
                (&col, &row, false),
                (&col, &padded, true),
            ] {
                for offset in 0..line {
                    let whole = line - cols % line;
                    for pad in [whole, 1] {
                        let out = Layout::Padded { pad, offset };
                        for (cfg, stored) in stored_configs(&[1, 2]) {
                            for tile in [None, Some(64)] {
                                let cfg = match tile {
                                    Some(t) => cfg.clone().tile_elems(t),
                                    None => cfg.clone(),
                                };
                                let r = check(&cfg, a, b, out, "crossed");
                                let turned = both && pad == whole;
                                let big = rows >= 2 * line && cols >= 2 * line;
                                // Crossed where the output streams, and
                                // with ordinary stores where one input
                                // crosses, with f64: with AVX-512, in
                                // cache with AVX2 too, out of it with SSE2
                                // (these rows and columns are never 1 KiB
                                // apart).
                                let one_f64 = !both && core::mem::size_of::<T>() == 8;
                                let ordinary = match stored {
                                    Stored::InCache => matches!(r.isa, Isa::Avx512 | Isa::Avx2),
                                    Stored::Lines => matches!(r.isa, Isa::Avx512 | Isa::Sse2),
                                    Stored::Streamed => false,
                                };
                                assert!(!r.streaming || stored == Stored::Streamed, "{r:?}");
                                let crossed = r.streaming || (one_f64 && ordinary);
                                if crossed && r.threads == 1 && tile.is_none() && big && !turned {
                                    assert_eq!(r.tiles, 2, "{rows}x{cols}: {cfg:?}: {r:?}");
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    let mut rng = Rng::new(47);
    run::<f64>(&mut || rng.mixed());
    let mut rng = Rng::new(48);
    run::<f32>(&mut || rng.mixed() as f32);
}

/// Contiguous operands become one long row, cut into pieces that the grid
/// moves onto the output's cache lines: the output starting at each element
/// offset of a line, pieces of about 1000 elements, one to three threads,
/// every way to store, f64 and f32.
#[test]
fn long_row_pieces_on_output_lines_at_every_offset() {
    let shape = (40, 1250);
    let (a, b) = operands(shape, Layout::RowMajor, Layout::Offset(5), 17);
    let mut rng = Rng::new(18);
    let a32 = Operand::new(Layout::RowMajor, shape.0, shape.1, || rng.mixed() as f32);
    let b32 = Operand::new(Layout::Offset(5), shape.0, shape.1, || rng.mixed() as f32);
    for cfg in isa_thread_store_configs(&[1, 2, 3]) {
        let cfg = cfg.tile_elems(1000);
        at_every_line_offset(&cfg, (&a, &b), Layout::Offset, 40, "long-row pieces");
        at_every_line_offset(
            &cfg,
            (&a32, &b32),
            Layout::Offset,
            40,
            "long-row pieces (f32)",
        );
    }
}

/// Streaming rows of every length around the vector and line boundaries
/// (and around 1 KiB, the step of an earlier version), starting at every
/// 8-byte offset within a cache line: the aligned head, the streamed whole
/// lines and the tail together write each element once,
/// bitwise the reference, and nothing outside the row. Rows are padded
/// apart, so each is a row of its own, as in a packed tile. The same for
/// rows with ordinary stores a line at a time (`StoreMode::Normal` with
/// the output over the streaming threshold, here 0), which never stream.
/// And with `b`'s rows 64 elements (512 bytes) apart, so that the rows ask
/// for its next row as they go (`kernel::NextRows`), not for what follows.
#[test]
fn streaming_rows_of_every_length_and_alignment() {
    let lens = [
        2, 7, 8, 9, 15, 16, 17, 63, 64, 65, 127, 128, 129, 135, 136, 137, 143, 200, 255, 256, 257,
        263, 384, 391, 520,
    ];
    let apart = Layout::Padded { pad: 64, offset: 5 };
    for &isa in Isa::supported() {
        for (k, &cols) in lens.iter().enumerate() {
            for lb in [Layout::Offset(3), apart] {
                let (a, b) = operands((3, cols), Layout::RowMajor, lb, k as u64);
                for offset in 0..8 {
                    for lo in [
                        Layout::Padded { pad: 1, offset },
                        Layout::Padded { pad: 8, offset },
                    ] {
                        let cfg = Config::new()
                            .isa(isa)
                            .threads(1)
                            .store(StoreMode::Streaming);
                        let r = check(&cfg, &a, &b, lo, "streaming rows");
                        let nt = matches!(isa, Isa::Sse2 | Isa::Avx2 | Isa::Avx512);
                        assert_eq!(r.streaming, nt, "{cfg:?}: {r:?}");
                        let cfg = cfg.store(StoreMode::Normal).stream_threshold(0);
                        let r = check(&cfg, &a, &b, lo, "rows a line at a time");
                        assert!(!r.streaming, "{cfg:?}: {r:?}");
                    }
                }
            }
        }
    }
}

/// The talk's quadrants as inputs and outputs, 2000x2000, each thread count
/// the talk used, both schedules.
#[test]
fn talk_quadrants_2000() {
    let n = 2000;
    let a = Matrix::from_fn(n, n, |i, j| ((i * 7 + j * 13) % 1000) as f64 * 0.37 - 100.0);
    let b = Matrix::from_fn(n, n, |i, j| 1.0 / (1.0 + i as f64) - j as f64 * 1e-3);
    let want = reference::fused(a.as_ref(), b.as_ref()).unwrap();
    for threads in 1..=4 {
        for schedule in [Schedule::Static, Schedule::Dynamic] {
            let cfg = Config::new().threads(threads).schedule(schedule);
            let mut out = Matrix::zeros(n, n);
            let qa = a.as_ref().quadrants();
            let qb = b.as_ref().quadrants();
            for ((qa, qb), qo) in qa.into_iter().zip(qb).zip(out.as_mut().quadrants()) {
                cfg.fused_into(qa, qb, qo).unwrap();
            }
            assert_bitwise_eq(out.as_ref(), want.as_ref(), &format!("quadrants {cfg:?}"));
            let mut whole = Matrix::zeros(n, n);
            let r = cfg
                .run(&Flagship, [a.as_ref(), b.as_ref()], whole.as_mut())
                .unwrap();
            assert!(r.tiles > 1 && r.threads == threads, "{r:?}");
            assert_bitwise_eq(whole.as_ref(), want.as_ref(), &format!("whole {cfg:?}"));
        }
    }
}

/// Small inputs stay on the calling thread: one thread, whatever the pool.
#[test]
fn small_inputs_run_on_the_calling_thread() {
    let (a, b) = operands((7, 7), Layout::RowMajor, Layout::RowMajor, 3);
    for threads in [2, 8] {
        let r = check(
            &Config::new().threads(threads),
            &a,
            &b,
            Layout::RowMajor,
            "small",
        );
        assert_eq!(r.threads, 1, "{r:?}");
    }
    // The threshold is overridable both ways.
    let (a, b) = operands((300, 300), Layout::RowMajor, Layout::RowMajor, 4);
    let r = check(
        &Config::new().threads(2).serial_threshold(usize::MAX),
        &a,
        &b,
        Layout::RowMajor,
        "forced serial",
    );
    assert_eq!(r.threads, 1, "{r:?}");
    let r = check(
        &Config::new()
            .threads(2)
            .serial_threshold(0)
            .tile_elems(4096),
        &a,
        &b,
        Layout::RowMajor,
        "forced parallel",
    );
    assert_eq!(r.threads, 2, "{r:?}");
}

/// A caller-supplied pool and rayon's current pool.
#[test]
fn caller_pools() {
    let (a, b) = operands((400, 333), Layout::ColMajor, Layout::RowMajor, 5);
    let pool = Arc::new(
        rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap(),
    );
    let r = check(
        &Config::new().pool(Arc::clone(&pool)).serial_threshold(0),
        &a,
        &b,
        Layout::RowMajor,
        "pool",
    );
    assert_eq!(r.threads, 3);
    // Inside `install`, the default configuration uses that pool.
    let r = pool.install(|| {
        check(
            &Config::new().serial_threshold(0),
            &a,
            &b,
            Layout::RowMajor,
            "install",
        )
    });
    assert_eq!(r.threads, 3);
}

/// Many calls at once from many threads, each with its own configuration.
#[test]
fn concurrent_calls() {
    let (a, b) = operands((257, 263), Layout::RowMajor, Layout::ColMajor, 6);
    std::thread::scope(|s| {
        for t in 0..8 {
            let (a, b) = (&a, &b);
            s.spawn(move || {
                for k in 0..5 {
                    let cfg = Config::new()
                        .threads(1 + (t + k) % 4)
                        .serial_threshold(0)
                        .tile_elems(1000 + 100 * t)
                        .store(if k % 2 == 0 {
                            StoreMode::Streaming
                        } else {
                            StoreMode::Normal
                        });
                    check(
                        &cfg,
                        a,
                        b,
                        Layout::RowMajor,
                        &format!("thread {t} call {k}"),
                    );
                }
            });
        }
    });
}

/// Bad configurations are errors before anything is written.
#[test]
fn bad_configurations_write_nothing() {
    let (a, b) = operands((100, 100), Layout::RowMajor, Layout::RowMajor, 7);
    for cfg in [Config::new().threads(0), Config::new().tile_elems(0)] {
        let mut out = Operand::<f64>::output(Layout::RowMajor, 100, 100);
        let err = cfg
            .run(&Flagship, [a.view(), b.view()], out.view_mut())
            .unwrap_err();
        assert!(matches!(err, fuse2d::Error::InvalidConfig { .. }), "{err}");
        assert!(
            out.buf
                .iter()
                .all(|x| x.to_bits() == common::SENTINEL.to_bits()),
            "{cfg:?} wrote"
        );
    }
}

/// An expression that panics on its 5000th evaluation.
struct PanicsLater(AtomicUsize);

impl Expr<f64, 1> for PanicsLater {
    fn eval<V: Lanes<f64>>(&self, [x]: [V; 1]) -> V {
        let n = self.0.fetch_add(1, Ordering::Relaxed);
        assert!(n != 5000, "evaluation 5000 panicked");
        x
    }
}

#[test]
fn a_panic_in_a_tile_propagates() {
    let data = vec![1.0; 300 * 300];
    let a = fuse2d::MatRef::from_slice(&data, 300, 300).unwrap();
    let mut out = Matrix::zeros(300, 300);
    let cfg = Config::new()
        .isa(Isa::Scalar)
        .threads(2)
        .serial_threshold(0)
        .tile_elems(1000);
    let expr = PanicsLater(AtomicUsize::new(0));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        cfg.run(&expr, [a], out.as_mut())
    }));
    let err = result.expect_err("the panic must propagate");
    let msg = err
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| err.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    assert!(msg.contains("evaluation 5000 panicked"), "{msg}");
}

/// An expression that itself runs fuse2d on a mixed layout, from inside the
/// kernel: the inner call finds this thread's pack scratch in use by the
/// outer one and must take a buffer of its own, not panic or share it.
#[test]
fn a_call_from_inside_an_expression_gets_its_own_pack_buffers() {
    static INNER_CALLS: AtomicUsize = AtomicUsize::new(0);

    struct Nested;
    impl Expr<f64, 2> for Nested {
        fn eval<V: Lanes<f64>>(&self, [x, y]: [V; 2]) -> V {
            let (n, m) = (9, 70);
            let a = Matrix::from_fn(n, m, |i, j| (i * m + j) as f64);
            let b_cm: Vec<f64> = (0..n * m).map(|k| 0.5 * k as f64).collect();
            let b = fuse2d::MatRef::from_slice_col_major(&b_cm, n, m).unwrap();
            let mut out = Matrix::zeros(n, m);
            Config::new()
                .threads(1)
                .run(&Flagship, [a.as_ref(), b], out.as_mut())
                .unwrap();
            let want = reference::fused(a.as_ref(), b).unwrap();
            assert_bitwise_eq(out.as_ref(), want.as_ref(), "inner call");
            INNER_CALLS.fetch_add(1, Ordering::Relaxed);
            x + y
        }
    }

    let (a, b) = operands((40, 90), Layout::RowMajor, Layout::ColMajor, 5);
    let mut got = Operand::<f64>::output(Layout::RowMajor, 40, 90);
    let mut want = Operand::<f64>::output(Layout::RowMajor, 40, 90);
    Config::new()
        .threads(2)
        .serial_threshold(0)
        .tile_elems(1000)
        .run(&Nested, [a.view(), b.view()], got.view_mut())
        .unwrap();
    reference::eval_into(&Nested, [a.view(), b.view()], want.view_mut()).unwrap();
    // `x + y` of inputs with NaNs: the flagship's NaN rule applies.
    assert_flagship_eq(got.view(), want.view(), a.view(), b.view(), "outer call");
    assert!(INNER_CALLS.load(Ordering::Relaxed) > 0);
}

/// `Auto` streams exactly from the threshold on: the caller's
/// `stream_threshold`, and by default an eighth of L3 but at most 8x L2.
#[test]
fn auto_streams_from_the_threshold_on() {
    let isa = Isa::detect();
    if !matches!(isa, Isa::Sse2 | Isa::Avx2 | Isa::Avx512) {
        return; // no non-temporal stores on this ISA: `Auto` never streams
    }
    let run = |cfg: Config, rows: usize, cols: usize| {
        let a = Matrix::from_fn(rows, cols, |i, j| (i * cols + j) as f64);
        let mut out = Matrix::zeros(rows, cols);
        let r = cfg
            .run(&Flagship, [a.as_ref(), a.as_ref()], out.as_mut())
            .unwrap();
        assert_eq!(out, reference::fused(a.as_ref(), a.as_ref()).unwrap());
        r.streaming
    };
    // An explicit threshold: 100 x 64 f64 is 51,200 bytes.
    let at = Config::new()
        .store(StoreMode::Auto)
        .stream_threshold(51_200);
    assert!(run(at.clone(), 100, 64), "at the threshold");
    assert!(!run(at, 99, 64), "one row below it");
    // The default, from the caches this process sees.
    let c = fuse2d::CacheInfo::get();
    let threshold = (c.l3 / 8).min(8 * c.l2);
    let cols = 512;
    let rows = threshold.div_ceil(8 * cols);
    let auto = Config::new().store(StoreMode::Auto);
    assert!(
        run(auto.clone(), rows, cols),
        "{rows}x{cols} f64 against {threshold} bytes"
    );
    assert!(!run(auto, rows - 1, cols), "one row fewer");
    // `Normal` never streams, in cache or out.
    let normal = Config::new().store(StoreMode::Normal);
    assert!(!run(normal.clone(), rows, cols), "Normal at the threshold");
    assert!(!run(normal.stream_threshold(0), 2, cols), "Normal over 0");
}
