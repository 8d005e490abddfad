//! JSON functions: EXTRACTJSONFIELD, JSON_ARRAY_CONTAINS, IS_JSON_STRING, JSON_ARRAY_LENGTH,
//! JSON_KEYS, JSON_RECORDS, JSON_ITEMS, JSON_CONCAT and TO_JSON_STRING, with Jackson's parsing
//! (see `json_tree`) and ksqlDB's serialization of SQL values (struct fields and map keys
//! sorted, ISO dates and times, base64 bytes).

use super::collections::java_cmp;
use super::json_tree::{Json, read_tree, write_string};
use super::signature::mismatch;
use super::{Arg, FunctionRegistry, Resolved};
use crate::common::{SqlType, Value};
use crate::plan::expr::{
    base64, decimal, format_date_iso, format_time_iso, format_timestamp_iso, java_double,
};

fn fixed(name: &str, args: &[Arg], params: &[SqlType], ret: SqlType) -> Result<Resolved, String> {
    let ok = args.len() == params.len()
        && args
            .iter()
            .zip(params)
            .all(|(a, p)| a.as_ref().is_none_or(|t| t == p));
    if ok {
        Ok(Resolved {
            args: params.to_vec(),
            ret,
        })
    } else {
        Err(mismatch(name, args))
    }
}

pub fn register(r: &mut FunctionRegistry) {
    use SqlType::String as Str;
    r.add_udf(
        "EXTRACTJSONFIELD",
        "Extracts a value from JSON text by a JSONPath such as '$.a[0].b'.",
        |a| fixed("EXTRACTJSONFIELD", a, &[Str, Str], Str),
        |v| match (&v[0], &v[1]) {
            (Value::String(json), Value::String(path)) => extract(json, path),
            _ => Ok(Value::Null),
        },
    );
    r.add_udf(
        "JSON_ARRAY_CONTAINS",
        "Whether a JSON array has a top-level element equal to a value.",
        contains_type,
        |v| match &v[0] {
            Value::String(json) => Ok(Value::Boolean(array_contains(json, &v[1]))),
            _ => Err("NULL JSON array".into()),
        },
    );
    r.add_udf(
        "IS_JSON_STRING",
        "Whether text is valid JSON.",
        |a| fixed("IS_JSON_STRING", a, &[Str], SqlType::Boolean),
        |v| {
            Ok(Value::Boolean(
                matches!(&v[0], Value::String(s) if matches!(read_tree(s), Ok(Some(_)))),
            ))
        },
    );
    r.add_udf(
        "JSON_ARRAY_LENGTH",
        "The number of elements of a JSON array.",
        |a| fixed("JSON_ARRAY_LENGTH", a, &[Str], SqlType::Int),
        |v| {
            Ok(match tree(&v[0])? {
                Some(Json::Array(items)) => Value::Int(items.len() as i32),
                _ => Value::Null,
            })
        },
    );
    r.add_udf(
        "JSON_KEYS",
        "The keys of a JSON object, in document order.",
        |a| fixed("JSON_KEYS", a, &[Str], SqlType::array(Str)),
        |v| {
            Ok(match tree(&v[0])? {
                Some(Json::Object(fields)) => {
                    Value::Array(fields.into_iter().map(|(k, _)| Value::String(k)).collect())
                }
                _ => Value::Null,
            })
        },
    );
    r.add_udf(
        "JSON_RECORDS",
        "A JSON object as a map of keys to values' text.",
        |a| fixed("JSON_RECORDS", a, &[Str], SqlType::map(Str, Str)),
        |v| {
            Ok(match tree(&v[0])? {
                Some(Json::Object(fields)) => Value::Map(
                    fields
                        .into_iter()
                        .map(|(k, v)| (Value::String(k), Value::String(v.as_text_or_json())))
                        .collect(),
                ),
                _ => Value::Null,
            })
        },
    );
    r.add_udf(
        "JSON_ITEMS",
        "A JSON array of objects as an array of their JSON text.",
        |a| fixed("JSON_ITEMS", a, &[Str], SqlType::array(Str)),
        |v| {
            Ok(match tree(&v[0])? {
                Some(Json::Array(items)) if items.iter().all(|i| matches!(i, Json::Object(_))) => {
                    Value::Array(items.iter().map(|i| Value::String(i.to_text())).collect())
                }
                _ => Value::Null,
            })
        },
    );
    r.add_udf(
        "JSON_CONCAT",
        "Merges JSON objects, or concatenates JSON arrays (other values as one-element arrays).",
        concat_type,
        json_concat,
    );
    r.add_udf(
        "TO_JSON_STRING",
        "A value as JSON text.",
        |a| match a {
            [t] => Ok(Resolved {
                args: vec![t.clone().unwrap_or(SqlType::String)],
                ret: SqlType::String,
            }),
            _ => Err(mismatch("to_json_string", a)),
        },
        |v| Ok(Value::String(to_json(&v[0]))),
    );
}

fn tree(v: &Value) -> Result<Option<Json>, String> {
    match v {
        Value::String(s) => read_tree(s),
        _ => Ok(None),
    }
}

fn contains_type(a: &[Arg]) -> Result<Resolved, String> {
    match a {
        [None | Some(SqlType::String), t] => {
            let t = t.clone().unwrap_or(SqlType::String);
            match t {
                SqlType::Boolean
                | SqlType::Int
                | SqlType::Bigint
                | SqlType::Double
                | SqlType::String
                | SqlType::Decimal { .. } => Ok(Resolved {
                    args: vec![SqlType::String, t],
                    ret: SqlType::Boolean,
                }),
                _ => Err(mismatch("json_array_contains", a)),
            }
        }
        _ => Err(mismatch("json_array_contains", a)),
    }
}

fn concat_type(a: &[Arg]) -> Result<Resolved, String> {
    if a.iter()
        .all(|t| t.as_ref().is_none_or(|t| *t == SqlType::String))
    {
        Ok(Resolved {
            args: vec![SqlType::String; a.len()],
            ret: SqlType::String,
        })
    } else {
        Err(mismatch("json_concat", a))
    }
}

/// `$.a.b[0]["c d"]` → its tokens.
fn path_tokens(path: &str) -> Result<Vec<String>, String> {
    let bad = || format!("Invalid JsonPath: {path}");
    let rest = path.trim().strip_prefix('$').ok_or_else(bad)?;
    let chars: Vec<char> = rest.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '.' => {
                let start = i + 1;
                i = start;
                while i < chars.len() && chars[i] != '.' && chars[i] != '[' {
                    i += 1;
                }
                if i == start {
                    return Err(bad());
                }
                tokens.push(chars[start..i].iter().collect());
            }
            '[' => {
                let quote = chars
                    .get(i + 1)
                    .copied()
                    .filter(|c| *c == '"' || *c == '\'');
                let start = i + 1 + usize::from(quote.is_some());
                let end_char = quote.unwrap_or(']');
                let end = (start..chars.len())
                    .find(|&j| chars[j] == end_char)
                    .ok_or_else(bad)?;
                tokens.push(chars[start..end].iter().collect());
                i = end + 1 + usize::from(quote.is_some());
                if chars.get(i - 1) != Some(&']') {
                    return Err(bad());
                }
            }
            _ => return Err(bad()),
        }
    }
    Ok(tokens)
}

fn extract(json: &str, path: &str) -> Result<Value, String> {
    let tokens = path_tokens(path)?;
    let Some(mut node) = read_tree(json)? else {
        return Ok(Value::Null);
    };
    for token in tokens {
        let next = match node {
            Json::Array(mut items) => match token.trim().parse::<i32>() {
                Ok(i) if i >= 0 && (i as usize) < items.len() => {
                    Some(items.swap_remove(i as usize))
                }
                _ => None,
            },
            Json::Object(fields) => fields
                .into_iter()
                .find(|(k, _)| *k == token)
                .map(|(_, v)| v),
            _ => None,
        };
        match next {
            Some(n) => node = n,
            None => return Ok(Value::Null),
        }
    }
    Ok(Value::String(node.as_text_or_json()))
}

/// Top-level elements only; numbers match by kind (an INT never equals `1.0`).
fn array_contains(json: &str, val: &Value) -> bool {
    let Ok(Some(Json::Array(items))) = read_tree(json) else {
        return false;
    };
    items.iter().any(|item| match (item, val) {
        (Json::Null, Value::Null) => true,
        (Json::Bool(b), Value::Boolean(x)) => b == x,
        (Json::Str(s), Value::String(x)) => s == x,
        (Json::Number(n, false), Value::Int(x)) => {
            n.parse::<i64>().is_ok_and(|n| n == i64::from(*x))
        }
        (Json::Number(n, false), Value::Bigint(x)) => n.parse::<i64>().is_ok_and(|n| n == *x),
        (Json::Number(n, true), Value::Double(x)) => n.parse::<f64>().is_ok_and(|n| n == *x),
        (Json::Number(n, _), Value::Decimal(u, s)) => {
            decimal::parse(n).is_ok_and(|d| decimal::cmp(d, (*u, *s)).is_eq())
        }
        _ => false,
    })
}

fn json_concat(v: &[Value]) -> Result<Value, String> {
    let mut nodes = Vec::with_capacity(v.len());
    for arg in v {
        match tree(arg)? {
            Some(node) => nodes.push(node),
            None => return Ok(Value::Null),
        }
    }
    let out = if nodes.iter().all(|n| matches!(n, Json::Object(_))) {
        let mut merged: Vec<(String, Json)> = Vec::new();
        for node in nodes {
            let Json::Object(fields) = node else { continue };
            for (k, val) in fields {
                match merged.iter_mut().find(|(m, _)| *m == k) {
                    Some(slot) => slot.1 = val,
                    None => merged.push((k, val)),
                }
            }
        }
        Json::Object(merged)
    } else {
        Json::Array(
            nodes
                .into_iter()
                .flat_map(|n| match n {
                    Json::Array(items) => items,
                    other => vec![other],
                })
                .collect(),
        )
    };
    Ok(Value::String(out.to_text()))
}

/// TO_JSON_STRING's rendering of a SQL value.
pub fn to_json(v: &Value) -> String {
    let mut out = String::new();
    write_value(v, &mut out);
    out
}

fn write_value(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(x) => out.push_str(&x.to_string()),
        Value::Bigint(x) => out.push_str(&x.to_string()),
        Value::Double(d) if d.is_finite() => out.push_str(&java_double(*d)),
        Value::Double(d) => write_string(&java_double(*d), out),
        Value::Decimal(x, s) => out.push_str(&decimal::format(*x, *s)),
        Value::String(s) => write_string(s, out),
        Value::Bytes(b) => write_string(&base64(b), out),
        Value::Timestamp(t) => write_string(&format_timestamp_iso(*t), out),
        Value::Date(d) => write_string(&format_date_iso(*d), out),
        Value::Time(t) => write_string(&format_time_iso(*t), out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(item, out);
            }
            out.push(']');
        }
        Value::Map(entries) => {
            let mut sorted: Vec<&(Value, Value)> = entries.iter().collect();
            sorted.sort_by(|a, b| java_cmp(&a.0, &b.0));
            write_object(sorted.into_iter().map(|(k, v)| (key_text(k), v)), out);
        }
        Value::Struct(fields) => {
            let mut sorted: Vec<&(String, Value)> = fields.iter().collect();
            sorted.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
            write_object(sorted.into_iter().map(|(k, v)| (k.clone(), v)), out);
        }
    }
}

fn key_text(k: &Value) -> String {
    match k {
        Value::String(s) => s.clone(),
        other => crate::plan::expr::to_text(other),
    }
}

fn write_object<'a>(fields: impl Iterator<Item = (String, &'a Value)>, out: &mut String) {
    out.push('{');
    for (i, (k, v)) in fields.enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_string(&k, out);
        out.push(':');
        write_value(v, out);
    }
    out.push('}');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Value {
        Value::String(x.into())
    }

    #[test]
    fn extracts_by_path() {
        let doc = r#"{"name":"cdc","@type":"UDF","a":{"b c":[1,{"x":1.50}]},"n":null}"#;
        assert_eq!(extract(doc, "$.name"), Ok(s("cdc")));
        assert_eq!(extract(doc, "$.@type"), Ok(s("UDF")));
        assert_eq!(extract(doc, "$.a[\"b c\"][1]"), Ok(s("{\"x\":1.50}")));
        assert_eq!(extract(doc, "$.a['b c'][1].x"), Ok(s("1.50")));
        assert_eq!(extract(doc, "$.a['b c'][-1]"), Ok(Value::Null));
        assert_eq!(extract(doc, "$.a['b c'].x"), Ok(Value::Null));
        assert_eq!(extract(doc, "$.n"), Ok(s("null")));
        assert_eq!(extract("", "$.a"), Ok(Value::Null));
        assert!(extract("{bad", "$.a").is_err());
    }

    #[test]
    fn array_contains_matches_kinds() {
        assert!(array_contains("[\"Pink\", null]", &s("Pink")));
        assert!(array_contains("[1, [2]]", &Value::Int(1)));
        assert!(
            !array_contains("[1, [2]]", &Value::Int(2)),
            "nested arrays are skipped"
        );
        assert!(
            !array_contains("[1.0]", &Value::Int(1)),
            "an INT never matches a float"
        );
        assert!(array_contains("[1.0]", &Value::Double(1.0)));
        assert!(array_contains("[null]", &Value::Null));
        assert!(!array_contains("{\"a\":1}", &Value::Int(1)));
    }

    #[test]
    fn concat_merges_or_appends() {
        let c = |a: &str, b: &str| json_concat(&[s(a), s(b)]);
        assert_eq!(
            c("{\"a\": {\"5\": 6}}", "{\"a\": {\"3\": 4}}"),
            Ok(s("{\"a\":{\"3\":4}}"))
        );
        assert_eq!(c("null", "null"), Ok(s("[null,null]")));
        assert_eq!(c("[1, 2]", "{\"a\": 1}"), Ok(s("[1,2,{\"a\":1}]")));
        assert_eq!(c("1", ""), Ok(Value::Null));
        assert_eq!(json_concat(&[s("[1]"), Value::Null]), Ok(Value::Null));
    }

    #[test]
    fn to_json_sorts_keys() {
        let v = Value::Struct(vec![
            (
                "b".into(),
                Value::Map(vec![
                    (s("z"), Value::Time(60_220_000)),
                    (s("a"), Value::Double(1e10)),
                ]),
            ),
            ("A".into(), Value::Decimal(-5, 2)),
        ]);
        assert_eq!(
            to_json(&v),
            r#"{"A":-0.05,"b":{"a":1.0E10,"z":"16:43:40"}}"#
        );
        assert_eq!(
            to_json(&Value::Timestamp(60_220_000_000)),
            "\"1971-11-28T23:46:40.000\""
        );
        assert_eq!(to_json(&Value::Null), "null");
    }
}
