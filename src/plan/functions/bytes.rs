//! BYTES conversions: TO_BYTES, FROM_BYTES, ENCODE (hex, utf8, ascii, base64 as Java and
//! commons-codec do them), INT/BIGINT/DOUBLE_FROM_BYTES, INT_FROM_BOOLEAN, MD5 and UUID.

use super::FunctionRegistry;
use super::basic::{pick, sig};
use crate::common::{SqlType, Value};
use base64::Engine;

pub fn register(r: &mut FunctionRegistry) {
    use SqlType::{Bigint, Boolean, Bytes, Double, Int, String as Str};
    r.add_udf(
        "TO_BYTES",
        "Decodes a string in hex, utf8, ascii or base64 into bytes.",
        |a| pick("to_bytes", a, &[sig(&[Str, Str], Bytes)]),
        to_bytes,
    );
    r.add_udf(
        "FROM_BYTES",
        "Encodes bytes as a hex, utf8, ascii or base64 string.",
        |a| pick("from_bytes", a, &[sig(&[Bytes, Str], Str)]),
        from_bytes,
    );
    r.add_udf(
        "ENCODE",
        "Re-encodes a string from one of hex, utf8, ascii, base64 to another.",
        |a| pick("encode", a, &[sig(&[Str, Str, Str], Str)]),
        encode,
    );
    r.add_udf(
        "MD5",
        "Lower-case hex MD5 of the UTF-8 bytes of a string.",
        |a| pick("md5", a, &[sig(&[Str], Str)]),
        |v| {
            use md5::Digest;
            Ok(match &v[0] {
                Value::String(s) => Value::String(hex(&md5::Md5::digest(s.as_bytes()), false)),
                _ => Value::Null,
            })
        },
    );
    r.add_udf(
        "UUID",
        "A random UUID, or the UUID held in 16 bytes.",
        |a| pick("uuid", a, &[sig(&[], Str), sig(&[Bytes], Str)]),
        uuid,
    );
    r.add_udf(
        "INT_FROM_BYTES",
        "Reads a 4-byte integer.",
        |a| {
            pick(
                "int_from_bytes",
                a,
                &[sig(&[Bytes], Int), sig(&[Bytes, Str], Int)],
            )
        },
        |v| {
            number_from_bytes(v, 4).map(|b| {
                b.map_or(Value::Null, |b| {
                    Value::Int(i32::from_be_bytes(b[..4].try_into().unwrap_or_default()))
                })
            })
        },
    );
    r.add_udf(
        "BIGINT_FROM_BYTES",
        "Reads an 8-byte integer.",
        |a| {
            pick(
                "bigint_from_bytes",
                a,
                &[sig(&[Bytes], Bigint), sig(&[Bytes, Str], Bigint)],
            )
        },
        |v| {
            number_from_bytes(v, 8)
                .map(|b| b.map_or(Value::Null, |b| Value::Bigint(i64::from_be_bytes(b))))
        },
    );
    r.add_udf(
        "DOUBLE_FROM_BYTES",
        "Reads an 8-byte IEEE double.",
        |a| {
            pick(
                "double_from_bytes",
                a,
                &[sig(&[Bytes], Double), sig(&[Bytes, Str], Double)],
            )
        },
        |v| {
            number_from_bytes(v, 8)
                .map(|b| b.map_or(Value::Null, |b| Value::Double(f64::from_be_bytes(b))))
        },
    );
    r.add_udf(
        "INT_FROM_BOOLEAN",
        "1 for true, 0 for false.",
        |a| pick("int_from_boolean", a, &[sig(&[Boolean], Int)]),
        |v| {
            Ok(match v[0] {
                Value::Boolean(b) => Value::Int(i32::from(b)),
                _ => Value::Null,
            })
        },
    );
}

/// Lower- or upper-case hex digits.
pub(super) fn hex(bytes: &[u8], upper: bool) -> String {
    let digits = if upper {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    bytes
        .iter()
        .flat_map(|b| {
            [
                digits[usize::from(b >> 4)] as char,
                digits[usize::from(b & 15)] as char,
            ]
        })
        .collect()
}

fn unhex(s: &str) -> Result<Vec<u8>, String> {
    if !s.len().is_multiple_of(2) {
        return Err(format!("odd number of hex digits: '{s}'"));
    }
    let digit = |c: u8| {
        (c as char)
            .to_digit(16)
            .map(|d| d as u8)
            .ok_or_else(|| format!("invalid hex digit in '{s}'"))
    };
    s.as_bytes()
        .chunks(2)
        .map(|p| Ok(digit(p[0])? << 4 | digit(p[1])?))
        .collect()
}

/// Java's MIME / commons-codec base64 decoding: characters outside the alphabet are skipped.
fn unbase64(s: &str) -> Result<Vec<u8>, String> {
    let mut bits = 0u32;
    let (mut n, mut out) = (0, Vec::new());
    for c in s.bytes().take_while(|&c| c != b'=') {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => continue,
        };
        bits = bits << 6 | u32::from(v);
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
        }
    }
    if n >= 6 {
        Err("truncated base64 input".into())
    } else {
        Ok(out)
    }
}

/// Java `new String(bytes, US_ASCII)`: bytes above 0x7F become U+FFFD.
fn ascii_text(b: &[u8]) -> String {
    b.iter()
        .map(|&c| if c < 0x80 { c as char } else { '\u{FFFD}' })
        .collect()
}

/// Java `getBytes(US_ASCII)`: non-ASCII characters become '?'.
fn ascii_bytes(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| if c.is_ascii() { c as u8 } else { b'?' })
        .collect()
}

fn decode_text(s: &str, encoding: &str) -> Result<Vec<u8>, String> {
    match encoding.to_ascii_lowercase().as_str() {
        "hex" => unhex(s),
        "utf8" => Ok(s.as_bytes().to_vec()),
        "ascii" => Ok(ascii_bytes(s)),
        "base64" => unbase64(s),
        other => Err(format!("Unsupported encoding: {other}")),
    }
}

fn to_bytes(v: &[Value]) -> Result<Value, String> {
    match (&v[0], &v[1]) {
        (Value::String(s), Value::String(enc)) => decode_text(s, enc).map(Value::Bytes),
        (Value::Null, _) => Ok(Value::Null),
        _ => Err("TO_BYTES needs an encoding".into()),
    }
}

fn from_bytes(v: &[Value]) -> Result<Value, String> {
    let (Value::Bytes(b), Value::String(enc)) = (&v[0], &v[1]) else {
        return if v[0].is_null() {
            Ok(Value::Null)
        } else {
            Err("FROM_BYTES needs an encoding".into())
        };
    };
    Ok(Value::String(match enc.to_ascii_lowercase().as_str() {
        "hex" => hex(b, true),
        "utf8" => String::from_utf8_lossy(b).into_owned(),
        "ascii" => ascii_text(b),
        "base64" => {
            // java.util.Base64.getMimeEncoder(): lines of 76 characters separated by CRLF.
            let text = base64::engine::general_purpose::STANDARD.encode(b);
            text.as_bytes()
                .chunks(76)
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .collect::<Vec<_>>()
                .join("\r\n")
        }
        other => return Err(format!("Unsupported encoding: {other}")),
    }))
}

/// ENCODE's hex input: optional `0x` prefix (odd digit count padded) or `X'..'` wrapper.
fn encode_hex_input(s: &str) -> Result<Vec<u8>, String> {
    if let Some(rest) = s.strip_prefix("0x") {
        return unhex(&if !rest.len().is_multiple_of(2) {
            format!("0{rest}")
        } else {
            rest.to_string()
        });
    }
    if (s.starts_with("X'") || s.starts_with("x'")) && s.len() >= 3 && s.ends_with('\'') {
        return unhex(&s[2..s.len() - 1]);
    }
    unhex(s)
}

fn encode(v: &[Value]) -> Result<Value, String> {
    let (Value::String(s), Value::String(from), Value::String(to)) = (&v[0], &v[1], &v[2]) else {
        return Ok(Value::Null);
    };
    let (from, to) = (from.to_ascii_lowercase(), to.to_ascii_lowercase());
    let known = |e: &str| matches!(e, "hex" | "utf8" | "ascii" | "base64");
    if from == to || !known(&from) || !known(&to) {
        return Err(format!(
            "Supported input and output encodings are: hex, utf8, ascii and base64; got {from} to {to}"
        ));
    }
    let bytes = if from == "hex" {
        encode_hex_input(s)?
    } else {
        decode_text(s, &from)?
    };
    Ok(Value::String(match to.as_str() {
        "hex" => hex(&bytes, false),
        "utf8" => String::from_utf8_lossy(&bytes).into_owned(),
        "ascii" => ascii_text(&bytes),
        _ => base64::engine::general_purpose::STANDARD.encode(&bytes),
    }))
}

fn uuid(v: &[Value]) -> Result<Value, String> {
    let bytes: [u8; 16] = match v.first() {
        None => {
            let mut b = fastrand::u128(..).to_be_bytes();
            b[6] = (b[6] & 0x0f) | 0x40;
            b[8] = (b[8] & 0x3f) | 0x80;
            b
        }
        Some(Value::Bytes(b)) if b.len() == 16 => b[..].try_into().map_err(|_| "bad UUID bytes")?,
        _ => return Ok(Value::Null),
    };
    let h = hex(&bytes, false);
    Ok(Value::String(format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )))
}

/// The `n` bytes of a number in the given byte order, as big-endian; NULL input → None.
fn number_from_bytes(v: &[Value], n: usize) -> Result<Option<[u8; 8]>, String> {
    let Value::Bytes(b) = &v[0] else {
        return Ok(None);
    };
    if b.len() != n {
        return Err(format!(
            "Number of bytes must be equal to {n}, but found {}",
            b.len()
        ));
    }
    let mut bytes = b.clone();
    match v.get(1) {
        None => {}
        Some(Value::String(o)) if o == "BIG_ENDIAN" => {}
        Some(Value::String(o)) if o == "LITTLE_ENDIAN" => bytes.reverse(),
        Some(other) => {
            return Err(format!(
                "Byte order must be BIG_ENDIAN or LITTLE_ENDIAN, not {other:?}"
            ));
        }
    }
    let mut out = [0u8; 8];
    out[..n].copy_from_slice(&bytes);
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Value {
        Value::String(x.into())
    }

    #[test]
    fn encode_handles_hex_prefixes() {
        let enc = |x: &str, to: &str| encode(&[s(x), s("hex"), s(to)]).unwrap_or(Value::Null);
        assert_eq!(enc("4578616d706C6521", "base64"), s("RXhhbXBsZSE="));
        assert_eq!(enc("0x578616d706C6521", "ascii"), s("\u{5}xample!"));
        assert_eq!(enc("X''", "utf8"), s(""));
        assert_eq!(enc("x'578616d706C6521'", "utf8"), Value::Null);
        assert_eq!(enc("ce95", "ascii"), s("\u{FFFD}\u{FFFD}"));
        assert!(encode(&[s("abc"), s("utf8"), s("UTF8")]).is_err());
    }

    #[test]
    fn bytes_round_trips() {
        assert_eq!(
            to_bytes(&[s("1aB2"), s("hex")]),
            Ok(Value::Bytes(vec![0x1a, 0xb2]))
        );
        assert_eq!(
            from_bytes(&[Value::Bytes(vec![0x1a, 0xb2]), s("hex")]),
            Ok(s("1AB2"))
        );
        assert_eq!(
            to_bytes(&[s("I\nQ=="), s("base64")]),
            Ok(Value::Bytes(vec![b'!']))
        );
        assert_eq!(
            number_from_bytes(&[Value::Bytes(vec![0, 0, 7, 0xe5])], 4)
                .map(|b| b.map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]))),
            Ok(Some(2021))
        );
        assert!(number_from_bytes(&[Value::Bytes(vec![1, 2])], 4).is_err());
        let long = from_bytes(&[Value::Bytes(vec![0; 60]), s("base64")]).unwrap();
        assert!(matches!(long, Value::String(t) if t.contains("\r\n")));
    }
}
