//! Chat-Tonic rows end to end, without a file: header check → row model → validation, against the sandbox templates.
#![allow(clippy::unwrap_used)]

use pregon_core::MessageStatus;
use pregon_core::message::{NewMessage, Rejection};
use pregon_core::template::{ButtonParam, HeaderParam, MediaKind, Template, TemplateParams};
use pregon_ingest::Record;
use pregon_ingest::model::RowModel;
use pregon_ingest::validate::{CampaignDefaults, Outcome, TemplateBook, Validator};
use std::collections::HashSet;
use std::sync::Arc;

fn sandbox() -> TemplateBook {
    let all: Vec<serde_json::Value> =
        serde_json::from_str(include_str!("../../../fixtures/templates/sandbox.json")).unwrap();
    TemplateBook::new(all.iter().map(|t| Template::from_meta(t).unwrap()))
}

/// The seed-000 XLS columns, in their order.
const COLUMNS: &[&str] = &[
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

fn columns() -> Arc<[String]> {
    COLUMNS.iter().map(|c| c.to_string()).collect::<Vec<_>>().into()
}

fn record(columns: &Arc<[String]>, row: u64, values: &[&str]) -> Record {
    let mut values: Vec<String> = values.iter().map(|v| v.to_string()).collect();
    values.resize(columns.len(), String::new());
    Record {
        row,
        columns: columns.clone(),
        values,
    }
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// Run rows through the model and a validator, as the pipeline does.
fn run(validator: &mut Validator, records: &[Record]) -> Vec<Outcome> {
    let model = RowModel::ChatTonic;
    model.check_header(&records[0].columns).unwrap();
    let mut outcomes: Vec<Outcome> = records
        .iter()
        .map(|r| match model.map(r) {
            Ok(row) => validator.check(row),
            Err(rejection) => Outcome::Rejected(rejection),
        })
        .collect();
    // The few repeats the fixed-memory check leaves open are settled by a second look, as the pipeline does.
    let again = records.iter().filter_map(|r| model.map(r).ok()).map(Ok::<_, ()>);
    validator.resolve(again).unwrap().apply(&mut outcomes);
    outcomes
}

fn message(outcome: &Outcome) -> &NewMessage {
    match outcome {
        Outcome::Message(m) => m,
        Outcome::Rejected(r) => panic!("rejected: {r:?}"),
    }
}

fn rejection(outcome: &Outcome) -> &Rejection {
    match outcome {
        Outcome::Rejected(r) => r,
        Outcome::Message(m) => panic!("accepted: {m:?}"),
    }
}

fn rejected(row_number: u64, column: Option<&str>, code: &str, message: &str) -> Rejection {
    Rejection {
        row_number,
        column: column.map(str::to_owned),
        code: code.into(),
        message: message.into(),
    }
}

#[test]
fn a_mixed_campaign_file() {
    let cols = columns();
    let records = [
        // 2: appointment_reminder: the header's parameter comes first.
        record(
            &cols,
            2,
            &[
                "+54 9 11 2345-6789",
                "",
                "appointment_reminder",
                "es",
                "deterministic",
                "paciente-17",
                "",
                "",
                "",
                "",
                "control anual",
                "Ana",
                "12/05",
                "10:30",
            ],
        ),
        // 3: order_confirmation: image header from the row's media columns; trailing empty parameter dropped.
        record(
            &cols,
            3,
            &[
                "5215512345678",
                "ns",
                "order_confirmation",
                "en_US",
                "",
                "",
                "",
                "URL",
                "image",
                "https://cdn.example.com/orders/1234.jpg",
                "#1234",
                "$12.21",
                "August 15th, 2020",
                "",
            ],
        ),
        // 4: payment_due: a dynamic URL button, filled from buttonParameter.
        record(
            &cols,
            4,
            &[
                "1 650 253 0000",
                "",
                "payment_due",
                "",
                "",
                "",
                "inv-42",
                "",
                "",
                "",
                "Ana",
                "$10.00",
                "May 1st",
            ],
        ),
        // 5: the same recipient as row 2.
        record(&cols, 5, &["5491123456789", "", "hello_world", "en_US"]),
        // 6: no phone.
        record(&cols, 6, &["", "", "hello_world", "en_US"]),
        // 7: not a phone in any plan.
        record(&cols, 7, &["+54 11 1234", "", "hello_world", "en_US"]),
        // 8: no template.
        record(&cols, 8, &["+5491123456780"]),
        // 9: unknown template.
        record(&cols, 9, &["+5491123456780", "", "welcome_back", "es"]),
        // 10: one parameter short: the header's is counted.
        record(
            &cols,
            10,
            &[
                "+5491123456780",
                "",
                "appointment_reminder",
                "es",
                "",
                "",
                "",
                "",
                "",
                "",
                "Ana",
                "12/05",
                "10:30",
            ],
        ),
        // 11: a new line in a parameter.
        record(
            &cols,
            11,
            &[
                "+5491123456780",
                "",
                "appointment_reminder",
                "es",
                "",
                "",
                "",
                "",
                "",
                "",
                "control",
                "Ana\nMaría",
                "12/05",
                "10:30",
            ],
        ),
        // 12: an image template without media.
        record(
            &cols,
            12,
            &[
                "+5491123456780",
                "",
                "order_confirmation",
                "en_US",
                "",
                "",
                "",
                "",
                "",
                "",
                "#1",
                "$1",
                "today",
            ],
        ),
        // 13: media of the wrong type.
        record(
            &cols,
            13,
            &[
                "+5491123456780",
                "",
                "order_confirmation",
                "en_US",
                "",
                "",
                "",
                "URL",
                "video",
                "https://cdn.example.com/v.mp4",
                "#1",
                "$1",
                "today",
            ],
        ),
        // 14: a dynamic button without its parameter.
        record(
            &cols,
            14,
            &[
                "+5491123456780",
                "",
                "payment_due",
                "en",
                "",
                "",
                "",
                "",
                "",
                "",
                "Ana",
                "$1",
                "today",
            ],
        ),
        // 15: a good row after all those refusals of the same number: it is the first message to it.
        record(&cols, 15, &["+5491123456780", "", "hello_world", "en_US"]),
    ];
    let mut validator = Validator::new(sandbox(), CampaignDefaults::default(), HashSet::new());
    let outcomes = run(&mut validator, &records);

    let m = message(&outcomes[0]);
    assert_eq!(
        *m,
        NewMessage {
            id: m.id,
            row_number: Some(2),
            phone: "+5491123456789".into(),
            template_name: "appointment_reminder".into(),
            language: "es".into(),
            params: TemplateParams {
                header: Some(HeaderParam::Text("control anual".into())),
                body: strings(&["Ana", "12/05", "10:30"]),
                buttons: vec![],
            },
            rendered_text: Some(
                "Recordatorio de control anual\n\nHola Ana, tu turno es el 12/05 a las 10:30. ¿Nos confirmas?\n\n\
                 Responde con un botón"
                    .into()
            ),
            flag: Some("paciente-17".into()),
            status: MessageStatus::Pending,
        }
    );

    let m = message(&outcomes[1]);
    assert_eq!(
        *m,
        NewMessage {
            id: m.id,
            row_number: Some(3),
            phone: "+525512345678".into(),
            template_name: "order_confirmation".into(),
            language: "en_US".into(),
            params: TemplateParams {
                header: Some(HeaderParam::Media {
                    kind: MediaKind::Image,
                    url: "https://cdn.example.com/orders/1234.jpg".into(),
                    filename: None,
                }),
                body: strings(&["#1234", "$12.21", "August 15th, 2020"]),
                buttons: vec![],
            },
            rendered_text: Some(
                "Your order #1234 for a total of $12.21 is confirmed. The expected delivery is August 15th, 2020.\n\n\
                 Thank you for shopping with us!"
                    .into()
            ),
            flag: None,
            status: MessageStatus::Pending,
        }
    );

    let m = message(&outcomes[2]);
    assert_eq!((m.phone.as_str(), m.language.as_str()), ("+16502530000", "en"));
    assert_eq!(
        m.params.buttons,
        vec![ButtonParam {
            index: 0,
            value: "inv-42".into()
        }]
    );
    assert_eq!(
        m.rendered_text.as_deref(),
        Some("Hi Ana, your invoice of $10.00 is due on May 1st.")
    );

    let rejections: Vec<&Rejection> = outcomes[3..outcomes.len() - 1].iter().map(rejection).collect();
    let expected = [
        rejected(
            5,
            Some("phone"),
            "duplicate_recipient",
            "+5491123456789 is already the recipient of row 2",
        ),
        rejected(6, Some("phone"), "missing_phone", "the phone is empty"),
        rejected(
            7,
            Some("phone"),
            "invalid_phone",
            "`+54 11 1234` is not a valid phone number in any numbering plan",
        ),
        rejected(
            8,
            Some("elementName"),
            "missing_template",
            "the row names no template (`elementName`) and the campaign has none",
        ),
        rejected(
            9,
            Some("elementName"),
            "unknown_template",
            "the account has no template named `welcome_back`",
        ),
        rejected(
            10,
            Some("parameter"),
            "parameter_count",
            "the template `appointment_reminder` takes 4 parameters (1 for the header, 3 for the body), the row has 3",
        ),
        rejected(
            11,
            Some("parameter"),
            "invalid_parameter",
            "parameter 2 (the body's {{1}}) contains a new line or a tab",
        ),
        rejected(
            12,
            Some("media.url"),
            "missing_media",
            "the template has an IMAGE header: the row needs a media URL (media.url)",
        ),
        rejected(
            13,
            Some("media.type"),
            "invalid_media",
            "media.type is `video` but the template has an IMAGE header",
        ),
        rejected(
            14,
            Some("buttonParameter"),
            "missing_button_parameter",
            "the template `payment_due` has a URL button that ends in a parameter: the row needs a buttonParameter",
        ),
    ];
    assert_eq!(rejections.len(), expected.len());
    for (got, want) in rejections.iter().zip(&expected) {
        assert_eq!(*got, want);
    }
    let last = message(&outcomes[outcomes.len() - 1]);
    assert_eq!((last.row_number, last.phone.as_str()), (Some(15), "+5491123456780"));
    assert_eq!(
        last.rendered_text.as_deref(),
        Some(
            "Hello World\n\nWelcome and congratulations!! This message demonstrates your ability to send a WhatsApp \
             message notification from Pregon's sandbox.\n\nPregon sandbox"
        )
    );
}

#[test]
fn json_shaped_records_and_opt_outs() {
    // What the JSON reader yields for `{"id": "+54…", "elementName": …, "parameters": [..]}`.
    let cols: Arc<[String]> = strings(&[
        "id",
        "elementName",
        "languageCode",
        "parameter",
        "parameter",
        "parameter",
    ])
    .into();
    let records = [
        record(&cols, 1, &["+5491123456789", "payment_due", "en", "Ana", "$1", "today"]),
        record(&cols, 2, &["+5491123456780", "hello_world", "en_US"]),
    ];
    let mut validator = Validator::new(
        sandbox(),
        CampaignDefaults::default(),
        HashSet::from(["+5491123456780".to_string()]),
    );
    let outcomes = run(&mut validator, &records);
    assert_eq!(
        *rejection(&outcomes[0]),
        rejected(
            1,
            Some("buttonParameter"),
            "missing_button_parameter",
            "the template `payment_due` has a URL button that ends in a parameter: the row needs a buttonParameter"
        )
    );
    let m = message(&outcomes[1]);
    assert_eq!((m.row_number, m.status), (Some(2), MessageStatus::Suppressed));
}

#[test]
fn a_header_without_phone_or_id_is_refused() {
    let err = RowModel::ChatTonic
        .check_header(&strings(&["telefono", "elementName"]))
        .unwrap_err();
    assert_eq!(err.reason(), "missing_header");
}
