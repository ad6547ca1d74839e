//! Instruction sets: detected once, cached, capped by `FUSE2D_MAX_ISA`.

use core::fmt;
use core::str::FromStr;
use std::sync::OnceLock;

use crate::error::Error;

/// The name of the environment variable that caps the instruction set for
/// the whole process, e.g. `FUSE2D_MAX_ISA=sse2` or `=scalar`.
pub const MAX_ISA_ENV: &str = "FUSE2D_MAX_ISA";

/// An instruction set a kernel can be compiled for.
///
/// All variants exist on every target; [`Isa::supported`] tells which ones
/// this CPU can run. Ordered from the narrowest to the widest; `Sse2` and
/// `Neon` rank the same (the 128-bit baseline of their architectures).
///
/// ```
/// use fuse2d::Isa;
///
/// let best = Isa::detect();
/// assert!(Isa::supported().contains(&best));
/// assert!(Isa::supported().contains(&Isa::Scalar));
/// assert_eq!("avx2".parse::<Isa>(), Ok(Isa::Avx2));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Isa {
    /// Plain scalar code, no explicit SIMD: runs everywhere.
    Scalar,
    /// x86_64 baseline: 128-bit SSE2 through `wide`.
    Sse2,
    /// x86_64 AVX2 + FMA: 256-bit (ymm).
    Avx2,
    /// x86_64 AVX-512 (F + VL) with AVX2 + FMA: 512-bit (zmm).
    Avx512,
    /// aarch64 NEON: 128-bit through `wide`.
    Neon,
}

impl Isa {
    /// Every variant, narrowest first.
    pub const ALL: [Isa; 5] = [Isa::Scalar, Isa::Sse2, Isa::Neon, Isa::Avx2, Isa::Avx512];

    /// The lower-case name, as `FUSE2D_MAX_ISA` and [`FromStr`] take it.
    pub fn name(self) -> &'static str {
        match self {
            Isa::Scalar => "scalar",
            Isa::Sse2 => "sse2",
            Isa::Avx2 => "avx2",
            Isa::Avx512 => "avx512",
            Isa::Neon => "neon",
        }
    }

    /// Width rank used by the cap: scalar 0, sse2/neon 1, avx2 2, avx512 3.
    fn rank(self) -> u8 {
        match self {
            Isa::Scalar => 0,
            Isa::Sse2 | Isa::Neon => 1,
            Isa::Avx2 => 2,
            Isa::Avx512 => 3,
        }
    }

    /// Vector width in bits (what one instruction processes).
    pub fn vector_bits(self) -> usize {
        match self {
            Isa::Scalar => 64,
            Isa::Sse2 | Isa::Neon => 128,
            Isa::Avx2 => 256,
            Isa::Avx512 => 512,
        }
    }

    /// Whether the kernels have non-temporal stores on this ISA.
    pub(crate) fn has_streaming_stores(self) -> bool {
        matches!(self, Isa::Sse2 | Isa::Avx2 | Isa::Avx512)
    }

    /// The best instruction set this process may use: the widest the CPU
    /// has, at most `FUSE2D_MAX_ISA` (an invalid cap is ignored here and
    /// reported as [`Error::InvalidIsaCap`] by every computing call).
    pub fn detect() -> Isa {
        *state()
            .supported
            .last()
            .expect("Scalar is always supported")
    }

    /// The instruction sets this process may use, narrowest first: what the
    /// CPU has, at most `FUSE2D_MAX_ISA`. Always contains [`Isa::Scalar`].
    pub fn supported() -> &'static [Isa] {
        &state().supported
    }

    /// Whether this process may use `self`.
    pub fn is_supported(self) -> bool {
        Isa::supported().contains(&self)
    }

    /// The ISA to run: `requested` if given and allowed, else the best one.
    pub(crate) fn resolve(requested: Option<Isa>) -> Result<Isa, Error> {
        let st = state();
        if let Some(value) = &st.invalid_cap {
            return Err(Error::InvalidIsaCap {
                value: value.clone(),
            });
        }
        match requested {
            None => Ok(Isa::detect()),
            Some(isa) if isa.is_supported() => Ok(isa),
            Some(isa) => Err(Error::UnsupportedIsa {
                requested: isa,
                available: Isa::detect(),
            }),
        }
    }
}

impl fmt::Display for Isa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

impl FromStr for Isa {
    type Err = Error;

    /// Parses a name case-insensitively (`avx-512` and `avx512f` accepted too).
    fn from_str(s: &str) -> Result<Self, Error> {
        let norm: String = s
            .trim()
            .to_ascii_lowercase()
            .chars()
            .filter(|c| !matches!(c, '-' | '_'))
            .collect();
        match norm.as_str() {
            "scalar" | "none" => Ok(Isa::Scalar),
            "sse2" | "sse" => Ok(Isa::Sse2),
            "avx2" => Ok(Isa::Avx2),
            "avx512" | "avx512f" => Ok(Isa::Avx512),
            "neon" => Ok(Isa::Neon),
            _ => Err(Error::InvalidIsaCap {
                value: s.to_owned(),
            }),
        }
    }
}

struct State {
    supported: Vec<Isa>,
    invalid_cap: Option<String>,
}

fn state() -> &'static State {
    static STATE: OnceLock<State> = OnceLock::new();
    STATE.get_or_init(|| {
        let hw = hardware();
        match std::env::var(MAX_ISA_ENV) {
            Ok(v) if !v.trim().is_empty() => match v.parse::<Isa>() {
                Ok(cap) => State {
                    supported: hw.into_iter().filter(|i| i.rank() <= cap.rank()).collect(),
                    invalid_cap: None,
                },
                Err(_) => State {
                    supported: hw,
                    invalid_cap: Some(v),
                },
            },
            _ => State {
                supported: hw,
                invalid_cap: None,
            },
        }
    })
}

/// What the CPU can run, narrowest first.
fn hardware() -> Vec<Isa> {
    #[allow(unused_mut)]
    let mut v = vec![Isa::Scalar];
    #[cfg(target_arch = "x86_64")]
    {
        v.push(Isa::Sse2);
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            v.push(Isa::Avx2);
            if std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("avx512vl")
            {
                v.push(Isa::Avx512);
            }
        }
    }
    #[cfg(all(target_arch = "aarch64", target_feature = "neon"))]
    v.push(Isa::Neon);
    v
}
