//! A 200,000-row XLSX written with `xlsx_writer` (phones as number cells) and streamed back through
//! `source::open`: every row comes back, in order, with exact digits, and memory stays flat.
#![allow(clippy::unwrap_used)]

use pregon_ingest::record::ReadItem;
use pregon_ingest::source::{OpenOptions, open};
use pregon_ingest::xlsx_writer::write_xlsx;
use pregon_ingest::{Limits, sniff::Format};
use std::io::{BufWriter, Seek, Write};
use std::time::Instant;

const ROWS: u64 = 200_000;

fn row(i: u64) -> Vec<String> {
    vec![
        format!("{}", 5_491_100_000_000 + i),
        format!("Customer {i} & Co <{}>", i % 7),
        format!("#{i:06}"),
        format!("${}.{:02}", i % 1000, i % 100),
        if i.is_multiple_of(10) {
            String::new()
        } else {
            "2024-03-15".into()
        },
    ]
}

fn peak_rss_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace()
        .nth(1)?
        .parse::<u64>()
        .ok()
        .map(|kib| kib / 1024)
}

#[test]
fn two_hundred_thousand_rows_round_trip_streaming() {
    let file = tempfile::NamedTempFile::new().unwrap();
    let started = Instant::now();
    let header = ["phone", "name", "parameter", "parameter", "parameter"]
        .map(String::from)
        .to_vec();
    let rows = std::iter::once(header).chain((0..ROWS).map(row));
    let mut out = write_xlsx(BufWriter::new(file.reopen().unwrap()), "campaign", rows, true).unwrap();
    out.flush().unwrap();
    let size = out.stream_position().unwrap();
    drop(out);
    println!("wrote {ROWS} rows, {size} bytes, in {:.2?}", started.elapsed());

    let started = Instant::now();
    let options = OpenOptions {
        sheet: Some("campaign".into()),
        limits: Limits::default(),
    };
    let table = open(file.path(), &options).unwrap();
    assert_eq!(table.format, Format::Xlsx);
    assert_eq!(
        &*table.columns,
        &["phone", "name", "parameter", "parameter", "parameter"]
    );
    let mut n = 0u64;
    for item in table.rows {
        let ReadItem::Record(record) = item.unwrap() else {
            panic!("bad row")
        };
        assert_eq!(record.row, n + 2);
        if n.is_multiple_of(9973) || n == ROWS - 1 {
            assert_eq!(record.values, row(n), "row {}", record.row);
        } else {
            assert_eq!(record.values[0], (5_491_100_000_000 + n).to_string());
        }
        n += 1;
    }
    assert_eq!(n, ROWS);
    let peak = peak_rss_mib();
    println!("read them back in {:.2?}; peak RSS {peak:?} MiB", started.elapsed());
    // Held whole, 200,000 rows of five cells would take well over this.
    if let Some(peak) = peak {
        assert!(peak < 200, "peak RSS {peak} MiB");
    }
}
