//! A tiny seeded random number generator (SplitMix64).
//!
//! Every random step in knnpref (fold assignment, shuffles, synthetic data)
//! takes an explicit seed and draws from this, so results depend only on the
//! seed and never on the platform or a crate's default generator.

/// A SplitMix64 stream: small, fast, and the same on every platform.
#[derive(Debug, Clone)]
pub struct SplitMix {
    state: u64,
}

impl SplitMix {
    /// A stream determined by `seed` alone.
    pub fn new(seed: u64) -> SplitMix {
        SplitMix { state: seed ^ 0x9E37_79B9_7F4A_7C15 }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform integer in [0, n).
    pub fn below(&mut self, n: usize) -> usize {
        (self.uniform() * n as f64) as usize % n.max(1)
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = self.uniform().max(1e-300);
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }

    /// Fisher–Yates shuffle.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

/// `n` random unit vectors of dimension `dim`, row-major (for tests and benches).
pub fn unit_vectors(n: usize, dim: usize, seed: u64) -> Vec<f32> {
    let mut rng = SplitMix::new(seed);
    let mut out = Vec::with_capacity(n * dim);
    for _ in 0..n {
        let v: Vec<f32> = (0..dim).map(|_| rng.normal() as f32).collect();
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        out.extend(v.iter().map(|x| x / norm));
    }
    out
}

/// Assign `n` rows to `k` folds of near-equal size, shuffled by `seed`.
pub fn fold_assignment(n: usize, k: usize, seed: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    SplitMix::new(seed).shuffle(&mut order);
    let mut folds = vec![0; n];
    for (pos, &row) in order.iter().enumerate() {
        folds[row] = pos % k.max(1);
    }
    folds
}

/// The rows outside fold `f` (to fit on) and inside it (to hold out), each
/// in row order, for a fold assignment from [`fold_assignment`].
pub(crate) fn fold_split(folds: &[usize], f: usize) -> (Vec<usize>, Vec<usize>) {
    (0..folds.len()).partition(|&i| folds[i] != f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream() {
        let a: Vec<u64> = (0..5).scan(SplitMix::new(3), |r, _| Some(r.next_u64())).collect();
        let b: Vec<u64> = (0..5).scan(SplitMix::new(3), |r, _| Some(r.next_u64())).collect();
        let c: Vec<u64> = (0..5).scan(SplitMix::new(4), |r, _| Some(r.next_u64())).collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn folds_are_balanced_and_seeded() {
        let f = fold_assignment(103, 5, 0);
        for k in 0..5 {
            let c = f.iter().filter(|&&x| x == k).count();
            assert!((20..=21).contains(&c));
        }
        assert_eq!(f, fold_assignment(103, 5, 0));
        assert_ne!(f, fold_assignment(103, 5, 1));
        let (train, test) = fold_split(&f, 2);
        assert_eq!(train.len() + test.len(), 103);
        assert!(test.iter().all(|&i| f[i] == 2) && train.iter().all(|&i| f[i] != 2));
        assert!(train.windows(2).all(|w| w[0] < w[1]), "row order is kept");
    }
}
