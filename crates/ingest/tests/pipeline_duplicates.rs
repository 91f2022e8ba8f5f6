//! Duplicate recipients through the whole pipeline: found in fixed memory, the first repeat of each number settled by
//! a second look at the file and handed to the sink as `withdrawn` in the last batch — also when a resumed run has
//! skipped every row.
#![allow(clippy::unwrap_used)]

use pregon_core::template::Template;
use pregon_ingest::model::RowModel;
use pregon_ingest::pipeline::{self, Batch, PipelineOptions};
use pregon_ingest::source::OpenOptions;
use pregon_ingest::validate::{CampaignDefaults, TemplateBook};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;

fn sandbox() -> TemplateBook {
    let all: Vec<serde_json::Value> =
        serde_json::from_str(include_str!("../../../fixtures/templates/sandbox.json")).unwrap();
    TemplateBook::new(all.iter().map(|t| Template::from_meta(t).unwrap()))
}

fn options(skip_through: u64) -> PipelineOptions {
    PipelineOptions {
        model: RowModel::ChatTonic,
        open: OpenOptions::default(),
        defaults: CampaignDefaults {
            default_language: Some("en_US".into()),
            ..CampaignDefaults::default()
        },
        skip_through,
        batch_size: 1000,
    }
}

/// A Chat-Tonic CSV of `phones`, one row each (header = row 1), all for the parameterless `hello_world`.
fn csv(phones: &[String]) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    writeln!(file, "phone,elementName").unwrap();
    for p in phones {
        writeln!(file, "{p},hello_world").unwrap();
    }
    file.flush().unwrap();
    file
}

fn run(file: &tempfile::NamedTempFile, skip_through: u64) -> (pipeline::Summary, Vec<Batch>) {
    let mut batches = Vec::new();
    let summary = pipeline::run(file.path(), sandbox(), HashSet::new(), &options(skip_through), |b| {
        batches.push(b);
        Ok::<_, ()>(())
    })
    .unwrap();
    (summary, batches)
}

/// Final outcome per row: `Ok(())` a message, `Err(code)` a rejection; withdrawn rows replace their message.
fn outcomes(batches: &[Batch]) -> BTreeMap<u64, Result<(), String>> {
    let mut out = BTreeMap::new();
    for b in batches {
        for m in &b.messages {
            assert!(out.insert(m.row_number.unwrap(), Ok(())).is_none());
        }
        for r in &b.rejections {
            assert!(out.insert(r.row_number, Err(r.code.clone())).is_none());
        }
    }
    for b in batches {
        for r in &b.withdrawn {
            let before = out.insert(r.row_number, Err(r.code.clone()));
            assert_eq!(before, Some(Ok(())), "row {} was a message", r.row_number);
        }
    }
    out
}

#[test]
fn every_repeat_is_refused_and_the_first_row_of_each_number_wins() {
    // 30,000 rows over 12,000 numbers, in a scrambled order, some with spaces: the exact answer is computed here.
    let phones: Vec<String> = (0..30_000u64)
        .map(|i| {
            let n = (i * 7919) % 12_000;
            if i % 5 == 0 {
                format!("+54 9 11 {:08}", 20_000_000 + n)
            } else {
                format!("+54911{:08}", 20_000_000 + n)
            }
        })
        .collect();
    let file = csv(&phones);
    let (summary, batches) = run(&file, 0);

    let mut first: HashMap<String, u64> = HashMap::new();
    let mut expected = BTreeMap::new();
    for (i, p) in phones.iter().enumerate() {
        let row = i as u64 + 2;
        let key = p.replace(' ', "");
        let outcome = match first.entry(key) {
            std::collections::hash_map::Entry::Occupied(_) => Err("duplicate_recipient".to_owned()),
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(row);
                Ok(())
            }
        };
        expected.insert(row, outcome);
    }
    assert_eq!(outcomes(&batches), expected);
    assert_eq!(
        (summary.rows, summary.accepted, summary.rejected),
        (30_000, 12_000, 18_000)
    );
    let withdrawn = &batches.last().unwrap().withdrawn;
    assert!(!withdrawn.is_empty(), "first repeats are settled late");
    let w = &withdrawn[0];
    let phone = phones[(w.row_number - 2) as usize].replace(' ', "");
    assert_eq!(
        w.message,
        format!("{phone} is already the recipient of row {}", first[&phone])
    );
}

#[test]
fn a_resumed_run_past_the_last_row_still_withdraws_and_keeps_its_place() {
    let phones: Vec<String> = ["+5491123456789", "+5491123456780", "+5491123456789", "+5491123456781"]
        .map(String::from)
        .to_vec();
    let file = csv(&phones);
    let (_, all) = run(&file, 0);
    let (summary, resumed) = run(&file, 5);
    assert_eq!((summary.accepted, summary.rejected), (3, 1));
    assert_eq!(resumed.len(), 1);
    let last = &resumed[0];
    assert!(last.messages.is_empty() && last.rejections.is_empty());
    assert_eq!(last.through_row, 5, "the resume point stays at the file's end");
    assert_eq!(last.withdrawn, all.last().unwrap().withdrawn);
    assert_eq!(last.withdrawn.len(), 1);
    assert_eq!(last.withdrawn[0].row_number, 4);
}
