//! `/v1/campaigns` and `/v1/messages`: campaigns with their progress, their messages and rejected rows.

use super::error::{ApiError, Json, Path, Query, not_found};
use super::openapi::{
    self, CampaignLinksSchema, CampaignSourceSchema, CampaignStatusSchema, CountsSchema, MessageError,
    MessageStatusSchema, SendWindowSchema, TemplateParamsSchema,
};
use super::page_limit;
use crate::auth::Caller;
use crate::state::AppState;
use axum::extract::State;
use axum::routing::get;
use axum::{Extension, Router};
use chrono::{DateTime, Utc};
use pregon_core::campaign::{Campaign, Counts};
use pregon_core::message::{Message, Rejection};
use pregon_core::template::TemplateParams;
use pregon_core::{AccountId, CampaignId, CampaignStatus, MessageId, MessageStatus};
use pregon_store::{CampaignFilter, MessageFilter};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The campaign and message routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/campaigns", get(list).post(super::uploads::create))
        .route("/campaigns/{campaign}", get(show))
        .route("/campaigns/{campaign}/messages", get(messages))
        .route("/campaigns/{campaign}/rejections", get(rejections))
        .route("/campaigns/{campaign}/events", get(events))
        .route("/messages/{message}", get(message))
}

/// A campaign as the API shows it (DESIGN §6).
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Campaign)]
pub struct CampaignView {
    /// Its id.
    #[schema(value_type = uuid::Uuid)]
    id: CampaignId,
    /// Its name.
    name: String,
    /// Its status.
    #[schema(value_type = CampaignStatusSchema)]
    status: CampaignStatus,
    /// The account it sends through.
    #[schema(value_type = uuid::Uuid)]
    account: AccountId,
    /// The one template of a mapping-model campaign; `null` when rows name theirs.
    template: Option<String>,
    /// That template's language.
    language: Option<String>,
    /// When it starts.
    scheduled_at: Option<DateTime<Utc>>,
    /// When it started sending.
    started_at: Option<DateTime<Utc>>,
    /// When it ended.
    finished_at: Option<DateTime<Utc>>,
    /// Why it is paused (by the user, or by Pregon: failure ratio, template or account refused).
    pause_reason: Option<String>,
    /// Why it failed.
    failure_reason: Option<String>,
    /// Its own rate cap, below the account's.
    rate_cap: Option<u32>,
    /// When it may send.
    #[schema(value_type = Option<SendWindowSchema>)]
    send_window: Option<Value>,
    /// Rows and messages by outcome.
    #[schema(value_type = CountsSchema)]
    counts: Counts,
    /// The uploaded file: name, size, SHA-256, format and the archives around it.
    #[schema(value_type = Option<CampaignSourceSchema>)]
    source: Option<Value>,
    /// Share of messages done, 0–100.
    percent: f64,
    /// While messages are left: measured over the last 10 s while running, else the rate it will send at.
    rate_per_second: Option<f64>,
    /// While messages are left: seconds to go at that rate.
    eta_seconds: Option<u64>,
    /// When a closed send window opens, if the campaign waits for it.
    window_opens_at: Option<DateTime<Utc>>,
    /// When it was created.
    created_at: DateTime<Utc>,
    /// Where to read more.
    #[schema(value_type = CampaignLinksSchema)]
    links: Value,
}

impl From<Campaign> for CampaignView {
    fn from(c: Campaign) -> Self {
        let id = c.id;
        CampaignView {
            id,
            percent: c.counts.percent(),
            name: c.name,
            status: c.status,
            account: c.account_id,
            template: c.template_name,
            language: c.language,
            scheduled_at: c.scheduled_at,
            started_at: c.started_at,
            finished_at: c.finished_at,
            pause_reason: c.pause_reason,
            failure_reason: c.failure_reason,
            rate_cap: c.rate_cap,
            send_window: c.send_window,
            counts: c.counts,
            source: c.source,
            // Filled in by `plan` where the account is at hand.
            rate_per_second: None,
            eta_seconds: None,
            window_opens_at: None,
            created_at: c.created_at,
            links: json!({
                "self": format!("/v1/campaigns/{id}"),
                "messages": format!("/v1/campaigns/{id}/messages"),
                "rejections": format!("/v1/campaigns/{id}/rejections"),
            }),
        }
    }
}

/// The send rate shown is the mean of this many whole seconds.
const RATE_SECONDS: u32 = 10;

impl CampaignView {
    /// Show the measured send rate, and the ETA at that rate once the campaign has been sending for a while.
    fn measured(&mut self, rate: f64, c: &Campaign) {
        self.rate_per_second = Some((rate * 10.0).round() / 10.0);
        let open = c.counts.pending + c.counts.queued + c.counts.sending;
        if rate >= 0.5 && self.window_opens_at.is_none() {
            self.eta_seconds = Some((open as f64 / rate).ceil() as u64);
        }
    }

    /// The pace and ETA of a campaign that still has messages to send: its rate (its cap, else the account's) and
    /// how long the rest takes at that rate — plus, when its window (in one zone) is closed, the wait for it to open,
    /// given as `window_opens_at`.
    fn plan(&mut self, c: &Campaign, account_rate: u32, now: DateTime<Utc>) {
        let open = c.counts.pending + c.counts.queued + c.counts.sending;
        if open == 0 || c.status.is_terminal() || c.status == CampaignStatus::Completed {
            return;
        }
        let rate = c.rate_cap.unwrap_or(account_rate).min(account_rate).max(1);
        let mut eta = open.div_ceil(u64::from(rate));
        let window = c
            .send_window
            .as_ref()
            .and_then(|w| pregon_core::window::SendWindow::from_json(w).ok());
        if let Some(w) = window
            && let pregon_core::window::WindowZone::Fixed(tz) = w.zone
        {
            let opens = w.next_open(now, tz);
            if opens > now {
                eta += u64::try_from((opens - now).num_seconds()).unwrap_or(0);
                self.window_opens_at = Some(opens);
            }
        }
        let start = match (c.status, c.scheduled_at) {
            (CampaignStatus::Scheduled, Some(at)) if at > now => u64::try_from((at - now).num_seconds()).unwrap_or(0),
            _ => 0,
        };
        self.rate_per_second = Some(f64::from(rate));
        self.eta_seconds = Some(start + eta);
    }
}

/// A message as the API shows it.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Message)]
pub struct MessageView {
    /// Its id.
    #[schema(value_type = uuid::Uuid)]
    id: MessageId,
    /// Its campaign; `null` for a single send.
    #[schema(value_type = Option<uuid::Uuid>)]
    campaign: Option<CampaignId>,
    /// The account it goes through.
    #[schema(value_type = uuid::Uuid)]
    account: AccountId,
    /// The row of the file it came from.
    row_number: Option<u64>,
    /// The recipient, E.164.
    phone: String,
    /// The template's name.
    template: String,
    /// The template's language.
    language: String,
    /// The values filling the template.
    #[schema(value_type = TemplateParamsSchema)]
    params: TemplateParams,
    /// The text the recipient sees.
    rendered_text: Option<String>,
    /// The row's `flag`, echoed in callbacks.
    flag: Option<String>,
    /// Its status.
    #[schema(value_type = MessageStatusSchema)]
    status: MessageStatus,
    /// The provider's id (Meta's `wamid…`), once sent.
    provider_message_id: Option<String>,
    /// Why it failed.
    #[schema(value_type = Option<MessageError>)]
    error: Option<Value>,
    /// Send attempts so far.
    attempts: u32,
    /// When it was stored.
    created_at: DateTime<Utc>,
    /// When it last changed.
    updated_at: DateTime<Utc>,
    /// When the provider accepted it.
    sent_at: Option<DateTime<Utc>>,
    /// When it reached the phone.
    delivered_at: Option<DateTime<Utc>>,
    /// When it was read.
    read_at: Option<DateTime<Utc>>,
    /// When it failed.
    failed_at: Option<DateTime<Utc>>,
}

impl From<Message> for MessageView {
    fn from(m: Message) -> Self {
        let error = (m.error_code.is_some() || m.error_message.is_some())
            .then(|| json!({"code": m.error_code, "message": m.error_message}));
        MessageView {
            id: m.id,
            campaign: m.campaign_id,
            account: m.account_id,
            row_number: m.row_number,
            phone: m.phone,
            template: m.template_name,
            language: m.language,
            params: m.params,
            rendered_text: m.rendered_text,
            flag: m.flag,
            status: m.status,
            provider_message_id: m.provider_message_id,
            error,
            attempts: m.attempts,
            created_at: m.created_at,
            updated_at: m.updated_at,
            sent_at: m.sent_at,
            delivered_at: m.delivered_at,
            read_at: m.read_at,
            failed_at: m.failed_at,
        }
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ListCampaigns {
    /// Only campaigns in this status.
    #[param(value_type = Option<CampaignStatusSchema>)]
    status: Option<CampaignStatus>,
    /// Only campaigns of this account (its id).
    #[param(value_type = Option<uuid::Uuid>)]
    account: Option<AccountId>,
    /// The `next_cursor` of the previous page.
    #[param(value_type = Option<uuid::Uuid>)]
    cursor: Option<CampaignId>,
    /// Page size, 1–1000 (default 100).
    limit: Option<u32>,
}

/// The app's campaigns, newest first.
#[utoipa::path(
    get, operation_id = "listCampaigns", path = "/v1/campaigns", tag = "native", security(("bearer" = []), ("basic" = [])),
    params(ListCampaigns),
    responses(
        (status = 200, description = "A page of campaigns.", body = openapi::CampaignPage),
        (status = 400, response = openapi::BadRequest),
        (status = 401, response = openapi::Unauthorized),
    ),
)]
async fn list(
    State(state): State<AppState>,
    Extension(Caller(app)): Extension<Caller>,
    Query(q): Query<ListCampaigns>,
) -> Result<Json<Value>, ApiError> {
    let limit = page_limit(q.limit);
    let filter = CampaignFilter {
        status: q.status,
        account_id: q.account,
        before: q.cursor,
        limit,
    };
    let campaigns = state.store.list_campaigns(app.id, &filter).await?;
    let next = (campaigns.len() == limit as usize)
        .then(|| campaigns.last().map(|c| c.id))
        .flatten();
    let data: Vec<CampaignView> = campaigns.into_iter().map(Into::into).collect();
    Ok(Json(json!({ "data": data, "next_cursor": next })))
}

/// A campaign: status, counters, progress, ETA, links.
#[utoipa::path(
    get, operation_id = "getCampaign", path = "/v1/campaigns/{campaign}", tag = "native", security(("bearer" = []), ("basic" = [])),
    params(("campaign" = uuid::Uuid, Path, description = "The campaign's id.")),
    responses(
        (status = 200, description = "The campaign.", body = CampaignView),
        (status = 401, response = openapi::Unauthorized),
        (status = 404, response = openapi::NotFound),
    ),
)]
async fn show(
    State(state): State<AppState>,
    Extension(Caller(app)): Extension<Caller>,
    Path(id): Path<CampaignId>,
) -> Result<Json<CampaignView>, ApiError> {
    let c = state
        .store
        .get_campaign(app.id, id)
        .await
        .map_err(not_found("campaign"))?;
    let account = state.store.get_account(app.id, c.account_id).await?;
    let now = state.clock.now();
    let mut view = CampaignView::from(c.clone());
    view.plan(&c, account.settings.rate_per_second, now);
    if c.status == CampaignStatus::Running {
        let measured = state.store.send_queue().send_rate(c.id, RATE_SECONDS, now).await?;
        view.measured(measured, &c);
    }
    Ok(Json(view))
}

/// `GET /v1/campaigns/{id}/events`: server-sent events. A `progress` event with the campaign (as `GET` shows it)
/// at once and whenever its status or counters change (checked every half second); the stream ends after the
/// campaign reaches `completed`, `cancelled` or `failed`.
#[utoipa::path(
    get, operation_id = "campaignEvents", summary = "Follow a campaign live (server-sent events)", path = "/v1/campaigns/{campaign}/events", tag = "native", security(("bearer" = []), ("basic" = [])),
    params(("campaign" = uuid::Uuid, Path, description = "The campaign's id.")),
    responses(
        (status = 200, description = "Server-sent events: `event: progress` with `data:` the campaign as `GET \
            /v1/campaigns/{campaign}` shows it (the `Campaign` schema), at once and on every change; the stream ends \
            with the campaign.", content_type = "text/event-stream", body = String),
        (status = 401, response = openapi::Unauthorized),
        (status = 404, response = openapi::NotFound),
    ),
)]
async fn events(
    State(state): State<AppState>,
    Extension(Caller(app)): Extension<Caller>,
    Path(id): Path<CampaignId>,
) -> Result<
    axum::response::sse::Sse<impl futures::Stream<Item = Result<axum::response::sse::Event, std::convert::Infallible>>>,
    ApiError,
> {
    use axum::response::sse::{Event, KeepAlive, Sse};
    state
        .store
        .get_campaign(app.id, id)
        .await
        .map_err(not_found("campaign"))?;
    let stream = futures::stream::unfold((state, None::<String>, false), move |(state, last, done)| async move {
        if done {
            return None;
        }
        loop {
            let campaign = match state.store.get_campaign(app.id, id).await {
                Ok(c) => c,
                Err(e) => {
                    let event = Event::default().event("error").data(e.to_string());
                    return Some((Ok(event), (state, last, true)));
                }
            };
            let finished = matches!(
                campaign.status,
                CampaignStatus::Completed | CampaignStatus::Cancelled | CampaignStatus::Failed
            );
            let rate = state
                .store
                .get_account(app.id, campaign.account_id)
                .await
                .map(|a| a.settings.rate_per_second)
                .unwrap_or(1);
            let mut view = CampaignView::from(campaign.clone());
            view.plan(&campaign, rate, state.clock.now());
            let body = serde_json::to_string(&view).unwrap_or_default();
            // Timestamps of the view change every poll only through the ETA; compare what moves.
            let key = format!("{}|{:?}|{:?}", campaign.status, campaign.counts, campaign.pause_reason);
            if last.as_deref() != Some(key.as_str()) {
                let event = Event::default().event("progress").data(body);
                return Some((Ok(event), (state, Some(key), finished)));
            }
            let mut stopping = state.stopping.subscribe();
            tokio::select! {
                () = tokio::time::sleep(std::time::Duration::from_millis(500)) => {}
                _ = stopping.wait_for(|stopping| *stopping) => return None,
            }
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ListMessages {
    /// Only messages in this status.
    #[param(value_type = Option<MessageStatusSchema>)]
    status: Option<MessageStatus>,
    /// The `next_cursor` of the previous page.
    #[param(value_type = Option<uuid::Uuid>)]
    cursor: Option<MessageId>,
    /// Page size, 1–1000 (default 100).
    limit: Option<u32>,
    /// `csv` for the whole report as CSV (or send `Accept: text/csv`).
    format: Option<String>,
}

/// A campaign's messages, oldest first: the rendered text each recipient sees, status, provider id, error.
#[utoipa::path(
    get, operation_id = "listCampaignMessages", path = "/v1/campaigns/{campaign}/messages", tag = "native", security(("bearer" = []), ("basic" = [])),
    params(("campaign" = uuid::Uuid, Path, description = "The campaign's id."), ListMessages),
    responses(
        (status = 200, description = "A page of messages; or, with `Accept: text/csv` or `format=csv`, the whole \
            report as CSV, streamed.", content(
                (openapi::MessagePage = "application/json"),
                (String = "text/csv"),
            )),
        (status = 400, response = openapi::BadRequest),
        (status = 401, response = openapi::Unauthorized),
        (status = 404, response = openapi::NotFound),
    ),
)]
async fn messages(
    State(state): State<AppState>,
    Extension(Caller(app)): Extension<Caller>,
    Path(id): Path<CampaignId>,
    Query(q): Query<ListMessages>,
    headers: axum::http::HeaderMap,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    state
        .store
        .get_campaign(app.id, id)
        .await
        .map_err(not_found("campaign"))?;
    if wants_csv(&headers, q.format.as_deref()) {
        return Ok(messages_csv(state, app.id, id, q.status));
    }
    let limit = page_limit(q.limit);
    let filter = MessageFilter {
        status: q.status,
        after: q.cursor,
        limit,
    };
    let messages = state.store.list_messages(app.id, id, &filter).await?;
    let next = (messages.len() == limit as usize)
        .then(|| messages.last().map(|m| m.id))
        .flatten();
    let data: Vec<MessageView> = messages.into_iter().map(Into::into).collect();
    Ok(Json(json!({ "data": data, "next_cursor": next })).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ListRejections {
    /// The last row number of the previous page.
    cursor: Option<u64>,
    /// Page size, 1–1000 (default 100).
    limit: Option<u32>,
    /// `csv` for the whole list as CSV (or send `Accept: text/csv`).
    format: Option<String>,
}

/// A campaign's rejected rows: row number, column, code, message.
#[utoipa::path(
    get, operation_id = "listCampaignRejections", path = "/v1/campaigns/{campaign}/rejections", tag = "native", security(("bearer" = []), ("basic" = [])),
    params(("campaign" = uuid::Uuid, Path, description = "The campaign's id."), ListRejections),
    responses(
        (status = 200, description = "A page of rejected rows; or, with `Accept: text/csv` or `format=csv`, all of \
            them as CSV, streamed.", content(
                (openapi::RejectionPage = "application/json"),
                (String = "text/csv"),
            )),
        (status = 400, response = openapi::BadRequest),
        (status = 401, response = openapi::Unauthorized),
        (status = 404, response = openapi::NotFound),
    ),
)]
async fn rejections(
    State(state): State<AppState>,
    Extension(Caller(app)): Extension<Caller>,
    Path(id): Path<CampaignId>,
    Query(q): Query<ListRejections>,
    headers: axum::http::HeaderMap,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    state
        .store
        .get_campaign(app.id, id)
        .await
        .map_err(not_found("campaign"))?;
    if wants_csv(&headers, q.format.as_deref()) {
        return Ok(rejections_csv(state, app.id, id));
    }
    let limit = page_limit(q.limit);
    let rows: Vec<Rejection> = state.store.list_rejections(app.id, id, q.cursor, limit).await?;
    let next = (rows.len() == limit as usize)
        .then(|| rows.last().map(|r| r.row_number))
        .flatten();
    Ok(Json(json!({ "data": rows, "next_cursor": next })).into_response())
}

/// `Accept: text/csv` or `?format=csv`.
fn wants_csv(headers: &axum::http::HeaderMap, format: Option<&str>) -> bool {
    format == Some("csv")
        || headers
            .get(axum::http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/csv"))
}

/// Every rejected row as CSV, streamed page by page: a million rejections never sit in memory.
fn rejections_csv(state: AppState, app: pregon_core::AppId, id: CampaignId) -> axum::response::Response {
    csv_download(
        format!("rejections-{id}.csv"),
        &["row_number", "column", "code", "message"],
        move |after: Option<u64>| {
            let state = state.clone();
            async move { state.store.list_rejections(app, id, after, CSV_PAGE).await }
        },
        |r: &Rejection| r.row_number,
        |r: &Rejection| {
            vec![
                r.row_number.to_string(),
                r.column.clone().unwrap_or_default(),
                r.code.clone(),
                r.message.clone(),
            ]
        },
    )
}

/// The whole message report as CSV, streamed page by page (never the whole campaign in memory).
fn messages_csv(
    state: AppState,
    app: pregon_core::AppId,
    id: CampaignId,
    status: Option<MessageStatus>,
) -> axum::response::Response {
    let time = |t: &Option<DateTime<Utc>>| t.map(|t| t.to_rfc3339()).unwrap_or_default();
    csv_download(
        format!("messages-{id}.csv"),
        &[
            "id",
            "row_number",
            "phone",
            "template",
            "language",
            "status",
            "rendered_text",
            "flag",
            "provider_message_id",
            "error_code",
            "error_message",
            "attempts",
            "sent_at",
            "delivered_at",
            "read_at",
            "failed_at",
        ],
        move |after: Option<MessageId>| {
            let state = state.clone();
            async move {
                let filter = MessageFilter {
                    status,
                    after,
                    limit: CSV_PAGE,
                };
                state.store.list_messages(app, id, &filter).await
            }
        },
        |m: &Message| m.id,
        move |m: &Message| {
            vec![
                m.id.to_string(),
                m.row_number.map(|r| r.to_string()).unwrap_or_default(),
                m.phone.clone(),
                m.template_name.clone(),
                m.language.clone(),
                m.status.as_str().to_owned(),
                m.rendered_text.clone().unwrap_or_default(),
                m.flag.clone().unwrap_or_default(),
                m.provider_message_id.clone().unwrap_or_default(),
                m.error_code.clone().unwrap_or_default(),
                m.error_message.clone().unwrap_or_default(),
                m.attempts.to_string(),
                time(&m.sent_at),
                time(&m.delivered_at),
                time(&m.read_at),
                time(&m.failed_at),
            ]
        },
    )
}

/// Rows per page of a CSV download.
const CSV_PAGE: u32 = 1000;

/// Stream a CSV file: the header, then `fetch`'s pages (keyset: each page after the `cursor` of the last row of the
/// one before) until a short page, each row written by `record`.
fn csv_download<C, R, F, Fut>(
    filename: String,
    header: &'static [&'static str],
    fetch: F,
    cursor: fn(&R) -> C,
    record: impl Fn(&R) -> Vec<String> + Send + Sync + 'static,
) -> axum::response::Response
where
    C: Send + 'static,
    R: Send + 'static,
    F: Fn(Option<C>) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<Vec<R>, pregon_store::StoreError>> + Send,
{
    use axum::response::IntoResponse;
    let head = futures::stream::once(async move {
        let mut line = header.join(",");
        line.push('\n');
        Ok::<_, std::io::Error>(bytes::Bytes::from(line))
    });
    let fetch = std::sync::Arc::new(fetch);
    let record = std::sync::Arc::new(record);
    let pages = futures::stream::unfold(Some(None::<C>), move |after| {
        let (fetch, record) = (fetch.clone(), record.clone());
        async move {
            let after = after?;
            let rows = match fetch(after).await {
                Ok(rows) => rows,
                Err(e) => return Some((Err(std::io::Error::other(e.to_string())), None)),
            };
            if rows.is_empty() {
                return None;
            }
            let next = (rows.len() == CSV_PAGE as usize).then(|| rows.last().map(cursor));
            let mut w = csv::Writer::from_writer(Vec::new());
            for r in &rows {
                if let Err(e) = w.write_record(record(r)) {
                    return Some((Err(std::io::Error::other(e.to_string())), None));
                }
            }
            let bytes = w.into_inner().map_err(|e| std::io::Error::other(e.to_string()));
            Some((bytes.map(bytes::Bytes::from), next))
        }
    });
    let body = axum::body::Body::from_stream(futures::StreamExt::chain(head, pages));
    (
        [
            (axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// One message, of a campaign or sent alone.
#[utoipa::path(
    get, operation_id = "getMessage", path = "/v1/messages/{message}", tag = "native", security(("bearer" = []), ("basic" = [])),
    params(("message" = uuid::Uuid, Path, description = "The message's id.")),
    responses(
        (status = 200, description = "The message.", body = MessageView),
        (status = 401, response = openapi::Unauthorized),
        (status = 404, response = openapi::NotFound),
    ),
)]
async fn message(
    State(state): State<AppState>,
    Extension(Caller(app)): Extension<Caller>,
    Path(id): Path<MessageId>,
) -> Result<Json<MessageView>, ApiError> {
    let m = state
        .store
        .get_message(app.id, id)
        .await
        .map_err(not_found("message"))?;
    Ok(Json(m.into()))
}
