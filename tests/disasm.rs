//! Proof from the machine code that each ISA path really uses its registers.
//!
//! The test binary is a default build (no `-C target-cpu`), so this checks
//! what users get: it disassembles its own executable with `objdump` and
//! inspects every instantiation of the per-ISA entry points
//! (`fuse2d::arch::<arch>::<isa>`). The kernels are instantiated here by the
//! calls below, as they would be in a user's crate.

use std::collections::BTreeMap;
use std::process::Command;

use fuse2d::{Config, Element, Expr, Flagship, Isa, Matrix, expr};

// User expressions, defined as a downstream crate would.
expr!(Hypot = |x, y| (x * x + y * y).sqrt());
expr!(Clamp { lo, hi } = |x| x.max(lo).min(hi));
expr!(Axpy { alpha } = |x, y| x.mul_add(alpha, y));

fn run<T: Element, E: Expr<T, N>, const N: usize>(e: &E) {
    let a = Matrix::from_fn(37, 37, |i, j| T::from_f64((i * 37 + j) as f64));
    for &isa in Isa::supported() {
        let mut out = Matrix::zeros(37, 37);
        // Row-major inputs (the contiguous path) and transposed ones (the
        // packed path of mixed layouts).
        for ins in [[a.as_ref(); N], [a.as_ref().t(); N]] {
            Config::new().isa(isa).run(e, ins, out.as_mut()).unwrap();
        }
    }
}

/// Makes sure every ISA's entry point is instantiated in this binary, for
/// the flagship and for user expressions, in f64 and f32.
fn instantiate() {
    run::<f64, _, 2>(&Flagship);
    run::<f32, _, 2>(&Flagship);
    run::<f64, _, 2>(&Hypot);
    run::<f32, _, 2>(&Hypot);
    run::<f64, _, 1>(&Clamp { lo: 1.0, hi: 2.0 });
    run::<f32, _, 1>(&Clamp { lo: 1.0, hi: 2.0 });
    run::<f64, _, 2>(&Axpy { alpha: 3.0 });
}

/// Disassembles this test binary; returns each function's instructions,
/// keyed by demangled name (several instantiations share a name).
fn functions(objdump: &str) -> BTreeMap<String, Vec<String>> {
    let exe = std::env::current_exe().expect("the test binary's path");
    let out = Command::new(objdump)
        .args(["-d", "--no-show-raw-insn", "-C"])
        .arg(&exe)
        .output()
        .unwrap_or_else(|e| panic!("cannot run `{objdump}` (install binutils): {e}"));
    assert!(
        out.status.success(),
        "{objdump} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let mut funcs: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut current: Option<String> = None;
    let mut n = 0;
    for line in text.lines() {
        if let Some(name) = line
            .strip_suffix(">:")
            .and_then(|l| l.split_once(" <"))
            .map(|(_, n)| n)
        {
            n += 1;
            // Number instantiations that share a demangled name.
            let key = format!("{name}#{n}");
            funcs.insert(key.clone(), Vec::new());
            current = Some(key);
        } else if let Some(cur) = &current {
            funcs.get_mut(cur).unwrap().push(line.to_owned());
        }
    }
    funcs
}

fn instances<'a>(funcs: &'a BTreeMap<String, Vec<String>>, name: &str) -> Vec<&'a Vec<String>> {
    let found: Vec<_> = funcs
        .iter()
        .filter(|(k, _)| k.split('#').next() == Some(name))
        .map(|(_, v)| v)
        .collect();
    assert!(!found.is_empty(), "no function `{name}` in the disassembly");
    found
}

/// The kernel's generic code is inlined into the per-ISA entry points, so
/// it is compiled with their target features. A piece left out of line (a
/// closure, say: closures do not take the target features of the function
/// they are inlined into) would run with the baseline's instructions; a
/// closure around the packed path once made mixed layouts 12% slower at
/// 4000x4000. Only the deliberately baseline pack copy and the strip and
/// scratch bookkeeping may stand alone; the per-ISA primitives (streaming
/// copy, transpose) must be inlined too.
#[test]
fn kernel_code_is_inlined_into_the_isa_entry_points() {
    instantiate();
    let objdump = if cfg!(target_arch = "x86_64") {
        "objdump"
    } else {
        "aarch64-linux-gnu-objdump"
    };
    let funcs = functions(objdump);
    // The element-by-element pack copy is baseline on purpose; the strip
    // shape (`Pack`) and the scratch are bookkeeping without vector code.
    let allowed = [
        "fuse2d::pack::pack_copy",
        "fuse2d::pack::Pack",
        "fuse2d::pack::Scratch",
    ];
    let ours = |n: &str| {
        ["fuse2d::kernel::", "fuse2d::pack::", "fuse2d::turn::"]
            .iter()
            .any(|m| n.starts_with(m) || n.strip_prefix('<').is_some_and(|n| n.starts_with(m)))
            || [
                " as fuse2d::kernel::Stream>",
                " as fuse2d::pack::Transpose>",
            ]
            .iter()
            .any(|m| n.contains(m))
    };
    let stray: Vec<&str> = funcs
        .keys()
        .map(|k| k.split('#').next().unwrap_or(k))
        .filter(|n| ours(n))
        .filter(|n| !allowed.iter().any(|a| n.contains(a)))
        .collect();
    assert!(stray.is_empty(), "kernel code out of line: {stray:?}");
}

#[cfg(target_arch = "x86_64")]
fn count(body: &[String], mnemonics: &[&str], register: &str) -> usize {
    body.iter()
        .filter(|l| mnemonics.iter().any(|m| l.contains(m)) && l.contains(register))
        .count()
}

#[cfg(target_arch = "x86_64")]
#[test]
fn x86_64_clones_use_their_vector_registers() {
    instantiate();
    let funcs = functions("objdump");
    // Packed (not scalar `..sd`/`..ss`) arithmetic of either precision.
    let arith = [
        "vaddp", "vmulp", "vsubp", "vdivp", "vsqrtp", "vminp", "vmaxp", "vfmadd", "vcmpp",
    ];
    let avx512 = instances(&funcs, "fuse2d::arch::x86_64::avx512");
    assert!(
        avx512.len() >= 7,
        "expected 7 AVX-512 instantiations, found {}",
        avx512.len()
    );
    for body in avx512 {
        let zmm = count(body, &arith, "%zmm");
        assert!(
            zmm > 0,
            "AVX-512 clone has no zmm arithmetic:\n{}",
            body.join("\n")
        );
    }
    for body in instances(&funcs, "fuse2d::arch::x86_64::avx2") {
        let ymm = count(body, &arith, "%ymm");
        let zmm = count(body, &["zmm"], "%zmm");
        assert!(
            ymm > 0 && zmm == 0,
            "AVX2 clone: {ymm} ymm arithmetic, {zmm} zmm uses"
        );
    }
    // The pack's in-register transposes, in the f64 instantiations
    // (`vpermt2pd`, `vperm2f128`) and the f32 ones (`vunpcklps`). (Not
    // checked on SSE2: its shuffles also appear without the transpose.)
    let transposes = |name: &str, shuffle: &str, register: &str| {
        instances(&funcs, name)
            .iter()
            .filter(|body| count(body, &[shuffle], register) > 0)
            .count()
    };
    assert!(transposes("fuse2d::arch::x86_64::avx512", "vpermt2pd", "%zmm") > 0);
    assert!(transposes("fuse2d::arch::x86_64::avx2", "vperm2f128", "%ymm") > 0);
    assert!(transposes("fuse2d::arch::x86_64::avx512", "vunpcklps", "%ymm") > 0);
    assert!(transposes("fuse2d::arch::x86_64::avx2", "vunpcklps", "%ymm") > 0);
    let sse = [
        "addp", "mulp", "subp", "divp", "sqrtp", "minp", "maxp", "cmpltp", "andp",
    ];
    for body in instances(&funcs, "fuse2d::arch::x86_64::sse2") {
        let xmm = count(body, &sse, "%xmm");
        let wide = count(body, &["ymm", "zmm"], "mm");
        assert!(
            xmm > 0 && wide == 0,
            "SSE2 path: {xmm} packed xmm ops, {wide} ymm/zmm uses"
        );
    }
}

#[cfg(target_arch = "aarch64")]
#[test]
fn aarch64_neon_path_uses_vector_registers() {
    instantiate();
    let funcs = functions("aarch64-linux-gnu-objdump");
    for body in instances(&funcs, "fuse2d::arch::aarch64::neon") {
        let ops = ["fadd", "fmul", "fsqrt", "fcm", "fmla", "bsl", "bif", "bit"];
        let lanes = [".2d", ".4s", ".16b"];
        let neon = body
            .iter()
            .filter(|l| ops.iter().any(|m| l.contains(m)) && lanes.iter().any(|v| l.contains(v)))
            .count();
        assert!(
            neon > 0,
            "NEON path has no vector arithmetic:\n{}",
            body.join("\n")
        );
    }
}

/// The innermost loops of a function's disassembly, found by its backward
/// jumps: each from the jump's target to the jump, with no other backward
/// jump inside it.
#[cfg(target_arch = "x86_64")]
fn innermost_loops(body: &[String]) -> Vec<&[String]> {
    let addr = |line: &str| u64::from_str_radix(line.split(':').next()?.trim(), 16).ok();
    // `<addr>: j<cc> <target> <...>`: the jump's target.
    let target = |line: &str| {
        line.split_once(":\tj")
            .and_then(|(_, j)| j.split_whitespace().nth(1))
            .and_then(|t| u64::from_str_radix(t, 16).ok())
    };
    body.iter()
        .enumerate()
        .filter_map(|(k, line)| {
            let t = target(line)?;
            let start = body[..k].iter().position(|l| addr(l) == Some(t))?;
            let inner = &body[start..=k];
            let nested = inner[..inner.len() - 1].iter().any(|l| {
                target(l).is_some_and(|t| {
                    addr(l).is_some_and(|a| t <= a) && addr(inner[0].as_str()) <= Some(t)
                })
            });
            (!nested).then_some(inner)
        })
        .collect()
}

/// The register each streaming store in `code` stores, with the
/// instruction that last wrote it before (within `body`, which `code` is
/// part of).
#[cfg(target_arch = "x86_64")]
fn streamed_writers<'a>(
    body: &'a [String],
    code: &'a [String],
    reg: &str,
) -> Vec<(&'a str, &'a str)> {
    let offset = code.as_ptr() as usize - body.as_ptr() as usize;
    let first = offset / core::mem::size_of::<String>();
    code.iter()
        .enumerate()
        .filter_map(|(k, line)| {
            let src = line
                .split_once("movntdq ")
                .and_then(|(_, ops)| ops.split(',').next())
                .filter(|r| r.starts_with(reg))?;
            let writer = body[..first + k]
                .iter()
                .rev()
                .find(|l| l.trim_end().ends_with(&format!(",{src}")))
                .map_or("(nothing)", String::as_str);
            Some((writer, line.as_str()))
        })
        .collect()
}

/// The streaming rows store each line straight from the register their
/// arithmetic left it in: the instruction that last wrote the stored
/// register is never a load (a move from memory, i.e. from a buffer). With
/// a buffer in L1 between the two, `Auto` ran at 0.88-0.92 of the
/// streaming triad at 4000x4000 instead of 0.96-0.97 (Intel Xeon, one
/// thread). The rows' streaming loops are the innermost loops that also
/// prefetch (`streaming_rows_prefetch`); since the nineteenth session the
/// streamed steps of a transposed output (`turn`) prefetch too with
/// AVX-512, and some such loop then transposes (`turn::asks`). With
/// AVX-512 every streamed register is computed, the transposed output's
/// lines included;
/// with AVX2 and SSE2 the eight f32 lines of a transposed output's step
/// take more registers than there are, and some come back from the stack.
///
/// On SSE2, and for the transposed output on AVX-512, it is checked in
/// builds without debug assertions only (what users time): with them, the
/// standard library's precondition checks (on `write_unaligned`, the `wide`
/// store; on `copy_nonoverlapping`) keep the line in memory. `.ci/run`
/// runs this file with `--release` too.
#[cfg(target_arch = "x86_64")]
#[test]
fn streaming_stores_take_the_computed_register() {
    instantiate();
    let funcs = functions("objdump");
    let mut paths = vec![("avx512", "%zmm"), ("avx2", "%ymm")];
    if !cfg!(debug_assertions) {
        paths.push(("sse2", "%xmm"));
    }
    for (isa, reg) in paths {
        let (mut rows, mut steps) = (0, 0);
        for body in instances(&funcs, &format!("fuse2d::arch::x86_64::{isa}")) {
            let row_loops = innermost_loops(body)
                .into_iter()
                .filter(|l| l.iter().any(|i| i.contains("prefetcht2 ")));
            let mut checked: Vec<(&str, &str)> = Vec::new();
            for code in row_loops {
                let found = streamed_writers(body, code, reg);
                rows += found.len();
                // A transposed output's steps, which transpose (`unpckl`;
                // no row does). AVX-512's are checked without debug
                // assertions only (see above), with the whole body below.
                if code.iter().any(|i| i.contains("unpckl")) {
                    steps += 1;
                    if isa == "avx512" && cfg!(debug_assertions) {
                        continue;
                    }
                }
                checked.extend(found);
            }
            if isa == "avx512" && !cfg!(debug_assertions) {
                checked.extend(streamed_writers(body, body, reg));
            }
            for (writer, line) in checked {
                assert!(
                    !(writer.contains("mov") && writer.contains('(')) && writer != "(nothing)",
                    "{isa}: the streamed register was loaded, not computed: `{writer}` then `{line}`"
                );
            }
        }
        assert!(rows > 0, "{isa}: no streaming store of {reg} in a row loop");
        assert!(
            isa != "avx512" || cfg!(debug_assertions) || steps > 0,
            "avx512: no loop streaming a transposed output's step"
        );
    }
}

/// Both loops of streaming rows prefetch: a contiguous row its first input
/// a few lines ahead (`kernel::Lead`), a row of a packed tile the next row
/// of the inputs read in place (`kernel::NextRows`). So some instantiation
/// of each x86_64 entry point has two innermost loops with both a streaming
/// store and a `prefetcht2` (the pack prefetches without streaming).
#[cfg(target_arch = "x86_64")]
#[test]
fn streaming_rows_prefetch() {
    instantiate();
    let funcs = functions("objdump");
    let mut paths = vec!["avx512", "avx2"];
    if !cfg!(debug_assertions) {
        paths.push("sse2");
    }
    for isa in paths {
        let found = instances(&funcs, &format!("fuse2d::arch::x86_64::{isa}"))
            .iter()
            .any(|body| {
                innermost_loops(body)
                    .iter()
                    .filter(|inner| {
                        inner.iter().any(|l| l.contains("movntdq "))
                            && inner.iter().any(|l| l.contains("prefetcht2 "))
                    })
                    .count()
                    >= 2
            });
        assert!(
            found,
            "{isa}: no instantiation with two loops that stream and prefetch"
        );
    }
}
