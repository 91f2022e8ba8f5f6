//! One ingestion from a file on disk to batches of messages and rejections: open → header check → row model →
//! validation. No database here: the caller stores each batch (the server), or only counts (`validate`).

use crate::FileError;
use crate::model::RowModel;
use crate::record::ReadItem;
use crate::sniff::Format;
use crate::source::{self, OpenOptions};
use crate::validate::{CampaignDefaults, Outcome, TemplateBook, Validator, Withdrawn};
use pregon_core::MessageStatus;
use pregon_core::message::{NewMessage, Rejection};
use std::collections::HashSet;
use std::path::Path;

/// How to read one file.
#[derive(Clone, Debug)]
pub struct PipelineOptions {
    /// Chat-Tonic columns or a Jelou mapping.
    pub model: RowModel,
    /// Sheet name and limits.
    pub open: OpenOptions,
    /// Campaign-wide template, media, payloads, language and region.
    pub defaults: CampaignDefaults,
    /// Rows up to this one were stored by an earlier run: they are validated again (so duplicates are still
    /// recognised) but not handed to the sink.
    pub skip_through: u64,
    /// Rows per batch.
    pub batch_size: usize,
}

/// A batch for the sink: everything read since the previous batch, and the last row it covers.
#[derive(Debug, Default)]
pub struct Batch {
    /// Accepted rows (and opted-out ones, as `suppressed`).
    pub messages: Vec<NewMessage>,
    /// Refused rows.
    pub rejections: Vec<Rejection>,
    /// Rows of earlier batches, handed out as messages, that turned out to be duplicates: remove their messages and
    /// store these rejections (only in the last batch). May repeat rows a resumed run already withdrew.
    pub withdrawn: Vec<Rejection>,
    /// The highest row number in this batch.
    pub through_row: u64,
}

/// What a whole run found.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    /// The document format (after unwrapping).
    pub format: String,
    /// The archives around it, outermost first.
    pub wrapped_in: Vec<String>,
    /// Data rows read.
    pub rows: u64,
    /// Rows that became messages (suppressed included).
    pub accepted: u64,
    /// Rows refused.
    pub rejected: u64,
    /// Accepted rows whose recipient opted out.
    pub suppressed: u64,
}

/// Why a run stopped.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError<E> {
    /// The file cannot be used.
    #[error(transparent)]
    File(#[from] FileError),
    /// The sink refused a batch (the database failed, the lease was lost…).
    #[error("storing a batch failed: {0}")]
    Sink(E),
}

/// Check that the file opens, its header fits the model and a first row can be read — without reading the rest:
/// the quick answer an upload endpoint gives before it acknowledges the upload.
pub fn precheck(path: &Path, model: &RowModel, open: &OpenOptions) -> Result<(Format, Vec<Format>), FileError> {
    let mut table = source::open(path, open)?;
    if table.format != Format::Json {
        model.check_header(&table.columns)?;
    }
    match table.rows.next() {
        None => Err(FileError::Empty),
        Some(Err(e)) => Err(e),
        Some(Ok(_)) => Ok((table.format, table.wrapped_in)),
    }
}

/// Read the whole file, validating every row, and hand batches to `sink` as they fill. Every data row ends up in
/// exactly one batch, as a message or a rejection; a file with no data row is `FileError::Empty`.
pub fn run<E>(
    path: &Path,
    book: TemplateBook,
    opted_out: HashSet<String>,
    options: &PipelineOptions,
    mut sink: impl FnMut(Batch) -> Result<(), E>,
) -> Result<Summary, PipelineError<E>> {
    let table = source::open(path, &options.open)?;
    let tabular = table.format != Format::Json;
    if tabular {
        options.model.check_header(&table.columns)?;
    }
    let mut summary = Summary {
        format: table.format.as_str().to_owned(),
        wrapped_in: table.wrapped_in.iter().map(|f| f.as_str().to_owned()).collect(),
        ..Summary::default()
    };
    let mut validator = Validator::new(book, options.defaults.clone(), opted_out);
    let batch_size = options.batch_size.max(1);
    let mut batch = Batch::default();
    let mut last_row = 0;
    for item in table.rows {
        let (row, outcome) = match item? {
            ReadItem::Record(record) => {
                let row = record.row;
                let outcome = match options.model.map(&record) {
                    Ok(campaign_row) => validator.check(campaign_row),
                    Err(rejection) => Outcome::Rejected(rejection),
                };
                (row, outcome)
            }
            ReadItem::Bad(rejection) => (rejection.row_number, Outcome::Rejected(rejection)),
        };
        summary.rows += 1;
        last_row = last_row.max(row);
        match &outcome {
            Outcome::Message(m) => {
                summary.accepted += 1;
                if m.status == MessageStatus::Suppressed {
                    summary.suppressed += 1;
                }
            }
            Outcome::Rejected(_) => summary.rejected += 1,
        }
        if row <= options.skip_through {
            continue;
        }
        match outcome {
            Outcome::Message(m) => batch.messages.push(m),
            Outcome::Rejected(r) => batch.rejections.push(r),
        }
        batch.through_row = batch.through_row.max(row);
        if batch.messages.len() + batch.rejections.len() >= batch_size {
            sink(std::mem::take(&mut batch)).map_err(PipelineError::Sink)?;
        }
    }
    if summary.rows == 0 {
        return Err(FileError::Empty.into());
    }
    if validator.has_suspects() {
        let withdrawn = second_look(path, &options.model, &options.open, &validator)?;
        summary.accepted -= withdrawn.rejections.len() as u64;
        summary.rejected += withdrawn.rejections.len() as u64;
        summary.suppressed -= withdrawn.suppressed;
        batch.withdrawn = withdrawn.rejections;
        // A resumed run may have skipped every row: the batch still covers the file's end.
        batch.through_row = last_row;
    }
    if !batch.messages.is_empty() || !batch.rejections.is_empty() || !batch.withdrawn.is_empty() {
        sink(batch).map_err(PipelineError::Sink)?;
    }
    Ok(summary)
}

/// Read the file again for [`Validator::resolve`]: the rows the model can map, in order.
fn second_look(
    path: &Path,
    model: &RowModel,
    open: &OpenOptions,
    validator: &Validator,
) -> Result<Withdrawn, FileError> {
    let table = source::open(path, open)?;
    let rows = table.rows.filter_map(|item| match item {
        Ok(ReadItem::Record(record)) => model.map(&record).ok().map(Ok),
        Ok(ReadItem::Bad(_)) => None,
        Err(e) => Some(Err(e)),
    });
    validator.resolve(rows)
}
