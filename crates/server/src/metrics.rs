//! Counters and histograms for `/metrics` (Prometheus text format), kept in atomics: no registry, no allocation on
//! the hot path. Gauges that the database already knows (messages by status, queue depth) are read from the
//! campaign counters when scraped.

use pregon_core::ProviderKind;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the send-latency buckets, in seconds.
const LATENCY_BUCKETS: [f64; 11] = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// A latency histogram with fixed buckets.
#[derive(Debug, Default)]
pub struct Histogram {
    buckets: [AtomicU64; LATENCY_BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    /// Count one observation.
    pub fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        for (bound, bucket) in LATENCY_BUCKETS.iter().zip(&self.buckets) {
            if secs <= *bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_micros
            .fetch_add(u64::try_from(d.as_micros()).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        for (bound, bucket) in LATENCY_BUCKETS.iter().zip(&self.buckets) {
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}le=\"{bound}\"}} {}",
                bucket.load(Ordering::Relaxed)
            );
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{{labels}le=\"+Inf\"}} {count}");
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let labels = labels.trim_end_matches(',');
        let _ = writeln!(out, "{name}_sum{{{labels}}} {sum}");
        let _ = writeln!(out, "{name}_count{{{labels}}} {count}");
    }
}

/// Per provider: send outcomes and latency.
#[derive(Debug, Default)]
pub struct ProviderMetrics {
    /// Accepted by the provider.
    pub accepted: AtomicU64,
    /// Transient failures (retried or final).
    pub transient: AtomicU64,
    /// Permanent failures.
    pub permanent: AtomicU64,
    /// Request latency.
    pub latency: Histogram,
}

/// This process's metrics.
#[derive(Debug, Default)]
pub struct Metrics {
    providers: [ProviderMetrics; 6],
    /// Time senders waited for their reserved slots, in microseconds.
    pub rate_limit_wait_micros: AtomicU64,
    /// Status events applied to messages.
    pub webhook_events_applied: AtomicU64,
    /// Status events that matched no message or moved nothing (late, repeated, unknown).
    pub webhook_events_ignored: AtomicU64,
    /// Webhook requests refused (bad signature or token, malformed body).
    pub webhook_requests_refused: AtomicU64,
    /// Rows stored by ingestions.
    pub ingest_rows: AtomicU64,
}

impl Metrics {
    /// The counters of `provider`.
    pub fn provider(&self, provider: ProviderKind) -> &ProviderMetrics {
        let i = ProviderKind::ALL.iter().position(|p| *p == provider).unwrap_or(0);
        &self.providers[i.min(self.providers.len() - 1)]
    }

    /// The Prometheus text, with `messages` (provider, status, count) and `queue` (waiting messages) from the
    /// database.
    pub fn render(&self, messages: &[(String, String, u64)]) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP pregon_messages Campaign messages by provider and status (from the counters)."
        );
        let _ = writeln!(out, "# TYPE pregon_messages gauge");
        let mut queue = 0;
        for (provider, status, n) in messages {
            let _ = writeln!(
                out,
                "pregon_messages{{provider=\"{provider}\",status=\"{status}\"}} {n}"
            );
            if status == "pending" || status == "queued" {
                queue += n;
            }
        }
        let _ = writeln!(
            out,
            "# HELP pregon_queue_depth Campaign messages waiting to be sent (pending + queued)."
        );
        let _ = writeln!(out, "# TYPE pregon_queue_depth gauge");
        let _ = writeln!(out, "pregon_queue_depth {queue}");
        let _ = writeln!(
            out,
            "# HELP pregon_send_outcomes_total Provider answers by provider and class."
        );
        let _ = writeln!(out, "# TYPE pregon_send_outcomes_total counter");
        for (p, m) in ProviderKind::ALL.iter().zip(&self.providers) {
            for (class, v) in [
                ("accepted", &m.accepted),
                ("transient", &m.transient),
                ("permanent", &m.permanent),
            ] {
                let _ = writeln!(
                    out,
                    "pregon_send_outcomes_total{{provider=\"{p}\",class=\"{class}\"}} {}",
                    v.load(Ordering::Relaxed)
                );
            }
        }
        let _ = writeln!(out, "# HELP pregon_send_latency_seconds Time of one provider request.");
        let _ = writeln!(out, "# TYPE pregon_send_latency_seconds histogram");
        for (p, m) in ProviderKind::ALL.iter().zip(&self.providers) {
            m.latency
                .render(&mut out, "pregon_send_latency_seconds", &format!("provider=\"{p}\","));
        }
        let counters: [(&str, &str, f64); 5] = [
            (
                "pregon_rate_limit_wait_seconds_total",
                "Time senders waited for their reserved send slots.",
                self.rate_limit_wait_micros.load(Ordering::Relaxed) as f64 / 1e6,
            ),
            (
                "pregon_webhook_events_applied_total",
                "Provider status events that moved a message.",
                self.webhook_events_applied.load(Ordering::Relaxed) as f64,
            ),
            (
                "pregon_webhook_events_ignored_total",
                "Provider status events that were late, repeated or matched no message.",
                self.webhook_events_ignored.load(Ordering::Relaxed) as f64,
            ),
            (
                "pregon_webhook_requests_refused_total",
                "Webhook requests refused: bad signature or token, malformed body.",
                self.webhook_requests_refused.load(Ordering::Relaxed) as f64,
            ),
            (
                "pregon_ingest_rows_total",
                "Rows stored by ingestions (messages and rejections).",
                self.ingest_rows.load(Ordering::Relaxed) as f64,
            ),
        ];
        for (name, help, v) in counters {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prometheus_text_with_cumulative_buckets() {
        let m = Metrics::default();
        let meta = m.provider(ProviderKind::Meta);
        meta.accepted.fetch_add(3, Ordering::Relaxed);
        meta.latency.observe(Duration::from_millis(30));
        meta.latency.observe(Duration::from_millis(300));
        let text = m.render(&[("meta".into(), "sent".into(), 7), ("meta".into(), "pending".into(), 5)]);
        assert!(text.contains("pregon_messages{provider=\"meta\",status=\"sent\"} 7"));
        assert!(text.contains("pregon_queue_depth 5"));
        assert!(text.contains("pregon_send_outcomes_total{provider=\"meta\",class=\"accepted\"} 3"));
        assert!(text.contains("pregon_send_latency_seconds_bucket{provider=\"meta\",le=\"0.025\"} 0"));
        assert!(text.contains("pregon_send_latency_seconds_bucket{provider=\"meta\",le=\"0.05\"} 1"));
        assert!(text.contains("pregon_send_latency_seconds_bucket{provider=\"meta\",le=\"0.5\"} 2"));
        assert!(text.contains("pregon_send_latency_seconds_count{provider=\"meta\"} 2"));
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let (_, value) = line.rsplit_once(' ').unwrap_or_default();
            assert!(value.parse::<f64>().is_ok(), "{line}");
        }
    }
}
