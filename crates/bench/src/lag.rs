//! How late a paced task wakes on a runtime: the instrument's own jitter, reported beside what it measures.

use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How late a 1 ms sleep on this runtime wakes, sampled until dropped: what any paced task here (the sender's slots,
/// the reference's) suffers from a busy runtime or machine.
pub struct Lag {
    stop: Arc<std::sync::atomic::AtomicBool>,
    task: tokio::task::JoinHandle<Vec<u32>>,
}

impl Lag {
    /// Start sampling on the current runtime.
    pub fn start() -> Lag {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let task = tokio::spawn(async move {
            let mut lags = Vec::new();
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                let t = Instant::now();
                tokio::time::sleep(Duration::from_millis(1)).await;
                let late = t.elapsed().saturating_sub(Duration::from_millis(1));
                lags.push(u32::try_from(late.as_micros()).unwrap_or(u32::MAX));
            }
            lags
        });
        Lag { stop, task }
    }

    /// Stop; p99 and max lateness, milliseconds.
    pub async fn finish(self) -> Value {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let mut lags = self.task.await.unwrap_or_default();
        lags.sort_unstable();
        let at = |q: f64| {
            lags.get(((lags.len() as f64 * q) as usize).min(lags.len().saturating_sub(1)))
                .map_or(0.0, |us| f64::from(*us) / 1000.0)
        };
        json!({"p50_ms": at(0.5), "p99_ms": at(0.99), "max_ms": lags.last().map_or(0.0, |us| f64::from(*us) / 1000.0)})
    }
}
