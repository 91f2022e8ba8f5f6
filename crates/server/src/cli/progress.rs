//! Progress on stderr with indicatif. Every bar draws to stderr, which indicatif leaves blank when stderr is not a
//! terminal (a pipe, a CI log): the results on stdout are the same either way.

use super::campaigns::CampaignInfo;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use pregon_core::MessageStatus;
use std::time::Duration;

/// A style from a template known to be valid; the plain default if it were not (a bar is never worth a panic).
fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

/// Bytes of the file sent so far, out of its size.
pub fn upload_bar(size: u64) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(size), ProgressDrawTarget::stderr());
    bar.set_style(style(
        "uploading [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} {eta}",
    ));
    bar
}

/// Rows read while the server ingests the file: the total is not known until the end, so a spinner with counts.
pub fn ingest_spinner() -> ProgressBar {
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(style("{spinner} reading rows: {pos} read, {msg}"));
    bar.set_message("0 accepted, 0 rejected");
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// Show the counts of an ingesting campaign on its spinner.
pub fn show_ingest(bar: &ProgressBar, c: &CampaignInfo) {
    bar.set_position(c.counts.rows);
    bar.set_message(format!(
        "{} accepted, {} rejected",
        c.counts.accepted, c.counts.rejected
    ));
}

/// The message statuses `campaign status --watch` draws a bar for, in lifecycle order.
pub const WATCHED: &[MessageStatus] = &[
    MessageStatus::Pending,
    MessageStatus::Queued,
    MessageStatus::Sending,
    MessageStatus::Sent,
    MessageStatus::Delivered,
    MessageStatus::Read,
    MessageStatus::Failed,
    MessageStatus::Cancelled,
    MessageStatus::Suppressed,
];

/// A line for the campaign (status, rate, ETA) and a bar per message status, each out of the accepted messages.
pub struct StatusBars {
    header: ProgressBar,
    bars: Vec<(MessageStatus, ProgressBar)>,
}

impl StatusBars {
    /// Bars for `c`, drawn at once.
    pub fn new(c: &CampaignInfo) -> StatusBars {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let header = multi.add(ProgressBar::new_spinner());
        header.set_style(style("{spinner} {msg}"));
        header.enable_steady_tick(Duration::from_millis(120));
        let bars = WATCHED
            .iter()
            .map(|&status| {
                let bar = multi.add(ProgressBar::new(c.counts.accepted.max(1)));
                bar.set_style(style("{prefix:>10} [{bar:40}] {pos}/{len}"));
                bar.set_prefix(status.as_str());
                (status, bar)
            })
            .collect();
        let bars = StatusBars { header, bars };
        bars.update(c);
        bars
    }

    /// Show the counts of `c`.
    pub fn update(&self, c: &CampaignInfo) {
        self.header.set_message(headline(c));
        for (status, bar) in &self.bars {
            bar.set_length(c.counts.accepted.max(1));
            bar.set_position(c.counts.of(*status));
        }
    }

    /// Leave the last state on screen and stop drawing. `abandon`, not `finish`: finishing fills every bar to its
    /// length, which would show a cancelled campaign as all sent.
    pub fn finish(&self) {
        self.header.abandon();
        for (_, bar) in &self.bars {
            bar.abandon();
        }
    }
}

/// `running · 12.0 msg/s · 40 s left · 35%`: what a person watching wants to know at a glance.
pub fn headline(c: &CampaignInfo) -> String {
    let mut parts = vec![format!("{} {}", c.name, c.status)];
    if let Some(reason) = c.pause_reason.as_deref().or(c.failure_reason.as_deref()) {
        parts.push(reason.to_owned());
    }
    if let Some(rate) = c.rate_per_second {
        parts.push(format!("{rate} msg/s"));
    }
    if let Some(eta) = c.eta_seconds {
        parts.push(format!("{eta} s left"));
    }
    parts.push(format!("{:.0}%", c.percent));
    parts.join(" · ")
}
