//! Limits on what a campaign file may cost, enforced on the bytes actually read (never on what a header declares).

/// The limits of one ingestion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest upload (the spooled file), bytes. Default 100 MB.
    pub max_upload_bytes: u64,
    /// Largest content once decompressed, bytes. Default 1 GiB.
    pub max_expanded_bytes: u64,
    /// Highest ratio of decompressed to compressed bytes. Default 200.
    pub max_ratio: u64,
    /// Most entries an archive may hold (directories included). Default 100.
    pub max_entries: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_upload_bytes: 100 * 1000 * 1000,
            max_expanded_bytes: 1024 * 1024 * 1024,
            max_ratio: 200,
            max_entries: 100,
        }
    }
}
