//! What a file is, from its bytes: the name an upload arrives under is never trusted (a `.csv` may be an XLSX, a
//! `.zip` may be a gzip).

use crate::FileError;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

/// A file format Pregon reads, or an archive it unwraps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated text (the fallback: anything that is not one of the others).
    Csv,
    /// A JSON array of objects.
    Json,
    /// A BIFF workbook (Excel 97–2003) in an OLE2 container.
    Xls,
    /// An Office Open XML workbook (a ZIP holding `xl/workbook.xml`).
    Xlsx,
    /// A ZIP archive that is not an XLSX.
    Zip,
    /// A gzip stream.
    Gzip,
    /// A POSIX/GNU tar archive.
    Tar,
}

impl Format {
    /// The format's name as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Json => "json",
            Format::Xls => "xls",
            Format::Xlsx => "xlsx",
            Format::Zip => "zip",
            Format::Gzip => "gzip",
            Format::Tar => "tar",
        }
    }

    /// Whether this is a container to unwrap rather than a document to read.
    pub fn is_archive(self) -> bool {
        matches!(self, Format::Zip | Format::Gzip | Format::Tar)
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

const ZIP_LOCAL: &[u8] = b"PK\x03\x04";
const ZIP_EMPTY: &[u8] = b"PK\x05\x06";
const GZIP: &[u8] = b"\x1f\x8b";
const OLE2: &[u8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1";
const TAR_MAGIC_OFFSET: usize = 257;
const UTF8_BOM: &[u8] = b"\xef\xbb\xbf";
/// How far to look for the first non-blank byte of a JSON file (a file that opens with more blank space than this
/// is read as CSV, whose reader then reports it as empty or unreadable).
const HEAD: usize = 64 * 1024;

/// Sniff from the bytes, never the file name: ZIP (`PK\x03\x04`, and `PK\x05\x06` empty zip) — an XLSX is a ZIP holding
/// `[Content_Types].xml` and `xl/workbook.xml` (look inside); GZIP (1f 8b); TAR (ustar magic at offset 257); XLS (OLE2
/// D0 CF 11 E0 A1 B1 1A E1); JSON (first non-blank byte `[`, after an optional UTF-8 BOM); else CSV.
///
/// A first non-blank byte `{` is JSON too, so that a single object is refused as "not an array" rather than read as
/// a one-column CSV. An Office Open XML or OpenDocument package that is not an XLSX (XLSB, DOCX, ODS) is refused
/// here as `Unreadable`, not unwrapped as an archive of many files.
pub fn sniff_file(path: &Path) -> Result<Format, FileError> {
    let mut file = BufReader::new(File::open(path)?);
    sniff(&mut file)
}

/// [`sniff_file`] on an open file (e.g. the temp file an archive was unwrapped to); leaves it at its start.
pub fn sniff<R: Read + Seek>(reader: &mut R) -> Result<Format, FileError> {
    reader.seek(SeekFrom::Start(0))?;
    let mut head = Vec::with_capacity(4096);
    reader.by_ref().take(HEAD as u64).read_to_end(&mut head)?;
    reader.seek(SeekFrom::Start(0))?;
    let format = sniff_head(&head);
    if format == Format::Zip && head.starts_with(ZIP_LOCAL) {
        let format = look_inside_zip(reader)?;
        reader.seek(SeekFrom::Start(0))?;
        return Ok(format);
    }
    Ok(format)
}

/// The format from the first bytes alone (a ZIP is not looked into).
pub(crate) fn sniff_head(head: &[u8]) -> Format {
    if head.starts_with(ZIP_LOCAL) || head.starts_with(ZIP_EMPTY) {
        return Format::Zip;
    }
    if head.starts_with(GZIP) {
        return Format::Gzip;
    }
    if head.starts_with(OLE2) {
        return Format::Xls;
    }
    if is_tar(head) {
        return Format::Tar;
    }
    let text = head.strip_prefix(UTF8_BOM).unwrap_or(head);
    match text.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'[' | b'{') => Format::Json,
        _ => Format::Csv,
    }
}

/// `ustar\0` (POSIX) or `ustar  \0` (GNU) at offset 257 of the first header block.
pub(crate) fn is_tar(head: &[u8]) -> bool {
    head.get(TAR_MAGIC_OFFSET..TAR_MAGIC_OFFSET + 5) == Some(b"ustar")
}

/// Past this many declared entries a ZIP is not opened to look inside (opening reads every entry header into
/// memory); it is left as `Zip`, and unwrapping refuses it under the real limit.
const MAX_ENTRIES_TO_LOOK_INSIDE: u64 = 10_000;

/// A ZIP is an XLSX when it holds the two parts every workbook has. A ZIP whose directory cannot be read is left
/// as `Zip`, so that unwrapping reports it as corrupt.
fn look_inside_zip<R: Read + Seek>(reader: &mut R) -> Result<Format, FileError> {
    if crate::archive::declared_zip_entries(reader)? > MAX_ENTRIES_TO_LOOK_INSIDE {
        return Ok(Format::Zip);
    }
    let Ok(zip) = zip::ZipArchive::new(reader) else {
        return Ok(Format::Zip);
    };
    let has = |name: &str| zip.index_for_name(name).is_some();
    if has("[Content_Types].xml") {
        if has("xl/workbook.xml") {
            return Ok(Format::Xlsx);
        }
        return Err(FileError::Unreadable(
            "an Office Open XML document that is not an XLSX workbook (an XLSB, DOCX or PPTX?); save it as XLSX or CSV"
                .into(),
        ));
    }
    if has("mimetype") && has("content.xml") {
        return Err(FileError::Unreadable(
            "an OpenDocument file (ODS?) is not supported; save it as XLSX or CSV".into(),
        ));
    }
    Ok(Format::Zip)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_bytes() {
        assert_eq!(sniff_head(b"PK\x03\x04rest"), Format::Zip);
        assert_eq!(sniff_head(b"PK\x05\x06\0\0"), Format::Zip);
        assert_eq!(sniff_head(b"\x1f\x8b\x08\0"), Format::Gzip);
        assert_eq!(sniff_head(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\0\0"), Format::Xls);
        let mut tar = vec![0u8; 512];
        tar[257..263].copy_from_slice(b"ustar\0");
        assert_eq!(sniff_head(&tar), Format::Tar);
        tar[257..265].copy_from_slice(b"ustar  \0");
        assert_eq!(sniff_head(&tar), Format::Tar);
    }

    #[test]
    fn json_or_csv_from_the_first_non_blank_byte() {
        assert_eq!(sniff_head(b"[{\"phone\":1}]"), Format::Json);
        assert_eq!(sniff_head(b"\xef\xbb\xbf \r\n\t[]"), Format::Json);
        assert_eq!(sniff_head(b"  {\"phone\":1}"), Format::Json);
        assert_eq!(sniff_head(b"phone,name\n"), Format::Csv);
        assert_eq!(sniff_head(b"\xef\xbb\xbfphone\n"), Format::Csv);
        assert_eq!(sniff_head(b""), Format::Csv);
        assert_eq!(sniff_head(b"   \n"), Format::Csv);
        // A tar needs its magic at 257; a short text that happens to mention `ustar` is text.
        assert_eq!(sniff_head(b"ustar,phone\n"), Format::Csv);
    }

    #[test]
    fn names() {
        let all = [
            Format::Csv,
            Format::Json,
            Format::Xls,
            Format::Xlsx,
            Format::Zip,
            Format::Gzip,
            Format::Tar,
        ];
        let names: Vec<_> = all.iter().map(|f| f.as_str()).collect();
        assert_eq!(names, ["csv", "json", "xls", "xlsx", "zip", "gzip", "tar"]);
        let archives: Vec<_> = all.iter().filter(|f| f.is_archive()).collect();
        assert_eq!(archives, [&Format::Zip, &Format::Gzip, &Format::Tar]);
    }
}
