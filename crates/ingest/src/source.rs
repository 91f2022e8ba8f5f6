//! A campaign file on disk → a [`Table`]: sniffed, unwrapped (with limits) and opened with the right reader.

use crate::archive;
use crate::readers::{self, Rows};
use crate::record::ReadItem;
use crate::sniff::{self, Format};
use crate::{FileError, Limits};
use std::fs::File;
use std::io::BufReader;
use std::path::Path;
use std::sync::Arc;

/// How to open a file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OpenOptions {
    /// The sheet to read from an XLS/XLSX: `Some("campaign")` for Chat-Tonic files; `None` = the first sheet.
    /// A workbook without the named sheet is [`FileError::WrongSheet`] (the match ignores case when no sheet has
    /// the exact name).
    pub sheet: Option<String>,
    /// What the file may cost.
    pub limits: Limits,
}

/// An opened campaign file: what it was, its header, and its rows.
pub struct Table {
    /// The document format after unwrapping (Csv, Json, Xls, Xlsx).
    pub format: Format,
    /// The archives around it, outermost first: `[Gzip, Tar]` for `.csv.tar.gz`, `[Zip]` for `.xlsx.zip`.
    pub wrapped_in: Vec<Format>,
    /// The header (empty for JSON: each JSON record carries its own columns).
    pub columns: Arc<[String]>,
    /// The data rows in file order. An `Err` is a whole-file problem (a JSON file broken half-way, a sheet that
    /// stops parsing): the file must be refused even though rows came before it. The stream ends after it.
    pub rows: Box<dyn Iterator<Item = Result<ReadItem, FileError>> + Send>,
}

impl std::fmt::Debug for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Table")
            .field("format", &self.format)
            .field("wrapped_in", &self.wrapped_in)
            .field("columns", &self.columns)
            .finish_non_exhaustive()
    }
}

/// Sniff, unwrap (with limits), and open the right reader. Blocking; callers run it on a blocking thread.
///
/// The upload's size is checked against `max_upload_bytes` before anything is read. Archive contents are spooled
/// to an anonymous temp file (in `TMPDIR`) that lives as long as the table's row stream.
pub fn open(path: &Path, options: &OpenOptions) -> Result<Table, FileError> {
    let limits = &options.limits;
    let size = std::fs::metadata(path)?.len();
    if size > limits.max_upload_bytes {
        return Err(FileError::TooLarge {
            limit: limits.max_upload_bytes,
        });
    }
    let sniffed = sniff::sniff_file(path)?;
    let (file, format, wrapped_in) = if sniffed.is_archive() {
        let unwrapped = archive::unwrap(path, sniffed, limits)?;
        (unwrapped.file, unwrapped.format, unwrapped.wrapped_in)
    } else {
        (File::open(path)?, sniffed, Vec::new())
    };
    let sheet = options.sheet.as_deref();
    let (columns, rows): (Arc<[String]>, Rows) = match format {
        Format::Csv => readers::csv::read(file)?,
        Format::Json => (Arc::from(Vec::new()), readers::json::read(file)?),
        Format::Xlsx => {
            let mut input = BufReader::new(file);
            archive::check_package(&mut input, limits)?;
            readers::xlsx::read(input, sheet)?
        }
        Format::Xls => readers::xls::read(BufReader::new(file), sheet)?,
        Format::Zip | Format::Gzip | Format::Tar => return Err(FileError::ArchiveNested),
    };
    Ok(Table {
        format,
        wrapped_in,
        columns,
        rows,
    })
}
