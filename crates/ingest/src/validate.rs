//! Row validation: a [`CampaignRow`] becomes a message (`pending`, or `suppressed` for an opted-out recipient) or a
//! rejection with a stable code, the row number, the column at fault and a message for people.
//!
//! [`Validator::check`] is [`Validator::examine`] (everything that depends on the row alone: phone, template,
//! parameters, media, buttons, rendering; `&self`, so it can run on several threads) followed by
//! [`Validator::decide`] (what depends on the rows before: duplicate recipients; call it in row order). Duplicates are
//! found in fixed memory, so a few first repeats are settled only at the end, by [`Validator::resolve`].

use crate::model::{CampaignRow, MediaRef, ParamValues};
use crate::phone::{self, PhoneError};
use crate::recipients::{Recipient, RecipientBuild, SeenFilter, recipient};
use pregon_core::message::{NewMessage, Rejection};
use pregon_core::template::{
    BODY_MAX, Button, ButtonParam, HEADER_TEXT_MAX, HeaderParam, MediaKind, ParameterFormat, Placeholder, RenderError,
    Template, TemplateParams, check_parameter_text, placeholders,
};
use pregon_core::{MessageId, MessageStatus, RejectionCode};
use std::borrow::Cow;
use std::collections::hash_map::Entry as Slot;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Chat-Tonic's column names, used in rejections.
const ELEMENT_NAME: &str = "elementName";
const LANGUAGE_CODE: &str = "languageCode";
const PARAMETER: &str = "parameter";
const MEDIA_URL: &str = "media.url";
const MEDIA_TYPE: &str = "media.type";
const BUTTON_PARAMETER: &str = "buttonParameter";

/// The account's templates by (name, language).
pub struct TemplateBook {
    entries: Vec<Entry>,
    by_name: HashMap<String, Vec<usize>>,
}

/// A template and what validation asks of it on every row, worked out once.
struct Entry {
    template: Template,
    header_text: bool,
    /// `{{1}}` or `{{name}}`: how the header's placeholder is named in messages.
    header_label: String,
    /// The body's placeholders in fill order, as they are named in messages.
    body_labels: Vec<String>,
    media: Option<MediaKind>,
    dynamic_buttons: Vec<usize>,
    quick_replies: Vec<usize>,
    text: TextPlan,
}

impl Entry {
    fn new(template: Template) -> Entry {
        let body_count = template.body_parameter_count();
        let named = |text: &str| -> Vec<String> {
            let mut names: Vec<String> = Vec::new();
            for p in placeholders(text).unwrap_or_default() {
                let label = match p {
                    Placeholder::Index(n) => format!("{{{{{n}}}}}"),
                    Placeholder::Name(n) => format!("{{{{{n}}}}}"),
                };
                if !names.contains(&label) {
                    names.push(label);
                }
            }
            names
        };
        let body_labels: Vec<String> = match template.parameter_format {
            ParameterFormat::Named => named(&template.body).into_iter().take(body_count).collect(),
            ParameterFormat::Positional => (1..=body_count).map(|n| format!("{{{{{n}}}}}")).collect(),
        };
        let header_label = match &template.header {
            Some(pregon_core::template::Header::Text(text)) => named(text).into_iter().next(),
            _ => None,
        }
        .unwrap_or_else(|| "{{1}}".into());
        let text = TextPlan::new(&template, &header_label, &body_labels);
        Entry {
            text,
            header_text: template.header_takes_text(),
            header_label,
            body_labels,
            media: template.header_media(),
            dynamic_buttons: template.dynamic_buttons(),
            quick_replies: template
                .buttons
                .iter()
                .enumerate()
                .filter(|(_, b)| matches!(b, Button::QuickReply { .. }))
                .map(|(i, _)| i)
                .collect(),
            template,
        }
    }

    /// `Template::render(params).text` for the parameters the validator built (counted and checked), from pieces cut
    /// once per template: `render` re-reads the placeholders and rebuilds the text with a `replace` per parameter
    /// and clones every button, 1.7 µs a row (measured by `examples/phone_speed.rs`), most of the row's budget. A
    /// value holding a brace goes through `render` itself: `render` replaces placeholders one after the other, so a
    /// value that looks like a later placeholder would be filled too, and only `render` knows what it then sends.
    /// A test compares the two.
    fn render_text(&self, params: &TemplateParams) -> Result<String, RenderError> {
        let header_value = match &params.header {
            Some(HeaderParam::Text(value)) => Some(value.as_str()),
            _ => None,
        };
        let braces = |v: &str| v.contains(['{', '}']);
        if header_value.is_some_and(braces) || params.body.iter().any(|v| braces(v)) {
            return self.template.render(params).map(|r| r.text);
        }
        let plan = &self.text;
        let mut out = String::with_capacity(plan.capacity + params.body.iter().map(String::len).sum::<usize>());
        if let Some(header) = &plan.header {
            let start = out.len();
            match &params.header {
                _ if !header.has_slots() => header.fill(&mut out, &[]),
                Some(HeaderParam::Text(value)) => header.fill(&mut out, std::slice::from_ref(value)),
                // No value for the placeholder: `render`'s error.
                _ => return self.template.render(params).map(|r| r.text),
            }
            if exceeds(&out[start..], HEADER_TEXT_MAX) {
                return Err(RenderError::TooLong {
                    part: "header",
                    max: HEADER_TEXT_MAX,
                });
            }
            out.push_str("\n\n");
        }
        let start = out.len();
        plan.body.fill(&mut out, &params.body);
        if exceeds(&out[start..], BODY_MAX) {
            return Err(RenderError::TooLong {
                part: "body",
                max: BODY_MAX,
            });
        }
        if let Some(footer) = &plan.footer {
            out.push_str("\n\n");
            out.push_str(footer);
        }
        Ok(out)
    }
}

/// `check_parameter_text` in one pass over the bytes; only a refused value goes to it, for its words. (Its three
/// searches, one building a substring searcher, cost more than the rest of the row's checks.)
fn check_value(value: &str) -> Result<(), String> {
    let mut spaces = 0;
    let mut visible = false;
    for &b in value.as_bytes() {
        match b {
            b'\n' | b'\r' | b'\t' => return check_parameter_text(value),
            b' ' => {
                spaces += 1;
                if spaces > 4 {
                    return check_parameter_text(value);
                }
            }
            _ => {
                spaces = 0;
                visible |= b.is_ascii() && !b.is_ascii_whitespace();
            }
        }
    }
    // Nothing visible in ASCII: empty, blank, or only non-ASCII characters (which `trim` may remove): it decides.
    if visible { Ok(()) } else { check_parameter_text(value) }
}

/// Longer than `max` characters; counting only when the bytes could be.
fn exceeds(text: &str, max: usize) -> bool {
    text.len() > max && text.chars().count() > max
}

/// A template's visible text cut at its placeholders.
struct TextPlan {
    /// A TEXT header (static or with its placeholder).
    header: Option<Pieces>,
    body: Pieces,
    /// A non-empty footer.
    footer: Option<String>,
    /// The static bytes, to size the output once.
    capacity: usize,
}

impl TextPlan {
    fn new(template: &Template, header_label: &str, body_labels: &[String]) -> TextPlan {
        let header = match &template.header {
            Some(pregon_core::template::Header::Text(text)) => Some(if text.contains("{{") {
                Pieces::cut(text, std::slice::from_ref(&header_label.to_owned()))
            } else {
                Pieces::cut(text, &[])
            }),
            _ => None,
        };
        let body = Pieces::cut(&template.body, body_labels);
        let footer = template.footer.clone().filter(|f| !f.is_empty());
        let capacity = header.as_ref().map_or(0, |h| h.static_len() + 2)
            + body.static_len()
            + footer.as_ref().map_or(0, |f| f.len() + 2);
        TextPlan {
            header,
            body,
            footer,
            capacity,
        }
    }
}

/// Text and slots: `Hola {{1}}, tu turno` → [Text("Hola "), Slot(0), Text(", tu turno")].
struct Pieces(Vec<Piece>);

enum Piece {
    Text(String),
    Slot(usize),
}

impl Pieces {
    /// `tokens[k]` is the placeholder the k-th value fills, exactly as written (`{{1}}`, `{{first_name}}`).
    fn cut(text: &str, tokens: &[String]) -> Pieces {
        let mut pieces = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        while !rest.is_empty() {
            if let Some(k) = tokens.iter().position(|t| rest.starts_with(t.as_str())) {
                if !literal.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut literal)));
                }
                pieces.push(Piece::Slot(k));
                rest = &rest[tokens[k].len()..];
            } else {
                let c = rest.chars().next().unwrap_or_default();
                literal.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
        if !literal.is_empty() {
            pieces.push(Piece::Text(literal));
        }
        Pieces(pieces)
    }

    fn has_slots(&self) -> bool {
        self.0.iter().any(|p| matches!(p, Piece::Slot(_)))
    }

    fn static_len(&self) -> usize {
        self.0
            .iter()
            .map(|p| match p {
                Piece::Text(t) => t.len(),
                Piece::Slot(_) => 0,
            })
            .sum()
    }

    /// `render` leaves a placeholder without a value as it is; so does this.
    fn fill(&self, out: &mut String, values: &[String]) {
        for piece in &self.0 {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Slot(k) => out.push_str(values.get(*k).map_or("", String::as_str)),
            }
        }
    }
}

/// Why a template could not be found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    /// No template of that name at all.
    #[error("the account has no template named `{name}`")]
    UnknownName {
        /// The name asked for.
        name: String,
    },
    /// The name exists, not in that language.
    #[error("the template `{name}` has no `{language}` version; it has: {available}")]
    UnknownLanguage {
        /// The name asked for.
        name: String,
        /// The language asked for.
        language: String,
        /// The languages it has, comma-separated.
        available: String,
    },
    /// No language given, and the name exists in several.
    #[error("the template `{name}` exists in several languages ({available}): a languageCode is needed")]
    LanguageNeeded {
        /// The name asked for.
        name: String,
        /// The languages it has, comma-separated.
        available: String,
    },
}

impl LookupError {
    /// Whether the language (rather than the name) is at fault.
    pub fn is_about_language(&self) -> bool {
        !matches!(self, LookupError::UnknownName { .. })
    }
}

/// `en_US`, `en-us` and `EN_us` are the same language: files are typed by people.
fn same_language(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes().zip(b.bytes()).all(|(x, y)| {
            let norm = |c: u8| if c == b'-' { b'_' } else { c.to_ascii_lowercase() };
            norm(x) == norm(y)
        })
}

impl TemplateBook {
    /// Index the templates. Two with the same name and language: the first is kept.
    pub fn new(templates: impl IntoIterator<Item = Template>) -> Self {
        let mut book = TemplateBook {
            entries: Vec::new(),
            by_name: HashMap::new(),
        };
        for template in templates {
            let versions = book.by_name.entry(template.name.clone()).or_default();
            if versions
                .iter()
                .any(|&i| book.entries[i].template.language == template.language)
            {
                continue;
            }
            versions.push(book.entries.len());
            book.entries.push(Entry::new(template));
        }
        book
    }

    /// Find by name and language; with no language: the `default_language` if given, else the only language the name
    /// has (several → None, with a message saying a languageCode is needed). Languages compare ignoring case and
    /// `-`/`_`. When the name exists in exactly one language and no language was asked for, that one is used even
    /// if it is not the default: there is nothing to choose between.
    pub fn find(
        &self,
        name: &str,
        language: Option<&str>,
        default_language: Option<&str>,
    ) -> Result<&Template, LookupError> {
        self.find_entry(name, language, default_language)
            .map(|i| &self.entries[i].template)
    }

    fn find_entry(
        &self,
        name: &str,
        language: Option<&str>,
        default_language: Option<&str>,
    ) -> Result<usize, LookupError> {
        let Some(versions) = self.by_name.get(name) else {
            return Err(LookupError::UnknownName { name: name.to_owned() });
        };
        let with = |language: &str| {
            versions
                .iter()
                .copied()
                .find(|&i| self.entries[i].template.language == language)
                .or_else(|| {
                    versions
                        .iter()
                        .copied()
                        .find(|&i| same_language(&self.entries[i].template.language, language))
                })
        };
        let available = || {
            versions
                .iter()
                .map(|&i| self.entries[i].template.language.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        if let Some(language) = language {
            return with(language).ok_or_else(|| LookupError::UnknownLanguage {
                name: name.to_owned(),
                language: language.to_owned(),
                available: available(),
            });
        }
        if let Some(found) = default_language.and_then(with) {
            return Ok(found);
        }
        match versions.as_slice() {
            [only] => Ok(*only),
            _ => Err(LookupError::LanguageNeeded {
                name: name.to_owned(),
                available: available(),
            }),
        }
    }
}

/// Campaign-wide settings the rows are checked with.
#[derive(Clone, Debug, Default)]
pub struct CampaignDefaults {
    /// Jelou `elementName` / native `template` (+ `language`): used when a row names none.
    pub template: Option<(String, Option<String>)>,
    /// The account's default language.
    pub default_language: Option<String>,
    /// ISO country for national numbers, if any.
    pub default_region: Option<String>,
    /// Jelou `mediaUrl` + `type`: the header media for every row (a row's own media wins).
    pub media: Option<MediaRef>,
    /// Jelou `buttonPayloads`, serialised: quick-reply payload by quick-reply order.
    pub button_payloads: Vec<String>,
}

/// What became of a row.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// A message to store: `pending`, or `suppressed` when the recipient opted out.
    Message(NewMessage),
    /// A refused row.
    Rejected(Rejection),
}

/// A row checked on its own, waiting for [`Validator::decide`] to compare its recipient with the rows before it.
#[derive(Clone, Debug, PartialEq)]
pub struct Examined(Result<Accepted, Rejection>);

#[derive(Clone, Debug, PartialEq)]
struct Accepted {
    recipient: Recipient,
    phone_column: Cow<'static, str>,
    message: NewMessage,
}

impl Examined {
    /// The row number.
    pub fn row(&self) -> u64 {
        match &self.0 {
            Ok(a) => a.message.row_number.unwrap_or(0),
            Err(r) => r.row_number,
        }
    }
}

/// The first row of a recipient that [`SeenFilter`] could not vouch for: kept as a message for now, and checked
/// again by [`Validator::resolve`] against the rows before it.
#[derive(Clone, Debug)]
struct Suspect {
    row: u64,
    phone: String,
    phone_column: Cow<'static, str>,
    suppressed: bool,
}

/// Rows found to be duplicates only after they were handed out as messages: each must be withdrawn (its message
/// removed) and stored as this rejection.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Withdrawn {
    /// The rejections, in row order.
    pub rejections: Vec<Rejection>,
    /// How many of the withdrawn messages were `suppressed`.
    pub suppressed: u64,
}

impl Withdrawn {
    /// Turn the withdrawn rows' messages in `outcomes` (one per row, as [`Validator::check`] gave them) into their
    /// rejections: the final outcome of every row.
    pub fn apply(self, outcomes: &mut [Outcome]) {
        for rejection in self.rejections {
            let row = Some(rejection.row_number);
            if let Some(o) = outcomes
                .iter_mut()
                .find(|o| matches!(o, Outcome::Message(m) if m.row_number == row))
            {
                *o = Outcome::Rejected(rejection);
            }
        }
    }
}

/// `row` repeats the recipient of `first`.
fn duplicate(row: u64, column: String, phone: &str, first: u64) -> Rejection {
    Rejection {
        row_number: row,
        column: Some(column),
        code: RejectionCode::DuplicateRecipient.as_str().to_owned(),
        message: format!("{phone} is already the recipient of row {first}"),
    }
}

/// Checks the rows of one campaign.
pub struct Validator {
    book: TemplateBook,
    defaults: CampaignDefaults,
    default_region: Option<String>,
    opted_out: HashSet<Recipient, RecipientBuild>,
    /// Recipients of the rows that became messages, in fixed memory.
    seen: SeenFilter,
    /// Recipients the filter said "maybe" for, with the first such row.
    suspects: HashMap<Recipient, Suspect, RecipientBuild>,
}

impl Validator {
    /// A validator for one campaign. `opted_out` holds E.164 numbers (others are normalised, or ignored when they
    /// are not phones).
    pub fn new(book: TemplateBook, defaults: CampaignDefaults, opted_out: HashSet<String>) -> Self {
        let opted_out = opted_out
            .iter()
            .filter_map(|p| recipient(p).or_else(|| phone::normalize(p, None).ok().and_then(|e| recipient(&e))))
            .collect();
        Validator {
            book,
            default_region: defaults
                .default_region
                .as_deref()
                .map(|r| r.trim().to_ascii_uppercase()),
            defaults,
            opted_out,
            seen: SeenFilter::new(),
            suspects: HashMap::default(),
        }
    }

    /// The templates rows are checked against.
    pub fn book(&self) -> &TemplateBook {
        &self.book
    }

    /// Check one row: a message (status `pending`, or `suppressed` when the number opted out) or a rejection.
    pub fn check(&mut self, row: CampaignRow) -> Outcome {
        let examined = self.examine(row);
        self.decide(examined)
    }

    /// The part of [`Validator::check`] that depends on the row alone (all of it but duplicate recipients). Takes
    /// `&self`: a caller may run it on several threads, then [`Validator::decide`] in row order.
    pub fn examine(&self, row: CampaignRow) -> Examined {
        Examined(self.examine_row(row))
    }

    /// Finish a row: a recipient that an earlier row already got is `duplicate_recipient`, naming that row. Only rows
    /// that became messages count, so a refused first row does not stop a good later one.
    ///
    /// Memory is fixed, so the answer can be late: the first repeat of a number may come out as a message, kept as a
    /// suspect; [`Validator::resolve`] settles the suspects once the whole file has been seen.
    pub fn decide(&mut self, examined: Examined) -> Outcome {
        match examined.0 {
            Err(rejection) => Outcome::Rejected(rejection),
            Ok(accepted) => {
                let message = accepted.message;
                if !self.seen.insert(accepted.recipient) {
                    return Outcome::Message(message);
                }
                let row = message.row_number.unwrap_or(0);
                match self.suspects.entry(accepted.recipient) {
                    Slot::Occupied(first) => Outcome::Rejected(duplicate(
                        row,
                        accepted.phone_column.into_owned(),
                        &message.phone,
                        first.get().row,
                    )),
                    Slot::Vacant(slot) => {
                        slot.insert(Suspect {
                            row,
                            phone: message.phone.clone(),
                            phone_column: accepted.phone_column,
                            suppressed: message.status == MessageStatus::Suppressed,
                        });
                        Outcome::Message(message)
                    }
                }
            }
        }
    }

    /// Whether some rows handed out as messages may still be duplicates: then [`Validator::resolve`] must see the
    /// rows again.
    pub fn has_suspects(&self) -> bool {
        !self.suspects.is_empty()
    }

    /// Settle the suspects: `rows` are the file's rows again, in order (reading may stop early with an error, which
    /// is passed on). A suspect is a duplicate when an earlier row with its number is accepted.
    pub fn resolve<E>(&self, rows: impl IntoIterator<Item = Result<CampaignRow, E>>) -> Result<Withdrawn, E> {
        let last = self.suspects.values().map(|s| s.row).max().unwrap_or(0);
        let mut first: HashMap<Recipient, u64, RecipientBuild> = HashMap::default();
        for row in rows {
            let row = row?;
            if row.row >= last {
                break;
            }
            // The number alone decides whether the row matters; only those are examined in full.
            let Some(key) = phone::normalize(&row.phone, self.default_region.as_deref())
                .ok()
                .and_then(|e164| recipient(&e164))
            else {
                continue;
            };
            let earlier_than_its_suspect = self.suspects.get(&key).is_some_and(|s| row.row < s.row);
            if earlier_than_its_suspect && !first.contains_key(&key) && self.examine_row(row.clone()).is_ok() {
                first.insert(key, row.row);
            }
        }
        let mut withdrawn = Withdrawn::default();
        for (key, suspect) in &self.suspects {
            if let Some(&earlier) = first.get(key) {
                withdrawn.suppressed += u64::from(suspect.suppressed);
                withdrawn.rejections.push(duplicate(
                    suspect.row,
                    suspect.phone_column.to_string(),
                    &suspect.phone,
                    earlier,
                ));
            }
        }
        withdrawn.rejections.sort_by_key(|r| r.row_number);
        Ok(withdrawn)
    }

    fn examine_row(&self, row: CampaignRow) -> Result<Accepted, Rejection> {
        let number = row.row;
        let reject = |code: RejectionCode, column: Option<&str>, message: String| Rejection {
            row_number: number,
            column: column.map(str::to_owned),
            code: code.as_str().to_owned(),
            message,
        };

        let e164 = match phone::normalize(&row.phone, self.default_region.as_deref()) {
            Ok(e164) => e164,
            Err(PhoneError::Empty) => {
                return Err(reject(
                    RejectionCode::MissingPhone,
                    Some(&row.phone_column),
                    "the phone is empty".into(),
                ));
            }
            Err(PhoneError::Invalid(why)) => {
                return Err(reject(RejectionCode::InvalidPhone, Some(&row.phone_column), why));
            }
        };
        let key = recipient(&e164).ok_or_else(|| {
            reject(
                RejectionCode::InvalidPhone,
                Some(&row.phone_column),
                format!("`{e164}` is not E.164"),
            )
        })?;

        // The row's template (Chat-Tonic), else the campaign's (Jelou, native).
        let (name, language, per_row) = match (&row.template_name, &self.defaults.template) {
            (Some(name), _) => (name.as_str(), row.language.as_deref(), true),
            (None, Some((name, language))) => (name.as_str(), language.as_deref().or(row.language.as_deref()), false),
            (None, None) => {
                return Err(reject(
                    RejectionCode::MissingTemplate,
                    Some(ELEMENT_NAME),
                    "the row names no template (`elementName`) and the campaign has none".into(),
                ));
            }
        };
        let entry = match self
            .book
            .find_entry(name, language, self.defaults.default_language.as_deref())
        {
            Ok(i) => &self.book.entries[i],
            Err(e) => {
                let column = match (per_row, e.is_about_language()) {
                    (false, _) => None,
                    (true, true) => Some(LANGUAGE_CODE),
                    (true, false) => Some(ELEMENT_NAME),
                };
                return Err(reject(RejectionCode::UnknownTemplate, column, e.to_string()));
            }
        };
        let template = &entry.template;
        if !template.is_sendable() {
            return Err(reject(
                RejectionCode::TemplateNotApproved,
                per_row.then_some(ELEMENT_NAME),
                format!(
                    "the template `{}` ({}) is {}, not APPROVED",
                    template.name, template.language, template.status
                ),
            ));
        }

        let (header_text, body, columns) = self.parameters(entry, row.params, &row.param_columns, &reject)?;

        let header = match entry.media {
            Some(kind) => Some(self.media(kind, row.media.as_ref(), &reject)?),
            None => header_text.map(HeaderParam::Text),
        };

        let mut buttons = Vec::new();
        if !entry.dynamic_buttons.is_empty() {
            let Some(value) = row.button_parameter.as_deref().filter(|v| !v.is_empty()) else {
                return Err(reject(
                    RejectionCode::MissingButtonParameter,
                    Some(BUTTON_PARAMETER),
                    format!(
                        "the template `{}` has a URL button that ends in a parameter: the row needs a buttonParameter",
                        template.name
                    ),
                ));
            };
            for &index in &entry.dynamic_buttons {
                buttons.push(ButtonParam {
                    index,
                    value: value.to_owned(),
                });
            }
        }
        for (&index, payload) in entry.quick_replies.iter().zip(&self.defaults.button_payloads) {
            if !payload.is_empty() {
                buttons.push(ButtonParam {
                    index,
                    value: payload.clone(),
                });
            }
        }
        buttons.sort_by_key(|b| b.index);

        let params = TemplateParams { header, body, buttons };
        let text = entry.render_text(&params).map_err(|e| match e {
            RenderError::TooLong { part, max } => {
                let column = if part == "header" {
                    columns.header()
                } else {
                    columns.longest_body(&params.body)
                };
                reject(
                    RejectionCode::InvalidParameter,
                    column.as_deref(),
                    format!("the {part} is longer than {max} characters once the parameters are in it"),
                )
            }
            // The values were checked above; what is left would be a bug, still reported against the row.
            RenderError::Parameter { index, reason } => {
                let (column, label) = match index {
                    0 => (columns.header(), columns.header_label()),
                    i => (columns.body(i - 1), columns.body_label(i - 1)),
                };
                reject(
                    RejectionCode::InvalidParameter,
                    column.as_deref(),
                    format!("{label} {reason}"),
                )
            }
            RenderError::BodyParameterCount { .. } | RenderError::HeaderTextMissing => {
                reject(RejectionCode::ParameterCount, None, e.to_string())
            }
            RenderError::MediaMissing(_) => reject(RejectionCode::MissingMedia, Some(MEDIA_URL), e.to_string()),
            RenderError::ButtonParameterMissing(_) => reject(
                RejectionCode::MissingButtonParameter,
                Some(BUTTON_PARAMETER),
                e.to_string(),
            ),
        })?;

        let status = if self.opted_out.contains(&key) {
            MessageStatus::Suppressed
        } else {
            MessageStatus::Pending
        };
        Ok(Accepted {
            recipient: key,
            phone_column: row.phone_column,
            message: NewMessage {
                id: MessageId::new(),
                row_number: Some(number),
                phone: e164,
                template_name: template.name.clone(),
                language: template.language.clone(),
                params,
                rendered_text: Some(text),
                flag: row.flag,
                status,
            },
        })
    }

    /// The header text value and the body values, in slot order, after checking count and WhatsApp's rules.
    fn parameters<'a>(
        &self,
        entry: &'a Entry,
        params: ParamValues,
        param_columns: &'a BTreeMap<u32, String>,
        reject: &impl Fn(RejectionCode, Option<&str>, String) -> Rejection,
    ) -> Result<(Option<String>, Vec<String>, ParamColumns<'a>), Rejection> {
        let header_count = usize::from(entry.header_text);
        let body_count = entry.body_labels.len();
        let takes = || {
            let total = header_count + body_count;
            format!(
                "the template `{}` takes {total} parameter{} ({header_count} for the header, {body_count} for the body)",
                entry.template.name,
                if total == 1 { "" } else { "s" }
            )
        };
        let (header, body, columns) = match params {
            ParamValues::Ordered(mut values) => {
                if values.len() != header_count + body_count {
                    return Err(reject(
                        RejectionCode::ParameterCount,
                        Some(PARAMETER),
                        format!("{}, the row has {}", takes(), values.len()),
                    ));
                }
                // The header's value is the first; `remove(0)` keeps the body where it is (no new vector).
                let header = entry.header_text.then(|| values.remove(0));
                (header, values, ParamColumns { entry, numbered: None })
            }
            ParamValues::Numbered(mut values) => {
                let wanted = |n: u32| (n == 0 && entry.header_text) || (1..=body_count as u32).contains(&n);
                if let Some(extra) = values.keys().copied().find(|&n| !wanted(n)) {
                    let why = if extra == 0 {
                        "its header has no parameter".to_owned()
                    } else {
                        format!("its body has {body_count}")
                    };
                    return Err(reject(
                        RejectionCode::ParameterCount,
                        None,
                        format!("{}; param {extra} is mapped but {why}", takes()),
                    ));
                }
                let first = if entry.header_text { 0 } else { 1 };
                if values.len() != header_count + body_count {
                    let missing: Vec<String> = (first..=body_count as u32)
                        .filter(|n| !values.contains_key(n))
                        .map(|n| n.to_string())
                        .collect();
                    return Err(reject(
                        RejectionCode::ParameterCount,
                        None,
                        format!(
                            "{}; no value is mapped for param {} ({} fills the header, 1 to {body_count} the body)",
                            takes(),
                            missing.join(", "),
                            if entry.header_text { "param 0" } else { "nothing" },
                        ),
                    ));
                }
                let header = values.remove(&0);
                let body: Vec<String> = values.into_values().collect();
                (
                    header,
                    body,
                    ParamColumns {
                        entry,
                        numbered: Some(param_columns),
                    },
                )
            }
        };
        if let Some(value) = &header {
            check_value(value).map_err(|why| {
                reject(
                    RejectionCode::InvalidParameter,
                    columns.header().as_deref(),
                    format!("{} {why}", columns.header_label()),
                )
            })?;
        }
        for (i, value) in body.iter().enumerate() {
            check_value(value).map_err(|why| {
                reject(
                    RejectionCode::InvalidParameter,
                    columns.body(i).as_deref(),
                    format!("{} {why}", columns.body_label(i)),
                )
            })?;
        }
        Ok((header, body, columns))
    }

    /// The header media: the row's (Chat-Tonic), else the campaign's (Jelou), checked against the header.
    fn media(
        &self,
        kind: MediaKind,
        row_media: Option<&MediaRef>,
        reject: &impl Fn(RejectionCode, Option<&str>, String) -> Rejection,
    ) -> Result<HeaderParam, Rejection> {
        let header = match kind {
            MediaKind::Image => "IMAGE",
            MediaKind::Video => "VIDEO",
            MediaKind::Document => "DOCUMENT",
        };
        let Some(media) = row_media
            .or(self.defaults.media.as_ref())
            .filter(|m| !m.url.trim().is_empty())
        else {
            return Err(reject(
                RejectionCode::MissingMedia,
                Some(MEDIA_URL),
                format!("the template has an {header} header: the row needs a media URL (media.url)"),
            ));
        };
        let url = media.url.trim();
        if !pregon_core::account::is_http_url(url) {
            return Err(reject(
                RejectionCode::InvalidMedia,
                Some(MEDIA_URL),
                format!("the media URL `{url}` is not an http(s) URL"),
            ));
        }
        if let Some(reason) = internal_host(url) {
            return Err(reject(
                RejectionCode::InvalidMedia,
                Some(MEDIA_URL),
                format!("the media URL `{url}` points at {reason}: the provider fetches media from the internet"),
            ));
        }
        if let Some(given) = media.kind.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
            let matches = match kind {
                MediaKind::Image => given.eq_ignore_ascii_case("image"),
                MediaKind::Video => given.eq_ignore_ascii_case("video"),
                MediaKind::Document => given.eq_ignore_ascii_case("document"),
            };
            if !matches {
                return Err(reject(
                    RejectionCode::InvalidMedia,
                    Some(MEDIA_TYPE),
                    format!("media.type is `{given}` but the template has an {header} header"),
                ));
            }
        }
        Ok(HeaderParam::Media {
            kind,
            url: url.to_owned(),
            filename: if kind == MediaKind::Document {
                filename_of(url)
            } else {
                None
            },
        })
    }
}

/// Where each parameter came from, to name it in a rejection (worked out only then: most rows are fine).
struct ParamColumns<'a> {
    entry: &'a Entry,
    /// Jelou: parameter number → column; `None` for Chat-Tonic's ordered `parameter` columns.
    numbered: Option<&'a BTreeMap<u32, String>>,
}

impl ParamColumns<'_> {
    fn column(&self, number: u32) -> Option<String> {
        match self.numbered {
            None => Some(PARAMETER.to_owned()),
            Some(columns) => columns.get(&number).cloned(),
        }
    }

    fn header(&self) -> Option<String> {
        self.column(0)
    }

    fn body(&self, i: usize) -> Option<String> {
        self.column(i as u32 + 1)
    }

    fn label(&self, number: u32, position: usize, slot: &str) -> String {
        match self.numbered {
            None => format!("parameter {position} (the {slot})"),
            Some(columns) => match columns.get(&number) {
                Some(column) => format!("param {number} (column `{column}`, the {slot})"),
                None => format!("param {number} (a constant, the {slot})"),
            },
        }
    }

    fn header_label(&self) -> String {
        self.label(0, 1, &format!("header's {}", self.entry.header_label))
    }

    fn body_label(&self, i: usize) -> String {
        let slot = self.entry.body_labels.get(i).map_or("", String::as_str);
        let position = usize::from(self.entry.header_text) + i + 1;
        self.label(i as u32 + 1, position, &format!("body's {slot}"))
    }

    /// A body too long once filled is no one cell's fault; the longest value is the likeliest culprit.
    fn longest_body(&self, body: &[String]) -> Option<String> {
        let longest = (0..body.len()).max_by_key(|&i| body[i].chars().count())?;
        self.body(longest)
    }
}

/// The last path segment of a URL, for a document's file name (`…/files/Invoice-42.pdf?sig=…` → `Invoice-42.pdf`).
fn filename_of(url: &str) -> Option<String> {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = rest.split(['?', '#']).next().unwrap_or("");
    let (_, path) = path.split_once('/')?;
    let last = path.rsplit('/').next().unwrap_or("");
    (!last.is_empty()).then(|| last.to_owned())
}

/// Why an http(s) URL's host is internal (`127.0.0.1`, `[::1]`, `169.254.169.254`, `localhost`, in any spelling a URL
/// parser accepts), or `None`.
fn internal_host(url: &str) -> Option<&'static str> {
    let host = url::Url::parse(url).ok()?.host()?.to_string();
    pregon_core::address::host_reason(&host)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use serde_json::{Value, json};

    fn sandbox() -> Vec<Template> {
        let all: Vec<Value> = serde_json::from_str(include_str!("../../../fixtures/templates/sandbox.json")).unwrap();
        all.iter().map(|t| Template::from_meta(t).unwrap()).collect()
    }

    fn template(v: Value) -> Template {
        Template::from_meta(&v).unwrap()
    }

    /// The sandbox templates plus the shapes the sandbox lacks.
    fn book() -> TemplateBook {
        let mut all = sandbox();
        all.push(template(
            json!({"name": "hello_world", "language": "es", "components": [
            {"type": "BODY", "text": "¡Hola!"}]}),
        ));
        all.push(template(
            json!({"name": "promo_video", "language": "es", "components": [
            {"type": "HEADER", "format": "VIDEO"}, {"type": "BODY", "text": "Mira {{1}}"}]}),
        ));
        all.push(template(
            json!({"name": "invoice_doc", "language": "es", "components": [
            {"type": "HEADER", "format": "DOCUMENT"}, {"type": "BODY", "text": "Tu factura"}]}),
        ));
        all.push(template(
            json!({"name": "draft", "language": "es", "status": "PENDING", "components": [
            {"type": "BODY", "text": "Hola"}]}),
        ));
        all.push(template(
            json!({"name": "named", "language": "en", "parameter_format": "NAMED", "components": [
            {"type": "BODY", "text": "Hi {{first_name}}, your code is {{code}}"}]}),
        ));
        all.push(template(json!({"name": "titled", "language": "en", "components": [
            {"type": "HEADER", "format": "TEXT", "text": "News for {{1}}"}, {"type": "BODY", "text": "Hi {{1}}"}]})));
        TemplateBook::new(all)
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    /// A Chat-Tonic row.
    fn row(n: u64, phone: &str, template: &str, params: &[&str]) -> CampaignRow {
        CampaignRow {
            row: n,
            phone: phone.into(),
            phone_column: "phone".into(),
            template_name: Some(template.into()).filter(|t: &String| !t.is_empty()),
            language: None,
            namespace: None,
            language_policy: None,
            flag: None,
            button_parameter: None,
            media: None,
            params: ParamValues::Ordered(strings(params)),
            param_columns: BTreeMap::new(),
        }
    }

    /// A Jelou row: columns named after the params.
    fn jelou_row(n: u64, phone: &str, params: &[(u32, &str, &str)]) -> CampaignRow {
        CampaignRow {
            row: n,
            phone: phone.into(),
            phone_column: "telefono".into(),
            template_name: None,
            language: None,
            namespace: None,
            language_policy: None,
            flag: None,
            button_parameter: None,
            media: None,
            params: ParamValues::Numbered(params.iter().map(|(k, _, v)| (*k, v.to_string())).collect()),
            param_columns: params.iter().map(|(k, c, _)| (*k, c.to_string())).collect(),
        }
    }

    fn validator() -> Validator {
        Validator::new(book(), CampaignDefaults::default(), HashSet::new())
    }

    fn jelou_validator(template: &str, defaults: CampaignDefaults) -> Validator {
        Validator::new(
            book(),
            CampaignDefaults {
                template: Some((template.into(), None)),
                ..defaults
            },
            HashSet::new(),
        )
    }

    fn message(outcome: Outcome) -> NewMessage {
        match outcome {
            Outcome::Message(m) => m,
            Outcome::Rejected(r) => panic!("rejected: {r:?}"),
        }
    }

    fn rejection(outcome: Outcome) -> Rejection {
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

    const APPOINTMENT: &[&str] = &["turno médico", "Ana", "12/05", "10:30"];

    #[test]
    fn a_text_header_takes_the_first_parameter() {
        let mut v = validator();
        let mut r = row(2, "+54 9 11 2345-6789", "appointment_reminder", APPOINTMENT);
        r.flag = Some("lead-7".into());
        let m = message(v.check(r));
        assert_eq!(m.row_number, Some(2));
        assert_eq!(m.phone, "+5491123456789");
        assert_eq!(m.template_name, "appointment_reminder");
        assert_eq!(m.language, "es");
        assert_eq!(m.flag.as_deref(), Some("lead-7"));
        assert_eq!(m.status, MessageStatus::Pending);
        assert_eq!(
            m.params,
            TemplateParams {
                header: Some(HeaderParam::Text("turno médico".into())),
                body: strings(&["Ana", "12/05", "10:30"]),
                buttons: vec![],
            }
        );
        assert_eq!(
            m.rendered_text.as_deref(),
            Some(
                "Recordatorio de turno médico\n\nHola Ana, tu turno es el 12/05 a las 10:30. ¿Nos confirmas?\n\n\
                 Responde con un botón"
            )
        );
    }

    #[test]
    fn an_image_header_takes_the_row_media_and_quick_replies_the_payloads() {
        let mut v = Validator::new(
            book(),
            CampaignDefaults {
                button_payloads: strings(&[r#"{"action":"thanks"}"#, r#"{"action":"again"}"#, "unused"]),
                ..CampaignDefaults::default()
            },
            HashSet::new(),
        );
        let mut r = row(
            3,
            "5215512345678",
            "order_confirmation",
            &["#1234", "$12.21", "August 15th, 2020"],
        );
        r.media = Some(MediaRef {
            from: Some("URL".into()),
            kind: Some("Image".into()),
            url: "https://cdn.example.com/p.jpg".into(),
        });
        let m = message(v.check(r));
        assert_eq!(m.phone, "+525512345678");
        assert_eq!(m.language, "en_US");
        assert_eq!(
            m.params,
            TemplateParams {
                header: Some(HeaderParam::Media {
                    kind: MediaKind::Image,
                    url: "https://cdn.example.com/p.jpg".into(),
                    filename: None,
                }),
                body: strings(&["#1234", "$12.21", "August 15th, 2020"]),
                buttons: vec![
                    ButtonParam {
                        index: 0,
                        value: r#"{"action":"thanks"}"#.into()
                    },
                    ButtonParam {
                        index: 1,
                        value: r#"{"action":"again"}"#.into()
                    },
                ],
            }
        );
        assert_eq!(
            m.rendered_text.as_deref(),
            Some(
                "Your order #1234 for a total of $12.21 is confirmed. The expected delivery is August 15th, 2020.\n\n\
                 Thank you for shopping with us!"
            )
        );
    }

    #[test]
    fn a_dynamic_url_button_needs_the_button_parameter() {
        let mut v = validator();
        let mut r = row(2, "+1 650 253 0000", "payment_due", &["Ana", "$10", "May 1"]);
        assert_eq!(
            rejection(v.check(r.clone())),
            rejected(
                2,
                Some("buttonParameter"),
                "missing_button_parameter",
                "the template `payment_due` has a URL button that ends in a parameter: the row needs a buttonParameter"
            )
        );
        r.button_parameter = Some("inv-42".into());
        let m = message(v.check(r));
        assert_eq!(
            m.params.buttons,
            vec![ButtonParam {
                index: 0,
                value: "inv-42".into()
            }]
        );
        assert_eq!(
            m.rendered_text.as_deref(),
            Some("Hi Ana, your invoice of $10 is due on May 1.")
        );
    }

    #[test]
    fn phones_missing_invalid_and_national() {
        let mut v = validator();
        assert_eq!(
            rejection(v.check(row(2, " ", "hello_world", &[]))),
            rejected(2, Some("phone"), "missing_phone", "the phone is empty")
        );
        let r = rejection(v.check(row(3, "+54 11 1234", "hello_world", &[])));
        assert_eq!((r.code.as_str(), r.column.as_deref()), ("invalid_phone", Some("phone")));
        assert!(
            r.message.contains("`+54 11 1234` is not a valid phone number"),
            "{}",
            r.message
        );
        // A national number needs the default region.
        let r = rejection(v.check(row(4, "011 15 2345-6789", "hello_world", &[])));
        assert_eq!(r.code, "invalid_phone");
        let mut v = Validator::new(
            book(),
            CampaignDefaults {
                default_region: Some("ar".into()),
                default_language: Some("en_US".into()),
                ..CampaignDefaults::default()
            },
            HashSet::new(),
        );
        assert_eq!(
            message(v.check(row(4, "011 15 2345-6789", "hello_world", &[]))).phone,
            "+5491123456789"
        );
        // Jelou: the column is the first column, whatever its name.
        let mut v = jelou_validator(
            "hello_world",
            CampaignDefaults {
                default_language: Some("en_US".into()),
                ..CampaignDefaults::default()
            },
        );
        let r = rejection(v.check(jelou_row(5, "12", &[])));
        assert_eq!(
            (r.code.as_str(), r.column.as_deref()),
            ("invalid_phone", Some("telefono"))
        );
        let r = rejection(v.check(jelou_row(6, "", &[])));
        assert_eq!(
            (r.code.as_str(), r.column.as_deref()),
            ("missing_phone", Some("telefono"))
        );
    }

    /// Every row through `check`, then the suspects settled by a second look at the same rows: the final outcome of
    /// each row, as the pipeline reports it.
    fn check_all(v: &mut Validator, rows: Vec<CampaignRow>) -> Vec<Outcome> {
        let mut outcomes: Vec<Outcome> = rows.iter().cloned().map(|r| v.check(r)).collect();
        v.resolve(rows.into_iter().map(Ok::<_, ()>))
            .unwrap()
            .apply(&mut outcomes);
        outcomes
    }

    #[test]
    fn duplicates_first_accepted_row_wins() {
        let mut v = validator();
        let hello = |n: u64, phone: &str| row(n, phone, "hello_world", &[]).with_language("en_US");
        let mut outcomes = check_all(
            &mut v,
            vec![
                // Row 2 is refused (no parameters), so it does not claim the number.
                row(2, "+5491123456789", "payment_due", &[]),
                hello(3, "+54 9 11 2345 6789"),
                hello(4, "5491123456789"),
                hello(5, "5491123456780"),
                hello(6, "+5491123456789"),
            ],
        )
        .into_iter();
        assert_eq!(rejection(outcomes.next().unwrap()).code, "parameter_count");
        message(outcomes.next().unwrap());
        let dup = |n| {
            rejected(
                n,
                Some("phone"),
                "duplicate_recipient",
                "+5491123456789 is already the recipient of row 3",
            )
        };
        assert_eq!(rejection(outcomes.next().unwrap()), dup(4));
        message(outcomes.next().unwrap());
        // Row 6 repeats row 4's "maybe": certain at once, and named after row 4 (the same number).
        assert_eq!(
            rejection(outcomes.next().unwrap()).message,
            "+5491123456789 is already the recipient of row 4"
        );
    }

    #[test]
    fn the_first_repeat_is_settled_by_resolve_and_only_that() {
        let mut v = validator();
        let hello = |n: u64, phone: &str| row(n, phone, "hello_world", &[]).with_language("en_US");
        assert!(matches!(v.check(hello(2, "+5491123456789")), Outcome::Message(_)));
        // The filter cannot tell a repeat from a false positive: a message for now, and a suspect.
        assert!(matches!(v.check(hello(3, "+5491123456789")), Outcome::Message(_)));
        assert!(v.has_suspects());
        // Shown only rows after the suspect, resolve finds no earlier recipient: nothing withdrawn.
        let later = v.resolve([Ok::<_, ()>(hello(3, "+5491123456789"))]).unwrap();
        assert_eq!(later, Withdrawn::default());
        // A reading error on the second look is passed on.
        assert_eq!(v.resolve([Err::<CampaignRow, _>("gone")]), Err("gone"));
        let found = v.resolve([Ok::<_, ()>(hello(2, "+54 9 11 2345 6789"))]).unwrap();
        assert_eq!(found.rejections.len(), 1);
        assert_eq!(found.rejections[0].row_number, 3);
    }

    #[test]
    fn opted_out_recipients_are_suppressed_not_rejected() {
        let mut v = Validator::new(
            book(),
            CampaignDefaults::default(),
            HashSet::from([
                "+5491123456789".to_string(),
                "54 9 11 2345 6780".to_string(),
                "junk".to_string(),
            ]),
        );
        let m = message(v.check(row(2, "54 9 11 2345-6789", "hello_world", &[]).with_language("en_US")));
        assert_eq!(m.status, MessageStatus::Suppressed);
        assert!(m.rendered_text.is_some());
        let m = message(v.check(row(3, "+5491123456780", "hello_world", &[]).with_language("en_US")));
        assert_eq!(m.status, MessageStatus::Suppressed);
        let m = message(v.check(row(4, "+5491123456781", "hello_world", &[]).with_language("en_US")));
        assert_eq!(m.status, MessageStatus::Pending);
    }

    trait WithLanguage {
        fn with_language(self, language: &str) -> Self;
    }

    impl WithLanguage for CampaignRow {
        fn with_language(mut self, language: &str) -> Self {
            self.language = Some(language.into());
            self
        }
    }

    #[test]
    fn template_missing_unknown_and_not_approved() {
        let mut v = validator();
        let phone = "+5491123456789";
        assert_eq!(
            rejection(v.check(row(2, phone, "", &[]))),
            rejected(
                2,
                Some("elementName"),
                "missing_template",
                "the row names no template (`elementName`) and the campaign has none"
            )
        );
        assert_eq!(
            rejection(v.check(row(3, phone, "nope", &[]))),
            rejected(
                3,
                Some("elementName"),
                "unknown_template",
                "the account has no template named `nope`"
            )
        );
        assert_eq!(
            rejection(v.check(row(4, phone, "payment_due", &["a", "b", "c"]).with_language("fr"))),
            rejected(
                4,
                Some("languageCode"),
                "unknown_template",
                "the template `payment_due` has no `fr` version; it has: en"
            )
        );
        assert_eq!(
            rejection(v.check(row(5, phone, "hello_world", &[]))),
            rejected(
                5,
                Some("languageCode"),
                "unknown_template",
                "the template `hello_world` exists in several languages (en_US, es): a languageCode is needed"
            )
        );
        assert_eq!(
            rejection(v.check(row(6, phone, "draft", &[]))),
            rejected(
                6,
                Some("elementName"),
                "template_not_approved",
                "the template `draft` (es) is PENDING, not APPROVED"
            )
        );
        // The campaign's template: no column is at fault.
        let mut v = jelou_validator("nope", CampaignDefaults::default());
        assert_eq!(
            rejection(v.check(jelou_row(7, phone, &[]))),
            rejected(7, None, "unknown_template", "the account has no template named `nope`")
        );
        let mut v = jelou_validator("draft", CampaignDefaults::default());
        assert_eq!(rejection(v.check(jelou_row(8, phone, &[]))).column, None);
    }

    #[test]
    fn template_lookup_rules() {
        let b = book();
        let lang = |name, language, default| b.find(name, language, default).map(|t| t.language.clone());
        assert_eq!(lang("hello_world", Some("en_US"), None), Ok("en_US".into()));
        assert_eq!(lang("hello_world", Some("en-us"), None), Ok("en_US".into()));
        assert_eq!(lang("hello_world", None, Some("es")), Ok("es".into()));
        // One language: it, whatever the default.
        assert_eq!(lang("payment_due", None, Some("es")), Ok("en".into()));
        assert_eq!(lang("payment_due", None, None), Ok("en".into()));
        assert!(matches!(
            lang("hello_world", None, None),
            Err(LookupError::LanguageNeeded { .. })
        ));
        assert!(matches!(
            lang("hello_world", None, Some("pt_BR")),
            Err(LookupError::LanguageNeeded { .. })
        ));
        assert!(matches!(
            lang("hello_world", Some("es_AR"), None),
            Err(LookupError::UnknownLanguage { .. })
        ));
        // The campaign's language, else the row's.
        let mut v = Validator::new(
            book(),
            CampaignDefaults {
                template: Some(("hello_world".into(), Some("es".into()))),
                ..CampaignDefaults::default()
            },
            HashSet::new(),
        );
        let m = message(v.check(row(2, "+5491123456789", "", &[]).with_language("en_US")));
        assert_eq!(
            (m.language.as_str(), m.rendered_text.as_deref()),
            ("es", Some("¡Hola!"))
        );
        let mut v = jelou_validator("hello_world", CampaignDefaults::default());
        let m = message(v.check(row(2, "+5491123456789", "", &[]).with_language("en_US")));
        assert_eq!(m.language, "en_US");
    }

    #[test]
    fn ordered_parameter_count() {
        let mut v = validator();
        assert_eq!(
            rejection(v.check(row(
                2,
                "+5491123456789",
                "appointment_reminder",
                &["Ana", "12/05", "10:30"]
            ))),
            rejected(
                2,
                Some("parameter"),
                "parameter_count",
                "the template `appointment_reminder` takes 4 parameters (1 for the header, 3 for the body), the row has 3"
            )
        );
        assert_eq!(
            rejection(v.check(row(3, "+5491123456789", "promo_video", &["a", "b"]))).message,
            "the template `promo_video` takes 1 parameter (0 for the header, 1 for the body), the row has 2"
        );
    }

    #[test]
    fn numbered_parameters() {
        let mut v = jelou_validator("appointment_reminder", CampaignDefaults::default());
        let m = message(v.check(jelou_row(
            2,
            "593991234567",
            &[
                (3, "hora", "10:30"),
                (0, "motivo", "control"),
                (1, "nombre", "Ana"),
                (2, "dia", "12/05"),
            ],
        )));
        assert_eq!(m.phone, "+593991234567");
        assert_eq!(m.params.header, Some(HeaderParam::Text("control".into())));
        assert_eq!(m.params.body, strings(&["Ana", "12/05", "10:30"]));
        assert!(
            m.rendered_text
                .unwrap()
                .starts_with("Recordatorio de control\n\nHola Ana, tu turno es el 12/05")
        );

        let r = rejection(v.check(jelou_row(
            3,
            "593991234567",
            &[(1, "a", "x"), (2, "b", "y"), (3, "c", "z")],
        )));
        assert_eq!(
            r,
            rejected(
                3,
                None,
                "parameter_count",
                "the template `appointment_reminder` takes 4 parameters (1 for the header, 3 for the body); no value \
                 is mapped for param 0 (param 0 fills the header, 1 to 3 the body)"
            )
        );
        let r = rejection(v.check(jelou_row(
            4,
            "593991234567",
            &[
                (0, "t", "x"),
                (1, "a", "x"),
                (2, "b", "y"),
                (3, "c", "z"),
                (4, "d", "w"),
            ],
        )));
        assert_eq!(r.code, "parameter_count");
        assert!(
            r.message.ends_with("param 4 is mapped but its body has 3"),
            "{}",
            r.message
        );

        let mut v = jelou_validator("payment_due", CampaignDefaults::default());
        let r = rejection(v.check(jelou_row(5, "593991234567", &[(0, "t", "x"), (1, "a", "x")])));
        assert!(
            r.message.ends_with("param 0 is mapped but its header has no parameter"),
            "{}",
            r.message
        );
        let r = rejection(v.check(jelou_row(6, "593991234567", &[(2, "b", "y")])));
        assert!(
            r.message
                .contains("no value is mapped for param 1, 3 (nothing fills the header"),
            "{}",
            r.message
        );
    }

    #[test]
    fn parameters_follow_whatsapp_rules() {
        let mut v = validator();
        let cases = [
            (
                &["turno", "", "12/05", "10:30"][..],
                "parameter 2 (the body's {{1}}) is empty",
            ),
            (
                &["turno", "Ana", "12/05\n", "10:30"][..],
                "parameter 3 (the body's {{2}}) contains a new line or a tab",
            ),
            (
                &["turno", "Ana", "12/05", "10:30\tam"][..],
                "parameter 4 (the body's {{3}}) contains a new line or a tab",
            ),
            (
                &["turno     médico", "Ana", "12/05", "10:30"][..],
                "parameter 1 (the header's {{1}}) has more than 4 consecutive spaces",
            ),
        ];
        for (params, message) in cases {
            assert_eq!(
                rejection(v.check(row(2, "+5491123456789", "appointment_reminder", params))),
                rejected(2, Some("parameter"), "invalid_parameter", message)
            );
        }
        // Four spaces are allowed.
        message(v.check(row(
            2,
            "+5491123456789",
            "appointment_reminder",
            &["a    b", "Ana", "1", "2"],
        )));

        let mut v = jelou_validator("appointment_reminder", CampaignDefaults::default());
        let r = rejection(v.check(jelou_row(
            3,
            "593991234567",
            &[
                (0, "motivo", "x"),
                (1, "nombre", "Ana\nMaría"),
                (2, "dia", "1"),
                (3, "hora", "2"),
            ],
        )));
        assert_eq!(
            r,
            rejected(
                3,
                Some("nombre"),
                "invalid_parameter",
                "param 1 (column `nombre`, the body's {{1}}) contains a new line or a tab"
            )
        );

        let mut v = validator();
        let r = rejection(v.check(row(4, "+16502530000", "named", &["Ana", ""])));
        assert_eq!(r.message, "parameter 2 (the body's {{code}}) is empty");
    }

    #[test]
    fn filled_texts_must_fit() {
        let mut v = validator();
        let long_header = "x".repeat(52);
        assert_eq!(
            rejection(v.check(row(2, "+5491123456789", "titled", &[&long_header, "Ana"]))),
            rejected(
                2,
                Some("parameter"),
                "invalid_parameter",
                "the header is longer than 60 characters once the parameters are in it"
            )
        );
        message(v.check(row(3, "+5491123456789", "titled", &[&"x".repeat(51), "Ana"])));
        let long = "y".repeat(1100);
        let mut v = jelou_validator("payment_due", CampaignDefaults::default());
        let mut r = jelou_row(
            4,
            "593991234567",
            &[(1, "nombre", "Ana"), (2, "monto", &long), (3, "dia", "1")],
        );
        r.button_parameter = Some("x".into());
        assert_eq!(
            rejection(v.check(r)),
            rejected(
                4,
                Some("monto"),
                "invalid_parameter",
                "the body is longer than 1024 characters once the parameters are in it"
            )
        );
    }

    fn media(kind: Option<&str>, url: &str) -> MediaRef {
        MediaRef {
            from: None,
            kind: kind.map(str::to_owned),
            url: url.into(),
        }
    }

    #[test]
    fn media_headers() {
        let mut v = validator();
        let params = &["#1", "$1", "today"];
        assert_eq!(
            rejection(v.check(row(2, "+5491123456789", "order_confirmation", params))),
            rejected(
                2,
                Some("media.url"),
                "missing_media",
                "the template has an IMAGE header: the row needs a media URL (media.url)"
            )
        );
        let mut r = row(3, "+5491123456789", "order_confirmation", params);
        r.media = Some(media(None, "ftp://cdn.example.com/p.jpg"));
        assert_eq!(
            rejection(v.check(r.clone())),
            rejected(
                3,
                Some("media.url"),
                "invalid_media",
                "the media URL `ftp://cdn.example.com/p.jpg` is not an http(s) URL"
            )
        );
        for internal in [
            "http://127.0.0.1/p.jpg",
            "http://2130706433/p.jpg",
            "http://0x7f.1/p.jpg",
            "https://169.254.169.254/latest/meta-data/",
            "http://[::ffff:10.0.0.1]/p.jpg",
            "http://localhost:8080/p.jpg",
            "https://user:pw@192.168.1.10/p.jpg",
        ] {
            r.media = Some(media(None, internal));
            let got = rejection(v.check(r.clone()));
            assert_eq!(got.code, "invalid_media", "{internal}: {got:?}");
            assert!(got.message.contains("points at"), "{internal}: {}", got.message);
        }
        r.media = Some(media(Some("video"), "https://cdn.example.com/p.jpg"));
        assert_eq!(
            rejection(v.check(r.clone())),
            rejected(
                3,
                Some("media.type"),
                "invalid_media",
                "media.type is `video` but the template has an IMAGE header"
            )
        );
        r.media = Some(media(None, "http://cdn.example.com/p.jpg"));
        message(v.check(r));

        // Campaign media for every row; a row's own media wins.
        let mut v = jelou_validator(
            "promo_video",
            CampaignDefaults {
                media: Some(media(Some("video"), "https://cdn.example.com/all.mp4")),
                ..CampaignDefaults::default()
            },
        );
        let m = message(v.check(jelou_row(4, "593991234567", &[(1, "que", "esto")])));
        assert_eq!(
            m.params.header,
            Some(HeaderParam::Media {
                kind: MediaKind::Video,
                url: "https://cdn.example.com/all.mp4".into(),
                filename: None
            })
        );
        let mut r = jelou_row(5, "593991234568", &[(1, "que", "esto")]);
        r.media = Some(media(None, "https://cdn.example.com/mine.mp4"));
        let m = message(v.check(r));
        assert!(matches!(m.params.header, Some(HeaderParam::Media { url, .. }) if url.ends_with("mine.mp4")));
        // The campaign's type must match too.
        let mut v = jelou_validator(
            "promo_video",
            CampaignDefaults {
                media: Some(media(Some("image"), "https://cdn.example.com/all.mp4")),
                ..CampaignDefaults::default()
            },
        );
        assert_eq!(
            rejection(v.check(jelou_row(6, "593991234567", &[(1, "que", "esto")]))).code,
            "invalid_media"
        );

        // A document is named after the URL's last segment.
        let mut v = validator();
        let mut r = row(7, "+5491123456789", "invoice_doc", &[]);
        r.media = Some(media(
            Some("DOCUMENT"),
            "https://files.example.com/a/Invoice-42.pdf?sig=abc#p1",
        ));
        let m = message(v.check(r));
        assert_eq!(
            m.params.header,
            Some(HeaderParam::Media {
                kind: MediaKind::Document,
                url: "https://files.example.com/a/Invoice-42.pdf?sig=abc#p1".into(),
                filename: Some("Invoice-42.pdf".into()),
            })
        );
        assert_eq!(m.rendered_text.as_deref(), Some("Tu factura"));
    }

    #[test]
    fn the_cut_text_is_what_render_gives() {
        let b = book();
        let values = [
            "Ana",
            "turno médico",
            "$12.21",
            "a    b",
            "ünïcødé ✓",
            "{{2}}",
            "{{1}}",
            "}} {",
            "{{first_name}}",
            "",
            "x\ny",
        ];
        let mut compared = 0;
        for entry in &b.entries {
            let body_count = entry.body_labels.len();
            for shift in 0..values.len() {
                let pick = |k: usize| values[(shift + k * 3) % values.len()].to_owned();
                let header = if entry.header_text {
                    Some(HeaderParam::Text(pick(7)))
                } else {
                    entry.media.map(|kind| HeaderParam::Media {
                        kind,
                        url: "https://x.example/m".into(),
                        filename: None,
                    })
                };
                let params = TemplateParams {
                    header,
                    body: (0..body_count).map(pick).collect(),
                    buttons: entry
                        .dynamic_buttons
                        .iter()
                        .map(|&index| ButtonParam {
                            index,
                            value: "s".into(),
                        })
                        .collect(),
                };
                let theirs = entry.template.render(&params).map(|r| r.text);
                let ours = entry.render_text(&params);
                // `render` refuses bad values first; the validator has refused them before, so only compare the rest.
                if let Err(RenderError::Parameter { .. }) = theirs {
                    continue;
                }
                assert_eq!(ours, theirs, "{} with {params:?}", entry.template.name);
                compared += 1;
            }
            // At the limits.
            let params = TemplateParams {
                header: entry.header_text.then(|| HeaderParam::Text("h".repeat(60))),
                body: vec!["ñ".repeat(1024 / body_count.max(1)); body_count],
                buttons: entry
                    .dynamic_buttons
                    .iter()
                    .map(|&index| ButtonParam {
                        index,
                        value: "s".into(),
                    })
                    .collect(),
            };
            let params = TemplateParams {
                header: params.header.or_else(|| {
                    entry.media.map(|kind| HeaderParam::Media {
                        kind,
                        url: "https://x.example/m".into(),
                        filename: None,
                    })
                }),
                ..params
            };
            assert_eq!(
                entry.render_text(&params),
                entry.template.render(&params).map(|r| r.text)
            );
        }
        assert!(compared > 50, "{compared}");
    }

    #[test]
    fn the_quick_value_check_agrees_with_check_parameter_text() {
        for v in [
            "",
            " ",
            "a",
            " a ",
            "a    b",
            "a     b",
            "a\nb",
            "a\rb",
            "a\tb",
            "\u{a0}",
            "\u{a0}x",
            "ñ",
            "日本",
            "\u{2003}",
            "\u{c}",
            "     ",
            "x     ",
            "    x",
            "$12.21",
            "\u{a0}\u{a0}\u{a0}\u{a0}\u{a0}",
        ] {
            assert_eq!(check_value(v), check_parameter_text(v), "{v:?}");
        }
    }

    #[test]
    fn filenames_from_urls() {
        assert_eq!(filename_of("https://x.example/a/b.pdf"), Some("b.pdf".into()));
        assert_eq!(filename_of("https://x.example/b.pdf?x=1"), Some("b.pdf".into()));
        assert_eq!(filename_of("https://x.example/"), None);
        assert_eq!(filename_of("https://x.example"), None);
        assert_eq!(filename_of("https://x.example/dir/"), None);
    }

    #[test]
    fn examine_then_decide_is_check() {
        let mut v = validator();
        let a = v.examine(row(2, "+5491123456789", "appointment_reminder", APPOINTMENT));
        let b = v.examine(row(3, "+5491123456789", "appointment_reminder", APPOINTMENT));
        assert_eq!((a.row(), b.row()), (2, 3));
        assert!(matches!(v.decide(a), Outcome::Message(_)));
        assert!(matches!(v.decide(b), Outcome::Message(_)));
        assert!(v.has_suspects(), "row 3 waits for resolve");
        fn is_sync<T: Sync>(_: &T) {}
        is_sync(&v);
    }

    #[test]
    fn every_rejection_code_is_produced_here_or_by_the_model() {
        // `missing_column` comes from the Jelou model, `invalid_row` from the readers; the rest are covered above.
        let here = [
            "missing_phone",
            "invalid_phone",
            "duplicate_recipient",
            "missing_template",
            "unknown_template",
            "template_not_approved",
            "parameter_count",
            "invalid_parameter",
            "missing_media",
            "invalid_media",
            "missing_button_parameter",
        ];
        for code in RejectionCode::ALL {
            assert!(
                here.contains(&code.as_str()) || ["missing_column", "invalid_row"].contains(&code.as_str()),
                "{code} is not produced"
            );
        }
    }
}
