//! Whole-file errors: the file cannot be used at all, and nothing of it is stored. Each has a stable `reason`
//! (shown as `details.reason` of an `invalid_file` error and stored as a failed campaign's reason).

/// Why a whole file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    /// The upload is larger than the limit.
    #[error("the file is larger than the limit of {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// Nothing in it (or only blank lines).
    #[error("the file is empty")]
    Empty,
    /// No header row, or a header with no usable column (a phone column is required).
    #[error("{0}")]
    MissingHeader(String),
    /// A header name breaks the model's rules (Jelou: letters, digits and `_` only).
    #[error("Invalid CSV format: {0}")]
    InvalidHeader(String),
    /// An XLS/XLSX without the required sheet.
    #[error("the workbook has no sheet named `{expected}`; it has: {found}")]
    WrongSheet {
        /// The sheet that is needed.
        expected: String,
        /// The sheets it has, comma-separated.
        found: String,
    },
    /// Text that is not UTF-8 where the whole file must be (e.g. the header).
    #[error("the file is not UTF-8 text ({0})")]
    InvalidUtf8(String),
    /// JSON that does not parse, or is not an array of objects.
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
    /// A spreadsheet that cannot be read.
    #[error("the spreadsheet cannot be read: {0}")]
    Unreadable(String),
    /// An archive with no file in it.
    #[error("the archive holds no file")]
    ArchiveEmpty,
    /// An archive with more than one candidate file.
    #[error("the archive holds several files ({0}); put exactly one campaign file in it")]
    ArchiveMultipleFiles(String),
    /// An archive or compressed stream that ends early or is corrupt.
    #[error("the archive is truncated or corrupt: {0}")]
    ArchiveCorrupt(String),
    /// An encrypted ZIP entry.
    #[error("the archive is encrypted; upload it without a password")]
    ArchiveEncrypted,
    /// An archive inside an archive inside an archive (one level of nesting is allowed: `.csv.tar.gz`, `.xlsx.zip`).
    #[error("archives are nested more than one level deep")]
    ArchiveNested,
    /// The content expands past the limit.
    #[error("the archive expands past the limit of {limit} bytes")]
    ExpandsTooMuch {
        /// The limit in bytes.
        limit: u64,
    },
    /// The compression ratio is past the limit (a zip bomb).
    #[error("the archive's compression ratio is over {limit}:1")]
    RatioTooHigh {
        /// The highest ratio allowed.
        limit: u64,
    },
    /// More entries than the limit.
    #[error("the archive has more than {limit} entries")]
    TooManyEntries {
        /// The limit.
        limit: u64,
    },
    /// Reading the spooled file failed (disk, not the user's fault).
    #[error("cannot read the file: {0}")]
    Io(String),
}

impl FileError {
    /// The stable reason code.
    pub fn reason(&self) -> &'static str {
        match self {
            FileError::TooLarge { .. } => "too_large",
            FileError::Empty => "empty_file",
            FileError::MissingHeader(_) => "missing_header",
            FileError::InvalidHeader(_) => "invalid_header",
            FileError::WrongSheet { .. } => "wrong_sheet",
            FileError::InvalidUtf8(_) => "invalid_utf8",
            FileError::MalformedJson(_) => "malformed_json",
            FileError::Unreadable(_) => "unreadable_spreadsheet",
            FileError::ArchiveEmpty => "archive_empty",
            FileError::ArchiveMultipleFiles(_) => "archive_multiple_files",
            FileError::ArchiveCorrupt(_) => "archive_corrupt",
            FileError::ArchiveEncrypted => "archive_encrypted",
            FileError::ArchiveNested => "archive_nested",
            FileError::ExpandsTooMuch { .. } => "expands_too_much",
            FileError::RatioTooHigh { .. } => "ratio_too_high",
            FileError::TooManyEntries { .. } => "too_many_entries",
            FileError::Io(_) => "io",
        }
    }

    /// Every reason code, for the docs test.
    pub const REASONS: &'static [&'static str] = &[
        "too_large",
        "empty_file",
        "missing_header",
        "invalid_header",
        "wrong_sheet",
        "invalid_utf8",
        "malformed_json",
        "unreadable_spreadsheet",
        "archive_empty",
        "archive_multiple_files",
        "archive_corrupt",
        "archive_encrypted",
        "archive_nested",
        "expands_too_much",
        "ratio_too_high",
        "too_many_entries",
        "io",
    ];
}

impl From<std::io::Error> for FileError {
    fn from(e: std::io::Error) -> Self {
        FileError::Io(e.to_string())
    }
}
