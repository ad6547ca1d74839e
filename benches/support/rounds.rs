//! The interleaved rounds of the `versus` and `roofs` harnesses and their
//! statistics (medians, quartiles). One file, included with `#[path]` by
//! both.

/// The median of `v` (sorted in place).
pub fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The lower and upper quartile of `v` (sorted in place).
#[allow(dead_code)] // used by `versus` only
pub fn quartiles(v: &mut [f64]) -> (f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[v.len() / 4], v[(3 * v.len()) / 4])
}

/// Times `count` contenders in `rounds` interleaved rounds: each round runs
/// every one once, through `time(i)` (which returns seconds), in an order
/// of its own (a fixed pseudo-random shuffle), so none always runs right
/// after the same one and the machine's drift hits all alike. Returns each
/// contender's times, round by round.
pub fn interleaved(
    count: usize,
    rounds: usize,
    mut time: impl FnMut(usize) -> f64,
) -> Vec<Vec<f64>> {
    let mut times = vec![Vec::with_capacity(rounds); count];
    let mut order: Vec<usize> = (0..count).collect();
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    for _ in 0..rounds {
        shuffle(&mut order, &mut seed);
        for &i in &order {
            times[i].push(time(i));
        }
    }
    times
}

/// Shuffles `v` (Fisher-Yates) with a xorshift generator seeded by `seed`:
/// the same sequence of orders in every run of a harness.
fn shuffle(v: &mut [usize], seed: &mut u64) {
    for i in (1..v.len()).rev() {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        v.swap(i, (*seed % (i as u64 + 1)) as usize);
    }
}
