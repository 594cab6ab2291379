//! Randomness: every stream is derived from the seed and a purpose, never from the clock or the
//! thread that runs it, so the same configuration always writes the same bytes.
//!
//! - Files draw from a [`ChaCha8Rng`] keyed by the seed, on a stream numbered by the file.
//! - Subjects and persons are regenerated from their index: a [`ChaCha8Rng`] keyed by the seed and
//!   the purpose, on the stream numbered by the index. Nothing about them is stored.
//! - Identifiers and names that must be unique come from a keyed pseudo-random permutation
//!   ([`permute`]) of the index, so two indexes never share them.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// SplitMix64 finaliser: a fast, well-mixed 64-bit hash.
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// What a stream is for; part of its key, so streams of different purposes are independent.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Purpose {
    File = 1,
    Subject = 2,
    Person = 3,
}

/// The keys of one generation run, derived once from the seed.
#[derive(Debug, Clone)]
pub(crate) struct Keys {
    file: [u8; 32],
    subject: [u8; 32],
    person: [u8; 32],
    /// Key of the cheap per-index hashes (subject kind) and the permutations.
    pub(crate) hash: u64,
}

impl Keys {
    pub(crate) fn new(seed: u64) -> Self {
        let key = |p: Purpose| {
            let mut r = ChaCha8Rng::seed_from_u64(mix64(seed ^ mix64(p as u64)));
            let mut k = [0u8; 32];
            r.fill(&mut k);
            k
        };
        Keys {
            file: key(Purpose::File),
            subject: key(Purpose::Subject),
            person: key(Purpose::Person),
            hash: mix64(seed ^ 0x6372_6564_6974_6C70),
        }
    }

    /// The generator of stream `stream` for `purpose`.
    pub(crate) fn stream(&self, purpose: Purpose, stream: u64) -> ChaCha8Rng {
        let key = match purpose {
            Purpose::File => self.file,
            Purpose::Subject => self.subject,
            Purpose::Person => self.person,
        };
        let mut r = ChaCha8Rng::from_seed(key);
        r.set_stream(stream);
        r
    }

    /// A cheap keyed hash of `index` for `salt` (used where a full stream would be wasteful).
    pub(crate) fn hash(&self, salt: u64, index: u64) -> u64 {
        mix64(self.hash ^ mix64(salt.wrapping_mul(0xA24B_AED4_963E_E407) ^ index))
    }
}

/// A keyed pseudo-random permutation of `0..n`: a four-round Feistel network on the smallest even
/// number of bits covering `n`, with cycle walking. `x` must be below `n`; the result is below `n`
/// and distinct for distinct `x`.
pub(crate) fn permute(x: u64, n: u64, key: u64) -> u64 {
    if n <= 1 {
        return 0;
    }
    let bits = 64 - (n - 1).leading_zeros();
    let half = bits.div_ceil(2).max(1);
    let mask = (1u64 << half) - 1;
    let mut v = x;
    // Cycle walking terminates: the Feistel network is a permutation of 0..2^(2·half), so the
    // orbit of x comes back into 0..n; the bound only guards against a logic error.
    for _ in 0..1_000_000 {
        let mut l = v >> half;
        let mut r = v & mask;
        for round in 0..4u64 {
            let f = mix64(key ^ round.wrapping_mul(0x9E37_79B9) ^ r) & mask;
            let nl = r;
            r = l ^ f;
            l = nl;
        }
        v = (l << half) | r;
        if v < n {
            return v;
        }
    }
    x % n
}

/// Picks an index by weight. `weights` must not be empty; a zero total picks the first.
pub(crate) fn pick_weighted<R: Rng>(rng: &mut R, weights: &[u32]) -> usize {
    let total: u32 = weights.iter().sum();
    if total == 0 {
        return 0;
    }
    let mut x = rng.gen_range(0..total);
    for (i, &w) in weights.iter().enumerate() {
        if x < w {
            return i;
        }
        x -= w;
    }
    weights.len() - 1
}

/// Picks one element of a non-empty slice; `None` when the slice is empty.
pub(crate) fn pick<'a, R: Rng, T>(rng: &mut R, items: &'a [T]) -> Option<&'a T> {
    if items.is_empty() {
        None
    } else {
        items.get(rng.gen_range(0..items.len()))
    }
}

/// Draws exactly `k` of `n` items in one pass (Knuth's selection sampling, Algorithm S): call
/// [`Quota::take`] once per item; it says whether the item is selected.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Quota {
    left_items: u64,
    left_picks: u64,
}

impl Quota {
    pub(crate) fn new(n: u64, k: u64) -> Self {
        Quota {
            left_items: n,
            left_picks: k.min(n),
        }
    }

    /// Whether the next item is selected.
    pub(crate) fn take<R: Rng>(&mut self, rng: &mut R) -> bool {
        if self.left_items == 0 {
            return false;
        }
        let pick = self.left_picks > 0 && rng.gen_range(0..self.left_items) < self.left_picks;
        self.left_items -= 1;
        if pick {
            self.left_picks -= 1;
        }
        pick
    }
}

/// Deals out exact counts of several kinds in random order: each call returns the kind of the next
/// item, drawn with probability proportional to what is left of each.
#[derive(Debug, Clone)]
pub(crate) struct Deck {
    left: Vec<u64>,
}

impl Deck {
    pub(crate) fn new(counts: Vec<u64>) -> Self {
        Deck { left: counts }
    }

    /// The kind of the next item, or `None` when all are dealt.
    pub(crate) fn deal<R: Rng>(&mut self, rng: &mut R) -> Option<usize> {
        let total: u64 = self.left.iter().sum();
        if total == 0 {
            return None;
        }
        let mut x = rng.gen_range(0..total);
        for (i, c) in self.left.iter_mut().enumerate() {
            if x < *c {
                *c -= 1;
                return Some(i);
            }
            x -= *c;
        }
        None
    }
}

/// `round(n × share)` for a share in 0..=1, exact for the counts this crate uses.
pub(crate) fn share_of(n: u64, share: f64) -> u64 {
    let share = if share.is_finite() {
        share.clamp(0.0, 1.0)
    } else {
        0.0
    };
    // n stays far below 2^53, so the product is exact enough; round half up.
    let v = (n as f64 * share + 0.5).floor();
    (v as u64).min(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permutation_is_a_bijection() {
        for n in [1u64, 2, 3, 10, 97, 1000, 4097] {
            let mut seen = vec![false; n as usize];
            for x in 0..n {
                let y = permute(x, n, 42);
                assert!(y < n);
                assert!(!seen[y as usize], "n={n} x={x}");
                seen[y as usize] = true;
            }
        }
    }

    #[test]
    fn quota_selects_exactly_k() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for (n, k) in [(0u64, 0u64), (10, 0), (10, 10), (1000, 37), (5, 9)] {
            let mut q = Quota::new(n, k);
            let got = (0..n).filter(|_| q.take(&mut rng)).count() as u64;
            assert_eq!(got, k.min(n));
        }
    }

    #[test]
    fn deck_deals_exact_counts() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let mut d = Deck::new(vec![3, 0, 5, 1]);
        let mut got = [0u64; 4];
        while let Some(i) = d.deal(&mut rng) {
            got[i] += 1;
        }
        assert_eq!(got, [3, 0, 5, 1]);
    }

    #[test]
    fn shares_round_half_up() {
        assert_eq!(share_of(10, 0.25), 3);
        assert_eq!(share_of(1000, 0.05), 50);
        assert_eq!(share_of(7, 1.0), 7);
        assert_eq!(share_of(7, 2.0), 7);
        assert_eq!(share_of(7, f64::NAN), 0);
    }

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let k = Keys::new(7);
        let a: u64 = k.stream(Purpose::Subject, 5).r#gen();
        let b: u64 = Keys::new(7).stream(Purpose::Subject, 5).r#gen();
        let c: u64 = k.stream(Purpose::Subject, 6).r#gen();
        let d: u64 = k.stream(Purpose::Person, 5).r#gen();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
    }
}
