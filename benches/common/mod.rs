//! Timing shared by the benches: medians of batched rounds.

use std::time::{Duration, Instant};

/// The middle value.
pub fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(|a, b| a.total_cmp(b));
    samples[samples.len() / 2]
}

/// Median µs per call of `f`, over rounds of `batch` calls lasting about `budget` (11 at least).
pub fn median_us(budget: Duration, batch: u32, mut f: impl FnMut()) -> f64 {
    for _ in 0..batch {
        f();
    }
    let mut samples = Vec::new();
    let start = Instant::now();
    while start.elapsed() < budget || samples.len() < 11 {
        let t = Instant::now();
        for _ in 0..batch {
            f();
        }
        samples.push(t.elapsed().as_secs_f64() * 1e6 / f64::from(batch));
    }
    median(samples)
}
