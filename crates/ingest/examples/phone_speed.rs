//! How fast phones are normalised and rows validated. A measurement to read, never a timed test:
//!
//! ```sh
//! cargo run --release -p pregon-ingest --example phone_speed            # everything (about a minute)
//! cargo run --release -p pregon-ingest --example phone_speed -- --quick # without the crate's own 1,000,000
//! ```
//!
//! - 1,000,000 varied numbers: 60% from the countries of most campaigns (Latin America, Spain, the US), 40% from
//!   every region of the numbering-plan metadata; mobile and fixed-line; written with `+`, spaces, brackets, dashes,
//!   dots or as bare digits (Jelou's way); about 5% with a digit missing or extra.
//! - the `phonenumber` crate on its own (`parse` + `is_valid`), as shipped and with its regex cache enlarged;
//! - `pregon_ingest::phone::normalize` on one and on two threads, and one number of each common country in a loop;
//! - that both give the same answer for every number;
//! - 1,000,000 Chat-Tonic rows (3 body parameters and a URL button): row model, then validation; and, for
//!   comparison, `pregon_core::Template::render` alone, which the validator does not call per row.
//!
//! Timings are the best of three runs: the machine is shared, and the best run is the one least disturbed.

use pregon_core::template::Template;
use pregon_ingest::Record;
use pregon_ingest::model::RowModel;
use pregon_ingest::phone;
use pregon_ingest::validate::{CampaignDefaults, Outcome, TemplateBook, Validator};
use std::sync::Arc;
use std::time::Instant;

const N: usize = 1_000_000;
/// The crate as shipped takes milliseconds per number here: a sample tells its speed.
const CRATE_SAMPLE: usize = 2_000;

/// xorshift64: deterministic, so every run measures the same numbers.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// Countries whose numbers fill most campaigns of Pregon's users.
const COMMON: &[&str] = &[
    "AR", "MX", "BR", "CO", "CL", "PE", "EC", "UY", "PY", "BO", "GT", "CR", "PA", "DO", "ES", "US",
];

/// (calling code, example national number) of every mobile and fixed-line example in the metadata.
type Examples = Vec<(u16, String)>;

fn examples() -> (Examples, Examples) {
    let db = &*phonenumber::metadata::DATABASE;
    let (mut common, mut all) = (Vec::new(), Vec::new());
    for code in 1..1000u16 {
        for meta in db.by_code(&code).unwrap_or_default() {
            let d = meta.descriptors();
            for example in [d.mobile(), d.fixed_line()]
                .into_iter()
                .flatten()
                .filter_map(|d| d.example())
            {
                let item = (meta.country_code(), example.to_owned());
                if COMMON.contains(&meta.id()) {
                    common.push(item.clone());
                }
                all.push(item);
            }
        }
    }
    (common, all)
}

fn numbers() -> Vec<String> {
    let (common, all) = examples();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut out = Vec::with_capacity(N);
    while out.len() < N {
        let pool = if rng.below(10) < 6 { &common } else { &all };
        let (code, example) = &pool[rng.below(pool.len())];
        let mut nsn: Vec<u8> = example.bytes().collect();
        let len = nsn.len();
        for d in &mut nsn[len.saturating_sub(5)..] {
            *d = b'0' + rng.below(10) as u8;
        }
        match rng.below(40) {
            0 => {
                nsn.pop();
            }
            1 => nsn.push(b'0' + rng.below(10) as u8),
            _ => {}
        }
        let nsn = String::from_utf8(nsn).unwrap_or_default();
        let (a, rest) = nsn.split_at(nsn.len().min(3));
        let (b, c) = rest.split_at(rest.len().min(3));
        out.push(match rng.below(6) {
            0 => format!("+{code}{nsn}"),
            1 | 2 => format!("{code}{nsn}"),
            3 => format!("+{code} {a} {b} {c}"),
            4 => format!("+{code} ({a}) {b}-{c}"),
            _ => format!("{code}.{a}.{b}.{c}"),
        });
    }
    out
}

/// What the crate answers on its own: the digits after `+`, `parse`, `is_valid`, E.164. (For `521…` the same
/// exception as `normalize`: Mexico's former mobile `1`.)
fn with_crate(raw: &str) -> Option<String> {
    let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
    let answer = |digits: &str| {
        let number = phonenumber::parse(None, format!("+{digits}")).ok()?;
        phonenumber::is_valid(&number).then(|| number.format().mode(phonenumber::Mode::E164).to_string())
    };
    answer(&digits).or_else(|| {
        let rest = digits.strip_prefix("521").filter(|r| r.len() == 10)?;
        answer(&format!("52{rest}"))
    })
}

/// Nanoseconds per item of the best of three runs of `f` over `n` items.
fn best_of_three(n: usize, mut f: impl FnMut()) -> f64 {
    (0..3)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_nanos() as f64 / n as f64
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let numbers = numbers();
    println!("{} numbers, e.g. {:?}\n", numbers.len(), &numbers[..6]);

    println!("phone numbers (ns per number)");
    let sample = &numbers[..CRATE_SAMPLE];
    let start = Instant::now();
    let crate_shipped: Vec<Option<String>> = sample.iter().map(|n| with_crate(n)).collect();
    println!(
        "  phonenumber parse + is_valid, as shipped (regex cache of 100), {CRATE_SAMPLE} numbers: {:>10.0}",
        start.elapsed().as_nanos() as f64 / CRATE_SAMPLE as f64
    );

    let start = Instant::now();
    let ours: Vec<Option<String>> = numbers.iter().map(|n| phone::normalize(n, None).ok()).collect();
    println!(
        "  normalize, 1 thread, first pass (each region's patterns compiled on first use): {:>10.0}",
        start.elapsed().as_nanos() as f64 / N as f64
    );
    let one = best_of_three(N, || {
        for n in &numbers {
            std::hint::black_box(phone::normalize(n, None).ok());
        }
    });
    println!("  normalize, 1 thread:                                                             {one:>10.0}");
    let two = best_of_three(N, || {
        std::thread::scope(|s| {
            for half in numbers.chunks(N / 2) {
                s.spawn(move || {
                    for n in half {
                        std::hint::black_box(phone::normalize(n, None).ok());
                    }
                });
            }
        });
    });
    println!("  normalize, 2 threads (wall clock per number):                                    {two:>10.0}");
    for number in [
        "+54 9 11 2345-6789",
        "5491123456789",
        "+52 55 1234 5678",
        "+55 11 91234 5678",
        "+57 321 1234567",
        "+593 99 123 4567",
        "+34 612 345 678",
        "+1 650 253 0000",
        "+44 7912 345678",
        "+54 11 1234",
    ] {
        let each = best_of_three(200_000, || {
            for _ in 0..200_000 {
                std::hint::black_box(phone::normalize(std::hint::black_box(number), None).ok());
            }
        });
        println!(
            "  normalize {number:<22} ({:<7}) in a loop:                            {each:>10.0}",
            {
                if phone::normalize(number, None).is_ok() {
                    "valid"
                } else {
                    "invalid"
                }
            }
        );
    }

    for (i, n) in sample.iter().enumerate() {
        if crate_shipped[i] != ours[i] {
            println!(
                "  DIFFERS: {n:?}: crate {:?}, normalize {:?}",
                crate_shipped[i], ours[i]
            );
        }
    }
    if quick {
        println!("  normalize and the crate (as shipped) agree on all {CRATE_SAMPLE} sampled numbers (unless listed)");
    } else {
        // Every pattern of the metadata fits in this cache: the crate then never recompiles, it only locks and
        // hashes the pattern text for each match.
        if let Ok(mut cache) = phonenumber::metadata::DATABASE.cache().lock() {
            cache.set_capacity(100_000);
        }
        with_crate(&numbers[0]);
        let start = Instant::now();
        let crates: Vec<Option<String>> = numbers.iter().map(|n| with_crate(n)).collect();
        println!(
            "  phonenumber parse + is_valid, regex cache enlarged to 100,000, all numbers:       {:>10.0}",
            start.elapsed().as_nanos() as f64 / N as f64
        );
        let mut differ = 0;
        for (i, n) in numbers.iter().enumerate() {
            if crates[i] != ours[i] {
                differ += 1;
                if differ <= 10 {
                    println!("  DIFFERS: {n:?}: crate {:?}, normalize {:?}", crates[i], ours[i]);
                }
            }
        }
        println!(
            "  normalize and the crate differ on {differ} of {N} numbers ({} valid)",
            ours.iter().flatten().count()
        );
    }

    render_alone();
    rows("phones as above", &numbers);
    let mut rng = Rng(0x0123_4567_89AB_CDEF);
    let argentina: Vec<String> = (0..N)
        .map(|_| format!("+54 9 11 {:04}-{:04}", 2000 + rng.below(8000), rng.below(10_000)))
        .collect();
    rows("all Argentine mobiles, `+54 9 11 xxxx-xxxx`", &argentina);
}

/// What the validator saves by cutting each template's text once instead of calling `render` per row.
fn render_alone() {
    let all: Vec<serde_json::Value> =
        serde_json::from_str(include_str!("../../../fixtures/templates/sandbox.json")).unwrap_or_default();
    if let Some(template) = all.get(2).and_then(|t| Template::from_meta(t).ok()) {
        let params = pregon_core::template::TemplateParams {
            header: None,
            body: vec!["Customer 1".into(), "$1.01".into(), "May 1st".into()],
            buttons: vec![pregon_core::template::ButtonParam {
                index: 0,
                value: "inv-1".into(),
            }],
        };
        let render = best_of_three(N / 10, || {
            for _ in 0..N / 10 {
                std::hint::black_box(template.render(std::hint::black_box(&params)).ok());
            }
        });
        println!(
            "\nrendering (ns per call)\n  pregon_core Template::render of {} (the validator cuts texts once instead): {render:>8.0}",
            template.name
        );
    }
}

/// 1,000,000 Chat-Tonic rows for `payment_due` (3 body parameters, a dynamic URL button).
fn rows(phones: &str, numbers: &[String]) {
    println!("\nrows, {phones} (ns per row)");
    let all: Vec<serde_json::Value> =
        serde_json::from_str(include_str!("../../../fixtures/templates/sandbox.json")).unwrap_or_default();
    let book = || TemplateBook::new(all.iter().filter_map(|t| Template::from_meta(t).ok()));
    let columns: Arc<[String]> = [
        "phone",
        "elementName",
        "languageCode",
        "buttonParameter",
        "parameter",
        "parameter",
        "parameter",
    ]
    .iter()
    .map(|c| c.to_string())
    .collect::<Vec<_>>()
    .into();
    let records: Vec<Record> = numbers
        .iter()
        .enumerate()
        .map(|(i, n)| Record {
            row: i as u64 + 2,
            columns: columns.clone(),
            values: vec![
                n.clone(),
                "payment_due".into(),
                "en".into(),
                format!("inv-{i}"),
                format!("Customer {i}"),
                format!("${}.{:02}", i % 1000, i % 100),
                "May 1st".into(),
            ],
        })
        .collect();
    let model = RowModel::ChatTonic;

    let map = best_of_three(N, || {
        for r in &records {
            std::hint::black_box(model.map(r).ok());
        }
    });
    println!("  row model (map):                                                       {map:>10.0}");
    let validator = Validator::new(book(), CampaignDefaults::default(), Default::default());
    let examine = best_of_three(N, || {
        for r in &records {
            if let Ok(row) = model.map(r) {
                std::hint::black_box(validator.examine(row));
            }
        }
    });
    println!("  map + examine (all but duplicates):                                    {examine:>10.0}");
    let mut accepted = 0;
    let check = best_of_three(N, || {
        let mut validator = Validator::new(book(), CampaignDefaults::default(), Default::default());
        accepted = 0;
        for r in &records {
            if let Ok(row) = model.map(r)
                && let Outcome::Message(m) = validator.check(row)
            {
                accepted += 1;
                std::hint::black_box(m);
            }
        }
    });
    println!("  map + check, 1 thread ({accepted} accepted):                                {check:>10.0}");
}
