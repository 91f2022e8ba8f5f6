//! The benchmark's inputs: Chat-Tonic campaign rows, all valid, written as CSV, JSON and XLSX.
//!
//! Row `i` is the same in every format. Phones are distinct numbers of real numbering plans, half US (ten area
//! codes, exchanges 200–999 without N11 and 555) and half Argentine mobiles (`+54 9 11 …`), written the ways people
//! write them (E.164, spaced, bare digits with the country code, brackets and dashes); the XLSX holds them as
//! number cells, as spreadsheets do. Every row names the template `bench_update` (3 body parameters) in `en`.

use anyhow::{Context, Result, ensure};
use std::fs::File;
use std::io::{BufWriter, Seek, Write};
use std::path::Path;

/// The Chat-Tonic header, with three `parameter` columns.
pub const HEADER: [&str; 13] = [
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
];

/// The template every row uses (Meta's shape).
pub const TEMPLATE: &str = r#"{"name":"bench_update","language":"en","status":"APPROVED","category":"UTILITY","components":[{"type":"BODY","text":"Hi {{1}}, your order {{2}} ships on {{3}}."}]}"#;

/// Most rows the phone scheme keeps distinct (the US half runs out first).
pub const MAX_ROWS: u64 = 10_000_000;

const US_AREAS: [&str; 10] = ["415", "650", "212", "312", "617", "305", "206", "512", "303", "404"];
const FIRST: [&str; 16] = [
    "María", "José", "Ana", "Luis", "Carmen", "Juan", "Lucía", "Pedro", "Sofía", "Diego", "Emma", "Liam", "Olivia",
    "Noah", "Ava", "Mateo",
];
const LAST: [&str; 12] = [
    "González",
    "Rodríguez",
    "Smith",
    "Johnson",
    "Fernández",
    "López",
    "Martínez",
    "Brown",
    "Pérez",
    "García",
    "Davis",
    "Sánchez",
];

/// One campaign row.
pub struct Row {
    /// The phone as written in a text file.
    pub phone: String,
    /// The same number as bare digits with the country code (an XLSX number cell).
    pub digits: String,
    /// Chat-Tonic `flag` (one row in four has one).
    pub flag: String,
    /// The three body parameters.
    pub params: [String; 3],
}

/// Makes row `i` of the benchmark file.
pub struct Rows {
    exchanges: Vec<u16>,
}

impl Rows {
    /// The generator.
    pub fn new() -> Self {
        let exchanges = (200u16..1000).filter(|e| e % 100 != 11 && *e != 555).collect();
        Rows { exchanges }
    }

    /// Row `i` (0-based).
    pub fn row(&self, i: u64) -> Row {
        let k = i / 2;
        let style = k % 4;
        let (phone, digits) = if i.is_multiple_of(2) {
            let area = US_AREAS[(k % 10) as usize];
            let r = k / 10;
            let n = self.exchanges.len() as u64;
            let exchange = self.exchanges[(r % n) as usize];
            // Injective below 10,000 (137 is prime to 10,000), and spread over the line numbers.
            let line = (r / n) * 137 % 10_000;
            let digits = format!("1{area}{exchange}{line:04}");
            let phone = match style {
                0 => format!("+{digits}"),
                1 => format!("+1 {area} {exchange} {line:04}"),
                2 => digits.clone(),
                _ => format!("+1 ({area}) {exchange}-{line:04}"),
            };
            (phone, digits)
        } else {
            let subscriber = 40_000_000 + k;
            let (a, b) = (subscriber / 10_000, subscriber % 10_000);
            let digits = format!("54911{subscriber:08}");
            let phone = match style {
                0 => format!("+{digits}"),
                1 => format!("+54 9 11 {a:04}-{b:04}"),
                2 => digits.clone(),
                _ => format!("+54 9 (11) {a:04} {b:04}"),
            };
            (phone, digits)
        };
        let name = format!("{} {}", FIRST[(i % 16) as usize], LAST[(i / 16 % 12) as usize]);
        let order = format!("A-{:07}", i + 1);
        let date = format!("2026-{:02}-{:02}", 1 + i % 12, 1 + i / 12 % 28);
        let flag = if i.is_multiple_of(4) {
            format!("lead-{}", i + 1)
        } else {
            String::new()
        };
        Row {
            phone,
            digits,
            flag,
            params: [name, order, date],
        }
    }
}

/// What was written.
pub struct Written {
    /// Bytes on disk.
    pub bytes: u64,
}

/// Check the generator: phones valid (a sample, with the ingest crate's own normaliser) and `rows` in range.
pub fn check(rows: u64) -> Result<()> {
    ensure!(rows <= MAX_ROWS, "at most {MAX_ROWS} rows keep the phones distinct");
    let maker = Rows::new();
    let sample = (0..rows.min(2_000))
        .chain((0..rows).step_by(997))
        .chain(rows.checked_sub(1));
    for i in sample {
        let row = maker.row(i);
        for raw in [&row.phone, &row.digits] {
            let e164 =
                pregon_ingest::phone::normalize(raw, None).map_err(|e| anyhow::anyhow!("generated row {i}: {e}"))?;
            ensure!(
                e164 == format!("+{}", row.digits),
                "row {i}: `{raw}` reads as {e164}, not +{}",
                row.digits
            );
        }
    }
    Ok(())
}

fn csv_field(out: &mut String, value: &str) {
    if value.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&value.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(value);
    }
}

/// A Chat-Tonic CSV of `rows` rows.
pub fn write_csv(path: &Path, rows: u64) -> Result<Written> {
    let maker = Rows::new();
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path).with_context(|| path.display().to_string())?);
    writeln!(out, "{}", HEADER.join(","))?;
    let mut line = String::with_capacity(256);
    for i in 0..rows {
        let row = maker.row(i);
        line.clear();
        let cells = [
            row.phone.as_str(),
            "pregon_bench",
            "bench_update",
            "en",
            "deterministic",
            &row.flag,
            "",
            "",
            "",
            "",
            &row.params[0],
            &row.params[1],
            &row.params[2],
        ];
        for (j, cell) in cells.iter().enumerate() {
            if j > 0 {
                line.push(',');
            }
            csv_field(&mut line, cell);
        }
        line.push('\n');
        out.write_all(line.as_bytes())?;
    }
    let file = out.into_inner().map_err(|e| e.into_error())?;
    Ok(Written {
        bytes: file.metadata()?.len(),
    })
}

/// The same rows as a JSON array of Chat-Tonic objects (`parameters` array).
pub fn write_json(path: &Path, rows: u64) -> Result<Written> {
    let maker = Rows::new();
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path).with_context(|| path.display().to_string())?);
    out.write_all(b"[\n")?;
    for i in 0..rows {
        let row = maker.row(i);
        let object = serde_json::json!({
            "phone": row.phone,
            "namespace": "pregon_bench",
            "elementName": "bench_update",
            "languageCode": "en",
            "languagePolicy": "deterministic",
            "flag": row.flag,
            "buttonParameter": "",
            "parameters": row.params,
        });
        if i > 0 {
            out.write_all(b",\n")?;
        }
        // `json!` objects keep their keys sorted; the reader does not care about the order.
        serde_json::to_writer(&mut out, &object)?;
    }
    out.write_all(b"\n]\n")?;
    let file = out.into_inner().map_err(|e| e.into_error())?;
    Ok(Written {
        bytes: file.metadata()?.len(),
    })
}

/// The same rows as an XLSX with the sheet `campaign`, phones as number cells.
pub fn write_xlsx(path: &Path, rows: u64) -> Result<Written> {
    let maker = Rows::new();
    let header = HEADER.iter().map(|c| (*c).to_owned()).collect::<Vec<_>>();
    let data = (0..rows).map(|i| {
        let row = maker.row(i);
        let [a, b, c] = row.params;
        vec![
            row.digits,
            "pregon_bench".into(),
            "bench_update".into(),
            "en".into(),
            "deterministic".into(),
            row.flag,
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            a,
            b,
            c,
        ]
    });
    let file = File::create(path).with_context(|| path.display().to_string())?;
    let mut out = pregon_ingest::xlsx_writer::write_xlsx(
        BufWriter::with_capacity(1 << 20, file),
        "campaign",
        std::iter::once(header).chain(data),
        true,
    )?;
    out.flush()?;
    let bytes = out.stream_position()?;
    Ok(Written { bytes })
}
