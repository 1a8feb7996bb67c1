//! The optimisers of the fits: BFGS where the gradient is known (BG/NBD), Nelder-Mead otherwise
//! and as the fallback. The models' parameters are positive, so the fits search over their
//! logarithms and never leave the valid region.

/// The minimum found: its point, value, and the objective evaluations it took.
#[derive(Debug, Clone)]
pub(crate) struct Minimum {
    pub point: Vec<f64>,
    pub value: f64,
    pub evaluations: usize,
}

/// Minimises `f` from `start`. Converges when the simplex's values agree to `1e-10` (relative)
/// and its points to `1e-9`; the search restarts once from its best point, because a simplex can
/// collapse before reaching the minimum. Returns None when `max_evaluations` run out first.
pub(crate) fn nelder_mead(f: &mut dyn FnMut(&[f64]) -> f64, start: &[f64], max_evaluations: usize) -> Option<Minimum> {
    let mut evaluations = 0;
    let mut best = start.to_vec();
    let mut value = f64::INFINITY;
    for _restart in 0..2 {
        let (point, v, used) = simplex_search(f, &best, max_evaluations.saturating_sub(evaluations))?;
        evaluations += used;
        best = point;
        value = v;
    }
    Some(Minimum { point: best, value, evaluations })
}

fn simplex_search(f: &mut dyn FnMut(&[f64]) -> f64, start: &[f64], budget: usize) -> Option<(Vec<f64>, f64, usize)> {
    let n = start.len();
    let mut evaluations = 0;
    let mut eval = |x: &[f64], evaluations: &mut usize| {
        *evaluations += 1;
        let v = f(x);
        // A NaN (overflow at extreme parameters) counts as worse than anything.
        if v.is_nan() { f64::INFINITY } else { v }
    };
    let mut simplex: Vec<(Vec<f64>, f64)> = Vec::with_capacity(n + 1);
    let v0 = eval(start, &mut evaluations);
    simplex.push((start.to_vec(), v0));
    for i in 0..n {
        let mut x = start.to_vec();
        x[i] += 0.5;
        let v = eval(&x, &mut evaluations);
        simplex.push((x, v));
    }
    loop {
        simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
        let (lo, hi) = (simplex[0].1, simplex[n].1);
        let spread = simplex
            .iter()
            .skip(1)
            .flat_map(|(x, _)| x.iter().zip(&simplex[0].0).map(|(a, b)| (a - b).abs()))
            .fold(0.0, f64::max);
        if (hi - lo).abs() <= 1e-10 * lo.abs().max(1e-10) && spread <= 1e-9 {
            return Some((simplex[0].0.clone(), lo, evaluations));
        }
        if evaluations >= budget {
            return None;
        }
        let centroid: Vec<f64> =
            (0..n).map(|j| simplex[..n].iter().map(|(x, _)| x[j]).sum::<f64>() / n as f64).collect();
        let towards = |t: f64, worst: &[f64]| -> Vec<f64> {
            centroid.iter().zip(worst).map(|(c, w)| c + t * (w - c)).collect()
        };
        let worst = simplex[n].0.clone();
        let reflected = towards(-1.0, &worst);
        let fr = eval(&reflected, &mut evaluations);
        if fr < simplex[0].1 {
            let expanded = towards(-2.0, &worst);
            let fe = eval(&expanded, &mut evaluations);
            simplex[n] = if fe < fr { (expanded, fe) } else { (reflected, fr) };
        } else if fr < simplex[n - 1].1 {
            simplex[n] = (reflected, fr);
        } else {
            let (contracted, fc) = if fr < simplex[n].1 {
                let c = towards(-0.5, &worst);
                let v = eval(&c, &mut evaluations);
                (c, v)
            } else {
                let c = towards(0.5, &worst);
                let v = eval(&c, &mut evaluations);
                (c, v)
            };
            if fc < fr.min(simplex[n].1) {
                simplex[n] = (contracted, fc);
            } else {
                // Shrink every point towards the best one.
                let best = simplex[0].0.clone();
                for item in simplex.iter_mut().skip(1) {
                    let x: Vec<f64> = item.0.iter().zip(&best).map(|(x, b)| b + 0.5 * (x - b)).collect();
                    let v = eval(&x, &mut evaluations);
                    *item = (x, v);
                }
            }
        }
    }
}

/// Minimises `f` (returning the value and gradient) by BFGS with a backtracking line search.
/// Converges when the largest gradient component falls below `1e-7 × (1 + |f|)`; returns None
/// when it does not within `max_iterations` (the caller then falls back to Nelder-Mead).
pub(crate) fn bfgs(f: &mut dyn FnMut(&[f64], &mut [f64]) -> f64, start: &[f64], max_iterations: usize) -> Option<Minimum> {
    let n = start.len();
    let mut x = start.to_vec();
    let mut g = vec![0.0; n];
    let mut value = f(&x, &mut g);
    let mut evaluations = 1;
    if !value.is_finite() {
        return None;
    }
    // The inverse Hessian estimate, starting from the identity.
    let mut h: Vec<Vec<f64>> = (0..n).map(|i| (0..n).map(|j| if i == j { 1.0 } else { 0.0 }).collect()).collect();
    let mut trial_g = vec![0.0; n];
    for _ in 0..max_iterations {
        if g.iter().fold(0.0f64, |m, v| m.max(v.abs())) <= 1e-7 * (1.0 + value.abs()) {
            return Some(Minimum { point: x, value, evaluations });
        }
        let mut direction: Vec<f64> = (0..n).map(|i| -(0..n).map(|j| h[i][j] * g[j]).sum::<f64>()).collect();
        let mut slope: f64 = direction.iter().zip(&g).map(|(d, g)| d * g).sum();
        if slope >= 0.0 {
            // Not a descent direction: restart from steepest descent.
            for (i, row) in h.iter_mut().enumerate() {
                row.iter_mut().enumerate().for_each(|(j, v)| *v = if i == j { 1.0 } else { 0.0 });
            }
            direction = g.iter().map(|v| -v).collect();
            slope = -g.iter().map(|v| v * v).sum::<f64>();
        }
        // Steps on log-parameters longer than 2 overshoot into overflow; cap them.
        let longest = direction.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let mut step = if longest > 2.0 { 2.0 / longest } else { 1.0 };
        let mut accepted = None;
        for _ in 0..60 {
            let trial: Vec<f64> = x.iter().zip(&direction).map(|(x, d)| x + step * d).collect();
            let v = f(&trial, &mut trial_g);
            evaluations += 1;
            if v.is_finite() && v <= value + 1e-4 * step * slope {
                accepted = Some((trial, v));
                break;
            }
            step *= 0.5;
        }
        let (next, next_value) = accepted?;
        let s: Vec<f64> = next.iter().zip(&x).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = trial_g.iter().zip(&g).map(|(a, b)| a - b).collect();
        let sy: f64 = s.iter().zip(&y).map(|(a, b)| a * b).sum();
        x = next;
        value = next_value;
        g.copy_from_slice(&trial_g);
        // The update keeps the estimate positive definite only when s·y > 0; skip it otherwise.
        if sy > 1e-12 {
            let hy: Vec<f64> = (0..n).map(|i| (0..n).map(|j| h[i][j] * y[j]).sum()).collect();
            let yhy: f64 = y.iter().zip(&hy).map(|(a, b)| a * b).sum();
            for i in 0..n {
                for j in 0..n {
                    h[i][j] += (sy + yhy) * s[i] * s[j] / (sy * sy) - (hy[i] * s[j] + s[i] * hy[j]) / sy;
                }
            }
        }
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_rosenbrock_minimum() {
        let mut f = |x: &[f64]| (1.0 - x[0]).powi(2) + 100.0 * (x[1] - x[0] * x[0]).powi(2);
        let m = nelder_mead(&mut f, &[-1.2, 1.0], 20_000).unwrap();
        assert!((m.point[0] - 1.0).abs() < 1e-4 && (m.point[1] - 1.0).abs() < 1e-4, "{m:?}");
    }

    #[test]
    fn bfgs_finds_the_rosenbrock_minimum() {
        let mut f = |x: &[f64], g: &mut [f64]| {
            g[0] = -2.0 * (1.0 - x[0]) - 400.0 * x[0] * (x[1] - x[0] * x[0]);
            g[1] = 200.0 * (x[1] - x[0] * x[0]);
            (1.0 - x[0]).powi(2) + 100.0 * (x[1] - x[0] * x[0]).powi(2)
        };
        let m = bfgs(&mut f, &[-1.2, 1.0], 500).unwrap();
        assert!((m.point[0] - 1.0).abs() < 1e-5 && (m.point[1] - 1.0).abs() < 1e-5, "{m:?}");
        assert!(bfgs(&mut f, &[-1.2, 1.0], 2).is_none());
    }

    #[test]
    fn gives_up_when_the_budget_runs_out() {
        let mut f = |x: &[f64]| (1.0 - x[0]).powi(2) + 100.0 * (x[1] - x[0] * x[0]).powi(2);
        assert!(nelder_mead(&mut f, &[-1.2, 1.0], 10).is_none());
    }
}
