//! The exact keys a pull query asks for, so that it reads only those entries of the table's
//! store instead of scanning it: a WHERE clause whose every OR branch pins every key column
//! with `key = literal` or `key IN (literals)`. Anything else (ranges, expressions on the
//! key, a literal of another type) is answered by a scan; the query's WHERE runs over the
//! rows read either way, so the lookup only narrows what is read.

use crate::common::{SqlType, Value};
use crate::plan::QueryPlan;
use crate::plan::expr::{CmpOp, Node, TExpr, eval};

/// More key combinations than this (IN lists multiplied across key columns) are scanned.
const MAX_KEYS: usize = 10_000;

/// The key tuples (in the table's key-column order) that the query's WHERE clause limits it
/// to, or `None` when it does not pin every key column in every branch.
pub(super) fn exact_keys(plan: &QueryPlan) -> Option<Vec<Vec<Value>>> {
    let filter = plan.filter.as_ref()?;
    let keys: Vec<(&str, &SqlType)> = plan
        .source
        .schema
        .key_columns()
        .map(|c| (c.name.as_str(), &c.sql_type))
        .collect();
    if keys.is_empty() {
        return None;
    }
    let mut tuples: Vec<Vec<Value>> = Vec::new();
    for branch in operands(&filter.expr, true) {
        let conjuncts = operands(branch, false);
        let mut branch_tuples: Vec<Vec<Value>> = vec![Vec::new()];
        for (name, ty) in &keys {
            let values = conjuncts.iter().find_map(|c| pinned_values(c, name, ty))?;
            branch_tuples = product(branch_tuples, &values)?;
        }
        tuples.extend(branch_tuples);
        if tuples.len() > MAX_KEYS {
            return None;
        }
    }
    tuples.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
    tuples.dedup();
    Some(tuples)
}

/// Every tuple extended by each value.
fn product(tuples: Vec<Vec<Value>>, values: &[Value]) -> Option<Vec<Vec<Value>>> {
    if tuples.len().saturating_mul(values.len()) > MAX_KEYS {
        return None;
    }
    Some(
        tuples
            .iter()
            .flat_map(|t| {
                values.iter().map(move |v| {
                    let mut t = t.clone();
                    t.push(v.clone());
                    t
                })
            })
            .collect(),
    )
}

/// The values `c` pins key column `name` to: `name = literal` (either side) or `name IN
/// (literals)`, each literal of the column's own type.
fn pinned_values(c: &TExpr, name: &str, ty: &SqlType) -> Option<Vec<Value>> {
    let literals: Vec<&TExpr> = match &c.node {
        Node::Compare {
            op: CmpOp::Eq,
            left,
            right,
        } => match (is_column(left, name), is_column(right, name)) {
            (true, false) => vec![right],
            (false, true) => vec![left],
            _ => return None,
        },
        Node::InList {
            expr,
            list,
            negated: false,
        } if is_column(expr, name) => list.iter().collect(),
        _ => return None,
    };
    literals
        .into_iter()
        .map(|e| constant(e).filter(|v| of_type(v, ty)))
        .collect()
}

fn is_column(e: &TExpr, name: &str) -> bool {
    matches!(&e.node, Node::Column { name: n, .. } if n == name)
}

/// The value of an expression that reads no column.
fn constant(e: &TExpr) -> Option<Value> {
    if reads_a_column(e) {
        return None;
    }
    crate::common::limits::scoped(|| eval(e, &[], &[])).ok()
}

fn reads_a_column(e: &TExpr) -> bool {
    matches!(e.node, Node::Column { .. }) || e.children().into_iter().any(reads_a_column)
}

/// Whether `v` is a value of the simple key type `ty` exactly as the store holds it.
fn of_type(v: &Value, ty: &SqlType) -> bool {
    matches!(
        (v, ty),
        (Value::Boolean(_), SqlType::Boolean)
            | (Value::Int(_), SqlType::Int)
            | (Value::Bigint(_), SqlType::Bigint)
            | (Value::Double(_), SqlType::Double)
            | (Value::String(_), SqlType::String)
    )
}

/// The operands of nested ORs (`or`) or ANDs.
fn operands(e: &TExpr, or: bool) -> Vec<&TExpr> {
    match (&e.node, or) {
        (Node::Or(a, b), true) | (Node::And(a, b), false) => {
            let mut out = operands(a, or);
            out.extend(operands(b, or));
            out
        }
        _ => vec![e],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Engine, RunMode};
    use crate::sql::StatementKind;

    fn keys_of(engine: &Engine, select: &str) -> Option<Vec<Vec<Value>>> {
        let statement = crate::sql::parse_script(select).expect("parse").remove(0);
        let StatementKind::Select(q) = statement.kind else {
            panic!("not a SELECT");
        };
        let plan = engine.plan(&q, crate::plan::QueryKind::Pull).expect("plan");
        exact_keys(&plan)
    }

    #[test]
    fn finds_keys_pinned_in_every_branch_and_nothing_else() {
        let dir = tempfile::tempdir().expect("dir");
        let log = crate::log::EmbeddedLog::open(dir.path(), crate::log::LogConfig::default())
            .expect("log");
        let mut engine = Engine::new(std::sync::Arc::new(log), RunMode::Manual);
        engine
            .execute_text(
                "CREATE TABLE T (A STRING PRIMARY KEY, B INT PRIMARY KEY, V INT) WITH (kafka_topic='t', format='JSON', partitions=1);",
            )
            .expect("table");
        let s = |t: &str| Value::String(t.into());
        assert_eq!(
            keys_of(
                &engine,
                "SELECT * FROM T WHERE A = 'x' AND B = 1 AND V > 3;"
            ),
            Some(vec![vec![s("x"), Value::Int(1)]])
        );
        assert_eq!(
            keys_of(
                &engine,
                "SELECT * FROM T WHERE B IN (2, 1) AND A = 'x' OR (A = 'y' AND B = 5);"
            )
            .map(|k| k.len()),
            Some(3)
        );
        for scanned in [
            "SELECT * FROM T WHERE A = 'x';",
            "SELECT * FROM T WHERE A = 'x' AND B > 1;",
            "SELECT * FROM T WHERE (A = 'x' AND B = 1) OR V = 2;",
            "SELECT * FROM T WHERE A = 'x' AND B + 1 = 2;",
            "SELECT * FROM T;",
        ] {
            assert_eq!(keys_of(&engine, scanned), None, "{scanned}");
        }
    }
}
