//! Uploads and fetched files go to disk as they arrive, never whole into memory: a campaign file can be hundreds of
//! megabytes, and several can arrive at once. The size limit is enforced on the bytes actually received, so a
//! missing or lying `Content-Length` changes nothing, and the SHA-256 is computed on the way, so nothing reads the
//! file twice.

use bytes::Bytes;
use futures::{Stream, StreamExt};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use tempfile::NamedTempFile;
use tokio::io::AsyncWriteExt;

/// Bytes buffered before each write: multipart chunks are often a few KB, and every `tokio::fs` write is a trip to
/// the blocking pool.
const WRITE_BUFFER: usize = 256 * 1024;

/// A file written to disk as it arrived, with its size and SHA-256.
#[derive(Debug)]
pub struct SpooledFile {
    file: NamedTempFile,
    size: u64,
    sha256: String,
}

impl SpooledFile {
    /// Where the file is; it is deleted when this value is dropped, unless it was persisted.
    pub fn path(&self) -> &Path {
        self.file.path()
    }

    /// Its size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Its SHA-256, lowercase hex.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// Move the file to `dest` (e.g. a shared directory) and stop deleting it on drop; an existing `dest` is
    /// replaced. Blocking (fsync and rename): call it from `spawn_blocking` in async code.
    pub fn persist(self, dest: &Path) -> Result<PathBuf, SpoolError> {
        // A persisted file is what a campaign will be read from after a restart, so it must be on disk before
        // anyone is told it exists.
        self.file.as_file().sync_all()?;
        match self.file.persist(dest) {
            Ok(_) => Ok(dest.to_path_buf()),
            Err(e) if e.error.kind() == std::io::ErrorKind::CrossesDevices => {
                // rename(2) cannot cross file systems; copy into the destination's directory first so `dest` still
                // appears atomically, complete or not at all.
                let parent = dest
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .unwrap_or(Path::new("."));
                let mut copy = tempfile::Builder::new().prefix(".pregon-spool-").tempfile_in(parent)?;
                let mut source = e.file.reopen()?;
                std::io::copy(&mut source, copy.as_file_mut())?;
                copy.as_file().sync_all()?;
                copy.persist(dest).map_err(|e| e.error)?;
                Ok(dest.to_path_buf())
            }
            Err(e) => Err(e.error.into()),
        }
    }
}

/// Why a stream could not be spooled.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    /// The stream had more bytes than allowed; nothing was kept.
    #[error("the file is larger than {limit} bytes")]
    TooLarge {
        /// The limit, in bytes.
        limit: u64,
    },
    /// The disk failed (full, permissions, …).
    #[error("could not write the file: {0}")]
    Io(#[from] std::io::Error),
    /// The stream itself failed (client gone, connection reset, malformed multipart, …).
    #[error("the upload failed: {0}")]
    Source(String),
}

/// Write `chunks` to a new temp file in `dir`, hashing on the way; past `limit` bytes stop at once with `TooLarge`
/// (and the partial file is removed).
pub async fn spool<S, E>(mut chunks: S, dir: &Path, limit: u64) -> Result<SpooledFile, SpoolError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let dir = dir.to_path_buf();
    let file = tokio::task::spawn_blocking(move || tempfile::Builder::new().prefix(".pregon-spool-").tempfile_in(dir))
        .await
        .map_err(std::io::Error::other)??;
    // From here on, any early return or a cancelled future drops `file`, which deletes the partial file.
    let mut out =
        tokio::io::BufWriter::with_capacity(WRITE_BUFFER, tokio::fs::File::from_std(file.as_file().try_clone()?));
    let mut hasher = Sha256::new();
    let mut size: u64 = 0;
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk.map_err(|e| SpoolError::Source(e.to_string()))?;
        size = size.saturating_add(chunk.len() as u64);
        if size > limit {
            return Err(SpoolError::TooLarge { limit });
        }
        hasher.update(&chunk);
        out.write_all(&chunk).await?;
    }
    // tokio's File finishes each write in the background; flushing waits for the last one, so the file on disk
    // is complete when we return.
    out.flush().await?;
    Ok(SpooledFile {
        file,
        size,
        sha256: hex::encode(hasher.finalize()),
    })
}

/// [`spool`] one field of an axum multipart upload.
pub async fn spool_field(
    field: axum::extract::multipart::Field<'_>,
    dir: &Path,
    limit: u64,
) -> Result<SpooledFile, SpoolError> {
    spool(field, dir, limit).await
}
