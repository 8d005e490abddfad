//! A JSON tree as ksqlDB's Jackson `ObjectMapper.readTree` builds it: the first value of the
//! text (trailing text ignored; empty text is "missing", not an error), object keys in document
//! order (a repeated key keeps its first position, last value), numbers kept as their exact
//! text (floats are BigDecimals), and compact serialization as Jackson writes it.

/// One JSON value.
#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    /// Canonical number text (as Jackson prints the node) and whether it was a float token.
    Number(String, bool),
    Str(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

/// Reads the first JSON value of `text`; `Ok(None)` when the text has none (only whitespace).
pub fn read_tree(text: &str) -> Result<Option<Json>, String> {
    let mut p = Parser {
        s: text.as_bytes(),
        text,
        pos: 0,
        depth: 0,
    };
    p.skip_ws();
    if p.pos >= p.s.len() {
        return Ok(None);
    }
    p.value().map(Some)
}

struct Parser<'a> {
    s: &'a [u8],
    text: &'a str,
    pos: usize,
    depth: usize,
}

impl Parser<'_> {
    fn err<T>(&self, what: &str) -> Result<T, String> {
        Err(format!("Invalid JSON: {what} at offset {}", self.pos))
    }

    fn skip_ws(&mut self) {
        while self.pos < self.s.len() && matches!(self.s[self.pos], b' ' | b'\t' | b'\n' | b'\r') {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn value(&mut self) -> Result<Json, String> {
        self.skip_ws();
        match self.peek() {
            None => self.err("unexpected end of input"),
            Some(b'{') => self.nested(|p| p.object()),
            Some(b'[') => self.nested(|p| p.array()),
            Some(b'"') => self.string().map(Json::Str),
            Some(b't') => self.word("true", Json::Bool(true)),
            Some(b'f') => self.word("false", Json::Bool(false)),
            Some(b'n') => self.word("null", Json::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => self.err("unexpected character"),
        }
    }

    fn nested(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<Json, String>,
    ) -> Result<Json, String> {
        self.depth += 1;
        if self.depth > 1000 {
            return self.err("nesting too deep");
        }
        let out = f(self);
        self.depth -= 1;
        out
    }

    fn word(&mut self, w: &str, v: Json) -> Result<Json, String> {
        if !self.s[self.pos..].starts_with(w.as_bytes())
            || self
                .s
                .get(self.pos + w.len())
                .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
        {
            return self.err("unrecognized token");
        }
        self.pos += w.len();
        Ok(v)
    }

    fn object(&mut self) -> Result<Json, String> {
        self.pos += 1;
        let mut fields: Vec<(String, Json)> = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Json::Object(fields));
        }
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return self.err("expected a field name");
            }
            let key = self.string()?;
            self.skip_ws();
            if self.peek() != Some(b':') {
                return self.err("expected ':'");
            }
            self.pos += 1;
            let value = self.value()?;
            match fields.iter_mut().find(|(k, _)| *k == key) {
                Some(slot) => slot.1 = value,
                None => fields.push((key, value)),
            }
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Json::Object(fields));
                }
                _ => return self.err("expected ',' or '}'"),
            }
        }
    }

    fn array(&mut self) -> Result<Json, String> {
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Json::Array(items));
        }
        loop {
            items.push(self.value()?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Json::Array(items));
                }
                _ => return self.err("expected ',' or ']'"),
            }
        }
    }

    fn string(&mut self) -> Result<String, String> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            let start = self.pos;
            while self.pos < self.s.len()
                && !matches!(self.s[self.pos], b'"' | b'\\')
                && self.s[self.pos] >= 0x20
            {
                self.pos += 1;
            }
            out.push_str(&self.text[start..self.pos]);
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let c = match self.peek() {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            let hi = self.hex4()?;
                            if (0xD800..0xDC00).contains(&hi)
                                && self.s[self.pos + 1..].starts_with(b"\\u")
                            {
                                self.pos += 2;
                                let lo = self.hex4()?;
                                char::decode_utf16([hi, lo])
                                    .next()
                                    .and_then(Result::ok)
                                    .unwrap_or('\u{FFFD}')
                            } else {
                                char::from_u32(u32::from(hi)).unwrap_or('\u{FFFD}')
                            }
                        }
                        _ => return self.err("bad escape"),
                    };
                    out.push(c);
                    self.pos += 1;
                }
                _ => return self.err("unterminated string or control character"),
            }
        }
    }

    /// Reads the 4 hex digits after `\u`, leaving `pos` on the last one.
    fn hex4(&mut self) -> Result<u16, String> {
        let digits = self
            .text
            .get(self.pos + 1..self.pos + 5)
            .filter(|d| d.bytes().all(|b| b.is_ascii_hexdigit()));
        match digits.and_then(|d| u16::from_str_radix(d, 16).ok()) {
            Some(v) => {
                self.pos += 4;
                Ok(v)
            }
            None => self.err("bad unicode escape"),
        }
    }

    fn number(&mut self) -> Result<Json, String> {
        let start = self.pos;
        let digits = |p: &mut Self| {
            let from = p.pos;
            while p.peek().is_some_and(|b| b.is_ascii_digit()) {
                p.pos += 1;
            }
            p.pos - from
        };
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        let int_start = self.pos;
        let n = digits(self);
        if n == 0 || (n > 1 && self.s[int_start] == b'0') {
            return self.err("invalid number");
        }
        let mut float = false;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            float = true;
            if digits(self) == 0 {
                return self.err("invalid number");
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            float = true;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if digits(self) == 0 {
                return self.err("invalid number");
            }
        }
        if self
            .peek()
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'.')
        {
            return self.err("invalid number");
        }
        let raw = &self.text[start..self.pos];
        Ok(Json::Number(
            if float {
                big_decimal_text(raw)
            } else {
                integer_text(raw)
            },
            float,
        ))
    }
}

fn integer_text(raw: &str) -> String {
    let (neg, digits) = raw.strip_prefix('-').map_or((false, raw), |d| (true, d));
    if digits.bytes().all(|b| b == b'0') {
        "0".into()
    } else {
        format!("{}{digits}", if neg { "-" } else { "" })
    }
}

/// Java's `BigDecimal.toString` of a float token: plain unless the exponent form is needed.
fn big_decimal_text(raw: &str) -> String {
    let (mantissa, exp) = match raw.find(['e', 'E']) {
        Some(i) => (&raw[..i], raw[i + 1..].parse::<i64>().unwrap_or(0)),
        None => (raw, 0),
    };
    let (neg, m) = mantissa
        .strip_prefix('-')
        .map_or((false, mantissa), |d| (true, d));
    let (int, frac) = m.split_once('.').unwrap_or((m, ""));
    let unscaled = format!("{int}{frac}");
    let unscaled = unscaled.trim_start_matches('0');
    let unscaled = if unscaled.is_empty() { "0" } else { unscaled };
    let scale = frac.len() as i64 - exp;
    let sign = if neg && unscaled != "0" { "-" } else { "" };
    let adjusted = -scale + (unscaled.len() as i64 - 1);
    if scale >= 0 && adjusted >= -6 {
        let s = scale as usize;
        if s == 0 {
            return format!("{sign}{unscaled}");
        }
        let padded = if unscaled.len() <= s {
            format!("{}{unscaled}", "0".repeat(s + 1 - unscaled.len()))
        } else {
            unscaled.to_string()
        };
        let (a, b) = padded.split_at(padded.len() - s);
        return format!("{sign}{a}.{b}");
    }
    let (first, rest) = unscaled.split_at(1);
    let dot = if rest.is_empty() {
        String::new()
    } else {
        format!(".{rest}")
    };
    let e = if adjusted >= 0 {
        format!("+{adjusted}")
    } else {
        adjusted.to_string()
    };
    format!("{sign}{first}{dot}E{e}")
}

impl Json {
    /// Compact JSON text, as Jackson's `toString`/`writeValueAsString` write it.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Number(n, _) => out.push_str(n),
            Json::Str(s) => write_string(s, out),
            Json::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Json::Object(fields) => {
                out.push('{');
                for (i, (k, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_string(k, out);
                    out.push(':');
                    v.write(out);
                }
                out.push('}');
            }
        }
    }

    /// A string node's own text, any other node's JSON (`isTextual() ? asText() : toString()`).
    pub fn as_text_or_json(&self) -> String {
        match self {
            Json::Str(s) => s.clone(),
            other => other.to_text(),
        }
    }
}

/// A JSON string literal with Jackson's escapes (`\uXXXX` upper-case hex for other controls).
pub fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_like_jackson() {
        assert_eq!(read_tree("  "), Ok(None));
        assert_eq!(
            read_tree("{\"a\":1}}").unwrap().unwrap().to_text(),
            "{\"a\":1}",
            "trailing text is ignored"
        );
        assert_eq!(
            read_tree("[1.23450, -0, 1e5, 0.00000012, 1.5E-3, -0.0]")
                .unwrap()
                .unwrap()
                .to_text(),
            "[1.23450,0,1E+5,1.2E-7,0.0015,0.0]"
        );
        assert_eq!(
            read_tree("{\"a\":1,\"b\":2,\"a\":3}")
                .unwrap()
                .unwrap()
                .to_text(),
            "{\"a\":3,\"b\":2}"
        );
        assert_eq!(
            read_tree("\"\\ud83d\\ude00\\u0001/\"")
                .unwrap()
                .unwrap()
                .to_text(),
            "\"\u{1F600}\\u0001/\""
        );
        for bad in ["abc", "01", "[1,]", "{\"a\" 1}", "\"open", "1.", "tru"] {
            assert!(read_tree(bad).is_err(), "{bad} should not parse");
        }
    }
}
