//! Jelou rows end to end, without a file: the first column is the phone, `params` maps template parameters to
//! columns, one template and its media for the whole campaign.
#![allow(clippy::unwrap_used)]

use pregon_core::MessageStatus;
use pregon_core::message::{NewMessage, Rejection};
use pregon_core::template::{ButtonParam, HeaderParam, MediaKind, Template, TemplateParams};
use pregon_ingest::Record;
use pregon_ingest::model::{JelouMapping, MediaRef, RowModel};
use pregon_ingest::validate::{CampaignDefaults, Outcome, TemplateBook, Validator};
use serde_json::json;
use std::collections::HashSet;
use std::sync::Arc;

fn sandbox() -> TemplateBook {
    let all: Vec<serde_json::Value> =
        serde_json::from_str(include_str!("../../../fixtures/templates/sandbox.json")).unwrap();
    TemplateBook::new(all.iter().map(|t| Template::from_meta(t).unwrap()))
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn record(columns: &Arc<[String]>, row: u64, values: &[&str]) -> Record {
    Record {
        row,
        columns: columns.clone(),
        values: strings(values),
    }
}

fn run(model: &RowModel, validator: &mut Validator, records: &[Record]) -> Vec<Outcome> {
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

/// Jelou's own example (seed 001): "Tu pedido {{1}} por un total de {{2}} …", here on `order_confirmation`.
#[test]
fn order_confirmation_with_campaign_media_and_payloads() {
    let model = RowModel::Jelou(
        JelouMapping::from_json(&json!([
            {"param": 1, "column": "param_1"},
            {"param": 2, "column": "param_2"},
            {"param": 3, "column": "param_3"}
        ]))
        .unwrap(),
    );
    let cols: Arc<[String]> = strings(&["phone_number", "param_1", "param_2", "param_3"]).into();
    let records = [
        record(&cols, 2, &["593991234567", "A12345", "$250.00", "1 de diciembre"]),
        record(&cols, 3, &["593991234568", "B67890", "", "2 de diciembre"]),
        record(&cols, 4, &["59399123", "C22345", "$50.00", "3 de diciembre"]),
        record(&cols, 5, &["593 99 123 4567", "C22345", "$50.00", "3 de diciembre"]),
        record(&cols, 6, &["593991234569", "D1", "$5", "4 de diciembre"]),
    ];
    let payloads = strings(&[
        r#"{"type":"edge","action":"Yes","skillId":"1"}"#,
        r#"{"type":"edge","action":"No","skillId":"2"}"#,
    ]);
    let mut validator = Validator::new(
        sandbox(),
        CampaignDefaults {
            template: Some(("order_confirmation".into(), None)),
            media: Some(MediaRef {
                from: Some("URL".into()),
                kind: Some("image".into()),
                url: "https://cdn.ejemplo.com/imagen.png".into(),
            }),
            button_payloads: payloads.clone(),
            ..CampaignDefaults::default()
        },
        HashSet::from(["+593991234569".to_string()]),
    );
    let outcomes = run(&model, &mut validator, &records);

    let m = message(&outcomes[0]);
    assert_eq!(
        *m,
        NewMessage {
            id: m.id,
            row_number: Some(2),
            phone: "+593991234567".into(),
            template_name: "order_confirmation".into(),
            language: "en_US".into(),
            params: TemplateParams {
                header: Some(HeaderParam::Media {
                    kind: MediaKind::Image,
                    url: "https://cdn.ejemplo.com/imagen.png".into(),
                    filename: None,
                }),
                body: strings(&["A12345", "$250.00", "1 de diciembre"]),
                buttons: vec![
                    ButtonParam {
                        index: 0,
                        value: payloads[0].clone()
                    },
                    ButtonParam {
                        index: 1,
                        value: payloads[1].clone()
                    },
                ],
            },
            rendered_text: Some(
                "Your order A12345 for a total of $250.00 is confirmed. The expected delivery is 1 de diciembre.\n\n\
                 Thank you for shopping with us!"
                    .into()
            ),
            flag: None,
            status: MessageStatus::Pending,
        }
    );
    assert_eq!(
        *rejection(&outcomes[1]),
        Rejection {
            row_number: 3,
            column: Some("param_2".into()),
            code: "missing_column".into(),
            message: "the column `param_2` (param 2) is empty in this row".into(),
        }
    );
    let r = rejection(&outcomes[2]);
    assert_eq!(
        (r.row_number, r.column.as_deref(), r.code.as_str()),
        (4, Some("phone_number"), "invalid_phone")
    );
    assert_eq!(
        *rejection(&outcomes[3]),
        Rejection {
            row_number: 5,
            column: Some("phone_number".into()),
            code: "duplicate_recipient".into(),
            message: "+593991234567 is already the recipient of row 2".into(),
        }
    );
    assert_eq!(message(&outcomes[4]).status, MessageStatus::Suppressed);
}

#[test]
fn appointment_reminder_with_param_zero_for_the_header_and_a_constant() {
    let model = RowModel::Jelou(
        JelouMapping::from_json(&json!([
            {"param": 0, "value": "tu consulta"},
            {"param": 1, "column": "nombre"},
            {"param": 2, "column": "dia"},
            {"param": 3, "column": "hora"}
        ]))
        .unwrap(),
    );
    let cols: Arc<[String]> = strings(&["telefono", "nombre", "dia", "hora"]).into();
    let records = [
        record(&cols, 2, &["5491123456789", "Ana", "12/05", "10:30"]),
        record(&cols, 3, &["5491123456780", "Luis     Pérez", "12/05", "11:00"]),
    ];
    let mut validator = Validator::new(
        sandbox(),
        CampaignDefaults {
            template: Some(("appointment_reminder".into(), Some("es".into()))),
            ..CampaignDefaults::default()
        },
        HashSet::new(),
    );
    let outcomes = run(&model, &mut validator, &records);
    let m = message(&outcomes[0]);
    assert_eq!(m.params.header, Some(HeaderParam::Text("tu consulta".into())));
    assert_eq!(
        m.rendered_text.as_deref(),
        Some(
            "Recordatorio de tu consulta\n\nHola Ana, tu turno es el 12/05 a las 10:30. ¿Nos confirmas?\n\n\
             Responde con un botón"
        )
    );
    assert_eq!(
        *rejection(&outcomes[1]),
        Rejection {
            row_number: 3,
            column: Some("nombre".into()),
            code: "invalid_parameter".into(),
            message: "param 1 (column `nombre`, the body's {{1}}) has more than 4 consecutive spaces".into(),
        }
    );
}

#[test]
fn a_mapping_that_does_not_fit_the_template_rejects_rows_with_parameter_count() {
    let model = RowModel::Jelou(JelouMapping::from_json(&json!([{"param": 1, "column": "nombre"}])).unwrap());
    let cols: Arc<[String]> = strings(&["telefono", "nombre"]).into();
    let mut validator = Validator::new(
        sandbox(),
        CampaignDefaults {
            template: Some(("payment_due".into(), None)),
            ..CampaignDefaults::default()
        },
        HashSet::new(),
    );
    let outcomes = run(&model, &mut validator, &[record(&cols, 2, &["5491123456789", "Ana"])]);
    assert_eq!(
        *rejection(&outcomes[0]),
        Rejection {
            row_number: 2,
            column: None,
            code: "parameter_count".into(),
            message: "the template `payment_due` takes 3 parameters (0 for the header, 3 for the body); no value is \
                      mapped for param 2, 3 (nothing fills the header, 1 to 3 the body)"
                .into(),
        }
    );
}

#[test]
fn jelou_headers() {
    let model = RowModel::Jelou(JelouMapping::from_json(&json!([{"param": 1, "column": "customer_name"}])).unwrap());
    assert_eq!(model.check_header(&strings(&["phone_number", "customer_name"])), Ok(()));
    let err = model
        .check_header(&strings(&["phone number", "customer_name"]))
        .unwrap_err();
    assert_eq!(
        (err.reason(), err.to_string().starts_with("Invalid CSV format")),
        ("invalid_header", true)
    );
    let err = model.check_header(&strings(&["phone_number", "name"])).unwrap_err();
    assert_eq!(err.reason(), "missing_header");
}
