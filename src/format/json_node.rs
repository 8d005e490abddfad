//! A JSON tree as ksqlDB's Jackson `ObjectMapper` reads it (`readTree` with exact big decimals),
//! and Jackson's compact writer. Numbers keep their text so decimals stay exact; integers are
//! classed as Jackson's `IntNode`/`LongNode`/`BigIntegerNode`, other numbers as `DecimalNode`.

use super::java::BigDec;
use std::fmt::Write as _;

/// Jackson's node kinds, with the value they hold.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum JsonNode {
    /// An empty document (Jackson's `MissingNode`).
    Missing,
    Null,
    Bool(bool),
    Number(JsonNumber),
    Text(String),
    Array(Vec<JsonNode>),
    /// Fields in document order, keys unique.
    Object(Vec<(String, JsonNode)>),
}

/// A JSON number as written (a valid JSON number literal).
#[derive(Clone, Debug, PartialEq)]
pub(super) struct JsonNumber(String);

impl JsonNumber {
    /// `text` must be a valid JSON number literal.
    pub(super) fn new(text: String) -> JsonNumber {
        JsonNumber(text)
    }

    fn is_integral(&self) -> bool {
        !self.0.contains(['.', 'e', 'E'])
    }

    /// The exact value.
    pub(super) fn decimal(&self) -> BigDec {
        // A JSON number literal is always a valid BigDecimal literal.
        BigDec::parse(&self.0).unwrap_or_else(|_| BigDec::from_unscaled(0, 0))
    }

    /// `JsonNode.doubleValue()`.
    pub(super) fn double(&self) -> f64 {
        self.0.parse().unwrap_or(f64::NAN)
    }

    /// `JsonNode.asLong()`: truncated, keeping the low 64 bits.
    pub(super) fn long(&self) -> i64 {
        self.decimal().wrapping_i64()
    }

    /// `JsonNode.intValue()`: truncated, keeping the low 32 bits.
    pub(super) fn int(&self) -> i32 {
        self.long() as i32
    }

    /// The value when it is an integer that fits 32 bits (Jackson's `IntNode`).
    pub(super) fn exact_int(&self) -> Option<i32> {
        self.is_integral().then(|| self.0.parse().ok()).flatten()
    }

    /// The value when it is an integer that fits 64 bits (an `IntNode` or a `LongNode`).
    pub(super) fn exact_long(&self) -> Option<i64> {
        self.is_integral().then(|| self.0.parse().ok()).flatten()
    }

    /// The Java class and text of the object ksqlDB's REST API reads this number as (Vert.x
    /// over Jackson: `Integer`, `Long`, `BigInteger`, or `Double` for any fraction or exponent).
    pub(super) fn java_object(&self) -> (&'static str, String) {
        match self.node_type() {
            "IntNode" => ("java.lang.Integer", self.text()),
            "LongNode" => ("java.lang.Long", self.text()),
            "BigIntegerNode" => ("java.math.BigInteger", self.text()),
            _ => (
                "java.lang.Double",
                super::java::double_to_string(self.double()),
            ),
        }
    }

    /// Jackson's class name for the node holding this number.
    pub(super) fn node_type(&self) -> &'static str {
        if !self.is_integral() {
            "DecimalNode"
        } else if self.0.parse::<i32>().is_ok() {
            "IntNode"
        } else if self.0.parse::<i64>().is_ok() {
            "LongNode"
        } else {
            "BigIntegerNode"
        }
    }

    /// `JsonNode.asText()`, which is also how Jackson writes the number.
    pub(super) fn text(&self) -> String {
        if self.is_integral() {
            match self.0.parse::<i64>() {
                Ok(v) => v.to_string(),
                Err(_) => self.0.clone(),
            }
        } else {
            self.decimal().to_java_string()
        }
    }
}

impl JsonNode {
    /// Jackson's class name for this node, as ksqlDB's error messages give it.
    pub(super) fn node_type(&self) -> &'static str {
        match self {
            JsonNode::Missing => "MissingNode",
            JsonNode::Null => "NullNode",
            JsonNode::Bool(_) => "BooleanNode",
            JsonNode::Number(n) => n.node_type(),
            JsonNode::Text(_) => "TextNode",
            JsonNode::Array(_) => "ArrayNode",
            JsonNode::Object(_) => "ObjectNode",
        }
    }

    /// Compact JSON as Jackson writes this tree.
    pub(super) fn write(&self, out: &mut String) {
        match self {
            JsonNode::Missing => {}
            JsonNode::Null => out.push_str("null"),
            JsonNode::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            JsonNode::Number(n) => out.push_str(&n.text()),
            JsonNode::Text(s) => write_string(out, s),
            JsonNode::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            JsonNode::Object(fields) => {
                out.push('{');
                for (i, (key, value)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_string(out, key);
                    out.push(':');
                    value.write(out);
                }
                out.push('}');
            }
        }
    }
}

/// Writes `s` as a JSON string with Jackson's escapes: `\"`, `\\`, the short forms for
/// backspace, tab, form feed, newline and carriage return, `\u00XX` for other control chars.
pub(super) fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c < ' ' => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}
