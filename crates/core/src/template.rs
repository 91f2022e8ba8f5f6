//! WhatsApp message templates: the component model (header, body, footer, buttons) read from the shape of Meta's
//! `message_templates` items, validation of a definition, and rendering of what a recipient sees for given
//! parameters ("reconstruction", Sunshine Conversations' WhatsApp guide).

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Header text limit, including its parameter.
pub const HEADER_TEXT_MAX: usize = 60;
/// Body limit, for the definition and for the text once parameters are in it.
pub const BODY_MAX: usize = 1024;
/// Footer limit.
pub const FOOTER_MAX: usize = 60;
/// Button label limit.
pub const BUTTON_TEXT_MAX: usize = 25;
/// URL button limit.
pub const BUTTON_URL_MAX: usize = 2000;
/// Phone-number button limit.
pub const BUTTON_PHONE_MAX: usize = 20;
/// Template name limit.
pub const NAME_MAX: usize = 512;

/// A validated template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    /// Lowercase letters, digits and `_`.
    pub name: String,
    /// A WhatsApp language code: `en`, `en_US`, `pt_BR`, …
    pub language: String,
    /// `APPROVED`, `PENDING`, `REJECTED`, `PAUSED`, `DISABLED`, …; only `APPROVED` is sent.
    pub status: String,
    /// `MARKETING`, `UTILITY`, `AUTHENTICATION`.
    pub category: Option<String>,
    /// The template namespace, for providers that still need one (Chat-Tonic files carry it).
    pub namespace: Option<String>,
    /// The provider's own id for the template (`id` in the definition): Meta's numeric id, or the UUID Gupshup
    /// addresses templates by.
    pub provider_id: Option<String>,
    /// Whether placeholders are `{{1}}` or `{{name}}`.
    pub parameter_format: ParameterFormat,
    /// The header, if any.
    pub header: Option<Header>,
    /// The body text with its placeholders.
    pub body: String,
    /// The footer text, if any.
    pub footer: Option<String>,
    /// The buttons, in order (their index is their position).
    pub buttons: Vec<Button>,
}

/// How placeholders are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ParameterFormat {
    /// `{{1}}`, `{{2}}`, …
    #[default]
    Positional,
    /// `{{first_name}}`, …
    Named,
}

/// A template header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Header {
    /// Text, with at most one placeholder.
    Text(String),
    /// An image given at send time.
    Image,
    /// A video given at send time.
    Video,
    /// A document given at send time.
    Document,
    /// A format Pregon keeps but does not send (`LOCATION`, `GIF`, …).
    Other(String),
}

impl Header {
    /// The media kind this header needs at send time, if it is a media header.
    pub fn media_kind(&self) -> Option<MediaKind> {
        match self {
            Header::Image => Some(MediaKind::Image),
            Header::Video => Some(MediaKind::Video),
            Header::Document => Some(MediaKind::Document),
            _ => None,
        }
    }
}

/// Media a header can carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaKind {
    /// An image.
    Image,
    /// A video.
    Video,
    /// A document (PDF, …).
    Document,
}

/// A template button.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Button {
    /// Sends its payload back when tapped.
    QuickReply {
        /// The label.
        text: String,
    },
    /// Opens a URL; a trailing `{{1}}` is filled at send time.
    Url {
        /// The label.
        text: String,
        /// The URL, maybe ending in `{{1}}`.
        url: String,
    },
    /// Calls a number.
    PhoneNumber {
        /// The label.
        text: String,
        /// The number to call.
        phone_number: String,
    },
    /// A kind Pregon keeps but does not fill (`COPY_CODE`, `FLOW`, `OTP`, …).
    Other {
        /// The button type as Meta names it.
        kind: String,
        /// The label, if any.
        text: Option<String>,
    },
}

impl Button {
    /// Whether this button needs a value at send time (a dynamic URL suffix).
    pub fn is_dynamic(&self) -> bool {
        matches!(self, Button::Url { url, .. } if url.contains("{{"))
    }
}

/// Why a template definition was refused. `path` names the JSON field, like `components[1].text`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct TemplateError {
    /// Where in the definition.
    pub path: String,
    /// What is wrong.
    pub reason: String,
}

fn err(path: impl Into<String>, reason: impl Into<String>) -> TemplateError {
    TemplateError {
        path: path.into(),
        reason: reason.into(),
    }
}

#[derive(Deserialize)]
struct WireTemplate {
    id: Option<Value>,
    name: Option<String>,
    language: Option<String>,
    status: Option<String>,
    category: Option<String>,
    namespace: Option<String>,
    parameter_format: Option<String>,
    #[serde(default)]
    components: Vec<WireComponent>,
}

#[derive(Deserialize)]
struct WireComponent {
    #[serde(rename = "type")]
    kind: String,
    format: Option<String>,
    text: Option<String>,
    #[serde(default)]
    buttons: Vec<WireButton>,
}

#[derive(Deserialize)]
struct WireButton {
    #[serde(rename = "type")]
    kind: String,
    text: Option<String>,
    url: Option<String>,
    phone_number: Option<String>,
}

/// A placeholder found in a text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Placeholder {
    /// `{{3}}`
    Index(usize),
    /// `{{first_name}}`
    Name(String),
}

/// Every `{{…}}` in `text`, in order. Anything between braces that is neither a number nor a lowercase name is an
/// error, so a typo such as `{{ 1}}` is caught when the template is saved rather than when it is sent.
pub fn placeholders(text: &str) -> Result<Vec<Placeholder>, String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            return Err("has `{{` without a closing `}}`".into());
        };
        let inner = &after[..end];
        if !inner.is_empty() && inner.bytes().all(|b| b.is_ascii_digit()) {
            let n: usize = inner
                .parse()
                .map_err(|_| format!("placeholder `{{{{{inner}}}}}` is too large"))?;
            if n == 0 {
                return Err("placeholders start at {{1}}".into());
            }
            found.push(Placeholder::Index(n));
        } else if inner.starts_with(|c: char| c.is_ascii_lowercase())
            && inner
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            found.push(Placeholder::Name(inner.to_owned()));
        } else {
            return Err(format!(
                "`{{{{{inner}}}}}` is not a placeholder: use {{{{1}}}}, {{{{2}}}}, … or {{{{a_name}}}}"
            ));
        }
        rest = &after[end + 2..];
    }
    Ok(found)
}

/// The parameter names of `text` in the order they are filled: `1..=n` for positional (which must all be present),
/// first appearance for named.
fn parameter_slots(text: &str, format: ParameterFormat) -> Result<Vec<Placeholder>, String> {
    let found = placeholders(text)?;
    match format {
        ParameterFormat::Positional => {
            let mut max = 0;
            for p in &found {
                match p {
                    Placeholder::Index(n) => max = max.max(*n),
                    Placeholder::Name(n) => {
                        return Err(format!(
                            "`{{{{{n}}}}}` is a named placeholder but parameter_format is POSITIONAL"
                        ));
                    }
                }
            }
            for n in 1..=max {
                if !found.contains(&Placeholder::Index(n)) {
                    return Err(format!(
                        "placeholders must be numbered 1 to {max} without gaps; {{{{{n}}}}} is missing"
                    ));
                }
            }
            Ok((1..=max).map(Placeholder::Index).collect())
        }
        ParameterFormat::Named => {
            let mut names: Vec<Placeholder> = Vec::new();
            for p in found {
                if matches!(p, Placeholder::Index(_)) {
                    return Err("numbered placeholders are not allowed when parameter_format is NAMED".into());
                }
                if !names.contains(&p) {
                    names.push(p);
                }
            }
            Ok(names)
        }
    }
}

/// `text` with each placeholder replaced by its slot's value, in one pass: a value that itself looks like a
/// placeholder (`{{2}}`) is written as it is, never substituted again.
fn fill(text: &str, format: ParameterFormat, values: &[String]) -> String {
    let slots = parameter_slots(text, format).unwrap_or_default();
    let mut out = String::with_capacity(text.len() + values.iter().map(String::len).sum::<usize>());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        let inner = &after[..end];
        let slot = match inner.parse::<usize>() {
            Ok(n) => slots.iter().position(|s| *s == Placeholder::Index(n)),
            Err(_) => slots
                .iter()
                .position(|s| matches!(s, Placeholder::Name(name) if name == inner)),
        };
        out.push_str(&rest[..start]);
        match slot.and_then(|i| values.get(i)) {
            Some(value) => out.push_str(value),
            None => out.push_str(&rest[start..start + 2 + end + 2]),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

/// Whether `s` looks like a WhatsApp language code: `en`, `en_US`, `pt_BR`, `es_LA`.
pub fn is_language_code(s: &str) -> bool {
    let mut parts = s.split('_');
    let lang = parts.next().unwrap_or("");
    let region = parts.next();
    parts.next().is_none()
        && (2..=3).contains(&lang.len())
        && lang.bytes().all(|b| b.is_ascii_lowercase())
        && region.is_none_or(|r| (2..=4).contains(&r.len()) && r.bytes().all(|b| b.is_ascii_alphanumeric()))
}

impl Template {
    /// Read and validate a template in the shape of Meta's `message_templates` items. Fields Pregon does not use
    /// (`id`, `example`, `previous_category`, …) are accepted and left alone, so an export from WhatsApp Manager
    /// or a Graph API listing is taken as it is. A missing `status` means `APPROVED`.
    pub fn from_meta(value: &Value) -> Result<Template, TemplateError> {
        if !value.is_object() {
            return Err(err("$", "a template is a JSON object"));
        }
        let wire: WireTemplate = serde_json::from_value(value.clone()).map_err(|e| err("$", e.to_string()))?;
        let name = wire.name.unwrap_or_default();
        if name.is_empty() || name.len() > NAME_MAX {
            return Err(err("name", format!("is required, at most {NAME_MAX} characters")));
        }
        if !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(err("name", "may hold only lowercase letters, digits and `_`"));
        }
        let language = wire.language.unwrap_or_default();
        if !is_language_code(&language) {
            return Err(err(
                "language",
                "must be a WhatsApp language code such as `en`, `en_US` or `pt_BR`",
            ));
        }
        let status = wire.status.unwrap_or_else(|| "APPROVED".into()).to_ascii_uppercase();
        if status.is_empty() || !status.bytes().all(|b| b.is_ascii_uppercase() || b == b'_') {
            return Err(err(
                "status",
                "must be a status such as APPROVED, PENDING, REJECTED, PAUSED or DISABLED",
            ));
        }
        let parameter_format = match wire.parameter_format.as_deref().map(str::to_ascii_uppercase).as_deref() {
            None | Some("POSITIONAL") => ParameterFormat::Positional,
            Some("NAMED") => ParameterFormat::Named,
            Some(other) => {
                return Err(err("parameter_format", format!("`{other}` is not POSITIONAL or NAMED")));
            }
        };

        let mut header = None;
        let mut body = None;
        let mut footer = None;
        let mut buttons = None;
        for (i, c) in wire.components.into_iter().enumerate() {
            let path = format!("components[{i}]");
            let kind = c.kind.to_ascii_uppercase();
            let duplicate = |what| err(&path, format!("a template has at most one {what}"));
            match kind.as_str() {
                "HEADER" => {
                    if header.is_some() {
                        return Err(duplicate("HEADER"));
                    }
                    header = Some(read_header(&path, c.format.as_deref(), c.text, parameter_format)?);
                }
                "BODY" => {
                    if body.is_some() {
                        return Err(duplicate("BODY"));
                    }
                    let text = c.text.unwrap_or_default();
                    if text.trim().is_empty() {
                        return Err(err(format!("{path}.text"), "the body text is required"));
                    }
                    if text.chars().count() > BODY_MAX {
                        return Err(err(
                            format!("{path}.text"),
                            format!("is longer than {BODY_MAX} characters"),
                        ));
                    }
                    parameter_slots(&text, parameter_format).map_err(|r| err(format!("{path}.text"), r))?;
                    body = Some(text);
                }
                "FOOTER" => {
                    if footer.is_some() {
                        return Err(duplicate("FOOTER"));
                    }
                    let text = c.text.unwrap_or_default();
                    if text.chars().count() > FOOTER_MAX {
                        return Err(err(
                            format!("{path}.text"),
                            format!("is longer than {FOOTER_MAX} characters"),
                        ));
                    }
                    if text.contains("{{") {
                        return Err(err(format!("{path}.text"), "a footer cannot have placeholders"));
                    }
                    footer = Some(text);
                }
                "BUTTONS" => {
                    if buttons.is_some() {
                        return Err(duplicate("BUTTONS"));
                    }
                    buttons = Some(read_buttons(&path, c.buttons)?);
                }
                other => {
                    return Err(err(
                        format!("{path}.type"),
                        format!("`{other}` is not HEADER, BODY, FOOTER or BUTTONS"),
                    ));
                }
            }
        }
        let body = body.ok_or_else(|| err("components", "a template needs a BODY component"))?;
        Ok(Template {
            name,
            language,
            status,
            category: wire.category.map(|c| c.to_ascii_uppercase()),
            namespace: wire.namespace.filter(|n| !n.is_empty()),
            provider_id: match wire.id {
                Some(Value::String(s)) if !s.is_empty() => Some(s),
                Some(Value::Number(n)) => Some(n.to_string()),
                _ => None,
            },
            parameter_format,
            header,
            body,
            footer,
            buttons: buttons.unwrap_or_default(),
        })
    }

    /// Only approved templates are sent.
    pub fn is_sendable(&self) -> bool {
        self.status == "APPROVED"
    }

    /// How many values the body takes.
    pub fn body_parameter_count(&self) -> usize {
        parameter_slots(&self.body, self.parameter_format)
            .map(|s| s.len())
            .unwrap_or(0)
    }

    /// Whether the header is text with a placeholder, which takes one value.
    pub fn header_takes_text(&self) -> bool {
        matches!(&self.header, Some(Header::Text(t)) if t.contains("{{"))
    }

    /// The media a recipient must be sent with this template, if any.
    pub fn header_media(&self) -> Option<MediaKind> {
        self.header.as_ref().and_then(Header::media_kind)
    }

    /// The indexes of the buttons that need a value at send time.
    pub fn dynamic_buttons(&self) -> Vec<usize> {
        self.buttons
            .iter()
            .enumerate()
            .filter(|(_, b)| b.is_dynamic())
            .map(|(i, _)| i)
            .collect()
    }

    /// What the recipient sees for these parameters: header, body and footer joined by blank lines (header media
    /// becomes the message type and `mediaUrl`), buttons as actions. Fails when the parameters do not fit.
    pub fn render(&self, params: &TemplateParams) -> Result<Rendered, RenderError> {
        let body_count = self.body_parameter_count();
        if params.body.len() != body_count {
            return Err(RenderError::BodyParameterCount {
                expected: body_count,
                got: params.body.len(),
            });
        }
        for (i, value) in params.body.iter().enumerate() {
            check_parameter_text(value).map_err(|reason| RenderError::Parameter { index: i + 1, reason })?;
        }

        let mut kind = RenderedKind::Text;
        let mut media_url = None;
        let mut parts: Vec<String> = Vec::new();
        match (&self.header, &params.header) {
            (Some(Header::Text(text)), header_param) if text.contains("{{") => {
                let Some(HeaderParam::Text(value)) = header_param else {
                    return Err(RenderError::HeaderTextMissing);
                };
                check_parameter_text(value).map_err(|reason| RenderError::Parameter { index: 0, reason })?;
                let filled = fill(text, self.parameter_format, std::slice::from_ref(value));
                if filled.chars().count() > HEADER_TEXT_MAX {
                    return Err(RenderError::TooLong {
                        part: "header",
                        max: HEADER_TEXT_MAX,
                    });
                }
                parts.push(filled);
            }
            (Some(Header::Text(text)), _) => parts.push(text.clone()),
            (Some(h), header_param) if h.media_kind().is_some() => {
                let Some(HeaderParam::Media { url, .. }) = header_param else {
                    return Err(RenderError::MediaMissing(h.media_kind().unwrap_or(MediaKind::Image)));
                };
                kind = match h.media_kind() {
                    Some(MediaKind::Image) => RenderedKind::Image,
                    Some(MediaKind::Video) => RenderedKind::Video,
                    _ => RenderedKind::File,
                };
                media_url = Some(url.clone());
            }
            _ => {}
        }
        let body = fill(&self.body, self.parameter_format, &params.body);
        if body.chars().count() > BODY_MAX {
            return Err(RenderError::TooLong {
                part: "body",
                max: BODY_MAX,
            });
        }
        parts.push(body);
        if let Some(footer) = self.footer.as_ref().filter(|f| !f.is_empty()) {
            parts.push(footer.clone());
        }

        let value_for = |index: usize| {
            params
                .buttons
                .iter()
                .find(|b| b.index == index)
                .map(|b| b.value.clone())
        };
        let mut actions = Vec::new();
        for (i, button) in self.buttons.iter().enumerate() {
            match button {
                Button::QuickReply { text } => actions.push(Action {
                    kind: ActionKind::Reply,
                    text: text.clone(),
                    payload: value_for(i),
                    uri: None,
                }),
                Button::Url { text, url } => {
                    let uri = if button.is_dynamic() {
                        let suffix = value_for(i).ok_or(RenderError::ButtonParameterMissing(i))?;
                        fill(url, ParameterFormat::Positional, &[suffix])
                    } else {
                        url.clone()
                    };
                    actions.push(Action {
                        kind: ActionKind::Link,
                        text: text.clone(),
                        payload: None,
                        uri: Some(uri),
                    })
                }
                Button::PhoneNumber { text, phone_number } => actions.push(Action {
                    kind: ActionKind::Link,
                    text: text.clone(),
                    payload: None,
                    uri: Some(format!("tel://{phone_number}")),
                }),
                Button::Other { .. } => {}
            }
        }
        Ok(Rendered {
            kind,
            media_url,
            text: parts.join("\n\n"),
            actions,
        })
    }
}

fn read_header(
    path: &str,
    format: Option<&str>,
    text: Option<String>,
    parameter_format: ParameterFormat,
) -> Result<Header, TemplateError> {
    let format = format.map(str::to_ascii_uppercase).unwrap_or_else(|| "TEXT".into());
    Ok(match format.as_str() {
        "TEXT" => {
            let text = text.unwrap_or_default();
            if text.trim().is_empty() {
                return Err(err(format!("{path}.text"), "a TEXT header needs its text"));
            }
            if text.chars().count() > HEADER_TEXT_MAX {
                return Err(err(
                    format!("{path}.text"),
                    format!("is longer than {HEADER_TEXT_MAX} characters"),
                ));
            }
            let slots = parameter_slots(&text, parameter_format).map_err(|r| err(format!("{path}.text"), r))?;
            let all = placeholders(&text).map_err(|r| err(format!("{path}.text"), r))?;
            if slots.len() > 1 || all.len() > 1 {
                return Err(err(format!("{path}.text"), "a header has at most one placeholder"));
            }
            Header::Text(text)
        }
        "IMAGE" => Header::Image,
        "VIDEO" => Header::Video,
        "DOCUMENT" => Header::Document,
        "LOCATION" | "GIF" => Header::Other(format),
        other => {
            return Err(err(
                format!("{path}.format"),
                format!("`{other}` is not TEXT, IMAGE, VIDEO, DOCUMENT or LOCATION"),
            ));
        }
    })
}

fn read_buttons(path: &str, wire: Vec<WireButton>) -> Result<Vec<Button>, TemplateError> {
    if wire.is_empty() {
        return Err(err(
            format!("{path}.buttons"),
            "a BUTTONS component needs at least one button",
        ));
    }
    if wire.len() > 10 {
        return Err(err(format!("{path}.buttons"), "a template has at most 10 buttons"));
    }
    let mut buttons = Vec::with_capacity(wire.len());
    for (i, b) in wire.into_iter().enumerate() {
        let path = format!("{path}.buttons[{i}]");
        let kind = b.kind.to_ascii_uppercase();
        let label = |text: Option<String>| -> Result<String, TemplateError> {
            let text = text.unwrap_or_default();
            if text.trim().is_empty() || text.chars().count() > BUTTON_TEXT_MAX {
                return Err(err(
                    format!("{path}.text"),
                    format!("a button label is 1 to {BUTTON_TEXT_MAX} characters"),
                ));
            }
            Ok(text)
        };
        buttons.push(match kind.as_str() {
            "QUICK_REPLY" => Button::QuickReply { text: label(b.text)? },
            "URL" => {
                let text = label(b.text)?;
                let url = b.url.unwrap_or_default();
                if !crate::account::is_http_url(&url) || url.len() > BUTTON_URL_MAX {
                    return Err(err(
                        format!("{path}.url"),
                        format!("must be an http(s) URL of at most {BUTTON_URL_MAX} characters"),
                    ));
                }
                let found = placeholders(&url).map_err(|r| err(format!("{path}.url"), r))?;
                if !(found.is_empty() || (found == [Placeholder::Index(1)] && url.ends_with("{{1}}"))) {
                    return Err(err(
                        format!("{path}.url"),
                        "a URL button may only end in one {{1}} suffix",
                    ));
                }
                Button::Url { text, url }
            }
            "PHONE_NUMBER" => {
                let text = label(b.text)?;
                let phone_number = b.phone_number.unwrap_or_default();
                let digits = phone_number.trim_start_matches('+');
                if digits.is_empty()
                    || phone_number.len() > BUTTON_PHONE_MAX
                    || !digits.bytes().all(|c| c.is_ascii_digit())
                {
                    return Err(err(
                        format!("{path}.phone_number"),
                        format!("must be a phone number of at most {BUTTON_PHONE_MAX} characters, like +15550001111"),
                    ));
                }
                Button::PhoneNumber { text, phone_number }
            }
            "COPY_CODE" | "FLOW" | "OTP" | "MPM" | "CATALOG" | "VOICE_CALL" | "SPM" | "APP" => {
                Button::Other { kind, text: b.text }
            }
            other => {
                return Err(err(
                    format!("{path}.type"),
                    format!("`{other}` is not QUICK_REPLY, URL or PHONE_NUMBER"),
                ));
            }
        });
    }
    let count = |f: fn(&Button) -> bool| buttons.iter().filter(|b| f(b)).count();
    if count(|b| matches!(b, Button::Url { .. })) > 2 {
        return Err(err(format!("{path}.buttons"), "a template has at most 2 URL buttons"));
    }
    if count(|b| matches!(b, Button::PhoneNumber { .. })) > 1 {
        return Err(err(
            format!("{path}.buttons"),
            "a template has at most 1 PHONE_NUMBER button",
        ));
    }
    // WhatsApp requires quick replies to be grouped together.
    let quick: Vec<usize> = buttons
        .iter()
        .enumerate()
        .filter(|(_, b)| matches!(b, Button::QuickReply { .. }))
        .map(|(i, _)| i)
        .collect();
    if quick.windows(2).any(|w| w[1] != w[0] + 1) {
        return Err(err(
            format!("{path}.buttons"),
            "QUICK_REPLY buttons must be next to each other",
        ));
    }
    Ok(buttons)
}

/// WhatsApp's rules for a parameter value: not empty, no new lines or tabs, no more than 4 spaces in a row.
pub fn check_parameter_text(value: &str) -> Result<(), String> {
    if value.trim().is_empty() {
        return Err("is empty".into());
    }
    if value.contains(['\n', '\r', '\t']) {
        return Err("contains a new line or a tab".into());
    }
    if value.contains("     ") {
        return Err("has more than 4 consecutive spaces".into());
    }
    Ok(())
}

/// The values a template is sent with.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateParams {
    /// The header value: text for a text header with a placeholder, media for a media header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<HeaderParam>,
    /// The body values, in slot order.
    #[serde(default)]
    pub body: Vec<String>,
    /// Quick-reply payloads and URL suffixes, by button index.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buttons: Vec<ButtonParam>,
}

/// The header's value: `{"text": "…"}` or `{"media": {"kind", "url", "filename"}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HeaderParam {
    /// Fills the header's placeholder.
    Text(String),
    /// The media of a media header.
    Media {
        /// Its kind.
        kind: MediaKind,
        /// Where the provider fetches it.
        url: String,
        /// The name a document is shown with.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        filename: Option<String>,
    },
}

/// A value for one button.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ButtonParam {
    /// The button's position in the template.
    pub index: usize,
    /// A quick-reply payload or a URL suffix.
    pub value: String,
}

/// Why a template could not be rendered with the given parameters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// The body takes a different number of values.
    #[error("the template body takes {expected} parameters, {got} given")]
    BodyParameterCount {
        /// What the body takes.
        expected: usize,
        /// What was given.
        got: usize,
    },
    /// A value breaks WhatsApp's rules. Index 0 is the header.
    #[error("parameter {index} {reason}")]
    Parameter {
        /// 1-based body index; 0 is the header.
        index: usize,
        /// What is wrong.
        reason: String,
    },
    /// The header has a placeholder and no value was given.
    #[error("the template header takes a text parameter")]
    HeaderTextMissing,
    /// The header needs media.
    #[error("the template has a {0:?} header: a media URL is required")]
    MediaMissing(MediaKind),
    /// A dynamic URL button has no suffix.
    #[error("button {0} has a dynamic URL: a button parameter is required")]
    ButtonParameterMissing(usize),
    /// The filled-in text is too long.
    #[error("the {part} is longer than {max} characters once the parameters are in it")]
    TooLong {
        /// `header` or `body`.
        part: &'static str,
        /// The limit.
        max: usize,
    },
}

/// The message as the recipient sees it, in the shape of Sunshine Conversations' reconstruction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rendered {
    /// `text`, `image`, `video` or `file`.
    #[serde(rename = "type")]
    pub kind: RenderedKind,
    /// The header media, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media_url: Option<String>,
    /// Header text, body and footer, separated by blank lines.
    pub text: String,
    /// The buttons.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub actions: Vec<Action>,
}

/// The kind of rendered message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RenderedKind {
    /// Text only.
    Text,
    /// With an image.
    Image,
    /// With a video.
    Video,
    /// With a document.
    File,
}

/// A rendered button.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Action {
    /// `reply` or `link`.
    #[serde(rename = "type")]
    pub kind: ActionKind,
    /// The label.
    pub text: String,
    /// A quick reply's payload.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload: Option<String>,
    /// A link's target (`https://…` or `tel://…`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
}

/// A rendered button's kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActionKind {
    /// A quick reply.
    Reply,
    /// A URL or phone link.
    Link,
}

#[cfg(test)]
mod tests;
