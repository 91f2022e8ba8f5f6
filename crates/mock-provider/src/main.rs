//! The mock provider as a process, for benchmarks and chaos scripts: `pregon-mock-provider --listen 127.0.0.1:9090`.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;
use pregon_mock_provider::{DEFAULT_ERROR_CODE, MockConfig, MockProvider, StatusKind, WebhookConfig};

/// A mock Meta WhatsApp Cloud API. Admin: GET /_mock/stats, POST /_mock/reset, GET/POST /_mock/config.
#[derive(Parser, Debug)]
#[command(name = "pregon-mock-provider", version)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:9090")]
    listen: SocketAddr,
    /// Delay before every answer, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Share of requests answered with a permanent error (see --error-code).
    #[arg(long, default_value_t = 0.0)]
    error_ratio: f64,
    /// The permanent Meta error code.
    #[arg(long, default_value_t = DEFAULT_ERROR_CODE)]
    error_code: u32,
    /// Share of requests answered 500/131000 or 503/2.
    #[arg(long, default_value_t = 0.0)]
    transient_ratio: f64,
    /// Messages per second (sliding window); above it 400 with error 130429.
    #[arg(long)]
    rate_limit: Option<u32>,
    /// Answer the first N requests with 429 and Retry-After: 1.
    #[arg(long, default_value_t = 0)]
    throttle_bursts: u32,
    /// Share of requests whose connection is closed without an answer.
    #[arg(long, default_value_t = 0.0)]
    drop_connection_ratio: f64,
    /// Share of accepted messages whose answer is lost (accepted, then the connection closes).
    #[arg(long, default_value_t = 0.0)]
    lost_answer_ratio: f64,
    /// Require `Authorization: Bearer <token>` (401 with error 190 otherwise).
    #[arg(long)]
    access_token: Option<String>,
    /// POST status webhooks here.
    #[arg(long)]
    webhook_url: Option<String>,
    /// App secret signing the webhooks (X-Hub-Signature-256).
    #[arg(long, default_value = "mock-app-secret")]
    app_secret: String,
    /// Delay before the first status and between statuses, in milliseconds.
    #[arg(long, default_value_t = 100)]
    status_delay_ms: u64,
    /// Statuses sent per message, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "sent,delivered,read")]
    statuses: Vec<StatusKind>,
    /// Share of accepted messages that get an asynchronous `failed` status (131049) instead.
    #[arg(long, default_value_t = 0.0)]
    webhook_fail_ratio: f64,
    /// Keep request bodies and headers in memory (off by default: benchmarks send millions).
    #[arg(long)]
    record_bodies: bool,
    /// Accepted requests to make room for up front (growing the recording mid-run stalls the mock briefly).
    #[arg(long, default_value_t = 0)]
    expected_requests: usize,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let webhook = args.webhook_url.map(|url| WebhookConfig {
        delay: Duration::from_millis(args.status_delay_ms),
        statuses: args.statuses,
        fail_ratio: args.webhook_fail_ratio,
        ..WebhookConfig::new(url, args.app_secret)
    });
    let config = MockConfig {
        latency: Duration::from_millis(args.latency_ms),
        error_ratio: args.error_ratio,
        error_code: args.error_code,
        transient_ratio: args.transient_ratio,
        rate_limit: args.rate_limit,
        throttle_bursts: args.throttle_bursts,
        drop_connection_ratio: args.drop_connection_ratio,
        lost_answer_ratio: args.lost_answer_ratio,
        access_token: args.access_token,
        webhook,
        record_bodies: args.record_bodies,
        expected_requests: args.expected_requests,
    };
    let mock = MockProvider::bind(args.listen, config).await?;
    println!("pregon-mock-provider listening on {}", mock.url());
    tokio::signal::ctrl_c().await?;
    Ok(())
}
