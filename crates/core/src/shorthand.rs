//! The Sunshine Conversations shorthand for WhatsApp template messages (seed 002, "Shorthand Syntax"): a plain-text
//! message that stands for a template message.
//!
//! ```text
//! &(( namespace=[[ns]] template=[[order_update]] fallback=[[Your order shipped]] language=[[en_US]]
//!     header_document=[[https://example.com/invoice.pdf]] header_filename=[[Invoice]]
//!     body_text=[[Bob]] body_text=[[#1234]]
//!     button_index=[[0]] button_payload=[[TRACK]] button_index=[[1]] button_url=[[orders/1234]] ))&
//! ```
//!
//! The rules, as the guide gives them and as Pregon reads what it leaves open:
//!
//! - The message is one `&((` … `))&` block; only whitespace may surround it.
//! - Inside, fields are `name=[[value]]` separated by whitespace (any amount, new lines included; whitespace around
//!   `=` is allowed too). Names are lowercase and case-sensitive; an unknown name is an error.
//! - A value runs from `[[` to the first `]]`, verbatim; when that `]]` is part of a longer run of `]`, the last
//!   two close the value (so `[[[x]]]` is `[x]`). There is no escape: a value cannot contain `]]` followed by
//!   something else. `namespace`, `template`, `language`, `button_index` and the media URLs are trimmed; texts
//!   (`body_text`, `header_text`, `header_filename`, `button_payload`, `button_url`, `fallback`) are kept as they
//!   are. Every value but `fallback` must be non-blank.
//! - `template` and `language` are required; `namespace` and `fallback` are optional. Each of the four at most
//!   once. `language` is a WhatsApp code (`en`, `en_US`); `en-US` is read as `en_US`.
//! - `body_text` fills `{{1}}`, `{{2}}`, … in the order given, as many times as the template needs.
//! - At most one header: `header_text`, `header_image`, `header_document`, or `header_video` (not in the guide;
//!   Pregon accepts it because WhatsApp has video headers). Media URLs are `http(s)`.
//! - `header_filename` must come right after `header_document`.
//! - `button_index` (0 to 9, the button's position in the template) opens a button; the next `button_payload`
//!   (quick reply) or `button_url` (dynamic URL suffix) gives its value. Other fields may stand between them, but a
//!   `button_index` whose value never comes, a value with no open `button_index`, and the same index twice are
//!   errors.
//! - The deprecated form `&[fallback text](namespace, template, param 1, param 2, …)` is read too, with `en_US`
//!   as its language (the guide's default); its parameters are split at commas and trimmed.
//!
//! The result is the message the JSON form (`"schema": "whatsapp"`) would give: [`TemplateParams`] with the body
//! values in order, the header, and the buttons by index.

use std::fmt;

use crate::account::is_http_url;
use crate::template::{ButtonParam, HeaderParam, MediaKind, TemplateParams, is_language_code};

/// Opens a shorthand message.
pub const OPEN: &str = "&((";
/// Closes a shorthand message.
pub const CLOSE: &str = "))&";
/// The highest button index (WhatsApp templates have at most 10 buttons).
pub const MAX_BUTTON_INDEX: usize = 9;
/// The language of the deprecated `&[…](…)` form.
pub const OLD_SYNTAX_LANGUAGE: &str = "en_US";

/// A template message written in the shorthand.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Shorthand {
    /// The template namespace, if given.
    pub namespace: Option<String>,
    /// The template name.
    pub template: String,
    /// The language code, like `en_US`.
    pub language: String,
    /// The text for channels that cannot show the template, if given.
    pub fallback: Option<String>,
    /// The header, body and button values.
    pub params: TemplateParams,
    /// For each of `params.buttons`, in the same order, whether it was given as `button_payload` or `button_url`.
    pub button_kinds: Vec<ButtonValueKind>,
}

/// How a button value was given.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ButtonValueKind {
    /// `button_payload`: a quick reply's payload.
    Payload,
    /// `button_url`: a dynamic URL button's suffix.
    Url,
}

/// A place in the input: 1-based line and column (in characters).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Position {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

impl Position {
    /// Line 1, column 1.
    pub const START: Position = Position { line: 1, column: 1 };

    /// The position of byte `offset` in `input` (clamped to its end).
    pub fn of(input: &str, offset: usize) -> Position {
        let end = input
            .char_indices()
            .map(|(i, _)| i)
            .find(|i| *i >= offset)
            .unwrap_or(input.len());
        Position::START.advance(input.get(..end).unwrap_or(input))
    }

    /// This position moved past `text`.
    fn advance(mut self, text: &str) -> Position {
        for c in text.chars() {
            if c == '\n' {
                self.line += 1;
                self.column = 1;
            } else {
                self.column += 1;
            }
        }
        self
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

/// Why a shorthand message was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShorthandError {
    /// The message does not start with `&((` (or the old `&[`), or has text before it.
    #[error("expected `&((` at {position}: a shorthand message is `&(( … ))&` with nothing before or after it")]
    NotShorthand {
        /// Where the unexpected text starts.
        position: Position,
    },
    /// No `))&` closes the message.
    #[error("the `&((` at {position} is never closed with `))&`")]
    Unclosed {
        /// Where `&((` is.
        position: Position,
    },
    /// Text after `))&`.
    #[error("unexpected text after `))&` at {position}: a message holds one shorthand and nothing else")]
    TextAfter {
        /// Where the text starts.
        position: Position,
    },
    /// Something that is not a field name where one was expected.
    #[error("expected a field name or `))&` at {position}, found `{found}`")]
    ExpectedField {
        /// Where.
        position: Position,
        /// What was there (shortened).
        found: String,
    },
    /// A field name not followed by `=[[`.
    #[error("`{field}` at {position} must be followed by `=[[value]]`")]
    ExpectedValue {
        /// The field.
        field: &'static str,
        /// Where the field is.
        position: Position,
    },
    /// `[[` without `]]`.
    #[error("unterminated `[[` for `{field}` at {position}: no `]]` closes it")]
    UnterminatedValue {
        /// The field.
        field: &'static str,
        /// Where `[[` is.
        position: Position,
    },
    /// A field name the shorthand does not have.
    #[error(
        "unknown field `{field}` at {position}; the fields are namespace, template, language, fallback, body_text, \
         header_text, header_image, header_video, header_document, header_filename, button_index, button_payload \
         and button_url"
    )]
    UnknownField {
        /// The name given.
        field: String,
        /// Where.
        position: Position,
    },
    /// A field that may appear once, twice.
    #[error("`{field}` is given twice (again at {position})")]
    Duplicate {
        /// The field.
        field: &'static str,
        /// Where the second one is.
        position: Position,
    },
    /// A second header.
    #[error("`{field}` at {position}: a message has at most one header, and `{first}` was already given")]
    SecondHeader {
        /// The second header field.
        field: &'static str,
        /// The first one.
        first: &'static str,
        /// Where the second one is.
        position: Position,
    },
    /// `header_filename` not right after `header_document`.
    #[error("`header_filename` at {position} must come right after `header_document`")]
    FilenameNotAfterDocument {
        /// Where.
        position: Position,
    },
    /// `button_payload` / `button_url` with no open `button_index`.
    #[error("`{field}` at {position} needs a `button_index` before it")]
    ButtonValueWithoutIndex {
        /// `button_payload` or `button_url`.
        field: &'static str,
        /// Where.
        position: Position,
    },
    /// A `button_index` never followed by its value.
    #[error("`button_index` {index} at {position} has no `button_payload` or `button_url` after it")]
    ButtonIndexWithoutValue {
        /// The index.
        index: usize,
        /// Where the `button_index` is.
        position: Position,
    },
    /// A `button_index` that is not 0 to 9.
    #[error("`button_index` at {position}: `{value}` is not a button index from 0 to 9")]
    BadButtonIndex {
        /// What was given.
        value: String,
        /// Where.
        position: Position,
    },
    /// The same button index twice.
    #[error("`button_index` {index} is given twice (again at {position})")]
    DuplicateButton {
        /// The index.
        index: usize,
        /// Where the second one is.
        position: Position,
    },
    /// A blank value.
    #[error("`{field}` at {position} is empty")]
    EmptyValue {
        /// The field.
        field: &'static str,
        /// Where.
        position: Position,
    },
    /// A language that is not a WhatsApp language code.
    #[error("`language` at {position}: `{value}` is not a WhatsApp language code such as `en`, `en_US` or `pt_BR`")]
    BadLanguage {
        /// What was given.
        value: String,
        /// Where.
        position: Position,
    },
    /// A media URL that is not http(s).
    #[error("`{field}` at {position} must be an http(s) URL")]
    BadMediaUrl {
        /// The header field.
        field: &'static str,
        /// Where.
        position: Position,
    },
    /// A required field is missing.
    #[error("missing `{0}`")]
    Missing(&'static str),
    /// The deprecated `&[…](…)` form is malformed.
    #[error("deprecated `&[text](namespace, template, …)` shorthand at {position}: {reason}")]
    OldSyntax {
        /// Where the problem is.
        position: Position,
        /// What is wrong.
        reason: &'static str,
    },
}

/// A shorthand field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    Namespace,
    Template,
    Language,
    Fallback,
    BodyText,
    HeaderText,
    HeaderImage,
    HeaderVideo,
    HeaderDocument,
    HeaderFilename,
    ButtonIndex,
    ButtonPayload,
    ButtonUrl,
}

impl Field {
    const ALL: [Field; 13] = [
        Field::Namespace,
        Field::Template,
        Field::Language,
        Field::Fallback,
        Field::BodyText,
        Field::HeaderText,
        Field::HeaderImage,
        Field::HeaderVideo,
        Field::HeaderDocument,
        Field::HeaderFilename,
        Field::ButtonIndex,
        Field::ButtonPayload,
        Field::ButtonUrl,
    ];

    fn name(self) -> &'static str {
        match self {
            Field::Namespace => "namespace",
            Field::Template => "template",
            Field::Language => "language",
            Field::Fallback => "fallback",
            Field::BodyText => "body_text",
            Field::HeaderText => "header_text",
            Field::HeaderImage => "header_image",
            Field::HeaderVideo => "header_video",
            Field::HeaderDocument => "header_document",
            Field::HeaderFilename => "header_filename",
            Field::ButtonIndex => "button_index",
            Field::ButtonPayload => "button_payload",
            Field::ButtonUrl => "button_url",
        }
    }

    fn from_name(name: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// Whether `input` looks like a shorthand message (starts with `&((` or the deprecated `&[`, after whitespace),
/// so a caller can tell a shorthand with a mistake in it from plain text.
pub fn looks_like_shorthand(input: &str) -> bool {
    let s = input.trim_start();
    s.starts_with(OPEN) || s.starts_with("&[")
}

/// Read a shorthand message.
pub fn parse(input: &str) -> Result<Shorthand, ShorthandError> {
    let start = input.len() - input.trim_start().len();
    let rest = input.get(start..).unwrap_or("");
    if rest.starts_with(OPEN) {
        Parser {
            input,
            pos: start,
            mark: (0, Position::START),
        }
        .parse()
    } else if rest.starts_with("&[") {
        parse_old(input, start)
    } else {
        Err(ShorthandError::NotShorthand {
            position: Position::of(input, start),
        })
    }
}

impl std::str::FromStr for Shorthand {
    type Err = ShorthandError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse(s)
    }
}

struct Parser<'a> {
    input: &'a str,
    pos: usize,
    /// The last position computed, so computing them in order costs one pass over the input in all.
    mark: (usize, Position),
}

#[derive(Default)]
struct Builder {
    out: Shorthand,
    template: Option<String>,
    language: Option<String>,
    header_field: Option<Field>,
    previous: Option<Field>,
    open_button: Option<(usize, Position)>,
}

impl<'a> Parser<'a> {
    fn rest(&self) -> &'a str {
        self.input.get(self.pos..).unwrap_or("")
    }

    fn position(&mut self, offset: usize) -> Position {
        let (from, start) = if offset >= self.mark.0 {
            self.mark
        } else {
            (0, Position::START)
        };
        let Some(between) = self.input.get(from..offset) else {
            return Position::of(self.input, offset);
        };
        let position = start.advance(between);
        self.mark = (offset, position);
        position
    }

    fn skip_whitespace(&mut self) {
        let rest = self.rest();
        self.pos += rest.len() - rest.trim_start().len();
    }

    fn parse(mut self) -> Result<Shorthand, ShorthandError> {
        let open = self.pos;
        self.pos += OPEN.len();
        let mut b = Builder::default();
        loop {
            self.skip_whitespace();
            let rest = self.rest();
            if rest.is_empty() {
                return Err(ShorthandError::Unclosed {
                    position: self.position(open),
                });
            }
            if rest.starts_with(CLOSE) {
                self.pos += CLOSE.len();
                break;
            }
            let field_at = self.pos;
            let position = self.position(field_at);
            let name_len = rest
                .find(|c: char| c.is_whitespace() || c == '=' || c == '[')
                .unwrap_or(rest.len());
            let name = rest.get(..name_len).unwrap_or("");
            if !name.starts_with(|c: char| c.is_alphanumeric() || c == '_') {
                return Err(ShorthandError::ExpectedField {
                    position,
                    found: rest.split_whitespace().next().unwrap_or("").chars().take(20).collect(),
                });
            }
            let field = Field::from_name(name).ok_or_else(|| ShorthandError::UnknownField {
                field: name.chars().take(40).collect(),
                position,
            })?;
            self.pos += name_len;
            let value = self.value(field, position)?;
            b.apply(field, value, position)?;
        }
        self.skip_whitespace();
        if !self.rest().is_empty() {
            return Err(ShorthandError::TextAfter {
                position: self.position(self.pos),
            });
        }
        b.finish()
    }

    /// Reads `=[[value]]` after a field name.
    fn value(&mut self, field: Field, position: Position) -> Result<&'a str, ShorthandError> {
        let expected = ShorthandError::ExpectedValue {
            field: field.name(),
            position,
        };
        self.skip_whitespace();
        if !self.rest().starts_with('=') {
            return Err(expected);
        }
        self.pos += 1;
        self.skip_whitespace();
        if !self.rest().starts_with("[[") {
            return Err(expected);
        }
        let open = self.pos;
        self.pos += 2;
        let rest = self.rest();
        let Some(mut end) = rest.find("]]") else {
            return Err(ShorthandError::UnterminatedValue {
                field: field.name(),
                position: self.position(open),
            });
        };
        // In a run of `]`, the last two close the value.
        while rest.as_bytes().get(end + 2) == Some(&b']') {
            end += 1;
        }
        self.pos += end + 2;
        Ok(rest.get(..end).unwrap_or(""))
    }
}

impl Builder {
    fn apply(&mut self, field: Field, value: &str, position: Position) -> Result<(), ShorthandError> {
        let previous = self.previous.replace(field);
        let name = field.name();
        let non_blank = |v: &str| {
            if v.trim().is_empty() {
                Err(ShorthandError::EmptyValue { field: name, position })
            } else {
                Ok(())
            }
        };
        let once = |slot: &Option<String>| match slot {
            Some(_) => Err(ShorthandError::Duplicate { field: name, position }),
            None => Ok(()),
        };
        match field {
            Field::Namespace => {
                once(&self.out.namespace)?;
                non_blank(value)?;
                self.out.namespace = Some(value.trim().to_owned());
            }
            Field::Template => {
                once(&self.template)?;
                non_blank(value)?;
                self.template = Some(value.trim().to_owned());
            }
            Field::Language => {
                once(&self.language)?;
                non_blank(value)?;
                let code = value.trim().replace('-', "_");
                if !is_language_code(&code) {
                    return Err(ShorthandError::BadLanguage {
                        value: value.to_owned(),
                        position,
                    });
                }
                self.language = Some(code);
            }
            Field::Fallback => {
                once(&self.out.fallback)?;
                self.out.fallback = Some(value.to_owned());
            }
            Field::BodyText => {
                non_blank(value)?;
                self.out.params.body.push(value.to_owned());
            }
            Field::HeaderText | Field::HeaderImage | Field::HeaderVideo | Field::HeaderDocument => {
                if let Some(first) = self.header_field {
                    return Err(ShorthandError::SecondHeader {
                        field: name,
                        first: first.name(),
                        position,
                    });
                }
                non_blank(value)?;
                let media = |kind: MediaKind| {
                    let url = value.trim();
                    if is_http_url(url) {
                        Ok(HeaderParam::Media {
                            kind,
                            url: url.to_owned(),
                            filename: None,
                        })
                    } else {
                        Err(ShorthandError::BadMediaUrl { field: name, position })
                    }
                };
                self.out.params.header = Some(match field {
                    Field::HeaderImage => media(MediaKind::Image)?,
                    Field::HeaderVideo => media(MediaKind::Video)?,
                    Field::HeaderDocument => media(MediaKind::Document)?,
                    _ => HeaderParam::Text(value.to_owned()),
                });
                self.header_field = Some(field);
            }
            Field::HeaderFilename => {
                let Some(HeaderParam::Media { filename, .. }) = self
                    .out
                    .params
                    .header
                    .as_mut()
                    .filter(|_| previous == Some(Field::HeaderDocument))
                else {
                    return Err(ShorthandError::FilenameNotAfterDocument { position });
                };
                non_blank(value)?;
                *filename = Some(value.to_owned());
            }
            Field::ButtonIndex => {
                if let Some((index, position)) = self.open_button {
                    return Err(ShorthandError::ButtonIndexWithoutValue { index, position });
                }
                let trimmed = value.trim();
                let index = (!trimmed.is_empty() && trimmed.len() <= 2 && trimmed.bytes().all(|b| b.is_ascii_digit()))
                    .then(|| trimmed.parse::<usize>().ok())
                    .flatten()
                    .filter(|i| *i <= MAX_BUTTON_INDEX)
                    .ok_or_else(|| ShorthandError::BadButtonIndex {
                        value: value.to_owned(),
                        position,
                    })?;
                if self.out.params.buttons.iter().any(|b| b.index == index) {
                    return Err(ShorthandError::DuplicateButton { index, position });
                }
                self.open_button = Some((index, position));
            }
            Field::ButtonPayload | Field::ButtonUrl => {
                let Some((index, _)) = self.open_button.take() else {
                    return Err(ShorthandError::ButtonValueWithoutIndex { field: name, position });
                };
                non_blank(value)?;
                self.out.params.buttons.push(ButtonParam {
                    index,
                    value: value.to_owned(),
                });
                self.out.button_kinds.push(if field == Field::ButtonUrl {
                    ButtonValueKind::Url
                } else {
                    ButtonValueKind::Payload
                });
            }
        }
        Ok(())
    }

    fn finish(mut self) -> Result<Shorthand, ShorthandError> {
        if let Some((index, position)) = self.open_button {
            return Err(ShorthandError::ButtonIndexWithoutValue { index, position });
        }
        self.out.template = self.template.ok_or(ShorthandError::Missing("template"))?;
        self.out.language = self.language.ok_or(ShorthandError::Missing("language"))?;
        Ok(self.out)
    }
}

/// `&[fallback](namespace, template, param, …)`.
fn parse_old(input: &str, start: usize) -> Result<Shorthand, ShorthandError> {
    let err = |offset: usize, reason| ShorthandError::OldSyntax {
        position: Position::of(input, offset),
        reason,
    };
    let after = start + 2;
    let rest = input.get(after..).unwrap_or("");
    let Some(close) = rest.find("](") else {
        return Err(err(start, "no `](` after the fallback text"));
    };
    let fallback = rest.get(..close).unwrap_or("");
    let list_at = after + close + 2;
    let list = input.get(list_at..).unwrap_or("").trim_end();
    let Some(list) = list.strip_suffix(')') else {
        return Err(err(list_at, "the list must end with `)` and nothing may follow it"));
    };
    let mut items = list.split(',').map(str::trim);
    let namespace = items.next().unwrap_or("");
    let template = items.next().unwrap_or("");
    if namespace.is_empty() || template.is_empty() {
        return Err(err(list_at, "the list starts with the namespace and the template name"));
    }
    let body: Vec<String> = items.map(str::to_owned).collect();
    if body.iter().any(|p| p.is_empty()) {
        return Err(err(list_at, "a parameter is empty"));
    }
    Ok(Shorthand {
        namespace: Some(namespace.to_owned()),
        template: template.to_owned(),
        language: OLD_SYNTAX_LANGUAGE.to_owned(),
        fallback: Some(fallback.to_owned()),
        params: TemplateParams {
            header: None,
            body,
            buttons: Vec::new(),
        },
        button_kinds: Vec::new(),
    })
}

impl Shorthand {
    /// The message written back in the shorthand, fields in the guide's order, on one line. `None` when what is
    /// written would not read back as the same message: a value containing `]]`, a blank value, a file name on a
    /// header that is not a document, `button_kinds` not matching `params.buttons`, and so on.
    pub fn to_shorthand(&self) -> Option<String> {
        let mut out = String::from(OPEN);
        let mut push = |name: &str, value: &str| {
            out.push(' ');
            out.push_str(name);
            out.push_str("=[[");
            out.push_str(value);
            out.push_str("]]");
        };
        if let Some(ns) = &self.namespace {
            push("namespace", ns);
        }
        push("template", &self.template);
        if let Some(fallback) = &self.fallback {
            push("fallback", fallback);
        }
        push("language", &self.language);
        match &self.params.header {
            None => {}
            Some(HeaderParam::Text(text)) => push("header_text", text),
            Some(HeaderParam::Media { kind, url, filename }) => {
                let name = match kind {
                    MediaKind::Image => "header_image",
                    MediaKind::Video => "header_video",
                    MediaKind::Document => "header_document",
                };
                push(name, url);
                if let Some(filename) = filename {
                    push("header_filename", filename);
                }
            }
        }
        for value in &self.params.body {
            push("body_text", value);
        }
        for (button, kind) in self.params.buttons.iter().zip(&self.button_kinds) {
            push("button_index", &button.index.to_string());
            match kind {
                ButtonValueKind::Payload => push("button_payload", &button.value),
                ButtonValueKind::Url => push("button_url", &button.value),
            }
        }
        out.push(' ');
        out.push_str(CLOSE);
        (parse(&out).ok()? == *self).then_some(out)
    }
}

#[cfg(test)]
mod tests;
