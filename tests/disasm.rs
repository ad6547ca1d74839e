//! Proof from the machine code that each ISA path really uses its registers.
//!
//! The test binary is a default build (no `-C target-cpu`), so this checks
//! what users get: it disassembles its own executable with `objdump` and
//! inspects every instantiation of the per-ISA entry points
//! (`fuse2d::arch::<arch>::<isa>`). The kernels are instantiated here by the
//! calls below, as they would be in a user's crate.

use std::collections::BTreeMap;
use std::process::Command;

use fuse2d::{Config, Flagship, Isa, Matrix};

/// Makes sure every ISA's entry point is instantiated in this binary.
fn instantiate() {
    let a = Matrix::from_fn(3, 37, |i, j| (i * 37 + j) as f64);
    for &isa in Isa::supported() {
        let mut out = Matrix::zeros(3, 37);
        Config::new()
            .isa(isa)
            .run(&Flagship, [a.as_ref(), a.as_ref()], out.as_mut())
            .unwrap();
    }
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
    let arith = ["vaddpd", "vmulpd"];
    for body in instances(&funcs, "fuse2d::arch::x86_64::avx512") {
        let zmm = count(body, &arith, "%zmm");
        assert!(
            zmm > 0,
            "AVX-512 clone has no zmm add/mul:\n{}",
            body.join("\n")
        );
    }
    for body in instances(&funcs, "fuse2d::arch::x86_64::avx2") {
        let ymm = count(body, &arith, "%ymm");
        let zmm = count(body, &["zmm"], "%zmm");
        assert!(
            ymm > 0 && zmm == 0,
            "AVX2 clone: {ymm} ymm add/mul, {zmm} zmm uses"
        );
    }
    for body in instances(&funcs, "fuse2d::arch::x86_64::sse2") {
        let xmm = count(body, &["addpd", "mulpd"], "%xmm");
        let wide = count(body, &["ymm", "zmm"], "mm");
        assert!(
            xmm > 0 && wide == 0,
            "SSE2 path: {xmm} packed xmm add/mul, {wide} ymm/zmm uses"
        );
    }
}

#[cfg(target_arch = "aarch64")]
#[test]
fn aarch64_neon_path_uses_vector_registers() {
    instantiate();
    let funcs = functions("aarch64-linux-gnu-objdump");
    for body in instances(&funcs, "fuse2d::arch::aarch64::neon") {
        let neon = body
            .iter()
            .filter(|l| (l.contains("fadd") || l.contains("fmul")) && l.contains(".2d"))
            .count();
        assert!(
            neon > 0,
            "NEON path has no `fadd/fmul v.2d`:\n{}",
            body.join("\n")
        );
    }
}
