//! Literal splitting: SPLIT (strings and bytes, Guava `Splitter` semantics: empty parts kept)
//! and SPLIT_TO_MAP, whose map iterates in Java `HashMap` order.

use super::FunctionRegistry;
use super::basic::{pick, sig};
use crate::common::{SqlType, Value};

pub fn register(r: &mut FunctionRegistry) {
    use SqlType::{Bytes, String as Str};
    r.add_udf(
        "SPLIT",
        "Splits on a literal delimiter.",
        |a| {
            pick(
                "split",
                a,
                &[
                    sig(&[Str, Str], SqlType::array(Str)),
                    sig(&[Bytes, Bytes], SqlType::array(Bytes)),
                ],
            )
        },
        split,
    );
    r.add_udf(
        "SPLIT_TO_MAP",
        "Splits 'k1=v1;k2=v2' text into a map.",
        |a| {
            pick(
                "split_to_map",
                a,
                &[sig(&[Str, Str, Str], SqlType::map(Str, Str))],
            )
        },
        split_to_map,
    );
}

/// Splits bytes at each non-overlapping occurrence of `delim`, keeping empty parts; an empty
/// input is one empty part, and an empty delimiter splits into single bytes. (A linear-time
/// substring search: delimiters may be long.)
fn split_parts(s: &[u8], delim: &[u8]) -> Vec<Vec<u8>> {
    if s.is_empty() {
        return vec![Vec::new()];
    }
    if delim.is_empty() {
        return s.iter().map(|x| vec![*x]).collect();
    }
    let mut parts = Vec::new();
    let mut start = 0;
    for at in memchr::memmem::find_iter(s, delim) {
        parts.push(s[start..at].to_vec());
        start = at + delim.len();
    }
    parts.push(s[start..].to_vec());
    parts
}

/// Fails before splitting when the pieces would pass the value size limit.
fn check_pieces(pieces: usize) -> Result<(), String> {
    let each = std::mem::size_of::<Value>();
    crate::common::limits::check_elements(pieces as u128, each, "SPLIT's result")
}

fn split(v: &[Value]) -> Result<Value, String> {
    Ok(match (&v[0], &v[1]) {
        (Value::String(s), Value::String(d)) => {
            check_pieces(match d.is_empty() {
                true => s.chars().count(),
                false => s.matches(d.as_str()).count() + 1,
            })?;
            let parts = if d.is_empty() {
                s.chars().map(|c| c.to_string()).collect::<Vec<_>>()
            } else {
                s.split(d.as_str()).map(str::to_string).collect()
            };
            Value::Array(if parts.is_empty() {
                vec![Value::String(String::new())]
            } else {
                parts.into_iter().map(Value::String).collect()
            })
        }
        (Value::Bytes(b), Value::Bytes(d)) => {
            check_pieces(match d.is_empty() {
                true => b.len(),
                false => memchr::memmem::find_iter(b, d).count() + 1,
            })?;
            Value::Array(split_parts(b, d).into_iter().map(Value::Bytes).collect())
        }
        _ => Value::Null,
    })
}

fn split_to_map(v: &[Value]) -> Result<Value, String> {
    let (Value::String(s), Value::String(entry), Value::String(kv)) = (&v[0], &v[1], &v[2]) else {
        return Ok(Value::Null);
    };
    if entry.is_empty() || kv.is_empty() || entry == kv {
        return Ok(Value::Null);
    }
    let mut entries: Vec<(String, String)> = Vec::new();
    for e in s
        .split(entry.as_str())
        .filter(|e| !e.is_empty() && e.contains(kv.as_str()))
    {
        let mut it = e.split(kv.as_str());
        let (k, val) = (
            it.next().unwrap_or_default().to_string(),
            it.next().unwrap_or_default().to_string(),
        );
        match entries.iter_mut().find(|(x, _)| *x == k) {
            Some(slot) => slot.1 = val,
            None => entries.push((k, val)),
        }
    }
    // ksqlDB builds the map in a `new HashMap<>()`: its entries come out in that order.
    crate::format::hash_map_order(&mut entries, crate::format::JAVA_HASH_MAP_CAPACITY);
    Ok(Value::Map(
        entries
            .into_iter()
            .map(|(k, v)| (Value::String(k), Value::String(v)))
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::functions::test_support::{call_or_null as call, s};

    #[test]
    fn splits_keep_empty_parts() {
        let arr = |xs: &[&str]| Value::Array(xs.iter().map(|x| s(x)).collect());
        assert_eq!(
            call("SPLIT", &[s("..a.."), s(".")]),
            arr(&["", "", "a", "", ""])
        );
        assert_eq!(call("SPLIT", &[s(""), s(".")]), arr(&[""]));
        assert_eq!(call("SPLIT", &[s("abc"), s("")]), arr(&["a", "b", "c"]));
        assert_eq!(
            split_parts(b".abc$$", b"$$"),
            vec![b".abc".to_vec(), Vec::new()]
        );
        let m = call("SPLIT_TO_MAP", &[s("a=1;;b=2=x;c;a=3"), s(";"), s("=")]);
        assert_eq!(m, Value::Map(vec![(s("a"), s("3")), (s("b"), s("2"))]));
        assert_eq!(
            call("SPLIT_TO_MAP", &[s("a=1"), s("="), s("=")]),
            Value::Null
        );
    }
}
