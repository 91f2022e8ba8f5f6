//! The web dashboard: its static files, compiled into the binary and served at `/` and `/ui/…` without a token
//! (they hold no data; every API call the page makes sends the token), and the one API it needs beyond the rest of
//! `/v1`: a campaign's sends over time.

use super::error::{ApiError, Json, Path, Query, not_found};
use crate::auth::Caller;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use chrono::{DateTime, Utc};
use pregon_core::CampaignId;
use pregon_core::campaign::Campaign;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

/// The page and its files, public (merged outside `/v1`).
pub fn public_routes() -> Router<AppState> {
    Router::new().route("/", get(index)).route("/ui/{file}", get(asset))
}

/// The dashboard's API routes (under `/v1`, behind the app token).
pub fn routes() -> Router<AppState> {
    Router::new().route("/campaigns/{campaign}/timeline", get(timeline))
}

/// A file of the dashboard.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

/// Every file under `crates/server/ui/`. A module imported by `app.js` but missing here is a 404 in the browser;
/// the test `every_module_the_page_imports_is_served` catches it.
const ASSETS: &[Asset] = &[
    Asset {
        name: "index.html",
        content_type: "text/html; charset=utf-8",
        body: include_bytes!("../../ui/index.html"),
    },
    Asset {
        name: "app.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../../ui/app.css"),
    },
    Asset {
        name: "app.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../ui/app.js"),
    },
    Asset {
        name: "api.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../ui/api.js"),
    },
    Asset {
        name: "dom.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../ui/dom.js"),
    },
    Asset {
        name: "preview.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../ui/preview.js"),
    },
    Asset {
        name: "chart.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../ui/chart.js"),
    },
    Asset {
        name: "views.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../ui/views.js"),
    },
    Asset {
        name: "favicon.svg",
        content_type: "image/svg+xml",
        body: include_bytes!("../../ui/favicon.svg"),
    },
];

/// Only the server's own files: no inline script or style, no other origin, no framing. The page builds its DOM
/// with `textContent` and sets sizes through the CSSOM, which this policy allows.
const CSP: &str = "default-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Strong validators for the files, computed once: the names are not versioned, so browsers revalidate
/// (`no-cache`) and get a `304` while the binary is the same.
fn etags() -> &'static [String] {
    static ETAGS: OnceLock<Vec<String>> = OnceLock::new();
    ETAGS.get_or_init(|| {
        ASSETS
            .iter()
            .map(|a| format!("\"{}\"", &hex::encode(Sha256::digest(a.body))[..32]))
            .collect()
    })
}

fn serve(name: &str, request: &HeaderMap) -> Response {
    let Some(i) = ASSETS.iter().position(|a| a.name == name) else {
        return ApiError::not_found("file").into_response();
    };
    let asset = &ASSETS[i];
    let etag = &etags()[i];
    let fresh = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, asset.content_type)], asset.body).into_response()
    };
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(etag) {
        headers.insert(header::ETAG, v);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

/// The dashboard's page.
#[utoipa::path(
    get, operation_id = "dashboard", summary = "The web dashboard", path = "/", tag = "operations",
    responses((status = 200, description = "The dashboard's HTML page (sign in with an app token).",
        content_type = "text/html", body = String)),
)]
async fn index(headers: HeaderMap) -> Response {
    serve("index.html", &headers)
}

/// One of the dashboard's files.
#[utoipa::path(
    get, operation_id = "dashboardAsset", summary = "A file of the web dashboard", path = "/ui/{file}", tag = "operations",
    params(("file" = String, Path, description = "The file's name, e.g. `app.js`.")),
    responses(
        (status = 200, description = "The file, with its content type and an `ETag`.", body = String),
        (status = 304, description = "Not modified (`If-None-Match` matched)."),
        (status = 404, response = super::openapi::NotFound),
    ),
)]
async fn asset(Path(file): Path<String>, headers: HeaderMap) -> Response {
    serve(&file, &headers)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TimelineQuery {
    /// Seconds per bucket; chosen from the campaign's duration when absent.
    bucket: Option<u32>,
}

/// The most buckets one answer may span.
const MAX_POINTS: i64 = 10_000;
/// Bucket sizes offered when the caller names none: round figures a chart's axis can label.
const BUCKETS: [u32; 17] = [
    1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21_600, 43_200, 86_400,
];
/// About this many buckets when the bucket is chosen for the caller.
const AUTO_POINTS: i64 = 120;

/// How long the campaign has been sending (or sent): from its start to its end, or to `now`.
fn span_seconds(c: &Campaign, now: DateTime<Utc>) -> i64 {
    let Some(start) = c.started_at else { return 0 };
    (c.finished_at.unwrap_or(now) - start).num_seconds().max(0)
}

/// The smallest round bucket that draws the span in at most [`AUTO_POINTS`] buckets.
fn auto_bucket(span: i64) -> u32 {
    BUCKETS
        .into_iter()
        .find(|b| span / i64::from(*b) < AUTO_POINTS)
        .unwrap_or(86_400)
}

/// A campaign's sends over time.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Timeline {
    /// Seconds per bucket.
    bucket_seconds: u32,
    /// When the campaign started sending.
    started_at: Option<DateTime<Utc>>,
    /// When it ended.
    finished_at: Option<DateTime<Utc>>,
    /// Messages accepted by the provider, over every bucket.
    total: u64,
    /// The buckets with sends, oldest first.
    data: Vec<TimelinePoint>,
}

/// Messages accepted by the provider in one bucket.
#[derive(Serialize, utoipa::ToSchema)]
pub struct TimelinePoint {
    /// The bucket's start (a multiple of the bucket size since the Unix epoch).
    at: DateTime<Utc>,
    /// Messages accepted in it.
    sent: u64,
}

/// `GET /v1/campaigns/{id}/timeline?bucket=N`: messages accepted by the provider per bucket of N seconds, oldest
/// first, buckets without sends left out; as far back as `send_timeline_retention_days`.
#[utoipa::path(
    get, operation_id = "campaignTimeline", summary = "A campaign's sends over time",
    path = "/v1/campaigns/{campaign}/timeline", tag = "native", security(("bearer" = []), ("basic" = [])),
    params(
        ("campaign" = uuid::Uuid, Path, description = "The campaign's id."),
        ("bucket" = Option<u32>, Query, description = "Seconds per bucket, 1 to 86400 (at most 10,000 buckets); \
            by default the smallest round size that draws the campaign in under 120 buckets."),
    ),
    responses(
        (status = 200, description = "Sends per bucket.", body = Timeline),
        (status = 401, response = super::openapi::Unauthorized),
        (status = 404, response = super::openapi::NotFound),
        (status = 422, response = super::openapi::Unprocessable),
    ),
)]
async fn timeline(
    State(state): State<AppState>,
    Extension(Caller(app)): Extension<Caller>,
    Path(id): Path<CampaignId>,
    Query(q): Query<TimelineQuery>,
) -> Result<Json<Timeline>, ApiError> {
    let c = state
        .store
        .get_campaign(app.id, id)
        .await
        .map_err(not_found("campaign"))?;
    let span = span_seconds(&c, state.clock.now());
    let bucket = match q.bucket {
        None => auto_bucket(span),
        Some(b) if !(1..=86_400).contains(&b) => {
            return Err(ApiError::invalid_field("bucket", "`bucket` must be 1 to 86400 seconds"));
        }
        Some(b) if span / i64::from(b) >= MAX_POINTS => {
            let least = span / MAX_POINTS + 1;
            return Err(ApiError::invalid_field(
                "bucket",
                format!(
                    "this campaign spans {span} s: `bucket` must be at least {least} s (at most {MAX_POINTS} buckets)"
                ),
            ));
        }
        Some(b) => b,
    };
    let points = state.store.send_queue().send_timeline(id, bucket).await?;
    Ok(Json(Timeline {
        bucket_seconds: bucket,
        started_at: c.started_at,
        finished_at: c.finished_at,
        total: points.iter().map(|(_, n)| n).sum(),
        data: points
            .into_iter()
            .map(|(at, sent)| TimelinePoint { at, sent })
            .collect(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_automatic_bucket_keeps_the_chart_under_its_points() {
        assert_eq!(auto_bucket(0), 1);
        assert_eq!(auto_bucket(119), 1);
        assert_eq!(auto_bucket(120), 2);
        assert_eq!(auto_bucket(3_600), 60);
        assert_eq!(auto_bucket(7 * 86_400), 7_200);
        assert_eq!(auto_bucket(1_000 * 86_400), 86_400);
        for span in [0, 1, 59, 61, 599, 3_601, 86_399, 604_800] {
            assert!(span / i64::from(auto_bucket(span)) < AUTO_POINTS, "{span}");
        }
    }

    #[test]
    fn every_asset_has_a_distinct_name_and_etag() {
        let mut names: Vec<_> = ASSETS.iter().map(|a| a.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ASSETS.len());
        let mut tags = etags().to_vec();
        tags.sort();
        tags.dedup();
        assert_eq!(tags.len(), ASSETS.len());
    }
}
