//! A `CREATE STREAM|TABLE ... AS SELECT` as ksqlDB prints it after rewriting (its
//! SqlFormatter): every select item on its own line with its resolved name, column references
//! qualified by the source's alias, and the EMIT clause made explicit. ksqlDB quotes this form
//! after `Statement:` in the errors it finds once the query is planned.

use crate::plan::QueryPlan;
use crate::plan::expr::ksql_text;
use crate::sql::{CreateAsSelect, Emit, PropertyValue, SelectItem, SourceKind};
use sqlparser::ast::{Expr, Ident};

/// The rewritten text of `c`, whose query planned as `plan`.
pub fn create_as_select_text(c: &CreateAsSelect, plan: &QueryPlan) -> String {
    let q = &c.query;
    let alias = q.from.alias.clone().unwrap_or_else(|| q.from.name.clone());
    let columns: Vec<String> = plan
        .source
        .schema
        .columns
        .iter()
        .map(|c| c.name.clone())
        .collect();
    let qualify = |e: &Expr| ksql_text(&qualified(e, &alias, &columns));
    let kind = match c.kind {
        SourceKind::Stream => "STREAM",
        SourceKind::Table => "TABLE",
    };
    let mut text = format!("CREATE {kind} {}{} AS SELECT\n", c.name, with_clause(c));
    text.push_str(&select_lines(c, plan, &alias, &qualify).join(",\n"));
    text.push_str(&format!("\nFROM {} {alias}", q.from.name));
    if let Some(w) = &q.where_clause {
        text.push_str(&format!("\nWHERE {}", qualify(w)));
    }
    if !q.group_by.is_empty() {
        let keys: Vec<String> = q.group_by.iter().map(&qualify).collect();
        text.push_str(&format!("\nGROUP BY {}", keys.join(", ")));
    }
    if !q.partition_by.is_empty() {
        let keys: Vec<String> = q.partition_by.iter().map(&qualify).collect();
        text.push_str(&format!("\nPARTITION BY {}", keys.join(", ")));
    }
    if let Some(h) = &q.having {
        text.push_str(&format!("\nHAVING {}", qualify(h)));
    }
    text.push_str(match q.emit {
        Some(Emit::Final) => "\nEMIT FINAL",
        _ => "\nEMIT CHANGES",
    });
    text
}

/// `  expression NAME` per output column: the written expressions, named by their alias,
/// their column, or the generated name in turn, when each select item is one column;
/// otherwise (a `*` was expanded) the output columns themselves.
fn select_lines(
    c: &CreateAsSelect,
    plan: &QueryPlan,
    alias: &str,
    qualify: &dyn Fn(&Expr) -> String,
) -> Vec<String> {
    let items: Vec<(&Expr, Option<&String>)> = c
        .query
        .select
        .iter()
        .filter_map(|(item, _)| match item {
            SelectItem::Expr { expr, alias } => Some((expr, alias.as_ref())),
            _ => None,
        })
        .collect();
    if items.len() != c.query.select.len() || items.len() != plan.columns.len() {
        return plan
            .columns
            .iter()
            .map(|column| format!("  {alias}.{0} {0}", column.name))
            .collect();
    }
    let mut generated = plan
        .columns
        .iter()
        .map(|c| c.name.as_str())
        .filter(|n| n.starts_with("KSQL_COL_"));
    items
        .iter()
        .map(|(e, given)| {
            let name = match (given, e) {
                (Some(a), _) => a.to_string(),
                (None, Expr::Identifier(i)) => ident_text(i),
                (None, Expr::CompoundIdentifier(parts)) => {
                    parts.last().map(ident_text).unwrap_or_default()
                }
                (None, _) => generated.next().unwrap_or_default().to_string(),
            };
            format!("  {} {name}", qualify(e))
        })
        .collect()
}

/// A name as written: upper-cased unless quoted.
fn ident_text(i: &Ident) -> String {
    match i.quote_style {
        Some(_) => i.value.clone(),
        None => i.value.to_ascii_uppercase(),
    }
}

/// ` WITH (NAME='value', ...)` when the statement has properties.
fn with_clause(c: &CreateAsSelect) -> String {
    if c.properties.0.is_empty() {
        return String::new();
    }
    let items: Vec<String> = c
        .properties
        .0
        .iter()
        .map(|(name, value, _)| match value {
            PropertyValue::String(s) => format!("{name}='{}'", s.replace('\'', "''")),
            other => format!("{name}={}", other.as_text()),
        })
        .collect();
    format!(" WITH ({})", items.join(", "))
}

/// `e` with each unqualified reference to one of the source's `columns` qualified by `alias`.
fn qualified(e: &Expr, alias: &str, columns: &[String]) -> Expr {
    let mut e = e.clone();
    let _ = sqlparser::ast::visit_expressions_mut(&mut e, |x| {
        if let Expr::Identifier(i) = x {
            let name = ident_text(i);
            if columns.contains(&name) {
                *x = Expr::CompoundIdentifier(vec![Ident::new(alias), Ident::new(name)]);
            }
        }
        std::ops::ControlFlow::<()>::Continue(())
    });
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Engine;
    use crate::sql::StatementKind;

    fn rewritten(sql: &str) -> String {
        let dir = tempfile::tempdir().expect("dir");
        let log = crate::log::EmbeddedLog::open(dir.path(), crate::log::LogConfig::default())
            .expect("log");
        let mut engine = Engine::new(std::sync::Arc::new(log), crate::engine::RunMode::Manual);
        engine
            .execute_text(
                "CREATE STREAM TEST (f1 INT KEY, f2 INT) WITH (kafka_topic='t', value_format='JSON', partitions=1);",
            )
            .expect("source");
        let statement = crate::sql::parse_script(sql).expect("parse").remove(0);
        let StatementKind::CreateAsSelect(c) = statement.kind else {
            panic!("not a CREATE AS SELECT");
        };
        let plan = engine
            .plan(&c.query, crate::plan::QueryKind::Persistent)
            .expect("plan");
        create_as_select_text(&c, &plan)
    }

    #[test]
    fn qualifies_columns_and_names_every_item() {
        let text = rewritten(
            "CREATE TABLE OUTPUT AS SELECT f2, f1, f2+f1, COUNT(*) FROM TEST GROUP BY f1, f2;",
        );
        assert_eq!(
            text,
            "CREATE TABLE OUTPUT AS SELECT\n  TEST.F2 F2,\n  TEST.F1 F1,\n  (TEST.F2 + TEST.F1) KSQL_COL_0,\n  COUNT(*) KSQL_COL_1\nFROM TEST TEST\nGROUP BY TEST.F1, TEST.F2\nEMIT CHANGES"
        );
        let text = rewritten(
            "CREATE STREAM S WITH (KEY_FORMAT='JSON') AS SELECT * FROM TEST t WHERE f2 > 1;",
        );
        assert!(
            text.starts_with("CREATE STREAM S WITH (KEY_FORMAT='JSON') AS SELECT\n  T.F1 F1,\n"),
            "{text}"
        );
        assert!(
            text.ends_with("FROM TEST T\nWHERE (T.F2 > 1)\nEMIT CHANGES"),
            "{text}"
        );
    }
}
