//! A minimal XLSX writer, for sample files and big benchmark inputs: one sheet, inline strings (no shared-strings
//! table to hold in memory on either side), optionally numbers. Written with the `zip` crate the readers already
//! use, so it adds no dependency.

use std::io::{self, Seek, Write};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#;

const ROOT_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;

const WORKBOOK_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#;

const SHEET_START: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#;

const SHEET_END: &str = "</sheetData></worksheet>";

/// Write one sheet named `sheet` with `rows` (first row = header) as an XLSX to `out`. Streaming: rows are written as
/// they come, so a 200,000-row file does not sit in memory. Cells are strings; a cell that is all digits (≤15) may be
/// written as a number when `numbers_as_numbers` is true (to reproduce spreadsheets that hold phones as numbers).
///
/// Only data rows (not the header) become numbers, and only digit strings without a leading zero, which a number
/// cell could not keep. Empty cells are left out, as spreadsheet programs do. Entries carry a fixed timestamp, so
/// the same input gives the same bytes.
pub fn write_xlsx<W: Write + Seek>(
    out: W,
    sheet: &str,
    rows: impl IntoIterator<Item = Vec<String>>,
    numbers_as_numbers: bool,
) -> Result<W, io::Error> {
    check_sheet_name(sheet)?;
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .last_modified_time(DateTime::default());
    let mut zip = ZipWriter::new(out);
    zip.start_file("[Content_Types].xml", options)?;
    zip.write_all(CONTENT_TYPES.as_bytes())?;
    zip.start_file("_rels/.rels", options)?;
    zip.write_all(ROOT_RELS.as_bytes())?;
    zip.start_file("xl/workbook.xml", options)?;
    let mut workbook = String::from(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name=""#,
    );
    escape_into(&mut workbook, sheet);
    workbook.push_str(r#"" sheetId="1" r:id="rId1"/></sheets></workbook>"#);
    zip.write_all(workbook.as_bytes())?;
    zip.start_file("xl/_rels/workbook.xml.rels", options)?;
    zip.write_all(WORKBOOK_RELS.as_bytes())?;

    zip.start_file("xl/worksheets/sheet1.xml", options.large_file(true))?;
    zip.write_all(SHEET_START.as_bytes())?;
    let mut xml = String::with_capacity(4096);
    for (i, row) in rows.into_iter().enumerate() {
        let r = i + 1;
        xml.clear();
        xml.push_str(&format!(r#"<row r="{r}">"#));
        for (j, cell) in row.iter().enumerate() {
            if cell.is_empty() {
                continue;
            }
            let reference = format!("{}{r}", crate::readers::column_label(j));
            if numbers_as_numbers && i > 0 && is_plain_number(cell) {
                xml.push_str(&format!(r#"<c r="{reference}"><v>{cell}</v></c>"#));
            } else {
                xml.push_str(&format!(
                    r#"<c r="{reference}" t="inlineStr"><is><t xml:space="preserve">"#
                ));
                escape_into(&mut xml, cell);
                xml.push_str("</t></is></c>");
            }
        }
        xml.push_str("</row>");
        zip.write_all(xml.as_bytes())?;
    }
    zip.write_all(SHEET_END.as_bytes())?;
    Ok(zip.finish()?)
}

/// Excel's rules: 1–31 characters, none of `[]:*?/\`, not starting or ending with `'`.
fn check_sheet_name(name: &str) -> io::Result<()> {
    let bad = name.is_empty()
        || name.chars().count() > 31
        || name.contains(['[', ']', ':', '*', '?', '/', '\\'])
        || name.starts_with('\'')
        || name.ends_with('\'');
    if bad {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("`{name}` is not a valid sheet name (1–31 characters, none of []:*?/\\)"),
        ));
    }
    Ok(())
}

/// 1–15 digits with no leading zero: what a number cell holds without losing a digit.
fn is_plain_number(cell: &str) -> bool {
    (1..=15).contains(&cell.len())
        && cell.bytes().all(|b| b.is_ascii_digit())
        && (cell.len() == 1 || !cell.starts_with('0'))
}

/// XML-escape text. `\r` becomes a character reference because XML parsers turn a literal CR (LF) into LF; characters
/// XML 1.0 cannot carry at all become U+FFFD.
fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\r' => out.push_str("&#13;"),
            '\t' | '\n' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::readers::xlsx;
    use crate::record::ReadItem;
    use std::io::Cursor;

    fn strings(values: &[&str]) -> Vec<String> {
        values.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn round_trips_through_the_reader() {
        let rows = vec![
            strings(&["phone", "name", "note"]),
            strings(&["5491123456789", "Ana & <Bob>", "\"q\" a\r\nb\tc"]),
            strings(&["0123", "", "x\u{1}y"]),
            strings(&["", "", ""]),
            strings(&["+1 415", "Zoë", ""]),
        ];
        let bytes = write_xlsx(Cursor::new(Vec::new()), "campaign", rows, true)
            .unwrap()
            .into_inner();
        let (columns, items) = xlsx::read(Cursor::new(bytes), Some("campaign")).unwrap();
        assert_eq!(&*columns, &["phone", "name", "note"]);
        let got: Vec<(u64, Vec<String>)> = items
            .map(|i| match i.unwrap() {
                ReadItem::Record(r) => (r.row, r.values),
                ReadItem::Bad(b) => panic!("{b:?}"),
            })
            .collect();
        assert_eq!(
            got,
            [
                (2, strings(&["5491123456789", "Ana & <Bob>", "\"q\" a\r\nb\tc"])),
                (3, strings(&["0123", "", "x\u{fffd}y"])),
                (5, strings(&["+1 415", "Zoë", ""])),
            ]
        );
    }

    #[test]
    fn digits_become_numbers_only_when_asked_and_safe() {
        assert!(is_plain_number("5491123456789"));
        assert!(is_plain_number("0"));
        assert!(!is_plain_number("0123"));
        assert!(!is_plain_number("1234567890123456"));
        assert!(!is_plain_number("+54"));
        assert!(!is_plain_number(""));
        let bytes = write_xlsx(
            Cursor::new(Vec::new()),
            "s",
            vec![strings(&["p"]), strings(&["42"])],
            true,
        )
        .unwrap()
        .into_inner();
        let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        let mut sheet = String::new();
        std::io::Read::read_to_string(&mut zip.by_name("xl/worksheets/sheet1.xml").unwrap(), &mut sheet).unwrap();
        assert!(sheet.contains(r#"<c r="A2"><v>42</v></c>"#), "{sheet}");
        assert!(sheet.contains(r#"<c r="A1" t="inlineStr">"#), "{sheet}");
    }

    #[test]
    fn bad_sheet_names_are_refused() {
        for name in ["", "a/b", "x[1]", "'q'", &"n".repeat(32)] {
            let e = write_xlsx(Cursor::new(Vec::new()), name, Vec::<Vec<String>>::new(), false).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        }
    }

    #[test]
    fn output_is_deterministic() {
        let make = || {
            write_xlsx(
                Cursor::new(Vec::new()),
                "s",
                vec![strings(&["a"]), strings(&["1"])],
                false,
            )
            .unwrap()
            .into_inner()
        };
        assert_eq!(make(), make());
    }
}
