//! What the benches share: medians of batched rounds, and the machine they ran on.

#![allow(dead_code)]

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

/// Prints the processor model and core count, so every figure names its machine.
pub fn print_machine() {
    let machine = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into());
    println!(
        "machine: {machine}, {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
}
