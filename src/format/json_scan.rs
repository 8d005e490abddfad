//! A pull scanner over the text of a JSON document, for the fast reader (`json_fast`): scalars
//! are returned as slices of the input (numbers as their literal, strings without escapes as
//! they are), without building a tree. Anything it does not scan itself (escaped strings,
//! nested containers) goes to the exact parser (`json_parse`), so values are always those
//! Jackson would read.
//!
//! It only ever accepts input the exact parser accepts: where in doubt it gives up (`None`),
//! and the caller falls back to the exact path, which also produces the error message.

use super::json_node::JsonNode;
use super::json_parse;
use std::borrow::Cow;

/// One scanned value.
#[derive(Debug)]
pub(super) enum Token<'a> {
    Null,
    Bool(bool),
    /// A valid JSON number literal.
    Number(&'a str),
    Str(Cow<'a, str>),
    /// An array or object, as the exact parser reads it.
    Node(JsonNode),
}

pub(super) struct Scanner<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Scanner<'a> {
    pub(super) fn new(text: &'a str) -> Scanner<'a> {
        Scanner { text, pos: 0 }
    }

    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    pub(super) fn peek(&self) -> Option<u8> {
        self.bytes().get(self.pos).copied()
    }

    /// The next byte, consumed.
    pub(super) fn bump(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.pos += 1;
        Some(b)
    }

    /// Consumes `b` if it is next.
    pub(super) fn eat(&mut self, b: u8) -> bool {
        let next = self.peek() == Some(b);
        self.pos += usize::from(next);
        next
    }

    pub(super) fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    /// The value starting here, inside `depth` open containers.
    pub(super) fn value(&mut self, depth: usize) -> Option<Token<'a>> {
        match self.peek()? {
            b'"' => self.string().map(Token::Str),
            b'-' | b'0'..=b'9' => self.number().map(Token::Number),
            b't' => self.literal("true", Token::Bool(true)),
            b'f' => self.literal("false", Token::Bool(false)),
            b'n' => self.literal("null", Token::Null),
            b'[' | b'{' => {
                let (node, end) = json_parse::parse_value_at(self.text, self.pos, depth).ok()?;
                self.pos = end;
                Some(Token::Node(node))
            }
            _ => None,
        }
    }

    /// A string whose opening quote is next: borrowed unless it has escapes.
    pub(super) fn string(&mut self) -> Option<Cow<'a, str>> {
        let start = self.pos + 1;
        let rest = self.bytes().get(start..)?;
        let end = string_end(rest);
        match *rest.get(end)? {
            b'"' => {
                self.pos = start + end + 1;
                self.text.get(start..start + end).map(Cow::Borrowed)
            }
            b'\\' => {
                let (text, end) = json_parse::parse_string_at(self.text, self.pos).ok()?;
                self.pos = end;
                Some(Cow::Owned(text))
            }
            _ => None,
        }
    }

    /// `true`, `false` or `null`, which must end where Jackson's token ends.
    fn literal(&mut self, word: &str, token: Token<'a>) -> Option<Token<'a>> {
        if !self.text[self.pos..].starts_with(word) {
            return None;
        }
        let end = self.pos + word.len();
        match self.bytes().get(end) {
            None | Some(b' ' | b'\t' | b'\n' | b'\r' | b',' | b'}' | b']') => {
                self.pos = end;
                Some(token)
            }
            Some(_) => None,
        }
    }

    /// A number with JSON's grammar: `-`? (`0` | [1-9][0-9]*) (`.` [0-9]+)? ([eE][+-]?[0-9]+)?
    fn number(&mut self) -> Option<&'a str> {
        let bytes = self.bytes();
        let start = self.pos;
        let mut pos = start + usize::from(bytes.get(start) == Some(&b'-'));
        let int_start = pos;
        let int_len = digits(bytes, &mut pos);
        if int_len == 0 || (int_len > 1 && bytes[int_start] == b'0') {
            return None;
        }
        if bytes.get(pos) == Some(&b'.') {
            pos += 1;
            if digits(bytes, &mut pos) == 0 {
                return None;
            }
        }
        if matches!(bytes.get(pos), Some(b'e' | b'E')) {
            pos += 1;
            if matches!(bytes.get(pos), Some(b'+' | b'-')) {
                pos += 1;
            }
            if digits(bytes, &mut pos) == 0 {
                return None;
            }
        }
        self.pos = pos;
        self.text.get(start..pos)
    }
}

/// The index of the first byte of `bytes` that ends a plain string run: a quote, a backslash or
/// a control character (`bytes.len()` if none). Eight bytes at a time: a byte is flagged when
/// it is below 0x20 or equal to `"` or `\\`; the lowest flag is exact (borrows only carry
/// upwards), so its position is that byte's.
fn string_end(bytes: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero_byte = |w: u64| w.wrapping_sub(ONES) & !w & HIGH;
    let mut chunks = bytes.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_le_bytes(word);
        let below_space = w.wrapping_sub(ONES * 0x20) & !w & HIGH;
        let flags = below_space
            | zero_byte(w ^ (ONES * u64::from(b'"')))
            | zero_byte(w ^ (ONES * u64::from(b'\\')));
        if flags != 0 {
            return at + (flags.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    let tail = chunks.remainder();
    at + tail
        .iter()
        .position(|b| matches!(b, b'"' | b'\\' | 0..0x20))
        .unwrap_or(tail.len())
}

/// Skips ASCII digits from `pos`; returns how many.
fn digits(bytes: &[u8], pos: &mut usize) -> usize {
    let from = *pos;
    while bytes.get(*pos).is_some_and(u8::is_ascii_digit) {
        *pos += 1;
    }
    *pos - from
}

#[cfg(test)]
mod tests {
    use super::string_end;
    use proptest::prelude::*;

    fn naive(bytes: &[u8]) -> usize {
        bytes
            .iter()
            .position(|b| matches!(b, b'"' | b'\\' | 0..0x20))
            .unwrap_or(bytes.len())
    }

    #[test]
    fn finds_quotes_escapes_and_control_characters() {
        for text in [
            &b""[..],
            b"abc",
            b"abcdefgh\"",
            b"abcdefghij\\n",
            b"a\x1fb",
            b"\xc3\xa9\x80\"x",
        ] {
            assert_eq!(string_end(text), naive(text), "{text:?}");
        }
    }

    proptest! {
        #[test]
        fn agrees_with_a_byte_loop(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            prop_assert_eq!(string_end(&bytes), naive(&bytes));
        }
    }
}
