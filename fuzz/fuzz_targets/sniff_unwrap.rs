//! Arbitrary bytes as an uploaded file: sniffed, unwrapped (ZIP, GZIP, TAR, TAR.GZ) under small limits, and the
//! document inside read to its end. Properties: nothing panics, an unwrapped document is never an archive and never
//! larger than the expansion limit (the cap must refuse, not truncate silently or let it through).
#![no_main]

use libfuzzer_sys::fuzz_target;
use pregon_ingest::archive;
use pregon_ingest::sniff::{self, Format};
use std::io::{BufReader, Read};

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let path = common::spool(data);
    let limits = common::small_limits();
    let Ok(format) = sniff::sniff_file(path) else {
        return;
    };
    if !format.is_archive() {
        if format == Format::Xlsx {
            let mut input = BufReader::new(std::fs::File::open(path).expect("the scratch file"));
            let _ = archive::check_package(&mut input, &limits);
        }
        return;
    }
    let Ok(unwrapped) = archive::unwrap(path, format, &limits) else {
        return;
    };
    assert!(!unwrapped.format.is_archive(), "unwrapped to an archive: {unwrapped:?}");
    assert!(
        matches!(
            unwrapped.wrapped_in.as_slice(),
            [Format::Zip] | [Format::Gzip] | [Format::Tar] | [Format::Gzip, Format::Tar]
        ),
        "wrapped in {:?}",
        unwrapped.wrapped_in
    );
    let mut input = BufReader::new(unwrapped.file);
    if unwrapped.format == Format::Xlsx {
        let _ = archive::check_package(&mut input, &limits);
    }
    let mut content = Vec::new();
    input.read_to_end(&mut content).expect("reading the spooled document");
    assert!(
        content.len() as u64 <= limits.max_expanded_bytes,
        "{} bytes unwrapped past the {}-byte limit",
        content.len(),
        limits.max_expanded_bytes
    );
});
