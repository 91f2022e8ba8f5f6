//! The one row type every reader yields.

use pregon_core::message::Rejection;
use std::sync::Arc;

/// One data row of the source, with the column names it is read under.
///
/// Tabular formats share one `columns` for every row (the header). A JSON object becomes the same shape: its keys
/// in order, `parameters: [..]` as repeated `parameter` columns and `media: {..}` as `media.from`, `media.type`,
/// `media.url` — so the row models need not know the format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// The row number in the source: header = row 1 for tabular files; for JSON, the element's index + 1.
    pub row: u64,
    /// Column names (may repeat: Chat-Tonic's `parameter`).
    pub columns: Arc<[String]>,
    /// Cell values as text, one per column (missing trailing cells are empty strings). Numbers are written
    /// exactly (`5491123456789`, never `5.49e12`), dates as ISO 8601.
    pub values: Vec<String>,
}

impl Record {
    /// The first value under `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.columns
            .iter()
            .position(|c| c == name)
            .and_then(|i| self.values.get(i))
            .map(String::as_str)
    }

    /// Every value under `name`, in column order.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.columns
            .iter()
            .zip(&self.values)
            .filter(move |(c, _)| *c == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What a reader yields for each data row: a record, or the row's rejection (it cannot be read) — never silence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadItem {
    /// A readable row.
    Record(Record),
    /// An unreadable row, with its row number and reason (code `invalid_row`).
    Bad(Rejection),
}
