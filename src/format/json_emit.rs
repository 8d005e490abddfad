//! Writing JSON cells straight from Arrow arrays into a byte buffer: the scalar types are
//! written without a `Value` per cell, byte for byte as `json::serialize` writes them; other
//! types (decimals, bytes, nested values) go through `json::write_value`.

use super::FormatError;
use super::java;
use crate::common::{ArrayView, SqlType};
use std::io::Write as _;

/// Writes row `row` of `view`, a column of type `ty`.
pub(super) fn write_cell(
    out: &mut Vec<u8>,
    view: &ArrayView<'_>,
    row: usize,
    ty: &SqlType,
) -> Result<(), FormatError> {
    if view.is_null(row) {
        out.extend_from_slice(b"null");
        return Ok(());
    }
    match (ty, view) {
        (SqlType::Boolean, ArrayView::Boolean(a)) => {
            out.extend_from_slice(if a.value(row) { b"true" } else { b"false" });
        }
        (SqlType::Int, ArrayView::Int(a)) => write_int(out, a.value(row).into()),
        (SqlType::Bigint, ArrayView::Int(a)) => write_int(out, a.value(row).into()),
        (SqlType::Bigint, ArrayView::Bigint(a)) => write_int(out, a.value(row)),
        (SqlType::Timestamp, ArrayView::Timestamp(a)) => write_int(out, a.value(row)),
        (SqlType::Date, ArrayView::Date(a)) => write_int(out, a.value(row).into()),
        (SqlType::Time, ArrayView::Time(a)) => write_int(out, a.value(row).into()),
        (SqlType::Double, ArrayView::Double(a)) => write_double(out, a.value(row)),
        (SqlType::String, ArrayView::String(a)) => write_str(out, a.value(row)),
        (ty, view) => {
            let mut text = String::new();
            super::json::write_value(&mut text, &view.value(row), ty)?;
            out.extend_from_slice(text.as_bytes());
        }
    }
    Ok(())
}

/// `v` in decimal, as `Display` writes it.
fn write_int(out: &mut Vec<u8>, v: i64) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    let mut rest = v.unsigned_abs();
    for slot in digits.iter_mut().rev() {
        *slot = b'0' + (rest % 10) as u8;
        start -= 1;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    if v < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(&digits[start..]);
}

/// Java's `Double.toString`; Jackson quotes the non-finite ones.
fn write_double(out: &mut Vec<u8>, d: f64) {
    if d.is_finite() {
        java::write_double(out, d);
    } else {
        write_str(out, &java::double_to_string(d));
    }
}

/// `s` as a JSON string with Jackson's escapes (as `json_node::write_string`): runs of
/// characters that need none are copied as they are.
pub(super) fn write_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut run = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            0x08 => b"\\b",
            b'\t' => b"\\t",
            0x0c => b"\\f",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b if b < b' ' => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[run..i]);
        if escape.is_empty() {
            let _ = write!(out, "\\u{:04X}", b);
        } else {
            out.extend_from_slice(escape);
        }
        run = i + 1;
    }
    out.extend_from_slice(&bytes[run..]);
    out.push(b'"');
}
