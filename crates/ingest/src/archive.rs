//! Unwrapping ZIP, GZIP, TAR and TAR.GZ to the one campaign file inside, with limits enforced on the bytes actually
//! read.
//!
//! Declared sizes (a ZIP entry's sizes, a tar header's size, an XLSX's parts) are checked first, as an early
//! refusal that costs nothing, but never trusted: every decompressed byte goes through a [`Capped`] reader that
//! counts it and fails with a typed error once the expanded size or the ratio of expanded to compressed bytes
//! consumed so far passes the limit. `Read::take` is never the guard, because it turns an oversized stream into a
//! silently truncated "valid" file.
//!
//! Nesting: one archive around the document (`zip(csv)`, `gz(json)`, `tar(csv)`, `zip(xlsx)`), or a gzip around a
//! tar (`.csv.tar.gz`). Anything deeper (`zip(zip(csv))`, `gz(zip(…))`, `tar(gz(…))`, `gz(gz(…))`) is
//! [`FileError::ArchiveNested`]. An XLSX is a document, not an archive, even though it is a ZIP.

use crate::sniff::{self, Format};
use crate::{FileError, Limits};
use flate2::read::MultiGzDecoder;
use std::fs::File;
use std::io::{self, BufReader, Cursor, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

/// Below this many expanded bytes the ratio limit does not apply: a small, very regular file (a CSV whose rows
/// repeat the same template) may compress far better than 200:1 and is no threat.
pub const RATIO_GRACE_BYTES: u64 = 1 << 20;

const COPY_BUFFER: usize = 64 * 1024;

/// The document found inside an archive, spooled to an anonymous temp file (deleted when the last handle closes).
#[derive(Debug)]
pub struct Unwrapped {
    /// The document, positioned at its start.
    pub file: File,
    /// The document's format (never an archive).
    pub format: Format,
    /// The archives it was in, outermost first: `[Zip]`, `[Gzip]`, `[Tar]` or `[Gzip, Tar]`.
    pub wrapped_in: Vec<Format>,
}

/// Unwrap the archive at `path`, whose sniffed format is `format`, to the single document inside.
///
/// `format` must be an archive format; a document format is returned as it is, unopened layers and all.
pub fn unwrap(path: &Path, format: Format, limits: &Limits) -> Result<Unwrapped, FileError> {
    let file = File::open(path)?;
    let size = file.metadata()?.len();
    match format {
        Format::Zip => {
            let inner = extract_zip(file, size, limits)?;
            finish(inner, vec![Format::Zip])
        }
        Format::Tar => {
            let inner = extract_tar(BufReader::new(file), limits, &[])?;
            finish(inner, vec![Format::Tar])
        }
        Format::Gzip => unwrap_gzip(file, limits),
        Format::Csv | Format::Json | Format::Xls | Format::Xlsx => Ok(Unwrapped {
            file,
            format,
            wrapped_in: Vec::new(),
        }),
    }
}

/// Refuse an XLSX whose parts declare more than the limits allow, before calamine opens it (it loads the shared
/// strings whole). The zip crate then enforces each declared size while calamine reads, so a lying header ends in
/// an error, not in an unbounded expansion.
pub fn check_package<R: Read + Seek>(reader: &mut R, limits: &Limits) -> Result<(), FileError> {
    reader.seek(SeekFrom::Start(0))?;
    let size = reader.seek(SeekFrom::End(0))?;
    reader.seek(SeekFrom::Start(0))?;
    let result = (|| {
        check_declared_entries(&mut *reader, limits)?;
        let zip = zip::ZipArchive::new(&mut *reader).map_err(zip_error)?;
        if zip.len() as u64 > limits.max_entries {
            return Err(FileError::TooManyEntries {
                limit: limits.max_entries,
            });
        }
        let mut total = 0u64;
        for i in 0..zip.len() {
            let entry = zip.by_index_data(i).map_err(zip_error)?;
            total = total.saturating_add(entry.size());
            check_declared(entry.size(), entry.compressed_size().min(size), limits)?;
        }
        check_declared(total, size, limits)
    })();
    reader.seek(SeekFrom::Start(0))?;
    result
}

/// The zip crate reads every central-directory header the end record declares into memory when it opens an
/// archive, so the declared count is checked first: a ZIP64 end record can declare millions of entries in a 100 MB
/// upload. The real count is checked again once the archive is open.
fn check_declared_entries<R: Read + Seek>(reader: &mut R, limits: &Limits) -> Result<(), FileError> {
    if declared_zip_entries(reader)? > limits.max_entries {
        return Err(FileError::TooManyEntries {
            limit: limits.max_entries,
        });
    }
    Ok(())
}

/// The largest entry count declared by any end-of-central-directory record (or its ZIP64 record) in the last
/// 64 KiB, where a reader looks for them; leaves the reader at its start.
pub(crate) fn declared_zip_entries<R: Read + Seek>(reader: &mut R) -> io::Result<u64> {
    const EOCD: &[u8] = b"PK\x05\x06";
    const LOCATOR: &[u8] = b"PK\x06\x07";
    const ZIP64_EOCD: &[u8] = b"PK\x06\x06";
    let len = reader.seek(SeekFrom::End(0))?;
    let start = len.saturating_sub(65_535 + 22 + 20);
    reader.seek(SeekFrom::Start(start))?;
    let mut tail = Vec::new();
    reader.read_to_end(&mut tail)?;
    let mut most = 0u64;
    for at in (0..tail.len().saturating_sub(21)).filter(|&i| tail[i..].starts_with(EOCD)) {
        let count = u64::from(u16::from_le_bytes([tail[at + 10], tail[at + 11]]));
        most = most.max(count);
        let Some(locator) = at.checked_sub(20).map(|l| &tail[l..at]) else {
            continue;
        };
        if !locator.starts_with(LOCATOR) {
            continue;
        }
        let mut offset = [0u8; 8];
        offset.copy_from_slice(&locator[8..16]);
        let record_at = u64::from_le_bytes(offset);
        let mut record = [0u8; 40];
        if record_at.saturating_add(40) > len {
            continue;
        }
        reader.seek(SeekFrom::Start(record_at))?;
        reader.read_exact(&mut record)?;
        if record.starts_with(ZIP64_EOCD) {
            let mut total = [0u8; 8];
            total.copy_from_slice(&record[32..40]);
            most = most.max(u64::from_le_bytes(total));
        }
    }
    reader.seek(SeekFrom::Start(0))?;
    Ok(most)
}

/// The inner file is sniffed; only a document may be inside.
fn finish(mut file: File, wrapped_in: Vec<Format>) -> Result<Unwrapped, FileError> {
    let format = sniff::sniff(&mut file)?;
    if format.is_archive() {
        return Err(FileError::ArchiveNested);
    }
    Ok(Unwrapped {
        file,
        format,
        wrapped_in,
    })
}

fn extract_zip(file: File, size: u64, limits: &Limits) -> Result<File, FileError> {
    let meter = Meter::new();
    let mut counted = Counted::new(BufReader::new(file), meter.clone());
    check_declared_entries(&mut counted, limits)?;
    let mut zip = zip::ZipArchive::new(counted).map_err(zip_error)?;
    if zip.len() as u64 > limits.max_entries {
        return Err(FileError::TooManyEntries {
            limit: limits.max_entries,
        });
    }
    let mut candidates = Vec::new();
    for i in 0..zip.len() {
        let entry = zip.by_index_data(i).map_err(zip_error)?;
        let name = String::from_utf8_lossy(entry.name_raw()).into_owned();
        if entry.is_dir() || entry.is_symlink() || !is_candidate(&name) {
            continue;
        }
        candidates.push((i, name));
    }
    let index = match candidates.as_slice() {
        [] => return Err(FileError::ArchiveEmpty),
        [(index, _)] => *index,
        many => return Err(multiple(many.iter().map(|(_, n)| n.as_str()))),
    };
    let entry = zip.by_index_data(index).map_err(zip_error)?;
    if entry.encrypted() {
        return Err(FileError::ArchiveEncrypted);
    }
    check_declared(entry.size(), entry.compressed_size().min(size), limits)?;
    let base = meter.consumed();
    let mut entry = zip.by_index(index).map_err(zip_error)?;
    let mut capped = Capped::new(&mut entry, meter.clone(), base, limits);
    spool(&mut capped, &[&meter])
}

fn unwrap_gzip(file: File, limits: &Limits) -> Result<Unwrapped, FileError> {
    // The gzip trailer's ISIZE is not used as an early refusal: in a truncated stream those last four bytes are
    // whatever deflate data the cut left there (over 1 GiB three times in four), so it would call a broken upload a
    // bomb. A real bomb trips the ratio cap below within its first megabytes anyway.
    let meter = Meter::new();
    let decoder = MultiGzDecoder::new(Counted::new(BufReader::new(file), meter.clone()));
    let mut stream = Capped::new(decoder, meter.clone(), 0, limits);
    // A tar's magic sits at offset 257 of its first block, so peek one block to tell `.tar.gz` from `.csv.gz`.
    let mut head = Vec::with_capacity(512);
    (&mut stream)
        .take(512)
        .read_to_end(&mut head)
        .map_err(|e| read_error(e, &[&meter]))?;
    let rest = Cursor::new(head).chain(stream);
    if sniff::is_tar(rest.get_ref().0.get_ref()) {
        let inner = extract_tar(rest, limits, &[&meter])?;
        return finish(inner, vec![Format::Gzip, Format::Tar]);
    }
    let mut rest = rest;
    let inner = spool(&mut rest, &[&meter])?;
    finish(inner, vec![Format::Gzip])
}

/// Tar entries arrive in order with no directory to consult, so the whole archive is walked: the first candidate
/// is spooled as it passes, and any further one makes the archive ambiguous. `outer` are the meters of the layers
/// around it (the gzip stream), whose trips explain a read error.
fn extract_tar<R: Read>(reader: R, limits: &Limits, outer: &[&Arc<Meter>]) -> Result<File, FileError> {
    let meter = Meter::new();
    let mut archive = tar::Archive::new(Counted::new(reader, meter.clone()));
    let mut meters: Vec<&Arc<Meter>> = outer.to_vec();
    meters.push(&meter);
    let entries = archive.entries().map_err(|e| read_error(e, &meters))?;
    let mut count = 0u64;
    let mut names: Vec<String> = Vec::new();
    let mut spooled = None;
    for entry in entries {
        let mut entry = entry.map_err(|e| read_error(e, &meters))?;
        count += 1;
        if count > limits.max_entries {
            return Err(FileError::TooManyEntries {
                limit: limits.max_entries,
            });
        }
        let kind = entry.header().entry_type();
        let regular = kind.is_file() || kind.is_contiguous() || kind.is_gnu_sparse();
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        if !regular || !is_candidate(&name) {
            continue;
        }
        names.push(name);
        if names.len() > 1 {
            // Keep walking, so the error can name every candidate; the tar reader skips the data.
            continue;
        }
        check_declared(entry.size(), u64::MAX, limits)?;
        let base = meter.consumed();
        // A GNU sparse entry expands holes to zeros, so even a plain tar gets the expansion cap.
        let mut capped = Capped::new(&mut entry, meter.clone(), base, limits);
        spooled = Some(spool(&mut capped, &meters)?);
    }
    match (names.len(), spooled) {
        (0, _) => Err(FileError::ArchiveEmpty),
        (1, Some(file)) => Ok(file),
        _ => Err(multiple(names.iter().map(String::as_str))),
    }
}

/// Whether an entry can be the campaign file: not inside `__MACOSX/`, not a dot-file (`.DS_Store`, `._x.csv`) or
/// in a dot-folder, not Windows' `Thumbs.db` / `desktop.ini`.
pub(crate) fn is_candidate(name: &str) -> bool {
    if name.ends_with('/') || name.ends_with('\\') {
        return false;
    }
    let parts: Vec<&str> = name.split(['/', '\\']).filter(|p| !p.is_empty() && *p != ".").collect();
    let Some(base) = parts.last() else {
        return false;
    };
    if parts
        .iter()
        .any(|p| *p == "__MACOSX" || (p.starts_with('.') && *p != ".."))
    {
        return false;
    }
    !base.eq_ignore_ascii_case("thumbs.db") && !base.eq_ignore_ascii_case("desktop.ini")
}

fn multiple<'a>(names: impl Iterator<Item = &'a str>) -> FileError {
    FileError::ArchiveMultipleFiles(names.collect::<Vec<_>>().join(", "))
}

/// The early refusal on declared sizes.
fn check_declared(expanded: u64, compressed: u64, limits: &Limits) -> Result<(), FileError> {
    if expanded > limits.max_expanded_bytes {
        return Err(FileError::ExpandsTooMuch {
            limit: limits.max_expanded_bytes,
        });
    }
    if over_ratio(expanded, compressed, limits.max_ratio) {
        return Err(FileError::RatioTooHigh {
            limit: limits.max_ratio,
        });
    }
    Ok(())
}

fn over_ratio(expanded: u64, compressed: u64, max_ratio: u64) -> bool {
    expanded > RATIO_GRACE_BYTES && expanded > compressed.max(1).saturating_mul(max_ratio)
}

/// Copy to a fresh temp file, rewound. Read errors are the archive's fault (or a tripped limit); write errors are
/// the disk's.
fn spool(reader: &mut impl Read, meters: &[&Arc<Meter>]) -> Result<File, FileError> {
    let mut out = tempfile::tempfile()?;
    let mut buf = vec![0u8; COPY_BUFFER];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(read_error(e, meters)),
        };
        out.write_all(&buf[..n])?;
    }
    out.flush()?;
    out.seek(SeekFrom::Start(0))?;
    Ok(out)
}

/// A read error while unwrapping: a tripped limit if one tripped (whatever the layers above made of its error),
/// else the archive is corrupt.
fn read_error(e: io::Error, meters: &[&Arc<Meter>]) -> FileError {
    if let Some(tripped) = meters.iter().find_map(|m| m.tripped()) {
        return tripped;
    }
    if e.kind() == io::ErrorKind::UnexpectedEof {
        return FileError::ArchiveCorrupt(format!("it ends early (truncated?): {e}"));
    }
    FileError::ArchiveCorrupt(e.to_string())
}

fn zip_error(e: zip::result::ZipError) -> FileError {
    use zip::result::ZipError;
    match e {
        ZipError::UnsupportedArchive(ZipError::PASSWORD_REQUIRED) | ZipError::InvalidPassword => {
            FileError::ArchiveEncrypted
        }
        ZipError::Io(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
            FileError::ArchiveCorrupt(format!("it ends early (truncated?): {e}"))
        }
        other => FileError::ArchiveCorrupt(other.to_string()),
    }
}

/// The bytes one layer has consumed from below, and the limit error it tripped, if any. Shared between the reader
/// that counts (below a decompressor) and the one that caps (above it).
#[derive(Debug, Default)]
pub(crate) struct Meter {
    consumed: AtomicU64,
    tripped: OnceLock<FileError>,
}

impl Meter {
    pub(crate) fn new() -> Arc<Meter> {
        Arc::new(Meter::default())
    }

    fn consumed(&self) -> u64 {
        self.consumed.load(Ordering::Relaxed)
    }

    fn tripped(&self) -> Option<FileError> {
        self.tripped.get().cloned()
    }

    fn trip(&self, error: FileError) -> io::Error {
        let error = self.tripped.get_or_init(|| error).clone();
        io::Error::other(error)
    }
}

/// Counts the compressed bytes a decompressor pulls.
pub(crate) struct Counted<R> {
    inner: R,
    meter: Arc<Meter>,
}

impl<R> Counted<R> {
    pub(crate) fn new(inner: R, meter: Arc<Meter>) -> Self {
        Counted { inner, meter }
    }
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.meter.consumed.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

impl<R: Seek> Seek for Counted<R> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.inner.seek(pos)
    }
}

/// Fails, with the typed limit error, as soon as the bytes read through it pass the expanded-size limit or the
/// ratio limit against the compressed bytes consumed since `base`. Once tripped it keeps failing.
pub(crate) struct Capped<R> {
    inner: R,
    meter: Arc<Meter>,
    base: u64,
    expanded: u64,
    max_expanded: u64,
    max_ratio: u64,
}

impl<R> Capped<R> {
    pub(crate) fn new(inner: R, meter: Arc<Meter>, base: u64, limits: &Limits) -> Self {
        Capped {
            inner,
            meter,
            base,
            expanded: 0,
            max_expanded: limits.max_expanded_bytes,
            max_ratio: limits.max_ratio,
        }
    }
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(tripped) = self.meter.tripped() {
            return Err(io::Error::other(tripped));
        }
        let n = self.inner.read(buf)?;
        self.expanded = self.expanded.saturating_add(n as u64);
        if self.expanded > self.max_expanded {
            return Err(self.meter.trip(FileError::ExpandsTooMuch {
                limit: self.max_expanded,
            }));
        }
        let compressed = self.meter.consumed().saturating_sub(self.base);
        if over_ratio(self.expanded, compressed, self.max_ratio) {
            return Err(self.meter.trip(FileError::RatioTooHigh { limit: self.max_ratio }));
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_skip_folders_mac_and_dot_files() {
        assert!(is_candidate("campaign.csv"));
        assert!(is_candidate("./campaign.csv"));
        assert!(is_candidate("folder/campaign.csv"));
        assert!(!is_candidate("folder/"));
        assert!(!is_candidate("__MACOSX/._campaign.csv"));
        assert!(!is_candidate("__MACOSX/folder/._campaign.csv"));
        assert!(!is_candidate("folder/.DS_Store"));
        assert!(!is_candidate("._campaign.csv"));
        assert!(!is_candidate(".git/config"));
        assert!(!is_candidate("Thumbs.db"));
        assert!(!is_candidate("./"));
        assert!(!is_candidate(""));
    }

    #[test]
    fn capped_reader_errors_past_the_limit_instead_of_truncating() {
        let limits = Limits {
            max_expanded_bytes: 10,
            ..Limits::default()
        };
        let meter = Meter::new();
        let mut capped = Capped::new(&b"0123456789A"[..], meter.clone(), 0, &limits);
        let mut out = Vec::new();
        let e = capped.read_to_end(&mut out).unwrap_err();
        assert_eq!(meter.tripped(), Some(FileError::ExpandsTooMuch { limit: 10 }));
        assert!(e.to_string().contains("10 bytes"), "{e}");
        // Exactly at the limit is fine.
        let meter = Meter::new();
        let mut capped = Capped::new(&b"0123456789"[..], meter, 0, &limits);
        out.clear();
        assert_eq!(capped.read_to_end(&mut out).unwrap(), 10);
    }

    #[test]
    fn ratio_counts_the_compressed_bytes_consumed() {
        let limits = Limits {
            max_ratio: 10,
            ..Limits::default()
        };
        let zeros = vec![0u8; 4 * RATIO_GRACE_BYTES as usize];
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&zeros).unwrap();
        let gz = gz.finish().unwrap();
        let meter = Meter::new();
        let decoder = flate2::read::GzDecoder::new(Counted::new(&gz[..], meter.clone()));
        let mut capped = Capped::new(decoder, meter.clone(), 0, &limits);
        let mut out = Vec::new();
        assert!(capped.read_to_end(&mut out).is_err());
        assert_eq!(meter.tripped(), Some(FileError::RatioTooHigh { limit: 10 }));
        // The refusal comes soon after the grace, not at the end.
        assert!(out.len() < 2 * RATIO_GRACE_BYTES as usize, "{}", out.len());
    }

    #[test]
    fn declared_entry_counts_are_read_from_the_end_records() {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for name in ["a", "b", "c"] {
            zip.start_file(name, zip::write::SimpleFileOptions::default()).unwrap();
        }
        let bytes = zip.finish().unwrap().into_inner();
        assert_eq!(declared_zip_entries(&mut Cursor::new(&bytes)).unwrap(), 3);
        // A ZIP64 end record that declares a million entries is believed enough to refuse.
        let mut forged = bytes.clone();
        let eocd = forged.len() - 22;
        let zip64_at = forged.len() as u64 - 22;
        let mut record = b"PK\x06\x06".to_vec();
        record.extend_from_slice(&44u64.to_le_bytes());
        record.extend_from_slice(&[45, 0, 45, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        record.extend_from_slice(&1_000_000u64.to_le_bytes());
        record.extend_from_slice(&1_000_000u64.to_le_bytes());
        record.extend_from_slice(&[0; 16]);
        let mut locator = b"PK\x06\x07".to_vec();
        locator.extend_from_slice(&0u32.to_le_bytes());
        locator.extend_from_slice(&zip64_at.to_le_bytes());
        locator.extend_from_slice(&1u32.to_le_bytes());
        let end = forged.split_off(eocd);
        forged.extend_from_slice(&record);
        forged.extend_from_slice(&locator);
        forged.extend_from_slice(&end);
        assert_eq!(declared_zip_entries(&mut Cursor::new(&forged)).unwrap(), 1_000_000);
        let limits = Limits::default();
        assert_eq!(
            check_declared_entries(&mut Cursor::new(&forged), &limits),
            Err(FileError::TooManyEntries { limit: 100 })
        );
    }

    #[test]
    fn declared_sizes_refuse_early() {
        let limits = Limits::default();
        assert_eq!(check_declared(10, 1, &limits), Ok(()));
        assert_eq!(
            check_declared(limits.max_expanded_bytes + 1, u64::MAX, &limits),
            Err(FileError::ExpandsTooMuch {
                limit: limits.max_expanded_bytes
            })
        );
        assert_eq!(
            check_declared(300 << 20, 1 << 20, &limits),
            Err(FileError::RatioTooHigh { limit: 200 })
        );
        assert_eq!(check_declared(100 << 20, 1 << 20, &limits), Ok(()));
    }
}
