//! The dot product every graph step computes, written for speed and for
//! one rounding: 16 lanes, lane `i` summing the products of the elements
//! at positions `i mod 16` in order, then the lanes added in a fixed order.
//! SSE (four registers of four lanes, always on x86-64) and AVX (two of
//! eight, where the CPU has it) assign the lanes alike, so the result is the
//! same bits whichever runs; elsewhere a plain loop with the same lanes.

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

/// Lanes accumulated side by side.
const LANES: usize = 16;

/// The lanes added pairwise, in a fixed order.
#[inline(always)]
fn reduce(mut acc: [f32; LANES]) -> f32 {
    let mut width = LANES / 2;
    while width > 0 {
        for i in 0..width {
            acc[i] += acc[i + width];
        }
        width /= 2;
    }
    acc[0]
}

/// The portable kernel: the lanes in an array (the reference the SIMD
/// paths are tested against, and the kernel off x86-64).
#[cfg(any(test, not(target_arch = "x86_64")))]
fn portable(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; LANES];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for i in 0..LANES {
            acc[i] += x[i] * y[i];
        }
    }
    tail(reduce(acc), ra, rb)
}

/// The elements past the last whole block of lanes, added in order.
#[inline(always)]
fn tail(mut sum: f32, a: &[f32], b: &[f32]) -> f32 {
    for (x, y) in a.iter().zip(b) {
        sum += x * y;
    }
    sum
}

/// SSE: four registers of four lanes.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse")]
fn sse(a: &[f32], b: &[f32]) -> f32 {
    let blocks = a.len().min(b.len()) / LANES;
    let (pa, pb) = (a.as_ptr(), b.as_ptr());
    let mut acc = [_mm_setzero_ps(); 4];
    for blk in 0..blocks {
        for (j, slot) in acc.iter_mut().enumerate() {
            let at = blk * LANES + 4 * j;
            // SAFETY: `at + 4 <= blocks * LANES <= len` of both slices.
            let (x, y) = unsafe { (_mm_loadu_ps(pa.add(at)), _mm_loadu_ps(pb.add(at))) };
            *slot = _mm_add_ps(*slot, _mm_mul_ps(x, y));
        }
    }
    let mut lanes = [0.0f32; LANES];
    for (j, v) in acc.iter().enumerate() {
        // SAFETY: four floats written into `lanes[4j..4j + 4]`.
        unsafe { _mm_storeu_ps(lanes.as_mut_ptr().add(4 * j), *v) };
    }
    let done = blocks * LANES;
    tail(reduce(lanes), &a[done..], &b[done..])
}

/// SSE, four vectors at once (their loads overlap in memory).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse")]
fn sse4(q: &[f32], v: [&[f32]; 4]) -> [f32; 4] {
    v.map(|v| sse(q, v))
}

/// AVX, four vectors at once: each with its own two registers of
/// eight lanes, so eight independent sums run and the four vectors'
/// cache misses overlap.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
fn avx4(q: &[f32], v: [&[f32]; 4]) -> [f32; 4] {
    let len = v.iter().fold(q.len(), |m, v| m.min(v.len()));
    let blocks = len / LANES;
    let pq = q.as_ptr();
    let pv = v.map(<[f32]>::as_ptr);
    let mut acc = [[_mm256_setzero_ps(); 2]; 4];
    for blk in 0..blocks {
        for j in 0..2 {
            let at = blk * LANES + 8 * j;
            // SAFETY: `at + 8 <= blocks * LANES <= len` of every slice.
            let x = unsafe { _mm256_loadu_ps(pq.add(at)) };
            for (slot, p) in acc.iter_mut().zip(pv) {
                let y = unsafe { _mm256_loadu_ps(p.add(at)) };
                slot[j] = _mm256_add_ps(slot[j], _mm256_mul_ps(x, y));
            }
        }
    }
    let done = blocks * LANES;
    let mut out = [0.0f32; 4];
    for ((o, a), v) in out.iter_mut().zip(acc).zip(v) {
        let mut lanes = [0.0f32; LANES];
        for (j, r) in a.iter().enumerate() {
            // SAFETY: eight floats written into `lanes[8j..8j + 8]`.
            unsafe { _mm256_storeu_ps(lanes.as_mut_ptr().add(8 * j), *r) };
        }
        *o = tail(reduce(lanes), &q[done..], &v[done..]);
    }
    out
}

/// AVX: two registers of eight lanes.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
fn avx(a: &[f32], b: &[f32]) -> f32 {
    let blocks = a.len().min(b.len()) / LANES;
    let (pa, pb) = (a.as_ptr(), b.as_ptr());
    let mut acc = [_mm256_setzero_ps(); 2];
    for blk in 0..blocks {
        for (j, slot) in acc.iter_mut().enumerate() {
            let at = blk * LANES + 8 * j;
            // SAFETY: `at + 8 <= blocks * LANES <= len` of both slices.
            let (x, y) = unsafe { (_mm256_loadu_ps(pa.add(at)), _mm256_loadu_ps(pb.add(at))) };
            *slot = _mm256_add_ps(*slot, _mm256_mul_ps(x, y));
        }
    }
    let mut lanes = [0.0f32; LANES];
    for (j, v) in acc.iter().enumerate() {
        // SAFETY: eight floats written into `lanes[8j..8j + 8]`.
        unsafe { _mm256_storeu_ps(lanes.as_mut_ptr().add(8 * j), *v) };
    }
    let done = blocks * LANES;
    tail(reduce(lanes), &a[done..], &b[done..])
}

/// Dot product of two equal-length vectors.
#[inline]
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx") {
            // SAFETY: the CPU has AVX, checked just above.
            return unsafe { avx(a, b) };
        }
        // SAFETY: SSE is part of every x86-64 CPU.
        unsafe { sse(a, b) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    portable(a, b)
}

/// The dot products of `q` with four vectors, each the same bits as
/// [`dot`] gives it alone (the graph's searches compare neighbours four at
/// a time).
#[inline]
pub(crate) fn dot4(q: &[f32], v: [&[f32]; 4]) -> [f32; 4] {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx") {
            // SAFETY: the CPU has AVX, checked just above.
            return unsafe { avx4(q, v) };
        }
        // SAFETY: SSE is part of every x86-64 CPU.
        unsafe { sse4(q, v) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    v.map(|v| portable(q, v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_a_plain_sum_and_is_the_same_bits_on_every_path() {
        for dim in [1, 7, 16, 33, 256, 384, 100] {
            let a: Vec<f32> = (0..dim).map(|i| ((i * 37 % 11) as f32 - 5.0) / 7.0).collect();
            let b: Vec<f32> = (0..dim).map(|i| ((i * 13 % 17) as f32 - 8.0) / 9.0).collect();
            let plain: f64 = a.iter().zip(&b).map(|(x, y)| (*x as f64) * (*y as f64)).sum();
            assert!((dot(&a, &b) as f64 - plain).abs() < 1e-4, "dim {dim}");
            assert_eq!(dot(&a, &b).to_bits(), portable(&a, &b).to_bits(), "dim {dim}");
            let four = dot4(&a, [&b, &a, &b, &a]);
            assert_eq!(four.map(f32::to_bits), [&b, &a, &b, &a].map(|v| dot(&a, v).to_bits()), "dim {dim}");
            #[cfg(target_arch = "x86_64")]
            {
                // SAFETY: SSE is part of every x86-64 CPU.
                let sse = unsafe { sse(&a, &b) };
                assert_eq!(sse.to_bits(), portable(&a, &b).to_bits(), "dim {dim}");
            }
        }
    }
}
