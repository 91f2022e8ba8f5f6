//! CSV: UTF-8 (a BOM tolerated), comma-separated, quoted fields may hold commas, quotes and new lines.
//!
//! Rows are read as bytes (`ByteRecord`) so that one row with invalid UTF-8 is refused alone instead of ending
//! the file. The header is the first non-blank record; a data row's number is its record index + 2 when the
//! header is the first record (a quoted multi-line cell is still one row; the csv reader skips empty lines without
//! counting them).

use super::{Rows, bad, header, shape};
use crate::FileError;
use crate::record::ReadItem;
use csv::ByteRecord;
use std::io::{Read, Seek, SeekFrom};
use std::sync::Arc;

const BUFFER: usize = 64 * 1024;

/// Open a CSV: read its header, and stream the rest.
pub fn read<R: Read + Seek + Send + 'static>(mut input: R) -> Result<(Arc<[String]>, Rows), FileError> {
    let len = input.seek(SeekFrom::End(0))?;
    input.seek(SeekFrom::Start(0))?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(BUFFER)
        .from_reader(input);
    let mut record = ByteRecord::new();
    let mut row = 0u64;
    let header_cells = loop {
        if !reader.read_byte_record(&mut record).map_err(csv_error)? {
            return Err(FileError::Empty);
        }
        row += 1;
        if !is_blank_bytes(&record) {
            break header_cells(&record, row)?;
        }
    };
    let columns = header(header_cells);
    let rows = CsvRows {
        reader,
        record,
        len,
        row,
        columns: Arc::clone(&columns),
        done: false,
    };
    Ok((columns, Box::new(rows)))
}

fn header_cells(record: &ByteRecord, row: u64) -> Result<Vec<String>, FileError> {
    let mut cells = Vec::with_capacity(record.len());
    for field in record {
        match std::str::from_utf8(field) {
            Ok(s) => cells.push(s.to_owned()),
            Err(_) => {
                let hint = if record.as_slice().starts_with(b"\xff\xfe") || record.as_slice().starts_with(b"\xfe\xff") {
                    "it looks like UTF-16; save it as \"CSV UTF-8\""
                } else {
                    "save it as UTF-8 (\"CSV UTF-8\" in Excel)"
                };
                return Err(FileError::InvalidUtf8(format!(
                    "the header, row {row}, is not valid UTF-8; {hint}"
                )));
            }
        }
    }
    Ok(cells)
}

fn is_blank_bytes(record: &ByteRecord) -> bool {
    record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace))
}

fn csv_error(e: csv::Error) -> FileError {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => FileError::Io(e.to_string()),
        other => FileError::Io(format!("{other:?}")),
    }
}

struct CsvRows<R> {
    reader: csv::Reader<R>,
    record: ByteRecord,
    /// The file's length, to recognise a record that runs to the end of the file.
    len: u64,
    row: u64,
    columns: Arc<[String]>,
    done: bool,
}

impl<R: Read + Seek> CsvRows<R> {
    fn item(&mut self) -> Result<Option<ReadItem>, FileError> {
        if let Some(lines) = self.unclosed_quote()? {
            return Ok(Some(bad(
                self.row,
                None,
                format!(
                    "a quoted cell opened in this row is never closed, so the rest of the file ({lines} lines) was \
                     read into it; close the quote (write a quote inside a cell as \"\")"
                ),
            )));
        }
        Ok(self.cells())
    }

    /// A `"` that opens a cell and is never closed makes the csv reader take the rest of the file as that cell,
    /// which would silently swallow every row after it. Such a record holds a line break and runs to the end of
    /// the file, and its raw text has an odd number of quotes (a closed cell and each `""` inside it add two).
    /// Returns how many lines it swallowed.
    fn unclosed_quote(&mut self) -> Result<Option<u64>, FileError> {
        let multiline = self.record.iter().any(|f| f.contains(&b'\n') || f.contains(&b'\r'));
        if !multiline || self.reader.position().byte() != self.len {
            return Ok(None);
        }
        let Some(start) = self.record.position().map(csv::Position::byte) else {
            return Ok(None);
        };
        let raw = self.reader.get_mut();
        raw.seek(SeekFrom::Start(start))?;
        let (mut quotes, mut lines) = (0u64, 0u64);
        let mut buf = vec![0u8; BUFFER];
        loop {
            let n = match raw.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            };
            quotes += buf[..n].iter().filter(|&&b| b == b'"').count() as u64;
            lines += buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
        }
        Ok((quotes % 2 == 1).then_some(lines))
    }

    fn cells(&self) -> Option<ReadItem> {
        let mut values = Vec::with_capacity(self.record.len().max(self.columns.len()));
        for (i, field) in self.record.iter().enumerate() {
            match std::str::from_utf8(field) {
                Ok(s) => values.push(s.to_owned()),
                Err(e) => {
                    // Too many cells is the clearer complaint when the bad bytes sit in a cell with no column.
                    if i >= self.columns.len() {
                        return shape(self.row, &self.columns, lossy(&self.record));
                    }
                    return Some(bad(
                        self.row,
                        Some(self.columns[i].clone()),
                        format!(
                            "the row is not valid UTF-8 text (column `{}`, byte {} of the cell); save the file as UTF-8",
                            self.columns[i],
                            e.valid_up_to() + 1
                        ),
                    ));
                }
            }
        }
        shape(self.row, &self.columns, values)
    }
}

fn lossy(record: &ByteRecord) -> Vec<String> {
    record.iter().map(|f| String::from_utf8_lossy(f).into_owned()).collect()
}

impl<R: Read + Seek> Iterator for CsvRows<R> {
    type Item = Result<ReadItem, FileError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            match self.reader.read_byte_record(&mut self.record) {
                Ok(true) => {
                    self.row += 1;
                    match self.item() {
                        Ok(Some(item)) => return Some(Ok(item)),
                        Ok(None) => {}
                        Err(e) => {
                            self.done = true;
                            return Some(Err(e));
                        }
                    }
                }
                Ok(false) => self.done = true,
                Err(e) => {
                    self.done = true;
                    return Some(Err(csv_error(e)));
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(bytes: &'static [u8]) -> Result<(Vec<String>, Vec<ReadItem>), FileError> {
        let (columns, rows) = read(std::io::Cursor::new(bytes))?;
        let items = rows.collect::<Result<Vec<_>, _>>()?;
        Ok((columns.to_vec(), items))
    }

    fn record(item: &ReadItem) -> (u64, Vec<&str>) {
        match item {
            ReadItem::Record(r) => (r.row, r.values.iter().map(String::as_str).collect()),
            ReadItem::Bad(b) => panic!("unexpected bad row {b:?}"),
        }
    }

    #[test]
    fn bom_crlf_quotes_and_multiline_cells() {
        let (columns, items) = read_all(
            b"\xef\xbb\xbfphone , name,note\r\n+1 415,\"Doe, John\",\"two\r\nlines\"\r\n+34 6,\"say \"\"hi\"\"\",x\r\n",
        )
        .unwrap();
        assert_eq!(columns, ["phone", "name", "note"]);
        assert_eq!(record(&items[0]), (2, vec!["+1 415", "Doe, John", "two\r\nlines"]));
        assert_eq!(record(&items[1]), (3, vec!["+34 6", "say \"hi\"", "x"]));
        assert_eq!(items.len(), 2);
    }

    #[test]
    fn blank_lines_and_empty_rows_are_skipped() {
        let (_, items) = read_all(b"a,b\n\n1,2\n,\n  , \n3\n\n").unwrap();
        assert_eq!(
            items.iter().map(record).collect::<Vec<_>>(),
            [(2, vec!["1", "2"]), (5, vec!["3", ""])]
        );
        let (columns, items) = read_all(b"a,b\n,\n,\n").unwrap();
        assert_eq!(columns, ["a", "b"]);
        assert!(items.is_empty());
    }

    #[test]
    fn too_many_cells_is_a_bad_row() {
        let (_, items) = read_all(b"a,b\n1,2,3\n4,5,\n").unwrap();
        let ReadItem::Bad(bad) = &items[0] else { panic!() };
        assert_eq!(
            (bad.row_number, bad.column.as_deref(), bad.code.as_str()),
            (2, None, "invalid_row")
        );
        // An empty trailing cell loses nothing.
        assert_eq!(record(&items[1]), (3, vec!["4", "5"]));
    }

    #[test]
    fn invalid_utf8_row_is_bad_and_the_rest_is_read() {
        let (_, items) = read_all(b"phone,name\n+1,Jos\xe9\n+2,Ana\n").unwrap();
        let ReadItem::Bad(bad) = &items[0] else { panic!() };
        assert_eq!(bad.row_number, 2);
        assert_eq!(bad.column.as_deref(), Some("name"));
        assert!(bad.message.contains("UTF-8"), "{}", bad.message);
        assert_eq!(record(&items[1]), (3, vec!["+2", "Ana"]));
    }

    #[test]
    fn a_quote_never_closed_is_named_instead_of_swallowing_the_rest() {
        let (_, items) = read_all(b"phone,name\n+1,Al\n+2,\"Johnny\n+3,Ann\n+4,Bo\n").unwrap();
        assert_eq!(record(&items[0]), (2, vec!["+1", "Al"]));
        let ReadItem::Bad(bad) = &items[1] else {
            panic!("{:?}", items[1])
        };
        assert_eq!(bad.row_number, 3);
        assert!(
            bad.message.contains("never closed") && bad.message.contains("3 lines"),
            "{}",
            bad.message
        );
        assert_eq!(items.len(), 2);
        // A closed multi-line cell at the very end, with or without a final new line, is fine.
        let (_, items) = read_all(b"a,b\n1,\"x\ny \"\"q\"\" \"").unwrap();
        assert_eq!(record(&items[0]), (2, vec!["1", "x\ny \"q\" "]));
        let (_, items) = read_all(b"a,b\n1,\"x\ny\"\r\n").unwrap();
        assert_eq!(record(&items[0]), (2, vec!["1", "x\ny"]));
    }

    #[test]
    fn whole_file_errors() {
        assert_eq!(read_all(b"").unwrap_err(), FileError::Empty);
        assert_eq!(read_all(b"\n\n \n").unwrap_err(), FileError::Empty);
        assert_eq!(read_all(b"\xef\xbb\xbf").unwrap_err(), FileError::Empty);
        assert!(matches!(
            read_all(b"tel\xe9fono,name\n1,2\n"),
            Err(FileError::InvalidUtf8(_))
        ));
        let Err(FileError::InvalidUtf8(msg)) = read_all(b"\xff\xfep\x00h\x00") else {
            panic!()
        };
        assert!(msg.contains("UTF-16"), "{msg}");
    }
}
