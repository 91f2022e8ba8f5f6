//! Zip, gzip and tar.gz bombs: 2 GiB of zeros in about 2 MB, built here (never committed) from one compressed
//! megabyte repeated, so building one costs milliseconds. Each must be refused quickly, with the right typed
//! error, whether its headers tell the truth or lie.
#![allow(clippy::unwrap_used)]

use crc32fast::Hasher;
use flate2::{Compress, Compression, FlushCompress};
use pregon_ingest::source::{OpenOptions, open};
use pregon_ingest::{FileError, Limits};
use std::io::Write;
use std::time::{Duration, Instant};

const MIB: u64 = 1 << 20;
const BOMB: u64 = 2048 * MIB;

/// A raw deflate stream of `chunks` × `chunk` bytes of zeros, and the CRC-32 of what it inflates to. A full flush
/// ends each chunk on a byte boundary with the window reset, so the compressed chunk can be repeated as is.
fn deflate_zeros(chunk: &[u8], chunks: u64, prefix: &[u8]) -> (Vec<u8>, u32, u64) {
    let mut c = Compress::new(Compression::best(), false);
    let mut head = Vec::with_capacity(prefix.len() + 1024);
    if !prefix.is_empty() {
        c.compress_vec(prefix, &mut head, FlushCompress::Full).unwrap();
        assert_eq!(c.total_in(), prefix.len() as u64);
    }
    let mut c = Compress::new(Compression::best(), false);
    let mut body = Vec::with_capacity(chunk.len() / 100 + 1024);
    c.compress_vec(chunk, &mut body, FlushCompress::Full).unwrap();
    assert_eq!(c.total_in(), chunk.len() as u64, "the output buffer was too small");
    let mut stream = head;
    for _ in 0..chunks {
        stream.extend_from_slice(&body);
    }
    // A final, empty stored block.
    stream.extend_from_slice(&[0x01, 0x00, 0x00, 0xff, 0xff]);

    let mut crc = Hasher::new();
    crc.update(prefix);
    let mut one = Hasher::new();
    one.update(chunk);
    // CRC-32 of `chunks` copies by doubling (chunks is a power of two here).
    assert!(chunks.is_power_of_two());
    let mut many = one;
    let mut n = 1;
    while n < chunks {
        let copy = many.clone();
        many.combine(&copy);
        n *= 2;
    }
    crc.combine(&many);
    (
        stream,
        crc.finalize(),
        prefix.len() as u64 + chunks * chunk.len() as u64,
    )
}

/// A one-entry ZIP around a raw deflate stream, with whatever sizes we choose to declare.
fn zip_raw(name: &str, deflated: &[u8], crc: u32, declared_size: u32) -> Vec<u8> {
    let name = name.as_bytes();
    let mut out = Vec::with_capacity(deflated.len() + 200);
    let compressed = u32::try_from(deflated.len()).unwrap();
    out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
    for v in [20u16, 0, 8, 0, 0x21] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    for v in [crc, compressed, declared_size] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&(name.len() as u16).to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(name);
    out.extend_from_slice(deflated);
    let central_at = u32::try_from(out.len()).unwrap();
    let mut central = Vec::new();
    central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
    for v in [20u16, 20, 0, 8, 0, 0x21] {
        central.extend_from_slice(&v.to_le_bytes());
    }
    for v in [crc, compressed, declared_size] {
        central.extend_from_slice(&v.to_le_bytes());
    }
    for v in [name.len() as u16, 0, 0, 0, 0] {
        central.extend_from_slice(&v.to_le_bytes());
    }
    central.extend_from_slice(&0u32.to_le_bytes());
    central.extend_from_slice(&0u32.to_le_bytes());
    central.extend_from_slice(name);
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    for v in [0u16, 0, 1, 1] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&central_at.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

/// A gzip member around a raw deflate stream, with whatever ISIZE we choose to declare.
fn gzip_raw(deflated: &[u8], crc: u32, declared_size: u32) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 255];
    out.extend_from_slice(deflated);
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(&declared_size.to_le_bytes());
    out
}

/// The zeros of one chunk, allocated once per test binary.
fn megabyte() -> Vec<u8> {
    vec![0u8; MIB as usize]
}

fn refuse(bytes: &[u8], limits: Limits, what: &str) -> (FileError, Duration) {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(bytes).unwrap();
    file.flush().unwrap();
    let started = Instant::now();
    let result = open(file.path(), &OpenOptions { sheet: None, limits });
    let elapsed = started.elapsed();
    let error = result.unwrap_err();
    println!("{what}: {} bytes refused in {elapsed:.2?}: {error}", bytes.len());
    (error, elapsed)
}

/// Peak RSS of the test process, to show that refusing a bomb never held its expansion.
fn peak_rss_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}

fn assert_bounded(elapsed: Duration) {
    // Generous for a loaded debug build; a bomb that were inflated would take minutes and gigabytes.
    assert!(elapsed < Duration::from_secs(20), "took {elapsed:?}");
    if let Some(peak) = peak_rss_mib() {
        println!("peak RSS so far: {peak} MiB");
        assert!(peak < 512, "peak RSS {peak} MiB");
    }
}

#[test]
fn zip_bomb_with_honest_sizes_is_refused_before_inflating() {
    let (deflated, crc, size) = deflate_zeros(&megabyte(), BOMB / MIB, b"");
    assert_eq!(size, BOMB);
    let bomb = zip_raw("zeros.csv", &deflated, crc, u32::try_from(size).unwrap());
    assert!(bomb.len() < 4 * MIB as usize, "{}", bomb.len());
    let (error, elapsed) = refuse(&bomb, Limits::default(), "zip bomb, sizes declared");
    assert_eq!(error, FileError::ExpandsTooMuch { limit: 1 << 30 });
    assert_bounded(elapsed);
    // With room for 4 GiB, the declared ratio (about 1000:1) refuses it instead.
    let roomy = Limits {
        max_expanded_bytes: 4 << 30,
        ..Limits::default()
    };
    let (error, elapsed) = refuse(&bomb, roomy, "zip bomb, sizes declared, 4 GiB allowed");
    assert_eq!(error, FileError::RatioTooHigh { limit: 200 });
    assert_bounded(elapsed);
}

#[test]
fn zip_bomb_that_lies_about_its_size_is_refused_while_inflating() {
    let (deflated, crc, _) = deflate_zeros(&megabyte(), BOMB / MIB, b"");
    // Declares 100 MB: under the size limit, and only 50:1 against its 2 MB.
    let bomb = zip_raw("zeros.csv", &deflated, crc, 100_000_000);
    let (error, elapsed) = refuse(&bomb, Limits::default(), "zip bomb, size understated");
    assert_eq!(error, FileError::RatioTooHigh { limit: 200 });
    assert_bounded(elapsed);
    // With the ratio limit out of the way, the zip reader's own check stops it at the size it declared.
    let no_ratio = Limits {
        max_ratio: 1_000_000,
        ..Limits::default()
    };
    let bomb = zip_raw("zeros.csv", &deflated, crc, 10_000_000);
    let (error, elapsed) = refuse(&bomb, no_ratio, "zip bomb, size understated, ratio unlimited");
    assert!(
        matches!(&error, FileError::ArchiveCorrupt(m) if m.contains("declared")),
        "{error:?}"
    );
    assert_bounded(elapsed);
}

#[test]
fn gzip_bomb_is_refused_while_inflating_whatever_its_trailer_says() {
    let (deflated, crc, size) = deflate_zeros(&megabyte(), BOMB / MIB, b"");
    for (declared, what) in [
        (size as u32, "gzip bomb, ISIZE true"),
        (1000, "gzip bomb, ISIZE understated"),
    ] {
        let bomb = gzip_raw(&deflated, crc, declared);
        let (error, elapsed) = refuse(&bomb, Limits::default(), what);
        assert_eq!(error, FileError::RatioTooHigh { limit: 200 });
        assert_bounded(elapsed);
    }
    let no_ratio = Limits {
        max_expanded_bytes: 64 * MIB,
        max_ratio: 1_000_000,
        ..Limits::default()
    };
    let (error, elapsed) = refuse(&gzip_raw(&deflated, crc, 0), no_ratio, "gzip bomb, ratio unlimited");
    assert_eq!(error, FileError::ExpandsTooMuch { limit: 64 * MIB });
    assert_bounded(elapsed);
}

#[test]
fn tar_gz_bomb_is_refused_while_inflating() {
    // A tar header declaring a 900 MB file (under the limit), then zeros: the gzip layer's ratio cap trips.
    let mut header = tar::Header::new_ustar();
    header.set_path("zeros.csv").unwrap();
    header.set_size(900_000_000);
    header.set_mode(0o644);
    header.set_cksum();
    let (deflated, crc, _) = deflate_zeros(&megabyte(), 1024, header.as_bytes());
    let bomb = gzip_raw(&deflated, crc, 0);
    let (error, elapsed) = refuse(&bomb, Limits::default(), "tar.gz bomb");
    assert_eq!(error, FileError::RatioTooHigh { limit: 200 });
    assert_bounded(elapsed);
    // A header that declares more than the limit is refused on sight.
    header.set_size(2 << 30);
    header.set_cksum();
    let (deflated, crc, _) = deflate_zeros(&megabyte(), 1, header.as_bytes());
    let (error, _) = refuse(
        &gzip_raw(&deflated, crc, 0),
        Limits::default(),
        "tar.gz, 2 GiB declared",
    );
    assert_eq!(error, FileError::ExpandsTooMuch { limit: 1 << 30 });
}

#[test]
fn an_honest_small_archive_that_compresses_well_is_accepted() {
    // 900 KB of one repeated row compresses far past 200:1, but stays under the ratio's 1 MiB grace.
    let row = b"+5491123456789,hello_world\n";
    let mut csv = b"phone,elementName\n".to_vec();
    while csv.len() < 900_000 {
        csv.extend_from_slice(row);
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), Compression::best());
    gz.write_all(&csv).unwrap();
    let gz = gz.finish().unwrap();
    assert!(csv.len() / gz.len() > 200, "{} / {}", csv.len(), gz.len());
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(&gz).unwrap();
    let table = open(file.path(), &OpenOptions::default()).unwrap();
    assert_eq!(table.rows.count(), (csv.len() - 18) / row.len());
}
