//! Seeded k-means with k-means++ initialisation, feature standardisation and the silhouette
//! score for choosing k: the clustering behind personas suggested from data. The generator is
//! ChaCha8, seeded, so the same seed gives the same clusters on every platform.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use crate::{ClvError, Result};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KMeansOptions {
    pub k: usize,
    pub seed: u64,
    pub max_iterations: usize,
}

/// Clusters of the rows: which cluster each row is in, and each cluster's centre (in the
/// coordinates given, i.e. standardised when the input was).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Clustering {
    pub assignments: Vec<usize>,
    pub centers: Vec<Vec<f64>>,
    /// Sum of squared distances to the assigned centres.
    pub inertia: f64,
    pub iterations: usize,
}

fn distance2(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// Rescales each column to mean 0 and standard deviation 1 (a constant column becomes 0).
pub fn standardise(rows: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let Some(width) = rows.first().map(Vec::len) else { return Vec::new() };
    let n = rows.len() as f64;
    let mut out = rows.to_vec();
    for j in 0..width {
        let mean = rows.iter().map(|r| r[j]).sum::<f64>() / n;
        let sd = (rows.iter().map(|r| (r[j] - mean).powi(2)).sum::<f64>() / n).sqrt();
        for row in &mut out {
            row[j] = if sd > 0.0 { (row[j] - mean) / sd } else { 0.0 };
        }
    }
    out
}

/// Lloyd's k-means from a k-means++ start.
pub fn kmeans(rows: &[Vec<f64>], options: KMeansOptions) -> Result<Clustering> {
    let k = options.k;
    if k < 1 {
        return Err(ClvError::InvalidArgument { argument: "k", reason: "must be at least 1".into() });
    }
    if rows.len() < k {
        return Err(ClvError::CannotFit { model: "k-means", because: crate::CannotFit::TooFewCustomers { needed: k, found: rows.len() } });
    }
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let mut centers = vec![rows[rng.random_range(0..rows.len())].clone()];
    let mut nearest: Vec<f64> = rows.iter().map(|r| distance2(r, &centers[0])).collect();
    while centers.len() < k {
        let total: f64 = nearest.iter().sum();
        // With every point on a centre already, any point will do.
        let pick = if total <= 0.0 {
            rng.random_range(0..rows.len())
        } else {
            let mut target = rng.random::<f64>() * total;
            let mut chosen = rows.len() - 1;
            for (i, d) in nearest.iter().enumerate() {
                if target < *d {
                    chosen = i;
                    break;
                }
                target -= d;
            }
            chosen
        };
        centers.push(rows[pick].clone());
        for (i, r) in rows.iter().enumerate() {
            nearest[i] = nearest[i].min(distance2(r, &centers[centers.len() - 1]));
        }
    }
    let mut assignments = vec![usize::MAX; rows.len()];
    let mut iterations = 0;
    loop {
        iterations += 1;
        let mut changed = false;
        for (i, r) in rows.iter().enumerate() {
            let best = (0..k).min_by(|&a, &b| distance2(r, &centers[a]).total_cmp(&distance2(r, &centers[b]))).unwrap_or(0);
            if assignments[i] != best {
                assignments[i] = best;
                changed = true;
            }
        }
        let width = rows[0].len();
        let mut sums = vec![vec![0.0; width]; k];
        let mut counts = vec![0usize; k];
        for (r, &c) in rows.iter().zip(&assignments) {
            counts[c] += 1;
            for j in 0..width {
                sums[c][j] += r[j];
            }
        }
        for c in 0..k {
            // An emptied cluster keeps its old centre rather than becoming NaN.
            if counts[c] > 0 {
                centers[c] = sums[c].iter().map(|s| s / counts[c] as f64).collect();
            }
        }
        if !changed || iterations >= options.max_iterations {
            break;
        }
    }
    let inertia = rows.iter().zip(&assignments).map(|(r, &c)| distance2(r, &centers[c])).sum();
    Ok(Clustering { assignments, centers, inertia, iterations })
}

/// The mean silhouette of a clustering (exact, O(n²)): near 1 for tight, separate clusters.
pub fn silhouette(rows: &[Vec<f64>], assignments: &[usize], k: usize) -> f64 {
    let n = rows.len();
    if n < 2 || k < 2 {
        return 0.0;
    }
    let mut total = 0.0;
    for i in 0..n {
        let mut sums = vec![0.0; k];
        let mut counts = vec![0usize; k];
        for j in 0..n {
            if i != j {
                sums[assignments[j]] += distance2(&rows[i], &rows[j]).sqrt();
                counts[assignments[j]] += 1;
            }
        }
        let own = assignments[i];
        if counts[own] == 0 {
            continue;
        }
        let a = sums[own] / counts[own] as f64;
        let b = (0..k)
            .filter(|&c| c != own && counts[c] > 0)
            .map(|c| sums[c] / counts[c] as f64)
            .fold(f64::INFINITY, f64::min);
        if b.is_finite() && a.max(b) > 0.0 {
            total += (b - a) / a.max(b);
        }
    }
    total / n as f64
}
