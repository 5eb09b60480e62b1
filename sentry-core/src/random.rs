//! A fast per-thread random source for event ids and sampling.
//!
//! `uuid::Uuid::new_v4` asks the OS for randomness on every call (a syscall); an event id needs
//! uniqueness, not cryptographic strength, so a per-thread xoshiro256** generator seeded once from
//! the OS does the job in nanoseconds.

use std::cell::Cell;

thread_local! {
    static STATE: Cell<[u64; 4]> = Cell::new(seed());
}

fn seed() -> [u64; 4] {
    // One OS-random UUID seeds the thread's generator; splitmix spreads it over the state.
    let bytes = uuid::Uuid::new_v4().into_bytes();
    let mut s = u64::from_le_bytes(bytes[..8].try_into().unwrap_or([1; 8]))
        ^ u64::from_le_bytes(bytes[8..].try_into().unwrap_or([2; 8]));
    let mut out = [0u64; 4];
    for slot in &mut out {
        s = s.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        *slot = z ^ (z >> 31);
    }
    out
}

/// The next 64 random bits of this thread's generator.
pub(crate) fn next_u64() -> u64 {
    let step = |s: &mut [u64; 4]| {
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    };
    STATE
        .try_with(|cell| {
            let mut s = cell.get();
            let r = step(&mut s);
            cell.set(s);
            r
        })
        // During thread-local teardown: fall back to a fresh seed.
        .unwrap_or_else(|_| step(&mut seed()))
}

/// A uniform float in [0, 1).
pub(crate) fn next_f64() -> f64 {
    (next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// A sampling decision at `rate` (0.0 never, 1.0 always; no random draw at either end).
pub(crate) fn keep(rate: f32) -> bool {
    rate >= 1.0 || (rate > 0.0 && next_f64() < f64::from(rate))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_in_unit_interval() {
        let mut sum = 0.0;
        for _ in 0..10_000 {
            let f = next_f64();
            assert!((0.0..1.0).contains(&f));
            sum += f;
        }
        let mean = sum / 10_000.0;
        assert!((0.45..0.55).contains(&mean), "{mean}");
    }
}
