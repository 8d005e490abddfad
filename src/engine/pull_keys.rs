//! Which pull queries are key lookups: with `ksql.query.pull.table.scan.enabled=false`, ksqlDB
//! answers only queries whose WHERE pins the table's key (each disjunct an `=` or `IN` on every
//! key column, or a range on a single STRING key of a non-windowed table when range scans are
//! enabled), and refuses the rest with these messages.

use crate::plan::QueryPlan;
use crate::plan::expr::{CmpOp, Node, TExpr};
use crate::plan::schema::{ColumnRole, WINDOWEND, WINDOWSTART};
use std::collections::BTreeMap;

const NEEDS_SCAN: &str = "Query requires table scan to be enabled";
const UNRESOLVABLE: &str = "A comparison must be between a key column and a resolvable expression.";
const COMBINED: &str = "A comparison condition on the key column cannot be combined with other comparisons such as an IN predicate";
const MULTI_COLUMN: &str = "Multi-column sources must specify every key in the WHERE clause.";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Bound {
    Equal,
    Range,
}

/// Refuses a pull query that would need a table scan (its message), as ksqlDB does when
/// table scans are disabled.
pub(super) fn require_key_lookup(plan: &QueryPlan, range_scans: bool) -> Result<(), String> {
    let keys: Vec<String> = plan
        .source
        .schema
        .columns
        .iter()
        .filter(|c| c.role == ColumnRole::Key)
        .map(|c| c.name.clone())
        .collect();
    let Some(filter) = &plan.filter else {
        return Err(NEEDS_SCAN.into());
    };
    let mut disjuncts = Vec::new();
    split(&filter.expr, true, &mut disjuncts);
    let lookup = Lookup {
        plan,
        keys: &keys,
        single_disjunct: disjuncts.len() == 1,
        range_scans,
    };
    disjuncts.iter().try_for_each(|d| lookup.check(d))
}

struct Lookup<'a> {
    plan: &'a QueryPlan,
    keys: &'a [String],
    single_disjunct: bool,
    range_scans: bool,
}

impl Lookup<'_> {
    fn check(&self, disjunct: &TExpr) -> Result<(), String> {
        let mut conjuncts = Vec::new();
        split(disjunct, false, &mut conjuncts);
        let mut bounds: BTreeMap<&str, Vec<Bound>> = BTreeMap::new();
        for c in conjuncts {
            if let Some((key, bound)) = self.key_bound(c)? {
                bounds.entry(key).or_default().push(bound);
            }
        }
        if bounds.values().any(|b| b.len() > 1) {
            return Err(COMBINED.into());
        }
        if bounds.is_empty() && self.keys.len() <= 1 {
            return Err(format!(
                "WHERE clause missing key column for disjunct: {}",
                condition_text(disjunct)
            ));
        }
        let every_key = self.keys.iter().all(|k| {
            bounds
                .get(k.as_str())
                .is_some_and(|b| b.first() == Some(&Bound::Equal))
        });
        if self.keys.len() > 1 && !every_key {
            return Err(MULTI_COLUMN.into());
        }
        let ranged = bounds.values().flatten().any(|b| *b == Bound::Range);
        let string_key = self.key_type_is_string();
        let windowed = self.plan.source.window.is_some();
        if ranged && !(self.range_scans && self.single_disjunct && string_key && !windowed) {
            return Err(NEEDS_SCAN.into());
        }
        Ok(())
    }

    /// The key column a conjunct bounds, and how; `None` for other conditions (on value
    /// columns, or on the window bounds).
    fn key_bound<'e>(&self, c: &'e TExpr) -> Result<Option<(&'e str, Bound)>, String> {
        match &c.node {
            Node::Compare { op, left, right } => {
                let (key, other) = match (self.key_of(left), self.key_of(right)) {
                    (Some(k), _) => (k, right),
                    (None, Some(k)) => (k, left),
                    (None, None) => return self.other_condition(c),
                };
                if reads_any_column(other) {
                    return Err(UNRESOLVABLE.into());
                }
                match op {
                    CmpOp::Eq => Ok(Some((key, Bound::Equal))),
                    CmpOp::Lt | CmpOp::LtEq | CmpOp::Gt | CmpOp::GtEq => {
                        Ok(Some((key, Bound::Range)))
                    }
                    _ => Err(format!(
                        "Bound on key columns '[{}]' must currently be '='. ",
                        self.key_list()
                    )),
                }
            }
            Node::InList {
                expr,
                list,
                negated: false,
            } => match self.key_of(expr) {
                Some(_) if list.iter().any(reads_any_column) => Err(UNRESOLVABLE.into()),
                Some(key) => Ok(Some((key, Bound::Equal))),
                None => self.other_condition(c),
            },
            _ => self.other_condition(c),
        }
    }

    /// A condition that bounds no key: fine on value columns and window bounds, but a key
    /// inside an expression needs a scan.
    fn other_condition<'e>(&self, c: &TExpr) -> Result<Option<(&'e str, Bound)>, String> {
        match self.keys.iter().any(|k| reads_column(c, k)) {
            true => Err(NEEDS_SCAN.into()),
            false => Ok(None),
        }
    }

    /// The key column `e` is (through casts).
    fn key_of<'e>(&self, e: &'e TExpr) -> Option<&'e str> {
        match &e.node {
            Node::Column { name, .. } if self.keys.contains(name) => Some(name),
            Node::Cast(inner) => self.key_of(inner),
            _ => None,
        }
    }

    fn key_type_is_string(&self) -> bool {
        self.plan
            .source
            .schema
            .key_columns()
            .all(|c| c.sql_type == crate::common::SqlType::String)
    }

    /// The key columns as ksqlDB lists them: `` `ID` STRING KEY ``.
    fn key_list(&self) -> String {
        self.plan
            .source
            .schema
            .key_columns()
            .map(|c| format!("`{}` {} KEY", c.name, c.sql_type))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A condition as ksqlDB prints it: `(COUNT = 100)`, literals without the casts binding added.
fn condition_text(e: &TExpr) -> String {
    let operand = |e: &TExpr| match &e.node {
        Node::Cast(inner) if matches!(inner.node, Node::Literal(_)) => inner.to_string(),
        _ => e.to_string(),
    };
    match &e.node {
        Node::Compare { op, left, right } => {
            format!("({} {op} {})", operand(left), operand(right))
        }
        _ => e.to_string(),
    }
}

/// `key IN (...)` in the WHERE clause's top-level conjuncts: the key's position in the input
/// batch and the listed values as text (ksqlDB answers it with a lookup per key, in order).
pub(super) fn in_list_lookup(plan: &QueryPlan) -> Option<(usize, Vec<String>)> {
    let filter = plan.filter.as_ref()?;
    let mut conjuncts = Vec::new();
    split(&filter.expr, false, &mut conjuncts);
    let is_key = |name: &str| plan.source.schema.key_columns().any(|c| c.name == name);
    conjuncts.into_iter().find_map(|c| {
        let Node::InList {
            expr,
            list,
            negated: false,
        } = &c.node
        else {
            return None;
        };
        let Node::Column { index, name } = &uncast(expr).node else {
            return None;
        };
        if !is_key(name) {
            return None;
        }
        let values = list.iter().filter_map(|item| match &uncast(item).node {
            Node::Literal(v) => Some(crate::plan::expr::to_text(v)),
            _ => None,
        });
        Some((*index, values.collect()))
    })
}

fn uncast(e: &TExpr) -> &TExpr {
    match &e.node {
        Node::Cast(inner) => uncast(inner),
        _ => e,
    }
}

/// The operands of nested ORs (`or`) or ANDs, in order.
fn split<'e>(e: &'e TExpr, or: bool, out: &mut Vec<&'e TExpr>) {
    match (&e.node, or) {
        (Node::Or(a, b), true) | (Node::And(a, b), false) => {
            split(a, or, out);
            split(b, or, out);
        }
        _ => out.push(e),
    }
}

fn reads_column(e: &TExpr, column: &str) -> bool {
    matches!(&e.node, Node::Column { name, .. } if name == column)
        || e.children().into_iter().any(|c| reads_column(c, column))
}

/// Whether `e` reads a column other than the window bounds' literal-free forms.
fn reads_any_column(e: &TExpr) -> bool {
    matches!(&e.node, Node::Column { name, .. } if name != WINDOWSTART && name != WINDOWEND)
        || e.children().into_iter().any(reads_any_column)
}

/// `key IN ('10', 8)` on a non-STRING key: ksqlDB refuses the text literal before typing the
/// list (`'10' can not be converted to the type of the key column: ID INTEGER KEY`).
pub(super) fn check_in_literals(
    expr: &crate::sql::Expr,
    source: &crate::plan::SourceDef,
) -> Result<(), String> {
    use crate::sql::Expr;
    use sqlparser::ast::{BinaryOperator, Value as SqlValue};
    match expr {
        Expr::BinaryOp {
            left,
            op: BinaryOperator::And | BinaryOperator::Or,
            right,
        } => {
            check_in_literals(left, source)?;
            check_in_literals(right, source)
        }
        Expr::Nested(inner) => check_in_literals(inner, source),
        Expr::InList { expr, list, .. } => {
            let Expr::Identifier(ident) = expr.as_ref() else {
                return Ok(());
            };
            let name = crate::plan::expr::ident_name(ident);
            let Some(key) = source.schema.key_columns().find(|c| c.name == name) else {
                return Ok(());
            };
            if key.sql_type == crate::common::SqlType::String {
                return Ok(());
            }
            for item in list {
                if let Expr::Value(v) = item
                    && let SqlValue::SingleQuotedString(text) = &v.value
                {
                    return Err(format!(
                        "'{text}' can not be converted to the type of the key column: {} {} KEY",
                        key.name, key.sql_type
                    ));
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}
