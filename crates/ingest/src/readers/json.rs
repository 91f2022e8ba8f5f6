//! JSON: an array of objects, streamed one element at a time.
//!
//! A small scanner walks the array and parses each element on its own, so memory is one element, never the file.
//! It is hand-written rather than serde_json because two things are needed that serde_json only gives through
//! workspace-wide features (`preserve_order`, `arbitrary_precision`, which would change JSON handling for every
//! crate in the binary): keys in document order, and numbers exactly as written (`5491123456789`, `1.50`).
//!
//! Each object becomes a [`Record`] whose columns are its keys in order, with the Chat-Tonic flattenings:
//! `"parameters": [..]` → repeated `parameter` columns, `"media": {..}` → `media.from`, `media.type`, `media.url`
//! (any key `k` → `media.k`). Scalars become text: strings as they are, numbers as written, `true`/`false`,
//! `null` → "". An element that is not an object, or an array/object where text is expected, is
//! [`ReadItem::Bad`]; a file that is not JSON, not an array, or breaks off is [`FileError::MalformedJson`].

use super::{Rows, bad};
use crate::FileError;
use crate::record::{ReadItem, Record};
use std::io::{BufRead, BufReader, Read};
use std::sync::Arc;

const BUFFER: usize = 64 * 1024;
/// The largest element: a campaign row is a few hundred bytes, and this bounds the memory one element can take.
pub const MAX_ELEMENT_BYTES: u64 = 1 << 20;
const MAX_DEPTH: usize = 64;

/// Open a JSON array: check it starts like one, and stream its elements.
pub fn read<R: Read + Send + 'static>(input: R) -> Result<Rows, FileError> {
    let mut s = Scanner::new(BufReader::with_capacity(BUFFER, input));
    s.skip_bom().map_err(|e| e.at_top(&s))?;
    s.skip_ws().map_err(|e| e.at_top(&s))?;
    match s.peek().map_err(|e| e.at_top(&s))? {
        Some(b'[') => s.bump(),
        None => return Err(FileError::Empty),
        Some(b'{') => {
            return Err(FileError::MalformedJson(
                "the file holds one JSON object; it must be an array of objects: [{…}, {…}]".into(),
            ));
        }
        Some(other) => {
            return Err(FileError::MalformedJson(format!(
                "line {}, column {}: expected `[` (an array of objects), found {}",
                s.line,
                s.col,
                show(other)
            )));
        }
    }
    Ok(Box::new(JsonRows {
        s,
        elements: 0,
        state: State::First,
        last_columns: None,
    }))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    First,
    AfterElement,
    Done,
}

struct JsonRows<R> {
    s: Scanner<R>,
    elements: u64,
    state: State,
    last_columns: Option<Arc<[String]>>,
}

impl<R: BufRead> JsonRows<R> {
    fn step(&mut self) -> Result<Option<ReadItem>, FileError> {
        let s = &mut self.s;
        s.skip_ws().map_err(|e| e.at_top(s))?;
        let next = s.peek().map_err(|e| e.at_top(s))?;
        match (self.state, next) {
            (State::Done, _) => return Ok(None),
            (_, None) => {
                return Err(FileError::MalformedJson(format!(
                    "the file ends before the array is closed, after element {} (line {}); is it truncated?",
                    self.elements, s.line
                )));
            }
            (State::First, Some(b']')) => return self.close(),
            (State::First, Some(_)) => {}
            (State::AfterElement, Some(b']')) => return self.close(),
            (State::AfterElement, Some(b',')) => {
                s.bump();
                s.skip_ws().map_err(|e| e.at_top(s))?;
                if s.peek().map_err(|e| e.at_top(s))? == Some(b']') {
                    return Err(FileError::MalformedJson(format!(
                        "line {}, column {}: a comma after element {} and no element before `]`",
                        s.line, s.col, self.elements
                    )));
                }
            }
            (State::AfterElement, Some(other)) => {
                return Err(FileError::MalformedJson(format!(
                    "line {}, column {}: expected `,` or `]` after element {}, found {}",
                    s.line,
                    s.col,
                    self.elements,
                    show(other)
                )));
            }
        }
        self.elements += 1;
        let element = self.elements;
        let line = self.s.line;
        self.s.element_bytes = 0;
        let value = self.s.value(0).map_err(|e| e.in_element(element, line, &self.s))?;
        self.state = State::AfterElement;
        Ok(Some(self.item(element, value)))
    }

    fn close(&mut self) -> Result<Option<ReadItem>, FileError> {
        let s = &mut self.s;
        s.bump();
        self.state = State::Done;
        s.skip_ws().map_err(|e| e.at_top(s))?;
        if let Some(other) = s.peek().map_err(|e| e.at_top(s))? {
            return Err(FileError::MalformedJson(format!(
                "line {}, column {}: unexpected {} after the array's closing `]`",
                s.line,
                s.col,
                show(other)
            )));
        }
        Ok(None)
    }

    fn item(&mut self, row: u64, value: Value) -> ReadItem {
        let Value::Object(members) = value else {
            return bad(row, None, format!("element {row} is {}, not an object", value.kind()));
        };
        let mut columns = Vec::with_capacity(members.len() + 4);
        let mut values = Vec::with_capacity(members.len() + 4);
        for (key, value) in members {
            let Ok(key) = String::from_utf8(key) else {
                return bad(row, None, "a key is not valid UTF-8 text".into());
            };
            let flattened = match key.as_str() {
                "parameters" => parameters(value, &mut columns, &mut values),
                "media" => media(value, &mut columns, &mut values),
                _ => scalar(&key, value).map(|text| {
                    columns.push(key.clone());
                    values.push(text);
                }),
            };
            if let Err((column, message)) = flattened {
                return bad(row, Some(column), message);
            }
        }
        let columns = match &self.last_columns {
            Some(last) if **last == *columns => Arc::clone(last),
            _ => {
                let fresh: Arc<[String]> = columns.into();
                self.last_columns = Some(Arc::clone(&fresh));
                fresh
            }
        };
        ReadItem::Record(Record { row, columns, values })
    }
}

impl<R: BufRead> Iterator for JsonRows<R> {
    type Item = Result<ReadItem, FileError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.state == State::Done {
            return None;
        }
        match self.step() {
            Ok(Some(item)) => Some(Ok(item)),
            Ok(None) => {
                self.state = State::Done;
                None
            }
            Err(e) => {
                self.state = State::Done;
                Some(Err(e))
            }
        }
    }
}

/// A column at fault and why.
type Refusal = (String, String);

fn parameters(value: Value, columns: &mut Vec<String>, values: &mut Vec<String>) -> Result<(), Refusal> {
    match value {
        Value::Null => Ok(()),
        Value::Array(items) => {
            for (i, item) in items.into_iter().enumerate() {
                let text = scalar(&format!("parameters[{i}]"), item).map_err(|(_, m)| ("parameters".to_owned(), m))?;
                columns.push("parameter".to_owned());
                values.push(text);
            }
            Ok(())
        }
        other => Err((
            "parameters".into(),
            format!(
                "`parameters` is {}; it must be an array of texts, e.g. [\"Ana\", \"10:30\"]",
                other.kind()
            ),
        )),
    }
}

fn media(value: Value, columns: &mut Vec<String>, values: &mut Vec<String>) -> Result<(), Refusal> {
    match value {
        Value::Null => Ok(()),
        Value::Object(members) => {
            for (key, value) in members {
                let Ok(key) = String::from_utf8(key) else {
                    return Err(("media".into(), "a key of `media` is not valid UTF-8 text".into()));
                };
                let column = format!("media.{key}");
                let text = scalar(&column, value)?;
                columns.push(column);
                values.push(text);
            }
            Ok(())
        }
        other => Err((
            "media".into(),
            format!(
                "`media` is {}; it must be an object like {{\"from\": …, \"type\": …, \"url\": …}}",
                other.kind()
            ),
        )),
    }
}

fn scalar(key: &str, value: Value) -> Result<String, Refusal> {
    match value {
        Value::Null => Ok(String::new()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(n) => Ok(n),
        Value::Str(bytes) => String::from_utf8(bytes).map_err(|_| {
            (
                key.to_owned(),
                format!("`{key}` is not valid text (invalid UTF-8, or an unpaired \\u surrogate)"),
            )
        }),
        other => Err((
            key.to_owned(),
            format!(
                "`{key}` is {}; expected text, a number, true/false or null",
                other.kind()
            ),
        )),
    }
}

fn show(byte: u8) -> String {
    if byte.is_ascii_graphic() {
        format!("`{}`", byte as char)
    } else {
        format!("byte 0x{byte:02x}")
    }
}

/// One parsed JSON value; strings are kept as bytes so invalid text fails its row, not the file.
#[derive(Debug, PartialEq)]
enum Value {
    Null,
    Bool(bool),
    /// The number as written in the source.
    Number(String),
    Str(Vec<u8>),
    Array(Vec<Value>),
    /// Members in document order (duplicates kept).
    Object(Vec<(Vec<u8>, Value)>),
}

impl Value {
    fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::Str(_) => "a string",
            Value::Array(_) => "an array",
            Value::Object(_) => "an object",
        }
    }
}

enum JsonError {
    Eof,
    Syntax(String),
    TooBig,
    Io(std::io::Error),
}

impl JsonError {
    fn at_top<R>(self, s: &Scanner<R>) -> FileError {
        match self {
            JsonError::Io(e) => FileError::Io(e.to_string()),
            JsonError::Eof => FileError::MalformedJson(format!("the file ends early (line {})", s.line)),
            JsonError::TooBig => FileError::MalformedJson("an element is too large".into()),
            JsonError::Syntax(m) => FileError::MalformedJson(format!("line {}, column {}: {m}", s.line, s.col)),
        }
    }

    fn in_element<R>(self, element: u64, start_line: u64, s: &Scanner<R>) -> FileError {
        match self {
            JsonError::Io(e) => FileError::Io(e.to_string()),
            JsonError::Eof => FileError::MalformedJson(format!(
                "the file ends inside element {element} (which starts on line {start_line}); is it truncated?"
            )),
            JsonError::TooBig => FileError::MalformedJson(format!(
                "element {element} (line {start_line}) is larger than {} bytes",
                MAX_ELEMENT_BYTES
            )),
            JsonError::Syntax(m) => {
                FileError::MalformedJson(format!("element {element}, line {}, column {}: {m}", s.line, s.col))
            }
        }
    }
}

struct Scanner<R> {
    r: R,
    line: u64,
    col: u64,
    element_bytes: u64,
}

impl<R: BufRead> Scanner<R> {
    fn new(r: R) -> Self {
        Scanner {
            r,
            line: 1,
            col: 1,
            element_bytes: 0,
        }
    }

    fn peek(&mut self) -> Result<Option<u8>, JsonError> {
        loop {
            match self.r.fill_buf() {
                Ok(buf) => return Ok(buf.first().copied()),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(JsonError::Io(e)),
            }
        }
    }

    /// Consume `n` bytes already seen with `peek`/`fill_buf`, none of them a new line.
    fn consume(&mut self, n: usize) {
        self.r.consume(n);
        self.col += n as u64;
        self.element_bytes += n as u64;
    }

    fn bump(&mut self) {
        self.consume(1);
    }

    fn next_byte(&mut self) -> Result<u8, JsonError> {
        let b = self.peek()?.ok_or(JsonError::Eof)?;
        self.bump();
        Ok(b)
    }

    fn skip_bom(&mut self) -> Result<(), JsonError> {
        self.peek()?;
        if self.r.fill_buf().map_err(JsonError::Io)?.starts_with(b"\xef\xbb\xbf") {
            self.r.consume(3);
        }
        Ok(())
    }

    fn skip_ws(&mut self) -> Result<(), JsonError> {
        while let Some(b) = self.peek()? {
            match b {
                b'\n' => {
                    self.r.consume(1);
                    self.line += 1;
                    self.col = 1;
                    self.element_bytes += 1;
                }
                b' ' | b'\t' | b'\r' => self.bump(),
                _ => break,
            }
        }
        self.check_size()
    }

    fn check_size(&self) -> Result<(), JsonError> {
        if self.element_bytes > MAX_ELEMENT_BYTES {
            return Err(JsonError::TooBig);
        }
        Ok(())
    }

    fn expect(&mut self, byte: u8, what: &str) -> Result<(), JsonError> {
        match self.peek()? {
            Some(b) if b == byte => {
                self.bump();
                Ok(())
            }
            Some(other) => Err(JsonError::Syntax(format!("expected {what}, found {}", show(other)))),
            None => Err(JsonError::Eof),
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, JsonError> {
        if depth > MAX_DEPTH {
            return Err(JsonError::Syntax(format!("nested deeper than {MAX_DEPTH} levels")));
        }
        self.skip_ws()?;
        let Some(b) = self.peek()? else {
            return Err(JsonError::Eof);
        };
        let value = match b {
            b'{' => self.object(depth)?,
            b'[' => self.array(depth)?,
            b'"' => Value::Str(self.string()?),
            b'-' | b'0'..=b'9' => Value::Number(self.number()?),
            b't' => self.literal("true", Value::Bool(true))?,
            b'f' => self.literal("false", Value::Bool(false))?,
            b'n' => self.literal("null", Value::Null)?,
            other => return Err(JsonError::Syntax(format!("expected a value, found {}", show(other)))),
        };
        self.check_size()?;
        Ok(value)
    }

    fn object(&mut self, depth: usize) -> Result<Value, JsonError> {
        self.bump();
        let mut members = Vec::new();
        self.skip_ws()?;
        if self.peek()? == Some(b'}') {
            self.bump();
            return Ok(Value::Object(members));
        }
        loop {
            self.skip_ws()?;
            if self.peek()? != Some(b'"') {
                let found = self.peek()?.ok_or(JsonError::Eof)?;
                return Err(JsonError::Syntax(format!(
                    "expected a key in quotes, found {}",
                    show(found)
                )));
            }
            let key = self.string()?;
            self.skip_ws()?;
            self.expect(b':', "`:` after a key")?;
            let value = self.value(depth + 1)?;
            members.push((key, value));
            self.skip_ws()?;
            match self.next_byte()? {
                b',' => continue,
                b'}' => return Ok(Value::Object(members)),
                other => {
                    return Err(JsonError::Syntax(format!(
                        "expected `,` or `}}` in an object, found {}",
                        show(other)
                    )));
                }
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Value, JsonError> {
        self.bump();
        let mut items = Vec::new();
        self.skip_ws()?;
        if self.peek()? == Some(b']') {
            self.bump();
            return Ok(Value::Array(items));
        }
        loop {
            items.push(self.value(depth + 1)?);
            self.skip_ws()?;
            match self.next_byte()? {
                b',' => continue,
                b']' => return Ok(Value::Array(items)),
                other => {
                    return Err(JsonError::Syntax(format!(
                        "expected `,` or `]` in an array, found {}",
                        show(other)
                    )));
                }
            }
        }
    }

    fn literal(&mut self, word: &str, value: Value) -> Result<Value, JsonError> {
        for expected in word.bytes() {
            let b = self.next_byte()?;
            if b != expected {
                return Err(JsonError::Syntax(format!("expected `{word}`, found {}", show(b))));
            }
        }
        Ok(value)
    }

    fn number(&mut self) -> Result<String, JsonError> {
        let mut text = String::new();
        if self.peek()? == Some(b'-') {
            self.push(&mut text, b'-');
        }
        match self.peek()? {
            Some(b'0') => self.push(&mut text, b'0'),
            Some(b'1'..=b'9') => {
                self.digits(&mut text)?;
            }
            _ => return Err(self.malformed_number()),
        }
        if self.peek()? == Some(b'.') {
            self.push(&mut text, b'.');
            if self.digits(&mut text)? == 0 {
                return Err(self.malformed_number());
            }
        }
        if let Some(e @ (b'e' | b'E')) = self.peek()? {
            self.push(&mut text, e);
            if let Some(sign @ (b'+' | b'-')) = self.peek()? {
                self.push(&mut text, sign);
            }
            if self.digits(&mut text)? == 0 {
                return Err(self.malformed_number());
            }
        }
        if let Some(b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-') = self.peek()? {
            return Err(self.malformed_number());
        }
        Ok(text)
    }

    fn push(&mut self, text: &mut String, b: u8) {
        text.push(b as char);
        self.bump();
    }

    fn digits(&mut self, text: &mut String) -> Result<usize, JsonError> {
        let mut n = 0;
        while let Some(b @ b'0'..=b'9') = self.peek()? {
            self.push(text, b);
            n += 1;
        }
        Ok(n)
    }

    fn malformed_number(&mut self) -> JsonError {
        match self.peek() {
            Ok(Some(b)) => JsonError::Syntax(format!("a malformed number, at {}", show(b))),
            Ok(None) => JsonError::Eof,
            Err(e) => e,
        }
    }

    fn string(&mut self) -> Result<Vec<u8>, JsonError> {
        self.bump();
        let mut out = Vec::new();
        loop {
            let buf = loop {
                match self.r.fill_buf() {
                    Ok(buf) => break buf,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(JsonError::Io(e)),
                }
            };
            if buf.is_empty() {
                return Err(JsonError::Eof);
            }
            let plain = buf.iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20);
            let n = plain.unwrap_or(buf.len());
            out.extend_from_slice(&buf[..n]);
            let stop = plain.map(|i| buf[i]);
            self.consume(n);
            self.check_size()?;
            match stop {
                None => continue,
                Some(b'"') => {
                    self.bump();
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.bump();
                    self.escape(&mut out)?;
                }
                Some(control) => {
                    return Err(JsonError::Syntax(format!(
                        "a control character ({}) inside a string; new lines and tabs must be written \\n and \\t",
                        show(control)
                    )));
                }
            }
        }
    }

    fn escape(&mut self, out: &mut Vec<u8>) -> Result<(), JsonError> {
        let b = self.next_byte()?;
        let simple = match b {
            b'"' => b'"',
            b'\\' => b'\\',
            b'/' => b'/',
            b'b' => 0x08,
            b'f' => 0x0c,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'u' => {
                let unit = self.hex4()?;
                let code = if (0xd800..0xdc00).contains(&unit) && self.peek()? == Some(b'\\') {
                    self.bump();
                    self.expect(b'u', "`\\u` (the second half of a surrogate pair)")?;
                    let low = self.hex4()?;
                    if (0xdc00..0xe000).contains(&low) {
                        0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00)
                    } else {
                        push_surrogate(out, unit);
                        low
                    }
                } else {
                    unit
                };
                match char::from_u32(code) {
                    Some(c) => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
                    None => push_surrogate(out, code),
                }
                return Ok(());
            }
            other => return Err(JsonError::Syntax(format!("an unknown escape `\\{}`", other as char))),
        };
        out.push(simple);
        Ok(())
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let mut v = 0;
        for _ in 0..4 {
            let b = self.next_byte()?;
            let d = (b as char)
                .to_digit(16)
                .ok_or_else(|| JsonError::Syntax(format!("a malformed \\u escape, at {}", show(b))))?;
            v = v * 16 + d;
        }
        Ok(v)
    }
}

/// An unpaired surrogate has no UTF-8 form; its WTF-8 bytes are invalid UTF-8, so the row is refused as invalid
/// text rather than the file as malformed.
fn push_surrogate(out: &mut Vec<u8>, unit: u32) {
    out.extend_from_slice(&[0xed, 0xa0 | ((unit >> 6) & 0x1f) as u8, 0x80 | (unit & 0x3f) as u8]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(json: &'static str) -> Result<Vec<ReadItem>, FileError> {
        read(json.as_bytes())?.collect()
    }

    fn rec(item: &ReadItem) -> (u64, Vec<(&str, &str)>) {
        match item {
            ReadItem::Record(r) => (
                r.row,
                r.columns
                    .iter()
                    .map(String::as_str)
                    .zip(r.values.iter().map(String::as_str))
                    .collect(),
            ),
            ReadItem::Bad(b) => panic!("unexpected bad row {b:?}"),
        }
    }

    fn bad_row(item: &ReadItem) -> (u64, Option<&str>, &str) {
        match item {
            ReadItem::Bad(b) => (b.row_number, b.column.as_deref(), b.message.as_str()),
            ReadItem::Record(r) => panic!("unexpected record {r:?}"),
        }
    }

    fn malformed(json: &'static str) -> String {
        match items(json) {
            Err(FileError::MalformedJson(m)) => m,
            other => panic!("expected malformed JSON, got {other:?}"),
        }
    }

    #[test]
    fn objects_become_records_in_key_order_with_flattening() {
        let got = items(
            "\u{feff} [ {\"phone\": 5491123456789, \"z\": 1.50, \"a\": -2e3, \"ok\": true, \"none\": null,
               \"parameters\": [\"Ana\", 10, \"x\\\"y\\u00e9\\ud83d\\ude00\"],
               \"media\": {\"from\": \"URL\", \"type\": \"image\", \"url\": \"https://e.x/a.jpg\", \"extra\": false}},
              {\"phone\": \"+1\"} ]\n",
        )
        .unwrap();
        assert_eq!(
            rec(&got[0]),
            (
                1,
                vec![
                    ("phone", "5491123456789"),
                    ("z", "1.50"),
                    ("a", "-2e3"),
                    ("ok", "true"),
                    ("none", ""),
                    ("parameter", "Ana"),
                    ("parameter", "10"),
                    ("parameter", "x\"y\u{e9}\u{1f600}"),
                    ("media.from", "URL"),
                    ("media.type", "image"),
                    ("media.url", "https://e.x/a.jpg"),
                    ("media.extra", "false"),
                ]
            )
        );
        assert_eq!(rec(&got[1]), (2, vec![("phone", "+1")]));
    }

    #[test]
    fn identical_key_lists_share_one_column_list() {
        let got = items(r#"[{"a":"1","b":"2"},{"a":"3","b":"4"}]"#).unwrap();
        let (ReadItem::Record(x), ReadItem::Record(y)) = (&got[0], &got[1]) else {
            panic!()
        };
        assert!(Arc::ptr_eq(&x.columns, &y.columns));
    }

    #[test]
    fn empty_array_and_empty_objects() {
        assert!(items(" [ ] ").unwrap().is_empty());
        assert_eq!(rec(&items("[{}]").unwrap()[0]), (1, vec![]));
    }

    #[test]
    fn wrong_shapes_are_bad_rows() {
        let got = items(
            r#"[1, "x", null, [], {"phone": {"n": 1}}, {"parameters": "a"}, {"parameters": [[1]]},
                {"media": "https://x"}, {"media": {"url": ["a"]}}, {"name": "\udc00"}, {"phone": "+2"}]"#,
        )
        .unwrap();
        assert_eq!(bad_row(&got[0]), (1, None, "element 1 is a number, not an object"));
        assert_eq!(bad_row(&got[1]).0, 2);
        assert_eq!(bad_row(&got[2]).0, 3);
        assert_eq!(bad_row(&got[3]).2, "element 4 is an array, not an object");
        assert_eq!(bad_row(&got[4]).1, Some("phone"));
        assert_eq!(bad_row(&got[5]).1, Some("parameters"));
        assert_eq!(bad_row(&got[6]).1, Some("parameters"));
        assert_eq!(bad_row(&got[7]).1, Some("media"));
        assert_eq!(bad_row(&got[8]).1, Some("media.url"));
        assert!(bad_row(&got[9]).2.contains("not valid text"));
        assert_eq!(rec(&got[10]), (11, vec![("phone", "+2")]));
        for item in &got[..10] {
            let ReadItem::Bad(b) = item else { panic!() };
            assert_eq!(b.code, "invalid_row");
        }
    }

    #[test]
    fn malformed_files() {
        assert!(malformed(r#"{"phone": "1"}"#).contains("one JSON object"));
        assert!(malformed("[{\"a\": 1},\n{\"a\": ").contains("ends inside element 2"));
        assert!(malformed("[{\"a\": 1}").contains("before the array is closed, after element 1"));
        assert!(malformed("[{\"a\": 1},]").contains("comma after element 1"));
        assert!(malformed("[{\"a\": 1} {\"a\": 2}]").contains("expected `,` or `]` after element 1"));
        assert!(malformed("[{\"a\": 01}]").contains("element 1"));
        assert!(malformed("[{\"a\": 1.}]").contains("malformed number"));
        assert!(malformed("[{\"a\": tru}]").contains("expected `true`"));
        assert!(malformed("[{\"a\" 1}]").contains("`:`"));
        assert!(malformed("[{a: 1}]").contains("key in quotes"));
        assert!(malformed("[{\"a\": \"x\ny\"}]").contains("control character"));
        assert!(malformed("[1]\nx").contains("line 2"));
        assert!(malformed("[\n\n{\"a\": nope}]").contains("element 1, line 3"));
    }

    #[test]
    fn rows_before_a_break_are_yielded_then_the_error() {
        let mut rows = read(&br#"[{"a":"1"}, {"a": "#[..]).unwrap();
        assert!(matches!(rows.next(), Some(Ok(ReadItem::Record(_)))));
        assert!(matches!(rows.next(), Some(Err(FileError::MalformedJson(_)))));
        assert!(rows.next().is_none());
    }

    #[test]
    fn an_oversized_element_is_refused() {
        let big = format!("[{{\"a\": \"{}\"}}]", "x".repeat(MAX_ELEMENT_BYTES as usize + 10));
        let got: Result<Vec<_>, _> = read(std::io::Cursor::new(big.into_bytes())).unwrap().collect();
        let Err(FileError::MalformedJson(m)) = got else {
            panic!()
        };
        assert!(m.contains("larger than"), "{m}");
    }

    #[test]
    fn deep_nesting_is_refused() {
        let deep = format!("[{}{}]", "[".repeat(100), "]".repeat(100));
        let got: Result<Vec<_>, _> = read(std::io::Cursor::new(deep.into_bytes())).unwrap().collect();
        assert!(matches!(got, Err(FileError::MalformedJson(m)) if m.contains("nested deeper")));
    }
}
