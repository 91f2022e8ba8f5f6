//! XLS (BIFF, Excel 97–2003). calamine has no streaming reader for it and parses the whole workbook at open; the
//! format caps a sheet at 65,536 rows × 256 columns, which bounds that once `xls_check` has refused files that claim
//! more (a broken or hostile file can: BIFF stores columns in 16 bits). Rows are then taken from the sheet's range
//! one at a time, with the same rules as the other tabular readers.

use super::cell::cell_text;
use super::{Rows, guard_calamine, header, is_blank, pick_sheet, shape};
use crate::FileError;
use crate::record::ReadItem;
use calamine::{Data, Range, Reader, Xls};
use std::io::{Read, Seek};
use std::sync::Arc;

/// Open the sheet (`sheet`, or the first), read its header, and stream the rest from the parsed range.
pub fn read<R>(input: R, sheet: Option<&str>) -> Result<(Arc<[String]>, Rows), FileError>
where
    R: Read + Seek,
{
    let mut input = input;
    super::xls_check::check(&mut input)?;
    // calamine parses the whole workbook here, and panics on some broken files: see `guard_calamine`.
    let range = guard_calamine(|| {
        let mut workbook: Xls<R> = Xls::new(input).map_err(unreadable)?;
        let name = pick_sheet(&workbook.sheet_names(), sheet)?;
        workbook.worksheet_range(&name).map_err(unreadable)
    })?;
    let mut rows = XlsRows {
        range,
        next: 0,
        columns: Arc::from(Vec::new()),
    };
    loop {
        let Some((_, values)) = rows.row() else {
            return Err(FileError::Empty);
        };
        if !is_blank(&values) {
            rows.columns = header(values);
            break;
        }
    }
    Ok((Arc::clone(&rows.columns), Box::new(rows)))
}

fn unreadable(e: calamine::XlsError) -> FileError {
    FileError::Unreadable(e.to_string())
}

struct XlsRows {
    range: Range<Data>,
    next: usize,
    columns: Arc<[String]>,
}

impl XlsRows {
    /// The next row of the range as (row number, cells from column A).
    fn row(&mut self) -> Option<(u64, Vec<String>)> {
        let (start_row, start_col) = self.range.start()?;
        if self.next >= self.range.height() {
            return None;
        }
        let i = self.next;
        self.next += 1;
        let mut values = vec![String::new(); start_col as usize];
        values.extend((0..self.range.width()).map(|j| self.range.get((i, j)).map(cell_text).unwrap_or_default()));
        while values.last().is_some_and(String::is_empty) {
            values.pop();
        }
        Some((u64::from(start_row) + i as u64 + 1, values))
    }
}

impl Iterator for XlsRows {
    type Item = Result<ReadItem, FileError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let (row, values) = self.row()?;
            if let Some(item) = shape(row, &self.columns, values) {
                return Some(Ok(item));
            }
        }
    }
}
