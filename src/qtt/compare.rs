//! Comparing expected and actual logical values: numbers within 1e-6 (so 1 equals 1.0 and
//! decimals compare by value), object keys case-insensitively, everything else exactly.

use serde_json::Value as Json;

pub fn same(expected: &Json, actual: &Json) -> bool {
    match (expected, actual) {
        (Json::Number(a), Json::Number(b)) => match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => (x - y).abs() <= 1e-6 * x.abs().max(1.0),
            _ => a == b,
        },
        (Json::String(a), Json::Number(b)) | (Json::Number(b), Json::String(a)) => a
            .parse::<f64>()
            .ok()
            .zip(b.as_f64())
            .is_some_and(|(x, y)| (x - y).abs() <= 1e-6 * x.abs().max(1.0)),
        (Json::Array(a), Json::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y))
        }
        (Json::Object(a), Json::Object(b)) => {
            a.len() == b.len()
                && a.iter().all(|(k, v)| {
                    b.iter()
                        .find(|(bk, _)| bk.eq_ignore_ascii_case(k))
                        .is_some_and(|(_, bv)| same(v, bv))
                })
        }
        (a, b) => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tolerant_where_the_corpus_says() {
        assert!(same(
            &json!({"ID": 1, "X": [1.0, "a"]}),
            &json!({"id": 1.0, "x": [1, "a"]})
        ));
        assert!(same(&json!(10.0), &json!(10.0000)));
        assert!(!same(&json!({"ID": 1}), &json!({"ID": 1, "Y": null})));
        assert!(!same(&json!("a"), &json!("A")));
        assert!(!same(&json!(1.5), &json!(1.6)));
    }
}
