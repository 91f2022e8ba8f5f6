//! One reader per document format, each turning its file into the same stream of [`ReadItem`]s.
//!
//! The tabular readers (CSV, XLSX, XLS) share the rules in this module: the header is the first non-blank row, its
//! names trimmed and trailing empty names dropped; blank rows are skipped (their row numbers are not reused); a row
//! with fewer cells than the header is padded with empty strings; a row with a non-empty cell past the header is
//! [`ReadItem::Bad`], since that cell has no column to go to and would otherwise vanish.

pub mod cell;
pub mod csv;
pub mod json;
pub mod xls;
mod xls_check;
pub mod xlsx;

use crate::FileError;
use crate::record::{ReadItem, Record};
use pregon_core::RejectionCode;
use pregon_core::message::Rejection;
use std::sync::Arc;

/// The row stream every reader yields. An `Err` is a whole-file problem: the file is refused even if rows came
/// before it, and the stream ends there.
pub type Rows = Box<dyn Iterator<Item = Result<ReadItem, FileError>> + Send>;

/// Whether every cell is empty or blank space.
pub(crate) fn is_blank<S: AsRef<str>>(cells: &[S]) -> bool {
    cells.iter().all(|c| c.as_ref().trim().is_empty())
}

/// The header row as column names: trimmed (a BOM that survived too), trailing empty names dropped.
pub(crate) fn header(cells: Vec<String>) -> Arc<[String]> {
    let mut names: Vec<String> = cells
        .into_iter()
        .map(|c| c.trim().trim_start_matches('\u{feff}').trim().to_owned())
        .collect();
    while names.last().is_some_and(String::is_empty) {
        names.pop();
    }
    names.into()
}

/// A data row shaped to the header, or `None` for a blank row.
pub(crate) fn shape(row: u64, columns: &Arc<[String]>, mut values: Vec<String>) -> Option<ReadItem> {
    if is_blank(&values) {
        return None;
    }
    let width = columns.len();
    if values.len() > width {
        if let Some(extra) = values[width..].iter().position(|v| !v.trim().is_empty()) {
            let cells = values.len() - values.iter().rev().take_while(|v| v.trim().is_empty()).count();
            return Some(bad(
                row,
                None,
                format!(
                    "the row has {cells} cells but the header names {width} columns; column {} has a value and no header",
                    column_label(width + extra)
                ),
            ));
        }
        values.truncate(width);
    }
    values.resize(width, String::new());
    Some(ReadItem::Record(Record {
        row,
        columns: Arc::clone(columns),
        values,
    }))
}

/// A row that cannot be read.
pub(crate) fn bad(row: u64, column: Option<String>, message: String) -> ReadItem {
    ReadItem::Bad(Rejection {
        row_number: row,
        column,
        code: RejectionCode::InvalidRow.as_str().to_owned(),
        message,
    })
}

/// Runs `parse`, a call into calamine, with a panic turned into [`FileError::Unreadable`]. calamine's parsers panic on
/// some malformed files (found by fuzzing, calamine 0.38: an XLS whose sector chain points past the file's end slices
/// out of bounds in `cfb.rs` `Sectors::get`, and one cut mid-sector trips `to_u32`'s length assertion), and a
/// campaign file is user input: it must be refused, not crash the ingestion. This relies on unwinding (no profile
/// sets `panic = "abort"`); the panic hook still prints calamine's message once. Whatever `parse` built is dropped
/// with the panic, so no half-parsed state is ever used, hence `AssertUnwindSafe`.
pub(crate) fn guard_calamine<T>(parse: impl FnOnce() -> Result<T, FileError>) -> Result<T, FileError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(parse)).unwrap_or_else(|_| {
        Err(FileError::Unreadable(
            "its structure is broken (the spreadsheet parser gave up on it)".into(),
        ))
    })
}

/// A spreadsheet column label from a 0-based index: 0 → `A`, 26 → `AA`.
pub fn column_label(index: usize) -> String {
    let mut n = index + 1;
    let mut label = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        label.push(b'A' + rem as u8);
        n = (n - 1) / 26;
    }
    label.reverse();
    String::from_utf8_lossy(&label).into_owned()
}

/// The sheet to read: the one named (exactly, else ignoring case and surrounding spaces, as Excel does), or the
/// first when none is asked for.
pub(crate) fn pick_sheet(names: &[String], wanted: Option<&str>) -> Result<String, FileError> {
    let Some(wanted) = wanted else {
        return names
            .first()
            .cloned()
            .ok_or_else(|| FileError::Unreadable("the workbook has no sheet".into()));
    };
    if let Some(exact) = names.iter().find(|n| *n == wanted) {
        return Ok(exact.clone());
    }
    let loose = wanted.trim().to_lowercase();
    if let Some(found) = names.iter().find(|n| n.trim().to_lowercase() == loose) {
        return Ok(found.clone());
    }
    Err(FileError::WrongSheet {
        expected: wanted.to_owned(),
        found: names.join(", "),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols(names: &[&str]) -> Arc<[String]> {
        names.iter().map(|s| s.to_string()).collect::<Vec<_>>().into()
    }

    fn strings(values: &[&str]) -> Vec<String> {
        values.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn header_names_are_trimmed_and_trailing_empties_dropped() {
        let h = header(strings(&["\u{feff}phone ", " name", "", "x", "", " "]));
        assert_eq!(&*h, &["phone", "name", "", "x"]);
    }

    #[test]
    fn rows_are_padded_or_refused() {
        let c = cols(&["a", "b", "c"]);
        let Some(ReadItem::Record(r)) = shape(2, &c, strings(&["1"])) else {
            panic!()
        };
        assert_eq!(r.values, ["1", "", ""]);
        let Some(ReadItem::Record(r)) = shape(3, &c, strings(&["1", "2", "3", "", " "])) else {
            panic!()
        };
        assert_eq!(r.values, ["1", "2", "3"]);
        let Some(ReadItem::Bad(bad)) = shape(4, &c, strings(&["1", "2", "3", "", "5"])) else {
            panic!()
        };
        assert_eq!(bad.row_number, 4);
        assert_eq!(bad.code, "invalid_row");
        assert_eq!(bad.column, None);
        assert!(
            bad.message.contains("5 cells") && bad.message.contains("column E"),
            "{}",
            bad.message
        );
        assert_eq!(shape(5, &c, strings(&["", " ", "\t"])), None);
    }

    #[test]
    fn column_labels() {
        assert_eq!(column_label(0), "A");
        assert_eq!(column_label(25), "Z");
        assert_eq!(column_label(26), "AA");
        assert_eq!(column_label(701), "ZZ");
        assert_eq!(column_label(702), "AAA");
    }

    #[test]
    fn sheets() {
        let names = strings(&["Sheet1", "Campaign "]);
        assert_eq!(pick_sheet(&names, None).unwrap(), "Sheet1");
        assert_eq!(pick_sheet(&names, Some("campaign")).unwrap(), "Campaign ");
        assert_eq!(
            pick_sheet(&strings(&["Sheet1", "Data"]), Some("campaign")),
            Err(FileError::WrongSheet {
                expected: "campaign".into(),
                found: "Sheet1, Data".into()
            })
        );
    }
}
