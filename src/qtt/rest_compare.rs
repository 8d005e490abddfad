//! How the rest runner compares `/query` replies with a case's expected responses: the header
//! by its schema (query ids are not compared), and the rows in order when the case sets
//! `outputConditions.verifyOrder`, otherwise as a multiset, as ksqlDB's RestTestExecutor does.

use super::compare::same;
use serde_json::Value as Json;

/// A case's expected responses: the admin statements' first, then one per query.
pub(super) struct Responses<'a> {
    pub(super) admin_count: usize,
    pub(super) responses: &'a [Json],
    /// Rows must come in the expected order (`outputConditions.verifyOrder`).
    pub(super) ordered: bool,
}

pub(super) fn compare_responses(
    expected: &[Json],
    admin_count: usize,
    actual: &[Json],
    ordered: bool,
) -> Result<(), String> {
    for (i, want) in expected.iter().enumerate() {
        if i < admin_count {
            if want.get("admin").is_none() {
                return Err(format!(
                    "response {i}: expected {want}, got an admin response"
                ));
            }
            continue;
        }
        let Some(want) = want.get("query") else {
            return Err(format!(
                "response {i}: expected {want}, got a query response"
            ));
        };
        let got = actual
            .get(i - admin_count)
            .ok_or_else(|| format!("response {i}: missing"))?;
        compare_query(i, want, got, ordered)?;
    }
    Ok(())
}

/// The header must match, and the rows in order or as a multiset (`finalMessage` entries are
/// the HTTP layer's).
fn compare_query(i: usize, want: &Json, got: &Json, ordered: bool) -> Result<(), String> {
    let keep = |items: &Json| -> Vec<Json> {
        items
            .as_array()
            .map(|a| {
                a.iter()
                    .filter(|e| e.get("finalMessage").is_none())
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    };
    let (want, got) = (keep(want), keep(got));
    let entry_matches = |w: &Json, g: &Json| match (w.get("header"), g.get("header")) {
        (Some(wh), Some(gh)) => wh.get("schema") == gh.get("schema"),
        (None, None) => same(w, g),
        _ => false,
    };
    let matches = want.len() == got.len()
        && match ordered {
            true => want.iter().zip(&got).all(|(w, g)| entry_matches(w, g)),
            false => same_multiset(&want, &got, entry_matches),
        };
    match matches {
        true => Ok(()),
        false => Err(format!(
            "response {i}: expected {}, got {}",
            Json::Array(want),
            Json::Array(got)
        )),
    }
}

/// Whether every expected entry matches a distinct actual one (the lists have equal length).
fn same_multiset(want: &[Json], got: &[Json], matches: impl Fn(&Json, &Json) -> bool) -> bool {
    let mut used = vec![false; got.len()];
    want.iter().all(|w| {
        let found = (0..got.len()).find(|j| !used[*j] && matches(w, &got[*j]));
        found.map(|j| used[j] = true).is_some()
    })
}

#[cfg(test)]
mod tests {
    use super::compare_query;
    use serde_json::json;

    #[test]
    fn rows_compare_as_a_multiset_unless_order_is_verified() {
        let header = json!({"header": {"schema": "`K` STRING KEY"}});
        let row = |k: &str| json!({"row": {"columns": [k]}});
        let want = json!([header, row("a"), row("b"), row("b")]);
        let swapped = json!([header, row("b"), row("a"), row("b")]);
        assert!(compare_query(0, &want, &swapped, false).is_ok());
        assert!(compare_query(0, &want, &swapped, true).is_err());
        let other_counts = json!([header, row("a"), row("a"), row("b")]);
        assert!(compare_query(0, &want, &other_counts, false).is_err());
        let missing = json!([header, row("a"), row("b")]);
        assert!(compare_query(0, &want, &missing, false).is_err());
    }
}
