//! Arbitrary bytes as a campaign file, through the pipeline the server's ingestion drives (`pipeline::run`, as in
//! crates/server/src/ingestion.rs), against the sandbox templates (fixtures/templates/sandbox.json).
//!
//! The first byte picks the settings, bit by bit: 0 Jelou (else Chat-Tonic), 1 sheet `campaign`, 2 a default
//! language and region, 3 a campaign-wide template for Chat-Tonic rows, 4 resume after row 3. The rest is the file.
//!
//! Properties: nothing panics; every data row ends up in exactly one batch, as a message or a rejection; the
//! summary's counts add up; withdrawn duplicates were handed out as messages before.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pregon_core::template::Template;
use pregon_ingest::model::{JelouMapping, MediaRef, RowModel};
use pregon_ingest::pipeline::{self, Batch, PipelineOptions};
use pregon_ingest::source::OpenOptions;
use pregon_ingest::validate::{CampaignDefaults, TemplateBook};
use std::collections::HashSet;
use std::sync::{LazyLock, Once};

#[path = "common.rs"]
mod common;

static TEMPLATES: LazyLock<Vec<Template>> = LazyLock::new(|| {
    let all: Vec<serde_json::Value> =
        serde_json::from_str(include_str!("../../fixtures/templates/sandbox.json")).expect("sandbox.json is JSON");
    all.iter()
        .map(|t| Template::from_meta(t).expect("a sandbox template"))
        .collect()
});

/// Jelou's mapping for fixtures/files/jelou.csv, on `order_confirmation` (3 body parameters, an image header).
static JELOU: LazyLock<JelouMapping> = LazyLock::new(|| {
    JelouMapping::from_json(&serde_json::json!([
        {"param": 1, "column": "customer_name"},
        {"param": 2, "column": "order_id"},
        {"param": 3, "column": "amount"}
    ]))
    .expect("a valid mapping")
});

fn options(selector: u8) -> PipelineOptions {
    let bit = |n: u8| selector & (1 << n) != 0;
    let jelou = bit(0);
    let template = if jelou {
        Some(("order_confirmation".to_owned(), None))
    } else if bit(3) {
        Some(("hello_world".to_owned(), Some("en_US".to_owned())))
    } else {
        None
    };
    PipelineOptions {
        model: if jelou {
            RowModel::Jelou(JELOU.clone())
        } else {
            RowModel::ChatTonic
        },
        open: OpenOptions {
            sheet: bit(1).then(|| "campaign".to_owned()),
            limits: common::small_limits(),
        },
        defaults: CampaignDefaults {
            template,
            default_language: bit(2).then(|| "en_US".to_owned()),
            default_region: bit(2).then(|| "AR".to_owned()),
            media: jelou.then(|| MediaRef {
                from: Some("URL".into()),
                kind: Some("image".into()),
                url: "https://cdn.example.com/a.png".into(),
            }),
            button_payloads: if jelou {
                vec!["yes".into(), "no".into()]
            } else {
                Vec::new()
            },
        },
        skip_through: if bit(4) { 3 } else { 0 },
        // Small batches, so batching and the last batch's `withdrawn` are exercised on small inputs.
        batch_size: 2,
    }
}

/// libfuzzer-sys's panic hook aborts at once, before any `catch_unwind` can act. The ingest crate catches calamine's
/// panics on broken spreadsheets on purpose (`readers::guard_calamine`), so those alone are let unwind; a calamine
/// panic nothing catches still ends the run, as libfuzzer-sys aborts when a panic unwinds out of the target.
fn let_calamine_panics_unwind() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let abort = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !info.location().is_some_and(|l| l.file().contains("/calamine-")) {
                abort(info);
            }
        }));
    });
}

fuzz_target!(|data: &[u8]| {
    let_calamine_panics_unwind();
    let Some((&selector, file)) = data.split_first() else {
        return;
    };
    let path = common::spool(file);
    let options = options(selector);
    let _ = pipeline::precheck(path, &options.model, &options.open);

    let book = TemplateBook::new(TEMPLATES.iter().cloned());
    let opted_out = HashSet::from(["+5491123456789".to_owned()]);
    let mut batches: Vec<Batch> = Vec::new();
    let result = pipeline::run(path, book, opted_out, &options, |batch| {
        batches.push(batch);
        Ok::<(), ()>(())
    });
    let Ok(summary) = result else {
        return;
    };
    let messages: usize = batches.iter().map(|b| b.messages.len()).sum();
    let rejections: usize = batches.iter().map(|b| b.rejections.len()).sum();
    let withdrawn: usize = batches.iter().map(|b| b.withdrawn.len()).sum();
    assert!(summary.rows > 0, "{summary:?}");
    assert_eq!(summary.accepted + summary.rejected, summary.rows, "{summary:?}");
    assert!(summary.suppressed <= summary.accepted, "{summary:?}");
    assert!(
        batches
            .iter()
            .all(|b| !b.messages.is_empty() || !b.rejections.is_empty() || !b.withdrawn.is_empty())
    );
    if options.skip_through == 0 {
        assert_eq!((messages + rejections) as u64, summary.rows, "{summary:?}");
        assert_eq!(
            messages.checked_sub(withdrawn).map(|n| n as u64),
            Some(summary.accepted),
            "{summary:?}"
        );
        // A withdrawn row is one that was handed out as a message.
        for w in batches.iter().flat_map(|b| &b.withdrawn) {
            let handed_out = batches
                .iter()
                .flat_map(|b| &b.messages)
                .any(|m| m.row_number == Some(w.row_number));
            assert!(handed_out, "row {} withdrawn but never a message", w.row_number);
        }
    }
});
