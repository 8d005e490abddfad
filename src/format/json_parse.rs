//! Jackson's JSON parser with ksqlDB's `ObjectMapper` defaults: strict JSON, a UTF-8 BOM
//! skipped, anything after the first root value ignored (except that a root number must be
//! followed by whitespace), a repeated object key replacing the earlier value in its original
//! position, and nesting limited to 1000 levels.

use super::json_node::{JsonNode, JsonNumber};
use std::collections::HashMap;

/// Nesting deeper than this is rejected (Jackson's default stream constraint).
const MAX_DEPTH: usize = 1000;

/// Parses a document: the first root value, or `Missing` if there is none.
pub(super) fn parse(bytes: &[u8]) -> Result<JsonNode, String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let at = e.valid_up_to();
        format!(
            "Invalid UTF-8 start byte 0x{:02x}",
            bytes.get(at).copied().unwrap_or(0)
        )
    })?;
    let mut parser = Parser {
        text,
        pos: 0,
        depth: 0,
    };
    parser.skip_whitespace();
    if parser.pos == text.len() {
        return Ok(JsonNode::Missing);
    }
    let root = parser.value()?;
    if let JsonNode::Number(_) = root
        && let Some(c) = parser.peek()
        && !matches!(c, ' ' | '\t' | '\n' | '\r')
    {
        return Err(format!(
            "Unexpected character ({}): Expected space separating root-level values",
            describe(c)
        ));
    }
    Ok(root)
}

/// Parses the value starting at byte `pos` of `text` (no whitespace before it), inside `depth`
/// open containers; returns it and the position after it. The fast JSON reader hands the
/// values it does not read itself (nested containers, escaped strings) to this exact parser.
pub(super) fn parse_value_at(
    text: &str,
    pos: usize,
    depth: usize,
) -> Result<(JsonNode, usize), String> {
    let mut parser = Parser { text, pos, depth };
    let node = parser.value()?;
    Ok((node, parser.pos))
}

/// Parses the string whose opening quote is at byte `pos`; returns it and the position after
/// its closing quote.
pub(super) fn parse_string_at(text: &str, pos: usize) -> Result<(String, usize), String> {
    let mut parser = Parser {
        text,
        pos,
        depth: 0,
    };
    let string = parser.string()?;
    Ok((string, parser.pos))
}

fn describe(c: char) -> String {
    format!("'{c}' (code {})", c as u32)
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
    /// Containers already open around the value being parsed (they count towards the limit).
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn skip_whitespace(&mut self) {
        while let Some(' ' | '\t' | '\n' | '\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn eof(&self, context: &str) -> String {
        format!("Unexpected end-of-input: {context}")
    }

    /// One value, containers included. Iterative, so that deep nesting cannot exhaust the
    /// stack: open arrays and objects wait on `open` until their closing bracket.
    fn value(&mut self) -> Result<JsonNode, String> {
        let mut open: Vec<Container> = Vec::new();
        loop {
            self.skip_whitespace();
            let mut node = match self.peek() {
                None => return Err(self.eof("expected a value")),
                Some(c @ ('[' | '{')) => {
                    if open.len() + self.depth >= MAX_DEPTH {
                        return Err(format!(
                            "Document nesting depth exceeds the maximum allowed ({MAX_DEPTH})"
                        ));
                    }
                    self.bump();
                    self.skip_whitespace();
                    match (c, self.peek()) {
                        ('[', Some(']')) => {
                            self.bump();
                            JsonNode::Array(Vec::new())
                        }
                        ('{', Some('}')) => {
                            self.bump();
                            JsonNode::Object(Vec::new())
                        }
                        ('[', _) => {
                            open.push(Container::Array(Vec::new()));
                            continue;
                        }
                        _ => {
                            let key = self.field_name()?;
                            open.push(Container::Object(Fields::default(), key));
                            continue;
                        }
                    }
                }
                Some('"') => JsonNode::Text(self.string()?),
                Some('-' | '0'..='9') => self.number()?,
                Some(_) => self.literal()?,
            };
            // Hand the finished value to its container, closing containers that end here.
            loop {
                let Some(container) = open.last_mut() else {
                    return Ok(node);
                };
                self.skip_whitespace();
                let next = self.bump();
                match container {
                    Container::Array(items) => {
                        items.push(node);
                        match next {
                            Some(',') => break,
                            Some(']') => {}
                            Some(c) => {
                                return Err(unexpected(c, "comma to separate Array entries"));
                            }
                            None => return Err(self.eof("expected close marker for Array")),
                        }
                    }
                    Container::Object(fields, key) => {
                        fields.insert(std::mem::take(key), node);
                        match next {
                            Some(',') => {
                                *key = self.field_name()?;
                                break;
                            }
                            Some('}') => {}
                            Some(c) => {
                                return Err(unexpected(c, "comma to separate Object entries"));
                            }
                            None => return Err(self.eof("expected close marker for Object")),
                        }
                    }
                }
                // The container just closed: it is the last one, and now a finished value.
                let Some(closed) = open.pop() else {
                    return Err(self.eof("expected a value"));
                };
                node = closed.into_node();
            }
        }
    }

    fn literal(&mut self) -> Result<JsonNode, String> {
        let rest = &self.text[self.pos..];
        let word_len = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
            .unwrap_or(rest.len());
        if word_len == 0 {
            let c = rest.chars().next().unwrap_or(' ');
            return Err(format!(
                "Unexpected character ({}): expected a valid value (JSON String, Number, Array, \
                 Object or token 'null', 'true' or 'false')",
                describe(c)
            ));
        }
        let word = &rest[..word_len];
        let node = match word {
            "true" => JsonNode::Bool(true),
            "false" => JsonNode::Bool(false),
            "null" => JsonNode::Null,
            _ => {
                return Err(format!(
                    "Unrecognized token '{word}': was expecting (JSON String, Number, Array, \
                     Object or token 'null', 'true' or 'false')"
                ));
            }
        };
        self.pos += word.len();
        Ok(node)
    }

    fn number(&mut self) -> Result<JsonNode, String> {
        let start = self.pos;
        let bytes = self.text.as_bytes();
        let digits = |pos: &mut usize| {
            let from = *pos;
            while bytes.get(*pos).is_some_and(u8::is_ascii_digit) {
                *pos += 1;
            }
            *pos - from
        };
        let mut pos = self.pos;
        if bytes.get(pos) == Some(&b'-') {
            pos += 1;
        }
        let int_start = pos;
        let int_len = digits(&mut pos);
        if int_len == 0 {
            return Err("Unexpected character: expected digit after '-'".to_string());
        }
        if int_len > 1 && bytes[int_start] == b'0' {
            return Err("Invalid numeric value: Leading zeroes not allowed".to_string());
        }
        if bytes.get(pos) == Some(&b'.') {
            pos += 1;
            if digits(&mut pos) == 0 {
                return Err("Unexpected character: Decimal point not followed by a digit".into());
            }
        }
        if matches!(bytes.get(pos), Some(b'e' | b'E')) {
            pos += 1;
            if matches!(bytes.get(pos), Some(b'+' | b'-')) {
                pos += 1;
            }
            if digits(&mut pos) == 0 {
                return Err(
                    "Unexpected character: Exponent indicator not followed by a digit".into(),
                );
            }
        }
        self.pos = pos;
        let literal = self.text[start..pos].to_string();
        Ok(JsonNode::Number(JsonNumber::new(literal)))
    }

    fn string(&mut self) -> Result<String, String> {
        self.bump(); // opening quote
        let mut out = String::new();
        loop {
            match self.bump() {
                None => return Err(self.eof("was expecting closing quote for a string value")),
                Some('"') => return Ok(out),
                Some('\\') => out.push(self.escape()?),
                Some(c) if c < ' ' => {
                    return Err(format!(
                        "Illegal unquoted character ((CTRL-CHAR, code {})): has to be escaped \
                         using backslash to be included in string value",
                        c as u32
                    ));
                }
                Some(c) => out.push(c),
            }
        }
    }

    fn escape(&mut self) -> Result<char, String> {
        Ok(match self.bump() {
            Some('"') => '"',
            Some('\\') => '\\',
            Some('/') => '/',
            Some('b') => '\u{8}',
            Some('f') => '\u{c}',
            Some('n') => '\n',
            Some('r') => '\r',
            Some('t') => '\t',
            Some('u') => {
                let high = self.hex4()?;
                if (0xD800..0xDC00).contains(&high) && self.text[self.pos..].starts_with("\\u") {
                    let save = self.pos;
                    self.pos += 2;
                    let low = self.hex4()?;
                    if (0xDC00..0xE000).contains(&low) {
                        let code = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
                        return Ok(char::from_u32(code).unwrap_or('\u{FFFD}'));
                    }
                    self.pos = save;
                }
                char::from_u32(high).unwrap_or('\u{FFFD}')
            }
            Some(c) => return Err(format!("Unrecognized character escape {}", describe(c))),
            None => return Err(self.eof("in character escape sequence")),
        })
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let hex = self.text.get(self.pos..self.pos + 4).unwrap_or("");
        if hex.len() != 4 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(
                "Unexpected character: expected a hex-digit for character escape sequence"
                    .to_string(),
            );
        }
        self.pos += 4;
        u32::from_str_radix(hex, 16).map_err(|e| e.to_string())
    }

    /// A quoted field name and its colon.
    fn field_name(&mut self) -> Result<String, String> {
        self.skip_whitespace();
        match self.peek() {
            Some('"') => {}
            Some(c) => return Err(unexpected(c, "double-quote to start field name")),
            None => return Err(self.eof("expected close marker for Object")),
        }
        let key = self.string()?;
        self.skip_whitespace();
        match self.bump() {
            Some(':') => Ok(key),
            Some(c) => Err(unexpected(c, "a colon to separate field name and value")),
            None => Err(self.eof("expected close marker for Object")),
        }
    }
}

fn unexpected(c: char, expected: &str) -> String {
    format!(
        "Unexpected character ({}): was expecting {expected}",
        describe(c)
    )
}

/// An array or object whose closing bracket has not been read yet.
enum Container {
    Array(Vec<JsonNode>),
    /// The fields so far and the name of the field whose value is being read.
    Object(Fields, String),
}

impl Container {
    fn into_node(self) -> JsonNode {
        match self {
            Container::Array(items) => JsonNode::Array(items),
            Container::Object(fields, _) => JsonNode::Object(fields.entries),
        }
    }
}

/// Object fields in document order; a repeated name replaces the value in place.
#[derive(Default)]
struct Fields {
    entries: Vec<(String, JsonNode)>,
    index: HashMap<String, usize>,
}

impl Fields {
    fn insert(&mut self, key: String, value: JsonNode) {
        match self.index.get(&key) {
            Some(&i) => self.entries[i].1 = value,
            None => {
                self.index.insert(key.clone(), self.entries.len());
                self.entries.push((key, value));
            }
        }
    }
}
