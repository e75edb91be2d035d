//! The benchmark's seeded random source: a Xoshiro256++ generator from `rand` with the few
//! draws the data generator needs, so every run of a benchmark builds the same data.

use rand::rngs::Xoshiro256PlusPlus;
use rand::seq::IndexedRandom;
use rand::{Rng as _, RngExt as _, SeedableRng as _};

/// A seeded generator. Not for anything secret.
#[derive(Debug, Clone)]
pub struct Rng(Xoshiro256PlusPlus);

impl Rng {
    /// A generator for `seed`; equal seeds give equal sequences.
    pub fn new(seed: u64) -> Self {
        Self(Xoshiro256PlusPlus::seed_from_u64(seed))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.0.random_range(0..n) }
    }

    /// A number in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo { lo } else { self.0.random_range(lo..=hi) }
    }

    /// True `percent` times in a hundred.
    pub fn percent(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// An index into a slice of `len` items (0 when it is empty).
    pub fn index(&mut self, len: usize) -> usize {
        if len == 0 { 0 } else { self.0.random_range(0..len) }
    }

    /// One item of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.index(items.len())]
    }

    /// One item of a non-empty slice of `(weight, item)`, chosen by weight.
    pub fn weighted<'a, T>(&mut self, items: &'a [(u64, T)]) -> &'a T {
        match items.choose_weighted(&mut self.0, |(w, _)| *w) {
            Ok((_, item)) => item,
            // All weights zero: the last, as a fixed choice.
            Err(_) => &items[items.len() - 1].1,
        }
    }

    /// `count` distinct indices into a slice of `len` items (fewer if `len` is smaller).
    pub fn distinct(&mut self, len: usize, count: usize) -> Vec<usize> {
        rand::seq::index::sample(&mut self.0, len, count.min(len)).into_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_numbers() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        let mut c = Rng::new(8);
        let xs: Vec<u64> = (0..16).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..16).map(|_| b.next_u64()).collect();
        let zs: Vec<u64> = (0..16).map(|_| c.next_u64()).collect();
        assert_eq!(xs, ys);
        assert_ne!(xs, zs);
        assert!((0..1000).all(|_| a.range(3, 5) >= 3 && a.range(3, 5) <= 5));
        let d = a.distinct(10, 4);
        assert_eq!(d.len(), 4);
        assert!(d.iter().all(|&i| i < 10));
        assert_eq!(d.iter().collect::<std::collections::HashSet<_>>().len(), 4);
        let heavy = [(0_u64, 'a'), (1, 'b')];
        assert!((0..100).all(|_| *a.weighted(&heavy) == 'b'));
    }
}
