//! Cache sizes, read once from what the OS reports.
//!
//! On Linux: `/sys/devices/system/cpu/cpu0/cache/index*/{level,type,size}`.
//! Elsewhere, or where a value is missing: 32 KiB L1d, 1 MiB L2, 8 MiB L3.

use std::sync::OnceLock;

/// Data-cache sizes in bytes, as this process sees them.
///
/// ```
/// let c = fuse2d::CacheInfo::get();
/// assert!(c.l1 > 0 && c.l2 >= c.l1 && c.l3 >= c.l2);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CacheInfo {
    /// Level 1 data cache, per core.
    pub l1: usize,
    /// Level 2 cache, per core.
    pub l2: usize,
    /// Last-level cache (L3), shared.
    pub l3: usize,
}

impl CacheInfo {
    const DEFAULT: CacheInfo = CacheInfo {
        l1: 32 << 10,
        l2: 1 << 20,
        l3: 8 << 20,
    };

    /// The sizes, read on first use and cached.
    pub fn get() -> CacheInfo {
        static INFO: OnceLock<CacheInfo> = OnceLock::new();
        *INFO.get_or_init(|| {
            let mut c = Self::DEFAULT;
            for (level, size) in read_sysfs() {
                match level {
                    1 => c.l1 = size,
                    2 => c.l2 = size,
                    3 => c.l3 = size,
                    _ => {}
                }
            }
            c.l2 = c.l2.max(c.l1);
            c.l3 = c.l3.max(c.l2);
            c
        })
    }
}

/// `(level, bytes)` for each data or unified cache of cpu0.
fn read_sysfs() -> Vec<(u32, usize)> {
    let base = std::path::Path::new("/sys/devices/system/cpu/cpu0/cache");
    let Ok(dir) = std::fs::read_dir(base) else {
        return Vec::new();
    };
    let read = |p: std::path::PathBuf| std::fs::read_to_string(p).ok().map(|s| s.trim().to_owned());
    dir.flatten()
        .filter_map(|entry| {
            let p = entry.path();
            let kind = read(p.join("type"))?;
            if kind == "Instruction" {
                return None;
            }
            let level = read(p.join("level"))?.parse().ok()?;
            let size = parse_size(&read(p.join("size"))?)?;
            Some((level, size))
        })
        .collect()
}

/// Parses sysfs sizes such as `32K`, `1024K`, `32M`, `65536`.
fn parse_size(s: &str) -> Option<usize> {
    let (num, mult) = match s.as_bytes().last()? {
        b'K' => (&s[..s.len() - 1], 1 << 10),
        b'M' => (&s[..s.len() - 1], 1 << 20),
        b'G' => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    num.parse::<usize>()
        .ok()?
        .checked_mul(mult)
        .filter(|&n| n > 0)
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("32K"), Some(32 << 10));
        assert_eq!(parse_size("32M"), Some(32 << 20));
        assert_eq!(parse_size("65536"), Some(65536));
        assert_eq!(parse_size("0K"), None);
        assert_eq!(parse_size("xK"), None);
        assert_eq!(parse_size(""), None);
    }
}
