//! Ingestion as a durable job. The campaign row is the job: any `pregon` process claims an `ingesting` campaign
//! with a lease, reads its uploaded file from the database, and stores rows in batches, each batch in one
//! transaction with the last row it covers. A process that dies loses its lease; the next one resumes after the last
//! stored row, so no row is stored twice. The campaign becomes `scheduled` when the whole file is stored, or `failed`
//! with the reason and nothing kept.

use crate::state::AppState;
use pregon_core::AppId;
use pregon_core::campaign::Account;
use pregon_core::template::Template;
use pregon_ingest::limits::Limits;
use pregon_ingest::model::{JelouMapping, MediaRef, RowModel};
use pregon_ingest::pipeline::{self, Batch, PipelineError, PipelineOptions};
use pregon_ingest::source::OpenOptions;
use pregon_ingest::validate::{CampaignDefaults, TemplateBook};
use pregon_store::{DynStore, IngestBatch, IngestClaim, StoreError};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::time::Duration;

/// How long a claim holds before another process may take the campaign over. Every stored batch renews it.
pub const LEASE: Duration = Duration::from_secs(60);
/// Rows per stored batch.
pub const BATCH_ROWS: usize = 5_000;

/// What an upload asked for, kept as the campaign's `options` so that a resumed ingestion reads the file alike.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestSpec {
    /// `chat_tonic` (named columns, per-row template) or `jelou` (a parameter→column mapping, one template).
    pub model: String,
    /// Jelou `params`: `[{"param": 1, "column": "name"}, …]`.
    #[serde(default)]
    pub params: serde_json::Value,
    /// The sheet an XLS/XLSX must have (`campaign` for Chat-Tonic), if any.
    #[serde(default)]
    pub sheet: Option<String>,
    /// The campaign's template, when rows do not name one.
    #[serde(default)]
    pub template: Option<String>,
    /// Its language.
    #[serde(default)]
    pub language: Option<String>,
    /// Header media for every row (Jelou `mediaUrl`).
    #[serde(default)]
    pub media_url: Option<String>,
    /// Its kind (`image`, `video`, `document`).
    #[serde(default)]
    pub media_type: Option<String>,
    /// Quick-reply payloads by button, serialised (Jelou `buttonPayloads`).
    #[serde(default)]
    pub button_payloads: Vec<String>,
}

/// Names of the two row models.
pub const CHAT_TONIC: &str = "chat_tonic";
/// The Jelou model.
pub const JELOU: &str = "jelou";

impl IngestSpec {
    /// The row model, or why the spec is unusable (a bad `params` mapping).
    pub fn row_model(&self) -> Result<RowModel, String> {
        match self.model.as_str() {
            JELOU => {
                let params = if self.params.is_null() {
                    serde_json::json!([])
                } else {
                    self.params.clone()
                };
                Ok(RowModel::Jelou(JelouMapping::from_json(&params)?))
            }
            _ => Ok(RowModel::ChatTonic),
        }
    }

    /// Everything the pipeline needs to read the file for `account`.
    pub fn pipeline_options(
        &self,
        account: &Account,
        limits: Limits,
        skip_through: u64,
    ) -> Result<PipelineOptions, String> {
        self.pipeline_options_with(
            account.settings.default_language.clone(),
            account.settings.default_region.clone(),
            limits,
            skip_through,
        )
    }

    /// The same with the account's defaults given apart: `pregon validate` reads a file offline, with no account.
    pub fn pipeline_options_with(
        &self,
        default_language: Option<String>,
        default_region: Option<String>,
        limits: Limits,
        skip_through: u64,
    ) -> Result<PipelineOptions, String> {
        Ok(PipelineOptions {
            model: self.row_model()?,
            open: OpenOptions {
                sheet: self.sheet.clone(),
                limits,
            },
            defaults: CampaignDefaults {
                template: self.template.clone().map(|t| (t, self.language.clone())),
                default_language,
                default_region,
                media: self.media_url.clone().map(|url| MediaRef {
                    from: Some("URL".into()),
                    kind: self.media_type.clone(),
                    url,
                }),
                button_payloads: self.button_payloads.clone(),
            },
            skip_through,
            batch_size: BATCH_ROWS,
        })
    }
}

/// The account's templates, ready for validation.
pub async fn template_book(store: &DynStore, app: AppId, account: &Account) -> Result<TemplateBook, StoreError> {
    let stored = store.list_templates(app, account.id).await?;
    // Stored definitions were validated when written; one that no longer parses is left out (its rows are then
    // `unknown_template`) rather than failing the whole campaign.
    Ok(TemplateBook::new(
        stored.iter().filter_map(|t| Template::from_meta(&t.definition).ok()),
    ))
}

/// The limits of an ingestion, from the settings.
pub fn limits(state: &AppState) -> Limits {
    Limits {
        max_upload_bytes: state.config.max_upload_bytes,
        max_expanded_bytes: state.config.max_expanded_bytes,
        ..Limits::default()
    }
}

/// Run ingestions until `shutdown` turns true: claim, ingest, repeat; when there is nothing to claim, wait for a
/// wake-up (a new upload in this process) or a second (an upload in another process, or an expired lease).
pub async fn run_worker(state: AppState, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    let owner = format!("ingest-{}-{}", std::process::id(), uuid::Uuid::now_v7().simple());
    loop {
        if *shutdown.borrow() {
            return;
        }
        match state.store.claim_ingestion(&owner, LEASE).await {
            Ok(Some(claim)) => {
                let id = claim.campaign.id;
                if let Err(e) = ingest(&state, claim).await {
                    tracing::warn!(campaign = %id, error = %e, "ingestion interrupted; another run will resume it");
                }
            }
            Ok(None) => {
                tokio::select! {
                    _ = state.ingest_wake.notified() => {}
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = shutdown.changed() => {}
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot claim ingestions");
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        }
    }
}

/// One ingestion, to its end (`scheduled` or `failed`), or until its lease is lost.
pub async fn ingest(state: &AppState, claim: IngestClaim) -> Result<(), StoreError> {
    let campaign = &claim.campaign;
    let app = campaign.app_id;
    tracing::info!(campaign = %campaign.id, resume_after = campaign.ingested_rows, "ingestion started");
    let spec: IngestSpec = match serde_json::from_value(claim.options.clone()) {
        Ok(spec) => spec,
        Err(e) => return finish(state, &claim, Err(format!("invalid ingestion options: {e}"))).await,
    };
    let account = state.store.get_account(app, campaign.account_id).await?;
    let options = match spec.pipeline_options(&account, limits(state), campaign.ingested_rows) {
        Ok(o) => o,
        Err(e) => return finish(state, &claim, Err(e)).await,
    };
    let book = template_book(&state.store, app, &account).await?;
    let opted_out = state.store.opted_out(app).await?;

    // The file, back from the database into a local temp file (readers need to seek).
    let mut file = tempfile::NamedTempFile::new_in(&state.config.spool_dir)
        .map_err(|e| StoreError::Database(sqlx::Error::Io(e)))?;
    let mut seq = 0;
    while let Some(chunk) = state.store.read_upload(campaign.id, seq).await? {
        file.write_all(&chunk)
            .map_err(|e| StoreError::Database(sqlx::Error::Io(e)))?;
        seq += 1;
    }
    file.flush().map_err(|e| StoreError::Database(sqlx::Error::Io(e)))?;

    // Reading and validating run on a blocking thread; storing runs here, one batch behind, so the two overlap.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Batch>(2);
    let reader = tokio::task::spawn_blocking(move || {
        let result = pipeline::run(file.path(), book, opted_out, &options, |batch| tx.blocking_send(batch));
        drop(file);
        result
    });
    let mut store_error = None;
    while let Some(batch) = rx.recv().await {
        if let Err(e) = state.store.store_ingest_batch(&claim, stored(&batch), LEASE).await {
            store_error = Some(e);
            break;
        }
        let rows = (batch.messages.len() + batch.rejections.len()) as u64;
        state
            .metrics
            .ingest_rows
            .fetch_add(rows, std::sync::atomic::Ordering::Relaxed);
    }
    drop(rx);
    let result = reader.await;
    if let Some(e) = store_error {
        return Err(e);
    }
    match result {
        Ok(Ok(summary)) => {
            tracing::info!(campaign = %campaign.id, rows = summary.rows, accepted = summary.accepted, rejected = summary.rejected, "ingestion finished");
            finish(state, &claim, Ok(())).await
        }
        Ok(Err(PipelineError::File(e))) => finish(state, &claim, Err(format!("{}: {e}", e.reason()))).await,
        Ok(Err(PipelineError::Sink(_))) => Err(StoreError::Conflict("the batch receiver stopped".into())),
        Err(join) => finish(state, &claim, Err(format!("the ingestion crashed: {join}"))).await,
    }
}

/// A pipeline batch as the store takes it.
pub fn stored(batch: &Batch) -> IngestBatch<'_> {
    IngestBatch {
        messages: &batch.messages,
        rejections: &batch.rejections,
        withdrawn: &batch.withdrawn,
        through_row: batch.through_row,
    }
}

async fn finish(state: &AppState, claim: &IngestClaim, outcome: Result<(), String>) -> Result<(), StoreError> {
    if let Err(reason) = &outcome {
        tracing::warn!(campaign = %claim.campaign.id, %reason, "ingestion failed");
    }
    state.store.finish_ingestion(claim, outcome).await.map(|_| ())
}
