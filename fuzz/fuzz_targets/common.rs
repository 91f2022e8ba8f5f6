//! What the file-based targets share: the ingest crate reads campaign files from a path (readers seek, archives are
//! reopened), so each input is written to one scratch file per process, rewritten in place every run.

use pregon_ingest::Limits;
use std::path::Path;
use std::sync::OnceLock;

/// Limits small enough that no input can make a run cost more than a few MiB, yet above the 1 MiB ratio grace
/// (`archive::RATIO_GRACE_BYTES`) so the ratio check is exercised too.
pub fn small_limits() -> Limits {
    Limits {
        max_upload_bytes: 1 << 20,
        max_expanded_bytes: 4 << 20,
        max_ratio: 200,
        max_entries: 16,
    }
}

/// `data` as the content of this process's scratch file (in `TMPDIR`; `just fuzz` points it at `/dev/shm`).
pub fn spool(data: &[u8]) -> &'static Path {
    static FILE: OnceLock<tempfile::TempPath> = OnceLock::new();
    let path = FILE.get_or_init(|| {
        tempfile::Builder::new()
            .prefix("pregon-fuzz-")
            .tempfile()
            .expect("a scratch file in TMPDIR")
            .into_temp_path()
    });
    std::fs::write(path, data).expect("writing the scratch file");
    path
}
