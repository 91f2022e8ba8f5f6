//! Row models: how a [`Record`] (whatever the file format) becomes a [`CampaignRow`].
//!
//! - **Chat-Tonic** columns: `phone`/`id`, `namespace`, `elementName`, `languageCode`, `languagePolicy`, `flag`,
//!   `buttonParameter`, `media.from`, `media.type`, `media.url`, then repeated `parameter` columns in template order.
//!   The template may differ per row.
//! - **Jelou** mapping: the first column is the phone whatever its name; `params` maps template parameter numbers
//!   to columns; one template for the whole campaign.

use crate::error::FileError;
use crate::record::Record;
use pregon_core::RejectionCode;
use pregon_core::message::Rejection;
use serde_json::Value;
use std::borrow::Cow;
use std::collections::BTreeMap;

/// One row as the campaign models read it, before validation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CampaignRow {
    /// The row number in the source (header = row 1; JSON: the element's position from 1).
    pub row: u64,
    /// The phone, raw, as written.
    pub phone: String,
    /// The column the phone was read from (`phone`, `id`, or Jelou's first column), for rejections. Borrowed for
    /// Chat-Tonic's fixed names: no allocation per row for a name that is almost never shown.
    pub phone_column: Cow<'static, str>,
    /// Chat-Tonic `elementName`.
    pub template_name: Option<String>,
    /// Chat-Tonic `languageCode`.
    pub language: Option<String>,
    /// Chat-Tonic `namespace` (kept, not checked: only Movile needed it).
    pub namespace: Option<String>,
    /// Chat-Tonic `languagePolicy` (kept, not used: WhatsApp only has the deterministic policy now).
    pub language_policy: Option<String>,
    /// Chat-Tonic `flag`: context handed back when the recipient answers.
    pub flag: Option<String>,
    /// Chat-Tonic `buttonParameter`: the suffix of a dynamic URL button.
    pub button_parameter: Option<String>,
    /// Chat-Tonic `media.*` columns.
    pub media: Option<MediaRef>,
    /// The template parameters.
    pub params: ParamValues,
    /// Jelou: the column each numbered parameter was read from (constants have none), for rejections.
    pub param_columns: BTreeMap<u32, String>,
}

/// Media for a template's header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaRef {
    /// Chat-Tonic `media.from` (`URL`).
    pub from: Option<String>,
    /// `image`, `video` or `document`, if given; checked against the template's header.
    pub kind: Option<String>,
    /// Where the provider fetches it.
    pub url: String,
}

/// A row's template parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParamValues {
    /// Chat-Tonic: the `parameter` columns in template order — the header's text parameter first (if the template's
    /// header has one), then the body's. Trailing empty cells are dropped ("It can be blank if no parameter is
    /// necessary").
    Ordered(Vec<String>),
    /// Jelou: parameter number → value. Numbers refer to the body's `{{n}}`; `0` fills a text header's placeholder.
    Numbered(BTreeMap<u32, String>),
}

/// How rows are read.
#[derive(Clone, Debug)]
pub enum RowModel {
    /// Chat-Tonic's fixed columns.
    ChatTonic,
    /// Jelou's first-column phone and parameter mapping.
    Jelou(JelouMapping),
}

/// Jelou's `params`: template parameter number → where its value comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JelouMapping {
    /// In the order given.
    pub params: Vec<(u32, ParamSource)>,
}

/// Where a Jelou parameter's value comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParamSource {
    /// A column of the file.
    Column(String),
    /// The same value for every row (Pregon's extension).
    Value(String),
}

impl JelouMapping {
    /// From Jelou's `params`: `[{"param": 1, "column": "customer_name"}, {"param": 2, "value": "Acme"}]` (a constant
    /// instead of a column is Pregon's extension). Errors name the offending item: not an array, missing/duplicate
    /// `param`, both or neither of `column`/`value`, a non-integer or negative `param`.
    pub fn from_json(v: &Value) -> Result<JelouMapping, String> {
        let Some(items) = v.as_array() else {
            return Err("`params` must be an array like [{\"param\": 1, \"column\": \"customer_name\"}]".into());
        };
        let mut params: Vec<(u32, ParamSource)> = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let at = format!("params[{i}]");
            let Some(obj) = item.as_object() else {
                return Err(format!(
                    "{at}: must be an object like {{\"param\": 1, \"column\": \"customer_name\"}}"
                ));
            };
            let number = match obj.get("param") {
                None | Some(Value::Null) => return Err(format!("{at}: `param` is missing")),
                Some(Value::Number(n)) => match n.as_u64() {
                    Some(n) => u32::try_from(n).map_err(|_| format!("{at}: `param` {n} is too large"))?,
                    None if n.as_i64().is_some_and(|n| n < 0) => {
                        return Err(format!("{at}: `param` must not be negative (got {n})"));
                    }
                    None => return Err(format!("{at}: `param` must be a whole number (got {n})")),
                },
                Some(other) => {
                    return Err(format!("{at}: `param` must be a whole number (got {other})"));
                }
            };
            if params.iter().any(|(n, _)| *n == number) {
                return Err(format!("{at}: param {number} is mapped twice"));
            }
            let column = obj.get("column").filter(|c| !c.is_null());
            let value = obj.get("value").filter(|c| !c.is_null());
            let source = match (column, value) {
                (Some(_), Some(_)) => {
                    return Err(format!("{at}: give either `column` or `value`, not both"));
                }
                (None, None) => return Err(format!("{at}: `column` (or `value`) is missing")),
                (Some(Value::String(c)), None) if !c.trim().is_empty() => ParamSource::Column(c.trim().to_owned()),
                (Some(_), None) => {
                    return Err(format!("{at}: `column` must be a column name"));
                }
                (None, Some(Value::String(v))) => ParamSource::Value(v.clone()),
                (None, Some(Value::Number(n))) => ParamSource::Value(n.to_string()),
                (None, Some(_)) => return Err(format!("{at}: `value` must be text")),
            };
            params.push((number, source));
        }
        Ok(JelouMapping { params })
    }
}

/// Chat-Tonic's column names.
const PHONE: &str = "phone";
const ID: &str = "id";
const PARAMETER: &str = "parameter";

impl RowModel {
    /// Check the header before reading rows. Chat-Tonic: a `phone` or `id` column is required (`FileError::MissingHeader`
    /// naming the columns found). Jelou: every header name letters, digits and `_` only, else
    /// `FileError::InvalidHeader(…)` (Jelou answers "Invalid CSV format"); at least one column (the phone is the FIRST
    /// column whatever its name); every mapped column present (`MissingHeader` naming it). For JSON (no shared header)
    /// this is called per record's columns by the caller, so it allocates only to describe an error.
    pub fn check_header(&self, columns: &[String]) -> Result<(), FileError> {
        match self {
            RowModel::ChatTonic => {
                if columns.iter().any(|c| c == PHONE || c == ID) {
                    Ok(())
                } else {
                    Err(FileError::MissingHeader(format!(
                        "no `phone` (or `id`) column; the columns are: {}",
                        list(columns)
                    )))
                }
            }
            RowModel::Jelou(mapping) => {
                if columns.is_empty() {
                    return Err(FileError::MissingHeader(
                        "no header row: the first row must name the columns, the phone first".into(),
                    ));
                }
                if let Some(bad) = columns.iter().find(|c| !is_jelou_name(c)) {
                    return Err(FileError::InvalidHeader(format!(
                        "the column name `{bad}` may hold only letters, digits and `_`"
                    )));
                }
                for (number, source) in &mapping.params {
                    if let ParamSource::Column(column) = source
                        && !columns.iter().any(|c| c == column)
                    {
                        return Err(FileError::MissingHeader(format!(
                            "param {number} is mapped to the column `{column}`, which the file does not have; \
                             the columns are: {}",
                            list(columns)
                        )));
                    }
                }
                Ok(())
            }
        }
    }

    /// Read one record. Chat-Tonic: `phone`, else `id`; all the seed-000 columns; trims cells; empty → None.
    /// Jelou: first column = phone, params from the mapping (an empty mapped cell → Rejection code `missing_column`
    /// naming the column). Returns a Rejection (code, row, column, message) for rows that cannot be read.
    pub fn map(&self, record: &Record) -> Result<CampaignRow, Rejection> {
        match self {
            RowModel::ChatTonic => Ok(chat_tonic(record)),
            RowModel::Jelou(mapping) => jelou(mapping, record),
        }
    }
}

fn list(columns: &[String]) -> String {
    if columns.is_empty() {
        return "(none)".into();
    }
    columns.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")
}

/// Jelou: "Usa solo letras, números y guiones bajos". Letters beyond ASCII (`año`) are let through: refusing a file
/// Jelou took would break a switching client, and such a name harms nothing here.
fn is_jelou_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_')
}

fn cell(value: &str) -> Option<String> {
    let value = value.trim();
    (!value.is_empty()).then(|| value.to_owned())
}

/// One pass over the columns: a row is read for every record of a million-row file, so no lookup per field.
fn chat_tonic(record: &Record) -> CampaignRow {
    let mut phone: Option<&str> = None;
    let mut id: Option<&str> = None;
    let (mut namespace, mut template_name, mut language, mut language_policy) = (None, None, None, None);
    let (mut flag, mut button_parameter) = (None, None);
    let (mut media_from, mut media_type, mut media_url) = (None, None, None);
    let mut params: Vec<String> = Vec::new();
    let mut has_phone_column = false;
    for (column, value) in record.columns.iter().zip(&record.values) {
        match column.as_str() {
            PHONE => {
                has_phone_column = true;
                phone = phone.or(Some(value.trim()).filter(|v| !v.is_empty()));
            }
            ID => id = id.or(Some(value.trim()).filter(|v| !v.is_empty())),
            "namespace" => namespace = namespace.or_else(|| cell(value)),
            "elementName" => template_name = template_name.or_else(|| cell(value)),
            "languageCode" => language = language.or_else(|| cell(value)),
            "languagePolicy" => language_policy = language_policy.or_else(|| cell(value)),
            "flag" => flag = flag.or_else(|| cell(value)),
            "buttonParameter" => button_parameter = button_parameter.or_else(|| cell(value)),
            "media.from" => media_from = media_from.or_else(|| cell(value)),
            "media.type" => media_type = media_type.or_else(|| cell(value)),
            "media.url" => media_url = media_url.or_else(|| cell(value)),
            PARAMETER => params.push(value.trim().to_owned()),
            _ => {}
        }
    }
    while params.last().is_some_and(String::is_empty) {
        params.pop();
    }
    let (phone, phone_column) = match (phone, id) {
        (Some(p), _) => (p, PHONE),
        (None, Some(i)) => (i, ID),
        (None, None) if has_phone_column => ("", PHONE),
        (None, None) if record.columns.iter().any(|c| c == ID) => ("", ID),
        (None, None) => ("", PHONE),
    };
    CampaignRow {
        row: record.row,
        phone: phone.to_owned(),
        phone_column: Cow::Borrowed(phone_column),
        template_name,
        language,
        namespace,
        language_policy,
        flag,
        button_parameter,
        media: media_url.map(|url| MediaRef {
            from: media_from,
            kind: media_type,
            url,
        }),
        params: ParamValues::Ordered(params),
        param_columns: BTreeMap::new(),
    }
}

fn jelou(mapping: &JelouMapping, record: &Record) -> Result<CampaignRow, Rejection> {
    let phone_column = Cow::Owned(record.columns.first().cloned().unwrap_or_default());
    let phone = record.values.first().map(|v| v.trim().to_owned()).unwrap_or_default();
    let mut values = BTreeMap::new();
    let mut param_columns = BTreeMap::new();
    for (number, source) in &mapping.params {
        let value = match source {
            ParamSource::Value(v) => v.clone(),
            ParamSource::Column(column) => {
                let value = record.get(column).map(str::trim).unwrap_or("");
                if value.is_empty() {
                    let why = if record.columns.iter().any(|c| c == column) {
                        "is empty"
                    } else {
                        "is missing"
                    };
                    return Err(Rejection {
                        row_number: record.row,
                        column: Some(column.clone()),
                        code: RejectionCode::MissingColumn.as_str().to_owned(),
                        message: format!("the column `{column}` (param {number}) {why} in this row"),
                    });
                }
                param_columns.insert(*number, column.clone());
                value.to_owned()
            }
        };
        values.insert(*number, value);
    }
    Ok(CampaignRow {
        row: record.row,
        phone,
        phone_column,
        template_name: None,
        language: None,
        namespace: None,
        language_policy: None,
        flag: None,
        button_parameter: None,
        media: None,
        params: ParamValues::Numbered(values),
        param_columns,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use serde_json::json;
    use std::sync::Arc;

    fn record(row: u64, columns: &[&str], values: &[&str]) -> Record {
        Record {
            row,
            columns: columns.iter().map(|c| c.to_string()).collect::<Vec<_>>().into(),
            values: values.iter().map(|v| v.to_string()).collect(),
        }
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    const SEED_COLUMNS: &[&str] = &[
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

    #[test]
    fn chat_tonic_reads_every_seed_column_trimmed() {
        let r = record(
            2,
            SEED_COLUMNS,
            &[
                " +54 9 11 2345-6789 ",
                "ns_1",
                " order_confirmation ",
                "en_US",
                "deterministic",
                "lead@example.com",
                "inv-42",
                "URL",
                "image",
                " https://cdn.example.com/a.jpg ",
                " #1234 ",
                "$12.21",
                "August 15th",
            ],
        );
        let row = RowModel::ChatTonic.map(&r).unwrap();
        assert_eq!(
            row,
            CampaignRow {
                row: 2,
                phone: "+54 9 11 2345-6789".into(),
                phone_column: "phone".into(),
                template_name: Some("order_confirmation".into()),
                language: Some("en_US".into()),
                namespace: Some("ns_1".into()),
                language_policy: Some("deterministic".into()),
                flag: Some("lead@example.com".into()),
                button_parameter: Some("inv-42".into()),
                media: Some(MediaRef {
                    from: Some("URL".into()),
                    kind: Some("image".into()),
                    url: "https://cdn.example.com/a.jpg".into(),
                }),
                params: ParamValues::Ordered(strings(&["#1234", "$12.21", "August 15th"])),
                param_columns: BTreeMap::new(),
            }
        );
    }

    #[test]
    fn chat_tonic_empty_cells_are_none_and_trailing_empty_parameters_are_dropped() {
        let r = record(
            3,
            SEED_COLUMNS,
            &[
                "5491123456789",
                "",
                "payment_due",
                " ",
                "",
                "",
                "",
                "",
                "",
                "",
                "Ana",
                "",
                " ",
            ],
        );
        let row = RowModel::ChatTonic.map(&r).unwrap();
        assert_eq!(row.language, None);
        assert_eq!(row.namespace, None);
        assert_eq!(row.flag, None);
        assert_eq!(row.media, None);
        assert_eq!(row.params, ParamValues::Ordered(strings(&["Ana"])));

        // An empty parameter in the middle stays: it is the row's mistake, reported by the validator.
        let r = record(
            4,
            &["phone", "parameter", "parameter", "parameter"],
            &["1", "a", "", "c"],
        );
        let row = RowModel::ChatTonic.map(&r).unwrap();
        assert_eq!(row.params, ParamValues::Ordered(strings(&["a", "", "c"])));
    }

    #[test]
    fn chat_tonic_takes_id_when_there_is_no_phone() {
        let r = record(2, &["id", "elementName"], &["+5491123456789", "hello_world"]);
        let row = RowModel::ChatTonic.map(&r).unwrap();
        assert_eq!(row.phone, "+5491123456789");
        assert_eq!(row.phone_column, "id");

        // Both columns: `phone` wins, `id` fills in when `phone` is empty.
        let cols = &["id", "phone"];
        let row = RowModel::ChatTonic.map(&record(2, cols, &["111", "222"])).unwrap();
        assert_eq!((row.phone.as_str(), &*row.phone_column), ("222", "phone"));
        let row = RowModel::ChatTonic.map(&record(2, cols, &["111", " "])).unwrap();
        assert_eq!((row.phone.as_str(), &*row.phone_column), ("111", "id"));
        let row = RowModel::ChatTonic.map(&record(2, cols, &["", ""])).unwrap();
        assert_eq!((row.phone.as_str(), &*row.phone_column), ("", "phone"));
    }

    #[test]
    fn chat_tonic_json_shape_is_read_the_same() {
        // What the JSON reader yields for {"id": …, "hsm"-less flat object, "parameters": [..], "media": {..}}.
        let r = record(
            1,
            &[
                "id",
                "elementName",
                "parameter",
                "parameter",
                "media.from",
                "media.type",
                "media.url",
            ],
            &[
                "+5491123456789",
                "order_confirmation",
                "a",
                "b",
                "URL",
                "image",
                "https://x.example/i.png",
            ],
        );
        let row = RowModel::ChatTonic.map(&r).unwrap();
        assert_eq!(row.params, ParamValues::Ordered(strings(&["a", "b"])));
        assert_eq!(row.media.unwrap().url, "https://x.example/i.png");
    }

    #[test]
    fn chat_tonic_header_needs_phone_or_id() {
        let ok = |cols: &[&str]| RowModel::ChatTonic.check_header(&strings(cols));
        assert_eq!(ok(&["phone", "elementName"]), Ok(()));
        assert_eq!(ok(&["elementName", "id"]), Ok(()));
        let err = ok(&["telefono", "elementName"]).unwrap_err();
        assert_eq!(err.reason(), "missing_header");
        assert_eq!(
            err.to_string(),
            "no `phone` (or `id`) column; the columns are: `telefono`, `elementName`"
        );
        assert_eq!(ok(&[]).unwrap_err().reason(), "missing_header");
    }

    fn mapping(v: Value) -> JelouMapping {
        JelouMapping::from_json(&v).unwrap()
    }

    #[test]
    fn jelou_mapping_from_json() {
        let m = mapping(json!([
            {"param": 1, "column": "customer_name"},
            {"param": 2, "value": "Acme"},
            {"param": 0, "column": " title "},
            {"param": 3, "value": 15}
        ]));
        assert_eq!(
            m.params,
            vec![
                (1, ParamSource::Column("customer_name".into())),
                (2, ParamSource::Value("Acme".into())),
                (0, ParamSource::Column("title".into())),
                (3, ParamSource::Value("15".into())),
            ]
        );
        assert_eq!(mapping(json!([])).params, vec![]);
    }

    #[test]
    fn jelou_mapping_errors_name_the_item() {
        let err = |v: Value| JelouMapping::from_json(&v).unwrap_err();
        assert!(err(json!({"param": 1})).contains("must be an array"));
        assert_eq!(
            err(json!([1])),
            "params[0]: must be an object like {\"param\": 1, \"column\": \"customer_name\"}"
        );
        assert_eq!(err(json!([{"column": "a"}])), "params[0]: `param` is missing");
        assert_eq!(
            err(json!([{"param": 1, "column": "a"}, {"param": 1, "column": "b"}])),
            "params[1]: param 1 is mapped twice"
        );
        assert_eq!(
            err(json!([{"param": 1, "column": "a", "value": "x"}])),
            "params[0]: give either `column` or `value`, not both"
        );
        assert_eq!(
            err(json!([{"param": 1}])),
            "params[0]: `column` (or `value`) is missing"
        );
        assert_eq!(
            err(json!([{"param": -1, "column": "a"}])),
            "params[0]: `param` must not be negative (got -1)"
        );
        assert_eq!(
            err(json!([{"param": 1.5, "column": "a"}])),
            "params[0]: `param` must be a whole number (got 1.5)"
        );
        assert_eq!(
            err(json!([{"param": "1", "column": "a"}])),
            "params[0]: `param` must be a whole number (got \"1\")"
        );
        assert_eq!(
            err(json!([{"param": 1, "column": ""}])),
            "params[0]: `column` must be a column name"
        );
        assert_eq!(
            err(json!([{"param": 1, "value": ["x"]}])),
            "params[0]: `value` must be text"
        );
        assert_eq!(
            err(json!([{"param": 5_000_000_000u64, "column": "a"}])),
            "params[0]: `param` 5000000000 is too large"
        );
    }

    #[test]
    fn jelou_header_rules() {
        let model = RowModel::Jelou(mapping(json!([{"param": 1, "column": "customer_name"}])));
        let check = |cols: &[&str]| model.check_header(&strings(cols));
        assert_eq!(check(&["phone_number", "customer_name", "año"]), Ok(()));
        let err = check(&["phone number", "customer_name"]).unwrap_err();
        assert_eq!(err.reason(), "invalid_header");
        assert_eq!(
            err.to_string(),
            "Invalid CSV format: the column name `phone number` may hold only letters, digits and `_`"
        );
        assert_eq!(
            check(&["phone", "customer-name!"]).unwrap_err().reason(),
            "invalid_header"
        );
        assert_eq!(check(&["phone", ""]).unwrap_err().reason(), "invalid_header");
        let err = check(&["phone", "name"]).unwrap_err();
        assert_eq!(err.reason(), "missing_header");
        assert!(err.to_string().contains("`customer_name`"), "{err}");
        assert_eq!(check(&[]).unwrap_err().reason(), "missing_header");
        // Constants need no column.
        let model = RowModel::Jelou(mapping(json!([{"param": 1, "value": "x"}])));
        assert_eq!(model.check_header(&strings(&["tel"])), Ok(()));
    }

    #[test]
    fn jelou_reads_first_column_and_mapped_params() {
        let model = RowModel::Jelou(mapping(json!([
            {"param": 2, "column": "amount"},
            {"param": 1, "column": "order_id"},
            {"param": 3, "value": "1 de diciembre"}
        ])));
        let r = record(
            2,
            &["telefono", "order_id", "amount", "unused"],
            &[" 593991234567 ", "A12345", " $250.00 ", "x"],
        );
        let row = model.map(&r).unwrap();
        assert_eq!(row.phone, "593991234567");
        assert_eq!(row.phone_column, "telefono");
        assert_eq!(
            row.params,
            ParamValues::Numbered(BTreeMap::from([
                (1, "A12345".to_string()),
                (2, "$250.00".to_string()),
                (3, "1 de diciembre".to_string()),
            ]))
        );
        assert_eq!(
            row.param_columns,
            BTreeMap::from([(1, "order_id".to_string()), (2, "amount".to_string())])
        );
        assert_eq!(row.template_name, None);
        assert_eq!(row.media, None);
    }

    #[test]
    fn jelou_empty_or_missing_mapped_cell_is_missing_column() {
        let model = RowModel::Jelou(mapping(json!([{"param": 1, "column": "name"}])));
        let r = record(7, &["phone", "name"], &["593991234567", "  "]);
        assert_eq!(
            model.map(&r).unwrap_err(),
            Rejection {
                row_number: 7,
                column: Some("name".into()),
                code: "missing_column".into(),
                message: "the column `name` (param 1) is empty in this row".into(),
            }
        );
        // A JSON record without the key.
        let r = Record {
            row: 3,
            columns: Arc::from(strings(&["phone"])),
            values: strings(&["593991234567"]),
        };
        let rejection = model.map(&r).unwrap_err();
        assert_eq!(rejection.code, "missing_column");
        assert_eq!(rejection.message, "the column `name` (param 1) is missing in this row");
    }
}
