//! The fast path of the JSON reader: one pass over a record's bytes that matches each field of
//! the top-level object to its column and reads scalars of the column's type straight into
//! cells (strings borrowed from the bytes), without a tree or a `Value` per field.
//!
//! It reproduces `json::deserialize` exactly for the records it reads, and gives up (`None`,
//! the caller then takes the exact path) on anything else: invalid JSON, a coercion that fails
//! (the exact path produces ksqlDB's message), a column filled twice (repeated or case-variant
//! keys, whose precedence the exact path resolves), a wrapped `null` document. Values that are
//! not plain scalars of the column's type (numbers as strings, nested values, decimals, bytes)
//! are coerced by the exact `json_read::coerce`, field by field.

use super::json_node::{JsonNode, JsonNumber};
use super::json_read::{self, Integers};
use super::json_scan::{Scanner, Token};
use super::{ColumnSpec, FormatSpec, Part};
use crate::common::{Cell, SqlType, Value};
use std::borrow::Cow;

/// The columns of one key or value, prepared for fast reading.
pub(super) struct FastJson {
    targets: Vec<Target>,
    /// The bytes are the bare value of the only column, not an object.
    unwrapped: bool,
    /// Whether a field name can match two columns (names equal but for case, or not ASCII).
    /// When not, matching stops at the first column that matches.
    ambiguous: bool,
}

struct Target {
    name: String,
    sql_type: SqlType,
    kind: Kind,
}

/// How a column's values are read: the scalar types directly, others by `json_read::coerce`.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Boolean,
    Int,
    Bigint,
    Timestamp,
    Date,
    Time,
    Double,
    String,
    Exact,
}

/// Columns are tracked in 64-bit masks while an object is read.
const MAX_COLUMNS: usize = 64;

/// How a field name matches a column's name.
#[derive(PartialEq)]
enum Match {
    No,
    Exact,
    /// The upper-cased field name is the column name (an exact match takes precedence).
    Upper,
}

impl FastJson {
    /// `None` when these columns are always read by the exact path.
    pub(super) fn new(spec: &FormatSpec, part: Part, columns: &[ColumnSpec]) -> Option<FastJson> {
        if columns.len() > MAX_COLUMNS || (part == Part::Key && columns.is_empty()) {
            return None;
        }
        let targets = columns
            .iter()
            .map(|c| Target {
                name: c.name.clone(),
                sql_type: c.sql_type.clone(),
                kind: kind_of(&c.sql_type),
            })
            .collect();
        Some(FastJson {
            targets,
            unwrapped: super::json::unwrapped(spec, part, columns),
            ambiguous: ambiguous(columns),
        })
    }

    /// Reads one record into `out` (one cell per column). `None`: not read here; the caller
    /// takes the exact path.
    pub(super) fn read<'a>(&self, bytes: &'a [u8], out: &mut Vec<Cell<'a>>) -> Option<()> {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let mut scan = Scanner::new(std::str::from_utf8(bytes).ok()?);
        scan.skip_whitespace();
        out.clear();
        if self.unwrapped {
            let target = self.targets.first()?;
            let token = scan.value(0)?;
            // A root number must be followed by whitespace, if anything.
            let after = scan.peek();
            if matches!(token, Token::Number(_))
                && after.is_some_and(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
            {
                return None;
            }
            out.push(cell(target, &token)?);
            return Some(());
        }
        if !scan.eat(b'{') {
            return None;
        }
        // Not `resize`, which clones a `Value` per cell.
        out.extend(std::iter::repeat_with(|| Cell::NULL).take(self.targets.len()));
        self.fields(&mut scan, out)
    }

    /// The fields of the top-level object, after its `{`, up to its `}` (what follows is
    /// ignored, as Jackson reads only the first root value).
    fn fields<'a>(&self, scan: &mut Scanner<'a>, out: &mut [Cell<'a>]) -> Option<()> {
        let mut filled = Filled::default();
        scan.skip_whitespace();
        if scan.eat(b'}') {
            return Some(());
        }
        loop {
            scan.skip_whitespace();
            if scan.peek() != Some(b'"') {
                return None;
            }
            let key = scan.string()?;
            scan.skip_whitespace();
            if !scan.eat(b':') {
                return None;
            }
            scan.skip_whitespace();
            let token = scan.value(1)?;
            self.assign(&key, &token, out, &mut filled)?;
            scan.skip_whitespace();
            match scan.bump()? {
                b',' => {}
                b'}' => return Some(()),
                _ => return None,
            }
        }
    }

    /// Stores a field's value in the columns it matches. Columns are tried from the one after
    /// the last match, as fields usually come in column order.
    fn assign<'a>(
        &self,
        key: &str,
        token: &Token<'a>,
        out: &mut [Cell<'a>],
        filled: &mut Filled,
    ) -> Option<()> {
        let n = self.targets.len();
        let key_is_ascii = key.is_ascii();
        for i in (filled.next..n).chain(0..filled.next) {
            let target = &self.targets[i];
            let bit = 1u64 << i;
            match match_key(key, key_is_ascii, &target.name) {
                Match::No => continue,
                Match::Exact if filled.exact & bit != 0 => return None,
                Match::Exact => filled.exact |= bit,
                Match::Upper if filled.exact & bit != 0 => continue,
                Match::Upper if filled.upper & bit != 0 => return None,
                Match::Upper => filled.upper |= bit,
            }
            out[i] = cell(target, token)?;
            filled.next = i + 1;
            if !self.ambiguous {
                break;
            }
        }
        Some(())
    }
}

/// Which columns have a value from an exactly matching field, and from an upper-cased one;
/// where to start matching the next field.
#[derive(Default)]
struct Filled {
    exact: u64,
    upper: u64,
    next: usize,
}

/// Whether one field name may match two of these columns: only if two names are equal but
/// for ASCII case, or a name is not ASCII (Unicode case mapping is not 1:1).
fn ambiguous(columns: &[ColumnSpec]) -> bool {
    columns.iter().enumerate().any(|(i, a)| {
        !a.name.is_ascii()
            || columns[i + 1..]
                .iter()
                .any(|b| a.name.eq_ignore_ascii_case(&b.name))
    })
}

fn kind_of(sql_type: &SqlType) -> Kind {
    match sql_type {
        SqlType::Boolean => Kind::Boolean,
        SqlType::Int => Kind::Int,
        SqlType::Bigint => Kind::Bigint,
        SqlType::Timestamp => Kind::Timestamp,
        SqlType::Date => Kind::Date,
        SqlType::Time => Kind::Time,
        SqlType::Double => Kind::Double,
        SqlType::String => Kind::String,
        _ => Kind::Exact,
    }
}

/// `json_read::coerce_fields`' matching: the exact name, else the upper-cased field name
/// (upper-cased char by char, as there).
fn match_key(key: &str, key_is_ascii: bool, name: &str) -> Match {
    if !key_is_ascii {
        return if key == name {
            Match::Exact
        } else if key.chars().flat_map(char::to_uppercase).eq(name.chars()) {
            Match::Upper
        } else {
            Match::No
        };
    }
    if key.len() != name.len() {
        return Match::No;
    }
    let (mut exact, mut upper) = (true, true);
    for (k, n) in key.bytes().zip(name.bytes()) {
        exact &= k == n;
        upper &= k.to_ascii_uppercase() == n;
    }
    match (exact, upper) {
        (true, _) => Match::Exact,
        (false, true) => Match::Upper,
        (false, false) => Match::No,
    }
}

/// A value of the column's type; `None` if it cannot be coerced.
fn cell<'a>(target: &Target, token: &Token<'a>) -> Option<Cell<'a>> {
    let value = match (target.kind, token) {
        (_, Token::Null) => Value::Null,
        (Kind::Boolean, Token::Bool(b)) => Value::Boolean(*b),
        (Kind::String, Token::Str(Cow::Borrowed(s))) => return Some(Cell::Str(s)),
        (Kind::String, Token::Str(Cow::Owned(s))) => Value::String(s.clone()),
        // `JsonNode.doubleValue()` of a valid literal.
        (Kind::Double, Token::Number(n)) => Value::Double(n.parse().unwrap_or(f64::NAN)),
        (kind, Token::Number(n)) if kind != Kind::Exact && plain_long(n).is_some() => {
            integral(kind, plain_long(n)?)?
        }
        (_, Token::Node(node)) => {
            json_read::coerce(node, &target.sql_type, Integers::Truncate).ok()?
        }
        (_, token) => {
            json_read::coerce(&scalar_node(token), &target.sql_type, Integers::Truncate).ok()?
        }
    };
    Some(Cell::Val(value))
}

/// An integer literal that fits in 64 bits, which Jackson's `asLong()` reads as it is.
fn plain_long(literal: &str) -> Option<i64> {
    if literal.contains(['.', 'e', 'E']) {
        return None;
    }
    literal.parse().ok()
}

/// An integral column's value from a long, as `json_read` narrows it.
fn integral(kind: Kind, long: i64) -> Option<Value> {
    Some(match kind {
        Kind::Int => Value::Int(long as i32),
        Kind::Bigint => Value::Bigint(long),
        Kind::Timestamp => Value::Timestamp(long),
        Kind::Date => Value::Date(long as i32),
        Kind::Time => json_read::time_of_day(long).ok()?,
        _ => return None,
    })
}

/// The tree node of a scanned scalar, for the exact coercion.
fn scalar_node(token: &Token<'_>) -> JsonNode {
    match token {
        Token::Null => JsonNode::Null,
        Token::Bool(b) => JsonNode::Bool(*b),
        Token::Number(n) => JsonNode::Number(JsonNumber::new(n.to_string())),
        Token::Str(s) => JsonNode::Text(s.to_string()),
        Token::Node(node) => node.clone(),
    }
}
