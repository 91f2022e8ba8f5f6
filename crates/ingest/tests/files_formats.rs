//! Every fixture under `fixtures/files/` opened through `source::open`, with its exact records or its exact error.
#![allow(clippy::unwrap_used)]

use pregon_ingest::record::{ReadItem, Record};
use pregon_ingest::sniff::{Format, sniff_file};
use pregon_ingest::source::{OpenOptions, Table, open};
use pregon_ingest::{FileError, Limits};
use std::io::Write;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/files")
        .join(name)
}

fn campaign() -> OpenOptions {
    OpenOptions {
        sheet: Some("campaign".into()),
        limits: Limits::default(),
    }
}

fn open_fixture(name: &str) -> Result<Table, FileError> {
    open(&fixture(name), &campaign())
}

fn read_all(table: Table) -> Result<Vec<ReadItem>, FileError> {
    table.rows.collect()
}

fn records(items: Vec<ReadItem>) -> Vec<Record> {
    items
        .into_iter()
        .map(|i| match i {
            ReadItem::Record(r) => r,
            ReadItem::Bad(b) => panic!("unexpected bad row {b:?}"),
        })
        .collect()
}

fn open_error(name: &str) -> FileError {
    open_fixture(name).unwrap_err()
}

const HEADER: [&str; 14] = [
    "phone",
    "namespace",
    "elementName",
    "languageCode",
    "languagePolicy",
    "flag",
    "buttonParameter",
    "media.from",
    "media.type",
    "media.url",
    "parameter",
    "parameter",
    "parameter",
    "parameter",
];

const NS: &str = "pregon_sandbox";
const IMG: &str = "https://example.com/media/order-1234.jpg";

/// The 11 data rows every Chat-Tonic fixture holds (rows 2–12), as the tabular readers give them.
#[rustfmt::skip]
const ROWS: [[&str; 14]; 11] = [
    ["+54 9 11 2345-6789", NS, "order_confirmation", "en_US", "deterministic", "email=ana@example.com", "", "URL", "image", IMG, "#1234", "$1,250.00", "March 15th", ""],
    ["+52 (55) 1234-5678", NS, "appointment_reminder", "es", "deterministic", "", "", "", "", "", "odontología", "Ana", "15/03", "10:30"],
    ["+1 (415) 555-2671", NS, "payment_due", "en", "deterministic", "", "INV-0042", "", "", "", "John", "$120.00", "April 1st", ""],
    ["34612345678", NS, "hello_world", "en_US", "deterministic", "", "", "", "", "", "", "", "", ""],
    ["12345", NS, "hello_world", "en_US", "deterministic", "", "", "", "", "", "", "", "", ""],
    ["5491123456789", NS, "hello_world", "en_US", "deterministic", "", "", "", "", "", "", "", "", ""],
    ["+55 11 91234-5678", NS, "no_such_template", "en", "deterministic", "", "", "", "", "", "x", "", "", ""],
    ["+57 301 234 5678", NS, "payment_due", "en", "deterministic", "", "INV-0043", "", "", "", "Maria", "$99.90", "", ""],
    ["+49 151 23456789", NS, "order_confirmation", "en_US", "deterministic", "", "", "URL", "image", "", "#1235", "$10.00", "March 20th", ""],
    ["+56 9 6123 4567", NS, "appointment_reminder", "es", "deterministic", "", "", "", "", "", "cardiología", "Ana     María", "16/03", "11:00"],
    ["+598 94 123 456", NS, "payment_due", "en", "deterministic", "", "", "", "", "", "Luis", "$45.00", "April 5th", ""],
];

fn tabular_expected() -> Vec<(u64, Vec<String>)> {
    ROWS.iter()
        .enumerate()
        .map(|(i, row)| (i as u64 + 2, row.iter().map(|s| s.to_string()).collect()))
        .collect()
}

/// The same rows as the JSON fixture holds them: `media` only where a row has one, `parameters` without the blank
/// trailing cells a spreadsheet has.
fn json_expected() -> Vec<(u64, Vec<(String, String)>)> {
    ROWS.iter()
        .enumerate()
        .map(|(i, row)| {
            let mut pairs: Vec<(String, String)> =
                (0..7).map(|c| (HEADER[c].to_string(), row[c].to_string())).collect();
            if !row[7].is_empty() {
                pairs.extend((7..10).map(|c| (HEADER[c].to_string(), row[c].to_string())));
            }
            let params: Vec<&str> = row[10..].to_vec();
            let used = params.len() - params.iter().rev().take_while(|p| p.is_empty()).count();
            pairs.extend(params[..used].iter().map(|p| ("parameter".to_string(), p.to_string())));
            (i as u64 + 1, pairs)
        })
        .collect()
}

fn assert_chat_tonic_tabular(name: &str, format: Format, wrapped_in: &[Format]) {
    let table = open_fixture(name).unwrap();
    assert_eq!(table.format, format, "{name}");
    assert_eq!(table.wrapped_in, wrapped_in, "{name}");
    assert_eq!(&*table.columns, &HEADER, "{name}");
    let got: Vec<(u64, Vec<String>)> = records(read_all(table).unwrap())
        .into_iter()
        .map(|r| {
            assert_eq!(&*r.columns, &HEADER);
            (r.row, r.values)
        })
        .collect();
    assert_eq!(got, tabular_expected(), "{name}");
}

fn assert_chat_tonic_json(name: &str, wrapped_in: &[Format]) {
    let table = open_fixture(name).unwrap();
    assert_eq!(table.format, Format::Json);
    assert_eq!(table.wrapped_in, wrapped_in);
    assert!(table.columns.is_empty());
    let got: Vec<(u64, Vec<(String, String)>)> = records(read_all(table).unwrap())
        .into_iter()
        .map(|r| (r.row, r.columns.iter().cloned().zip(r.values).collect()))
        .collect();
    assert_eq!(got, json_expected(), "{name}");
}

#[test]
fn chat_tonic_csv_with_bom_crlf_and_a_quoted_comma() {
    assert_chat_tonic_tabular("chat-tonic.csv", Format::Csv, &[]);
}

#[test]
fn chat_tonic_xlsx_with_numeric_phones_and_shared_strings() {
    assert_chat_tonic_tabular("chat-tonic.xlsx", Format::Xlsx, &[]);
}

#[test]
fn chat_tonic_xls() {
    assert_chat_tonic_tabular("chat-tonic.xls", Format::Xls, &[]);
}

#[test]
fn chat_tonic_json_streamed_with_numbers_as_written() {
    assert_chat_tonic_json("chat-tonic.json", &[]);
}

#[test]
fn chat_tonic_archives() {
    assert_chat_tonic_tabular("chat-tonic.xlsx.zip", Format::Xlsx, &[Format::Zip]);
    assert_chat_tonic_tabular("chat-tonic.csv.zip", Format::Csv, &[Format::Zip]);
    assert_chat_tonic_tabular("chat-tonic.csv.tar.gz", Format::Csv, &[Format::Gzip, Format::Tar]);
    assert_chat_tonic_json("chat-tonic.json.gz", &[Format::Gzip]);
}

#[test]
fn the_bytes_decide_the_format_not_the_name() {
    assert_chat_tonic_tabular("lies-about-format.csv", Format::Xlsx, &[]);
    let expected = [
        ("chat-tonic.csv", Format::Csv),
        ("chat-tonic.json", Format::Json),
        ("chat-tonic.xlsx", Format::Xlsx),
        ("chat-tonic.xls", Format::Xls),
        ("chat-tonic.xlsx.zip", Format::Zip),
        ("chat-tonic.csv.zip", Format::Zip),
        ("chat-tonic.csv.tar.gz", Format::Gzip),
        ("chat-tonic.json.gz", Format::Gzip),
        ("lies-about-format.csv", Format::Xlsx),
        ("empty.csv", Format::Csv),
        ("empty.zip", Format::Zip),
        ("malformed.json", Format::Json),
        ("cell-types.xls", Format::Xls),
    ];
    for (name, format) in expected {
        assert_eq!(sniff_file(&fixture(name)).unwrap(), format, "{name}");
    }
}

#[test]
fn jelou_csv() {
    let table = open_fixture("jelou.csv").unwrap();
    assert_eq!(
        &*table.columns,
        &["phone_number", "customer_name", "order_id", "amount"]
    );
    let got: Vec<(u64, Vec<String>)> = records(read_all(table).unwrap())
        .into_iter()
        .map(|r| (r.row, r.values))
        .collect();
    let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        got,
        [
            (2, s(&["593991234567", "María José", "A12345", "$250.00"])),
            (3, s(&["573012345678", "Carlos", "B67890", "$100.50"])),
            (4, s(&["525512345678", "Lucía", "C22345", "$50.00"])),
            (5, s(&["14155552671", "John", "D99999", "$1,200.00"])),
        ]
    );
}

#[test]
fn jelou_bad_header_is_read_as_it_is_for_the_model_to_judge() {
    let table = open_fixture("jelou-bad-header.csv").unwrap();
    assert_eq!(&*table.columns, &["phone number", "customer-name!", "order#amount"]);
    let rows = records(read_all(table).unwrap());
    assert_eq!(rows[0].values, ["593991234567", "Ana", "A12345"]);
}

#[test]
fn empty_and_header_only() {
    assert_eq!(open_error("empty.csv"), FileError::Empty);
    assert_eq!(open_error("empty.csv").reason(), "empty_file");
    let table = open_fixture("header-only.csv").unwrap();
    assert_eq!(&*table.columns, &HEADER);
    assert!(read_all(table).unwrap().is_empty());
}

#[test]
fn wrong_sheet_names_the_sheets_it_has() {
    let e = open_error("wrong-sheet.xlsx");
    assert_eq!(
        e,
        FileError::WrongSheet {
            expected: "campaign".into(),
            found: "Sheet1, Data".into()
        }
    );
    assert_eq!(e.reason(), "wrong_sheet");
    // Without a sheet name, the first sheet is read.
    let table = open(&fixture("wrong-sheet.xlsx"), &OpenOptions::default()).unwrap();
    let rows = records(read_all(table).unwrap());
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1].get("phone"), Some("+52 (55) 1234-5678"));
}

#[test]
fn invalid_utf8_row_is_refused_alone() {
    let items = read_all(open_fixture("invalid-utf8.csv").unwrap()).unwrap();
    assert_eq!(items.len(), 3);
    let ReadItem::Record(first) = &items[0] else { panic!() };
    assert_eq!((first.row, first.get("phone")), (2, Some("+5491123456789")));
    let ReadItem::Bad(bad) = &items[1] else {
        panic!("{:?}", items[1])
    };
    assert_eq!(bad.row_number, 3);
    assert_eq!(bad.code, "invalid_row");
    assert_eq!(bad.column.as_deref(), Some("parameter"));
    assert!(bad.message.contains("UTF-8"), "{}", bad.message);
    let ReadItem::Record(last) = &items[2] else { panic!() };
    assert_eq!((last.row, last.get("phone")), (4, Some("+14155552671")));
}

#[test]
fn invalid_utf8_header_refuses_the_file() {
    let e = open_error("invalid-utf8-header.csv");
    assert!(matches!(e, FileError::InvalidUtf8(_)), "{e:?}");
    assert_eq!(e.reason(), "invalid_utf8");
}

#[test]
fn malformed_json_yields_the_rows_before_the_break_then_refuses_the_file() {
    let table = open_fixture("malformed.json").unwrap();
    let items: Vec<_> = table.rows.collect();
    assert_eq!(items.len(), 4);
    assert!(items[..3].iter().all(|i| matches!(i, Ok(ReadItem::Record(_)))));
    let Err(e) = &items[3] else { panic!() };
    assert_eq!(e.reason(), "malformed_json");
    assert!(e.to_string().contains("element 4"), "{e}");
}

#[test]
fn json_elements_that_are_not_objects_are_bad_rows() {
    let items = read_all(open_fixture("not-objects.json").unwrap()).unwrap();
    let ReadItem::Bad(bad) = &items[0] else { panic!() };
    assert_eq!(
        (bad.row_number, bad.column.as_deref(), bad.code.as_str()),
        (1, None, "invalid_row")
    );
    let ReadItem::Record(r) = &items[1] else { panic!() };
    assert_eq!(r.row, 2);
    assert_eq!(&*r.columns, &["phone", "elementName", "languageCode"]);
    assert_eq!(r.values, ["+5491123456789", "hello_world", "en_US"]);
}

#[test]
fn archive_errors() {
    let cases = [
        ("truncated.csv.gz", "archive_corrupt"),
        ("nested.zip", "archive_nested"),
        ("empty.zip", "archive_empty"),
        ("encrypted.zip", "archive_encrypted"),
    ];
    for (name, reason) in cases {
        assert_eq!(open_error(name).reason(), reason, "{name}");
    }
    assert_eq!(
        open_error("two-files.zip"),
        FileError::ArchiveMultipleFiles("campaign-1.csv, campaign-2.csv".into())
    );
}

#[test]
fn upload_size_is_checked_first() {
    let options = OpenOptions {
        sheet: None,
        limits: Limits {
            max_upload_bytes: 100,
            ..Limits::default()
        },
    };
    assert_eq!(
        open(&fixture("chat-tonic.csv"), &options).unwrap_err(),
        FileError::TooLarge { limit: 100 }
    );
}

fn cell_values(name: &str) -> Vec<(String, String)> {
    let table = open(&fixture(name), &OpenOptions::default()).unwrap();
    assert_eq!(&*table.columns, &["kind", "value"]);
    records(read_all(table).unwrap())
        .into_iter()
        .map(|r| (r.values[0].clone(), r.values[1].clone()))
        .collect()
}

#[test]
fn xlsx_cells_become_exact_text() {
    let got = cell_values("cell-types.xlsx");
    let want = [
        ("phone as a number", "5491123456789"),
        ("phone typed as 5.49112345678E12", "5491123456780"),
        ("decimal", "12.5"),
        ("date", "2024-03-15"),
        ("datetime", "2024-03-16T10:30:00"),
        ("time", "10:30:00"),
        ("boolean", "true"),
        ("text with zeros", "007"),
        ("error", ""),
        ("", "gap before"),
    ];
    let want: Vec<(String, String)> = want.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
    assert_eq!(got, want);
}

#[test]
fn xls_cells_become_exact_text() {
    let got = cell_values("cell-types.xls");
    let want = [
        ("phone as a number", "5491123456789"),
        ("phone typed as 5.49112345678E12", "5491123456780"),
        ("decimal", "12.5"),
        ("date", "2024-03-15"),
        ("datetime", "2024-03-16T10:30:00"),
        ("boolean", "true"),
        ("text with zeros", "007"),
    ];
    let want: Vec<(String, String)> = want.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
    assert_eq!(got, want);
}

// --- archives built here: nesting, ambiguity, limits, corruption ------------------------------------------------

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    for (name, data) in entries {
        if name.ends_with('/') {
            zip.add_directory(*name, options).unwrap();
        } else {
            zip.start_file(*name, options).unwrap();
            zip.write_all(data).unwrap();
        }
    }
    zip.finish().unwrap().into_inner()
}

fn gz_of(data: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(data).unwrap();
    gz.finish().unwrap()
}

fn tar_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    for (name, data) in entries {
        let mut header = tar::Header::new_ustar();
        if name.ends_with('/') {
            header.set_entry_type(tar::EntryType::Directory);
            header.set_size(0);
        } else {
            header.set_size(data.len() as u64);
        }
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(&mut header, name, *data).unwrap();
    }
    tar.into_inner().unwrap()
}

const CSV: &[u8] = b"phone,elementName\n+5491123456789,hello_world\n";

fn open_bytes(bytes: &[u8], limits: Limits) -> Result<Table, FileError> {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(bytes).unwrap();
    file.flush().unwrap();
    let table = open(file.path(), &OpenOptions { sheet: None, limits });
    // The table must not depend on the upload staying on disk.
    drop(file);
    table
}

fn reason(bytes: &[u8]) -> &'static str {
    open_bytes(bytes, Limits::default()).unwrap_err().reason()
}

fn one_row(bytes: &[u8]) -> (Format, Vec<Format>, Vec<String>) {
    let table = open_bytes(bytes, Limits::default()).unwrap();
    let (format, wrapped) = (table.format, table.wrapped_in.clone());
    let rows = records(read_all(table).unwrap());
    assert_eq!(rows.len(), 1);
    (format, wrapped, rows[0].values.clone())
}

#[test]
fn one_level_of_nesting_plus_tar_gz() {
    let values = vec!["+5491123456789".to_string(), "hello_world".to_string()];
    assert_eq!(
        one_row(&zip_of(&[("a.csv", CSV)])),
        (Format::Csv, vec![Format::Zip], values.clone())
    );
    assert_eq!(one_row(&gz_of(CSV)), (Format::Csv, vec![Format::Gzip], values.clone()));
    assert_eq!(
        one_row(&tar_of(&[("./a.csv", CSV)])),
        (Format::Csv, vec![Format::Tar], values.clone())
    );
    assert_eq!(
        one_row(&gz_of(&tar_of(&[("dir/", b""), ("dir/a.csv", CSV)]))),
        (Format::Csv, vec![Format::Gzip, Format::Tar], values)
    );
}

#[test]
fn deeper_nesting_is_refused() {
    let zip = zip_of(&[("a.csv", CSV)]);
    let gz = gz_of(CSV);
    let tar = tar_of(&[("a.csv", CSV)]);
    assert_eq!(reason(&zip_of(&[("a.zip", &zip)])), "archive_nested");
    assert_eq!(reason(&gz_of(&zip)), "archive_nested");
    assert_eq!(reason(&gz_of(&gz)), "archive_nested");
    assert_eq!(reason(&tar_of(&[("a.csv.gz", &gz)])), "archive_nested");
    assert_eq!(reason(&zip_of(&[("a.tar", &tar)])), "archive_nested");
    assert_eq!(reason(&gz_of(&tar_of(&[("a.csv.gz", &gz)]))), "archive_nested");
    assert_eq!(reason(&gz_of(&tar_of(&[("a.tar", &tar)]))), "archive_nested");
}

#[test]
fn junk_entries_are_ignored_and_ambiguity_is_named() {
    assert_eq!(
        one_row(&zip_of(&[
            ("x/", b""),
            ("x/.DS_Store", b"junk"),
            ("__MACOSX/x/._a.csv", b"junk"),
            ("x/a.csv", CSV),
            ("Thumbs.db", b"junk"),
        ]))
        .0,
        Format::Csv
    );
    assert_eq!(reason(&zip_of(&[("x/", b""), (".DS_Store", b"junk")])), "archive_empty");
    assert_eq!(reason(&tar_of(&[("x/", b""), ("x/._a.csv", b"junk")])), "archive_empty");
    assert_eq!(
        open_bytes(
            &tar_of(&[("a.csv", CSV), ("b/", b""), ("b/c.json", b"[]"), ("d.csv", CSV)]),
            Limits::default()
        )
        .unwrap_err(),
        FileError::ArchiveMultipleFiles("a.csv, b/c.json, d.csv".into())
    );
}

#[test]
fn too_many_entries() {
    let limits = Limits {
        max_entries: 3,
        ..Limits::default()
    };
    let entries: &[(&str, &[u8])] = &[("a/", b""), ("a/b/", b""), ("a/c/", b""), ("a/b/x.csv", CSV)];
    for bytes in [zip_of(entries), tar_of(entries), gz_of(&tar_of(entries))] {
        assert_eq!(
            open_bytes(&bytes, limits.clone()).unwrap_err(),
            FileError::TooManyEntries { limit: 3 }
        );
    }
    let xlsx = std::fs::read(fixture("chat-tonic.xlsx")).unwrap();
    assert_eq!(
        open_bytes(&xlsx, limits).unwrap_err(),
        FileError::TooManyEntries { limit: 3 }
    );
}

#[test]
fn truncated_and_corrupt_archives() {
    let zip = zip_of(&[("a.csv", CSV)]);
    assert_eq!(reason(&zip[..zip.len() - 10]), "archive_corrupt");
    let tar = tar_of(&[("a.csv", &CSV.repeat(40))]);
    assert_eq!(reason(&tar[..1024]), "archive_corrupt");
    let mut gz = gz_of(CSV);
    let crc_at = gz.len() - 8;
    gz[crc_at] ^= 0xff;
    assert_eq!(reason(&gz), "archive_corrupt");
    let tgz = gz_of(&tar);
    assert_eq!(reason(&tgz[..tgz.len() / 2]), "archive_corrupt");
    // A zip entry whose data was damaged fails its CRC.
    let mut damaged = zip_of(&[("a.csv", &CSV.repeat(20))]);
    damaged[40] ^= 0x55;
    assert_eq!(reason(&damaged), "archive_corrupt");
}

#[test]
fn an_encrypted_zip_built_by_the_zip_crate_is_refused_too() {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    use zip::unstable::write::FileOptionsExt;
    let options = zip::write::SimpleFileOptions::default()
        .with_deprecated_encryption(b"secret")
        .unwrap();
    zip.start_file("a.csv", options).unwrap();
    zip.write_all(CSV).unwrap();
    let bytes = zip.finish().unwrap().into_inner();
    assert_eq!(
        open_bytes(&bytes, Limits::default()).unwrap_err(),
        FileError::ArchiveEncrypted
    );
}

#[test]
fn csv_with_bom_crlf_quoted_commas_and_new_lines_through_open() {
    let bytes = b"\xef\xbb\xbfphone,name,parameter\r\n\
        +5491123456789,\"Doe, John\",\"line one\r\nline two\"\r\n\
        \r\n\
        +34612345678,\"say \"\"hi\"\"\",x\r\n\
        +14155552671,short\r\n";
    let table = open_bytes(bytes, Limits::default()).unwrap();
    assert_eq!(table.format, Format::Csv);
    assert_eq!(&*table.columns, &["phone", "name", "parameter"]);
    let got: Vec<(u64, Vec<String>)> = records(read_all(table).unwrap())
        .into_iter()
        .map(|r| (r.row, r.values))
        .collect();
    let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        got,
        [
            // The quoted two-line cell is one row; the blank line is skipped and not counted.
            (2, s(&["+5491123456789", "Doe, John", "line one\r\nline two"])),
            (3, s(&["+34612345678", "say \"hi\"", "x"])),
            (4, s(&["+14155552671", "short", ""])),
        ]
    );
}
