//! Inputs the fuzz targets (fuzz/, `just fuzz`) crashed on, kept as regression tests: each is opened the way the
//! server's ingestion opens a campaign file and must be refused with a typed error, never a panic. The files under
//! `tests/fuzz/` are the minimized crashing inputs, without the fuzz target's leading selector byte.
#![allow(clippy::unwrap_used)]

use pregon_ingest::FileError;
use pregon_ingest::sniff::{Format, sniff_file};
use pregon_ingest::source::{OpenOptions, open};
use std::path::{Path, PathBuf};

fn input(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz").join(name)
}

/// Open with sheet `campaign` (as Chat-Tonic uploads are) and read every row.
fn open_and_read(name: &str) -> Result<usize, FileError> {
    let options = OpenOptions {
        sheet: Some("campaign".into()),
        ..OpenOptions::default()
    };
    let table = open(&input(name), &options)?;
    table
        .rows
        .map(|r| r.map(|_| ()))
        .collect::<Result<Vec<()>, _>>()
        .map(|rows| rows.len())
}

fn assert_unreadable(result: Result<usize, FileError>) {
    match result {
        Err(FileError::Unreadable(why)) => assert!(why.contains("structure is broken"), "{why}"),
        other => panic!("expected Unreadable, got {other:?}"),
    }
}

/// An OLE2 header and nothing else: reading a sector past the file's end, calamine sliced `data[512..0]` (calamine
/// 0.38 cfb.rs:320).
#[test]
fn xls_whose_sector_chain_points_past_the_end() {
    assert_eq!(sniff_file(&input("xls-sector-past-end.xls")).unwrap(), Format::Xls);
    assert_unreadable(open_and_read("xls-sector-past-end.xls"));
}

/// An OLE2 file whose last sector is cut one byte into a 4-byte word: calamine's `to_u32` asserted the length is a
/// multiple of 4 (calamine 0.38 utils.rs:29).
#[test]
fn xls_whose_last_sector_is_cut_mid_word() {
    assert_eq!(sniff_file(&input("xls-sector-cut-mid-word.xls")).unwrap(), Format::Xls);
    assert_unreadable(open_and_read("xls-sector-cut-mid-word.xls"));
}

/// A 4.6 KB OLE2 file whose FAT (one sector, cut by the file's end) sends the directory's chain from sector 9 to
/// sector 0, which points to itself: calamine appended sector 0 forever, past 2 GiB (calamine 0.38 cfb.rs:340,
/// `get_chain`). Refused before calamine opens it (readers/xls_check.rs).
#[test]
fn xls_whose_sector_chain_loops() {
    assert_eq!(sniff_file(&input("xls-looping-sector-chain.xls")).unwrap(), Format::Xls);
    match open_and_read("xls-looping-sector-chain.xls") {
        Err(FileError::Unreadable(why)) => assert!(why.contains("loops back on itself"), "{why}"),
        other => panic!("expected Unreadable, got {other:?}"),
    }
}

/// `chat-tonic.xls` with one shared-string cell moved to row 65,287, column 65,536: calamine made the sheet's cells
/// one dense grid from A1 to there and asked for 136 GB (calamine 0.38 lib.rs:1051, `Range::from_sparse`). Refused
/// before calamine opens it (readers/xls_check.rs).
#[test]
fn xls_with_a_cell_past_column_256() {
    assert_eq!(sniff_file(&input("xls-huge-cell-range.xls")).unwrap(), Format::Xls);
    match open_and_read("xls-huge-cell-range.xls") {
        Err(FileError::Unreadable(why)) => assert!(why.contains("past column 256"), "{why}"),
        other => panic!("expected Unreadable, got {other:?}"),
    }
}
