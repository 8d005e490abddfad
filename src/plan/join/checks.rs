//! The shapes of join ksqlDB refuses, with its messages (`LogicalPlanner.verifyJoin`,
//! `Analyzer.validate`, `JoinParamsFactory`, `JoinNode.ensureMatchingPartitionCounts`), each
//! followed by a line saying what to write instead where ksqlDB says nothing.

use super::layout::Side;
use super::on::{Criterion, qualified};
use crate::plan::PlanResult;
use crate::plan::expr::{Node, Scope, TExpr};
use crate::plan::logical::{JoinShape, LogicalPlan};
use crate::plan::source::SourceDef;
use crate::plan_err;
use crate::sql::{self, SourceKind};

/// How long a temporal join keeps the table's versions without WITHIN: a day.
const TEMPORAL_HISTORY_MS: i64 = 24 * 60 * 60 * 1000;

/// A temporal join's `FOR SYSTEM_TIME AS OF` must name the stream's ROWTIME (`bound`, over the
/// left input's scope; `written` as the query has it).
pub(super) fn as_of(bound: &TExpr, left: &Side, written: &str) -> PlanResult<()> {
    let is_rowtime = matches!(&bound.node, Node::Column { index, .. }
        if left.scope.columns.get(*index).is_some_and(|c| c.name == crate::plan::schema::ROWTIME));
    if is_rowtime {
        return Ok(());
    }
    plan_err!(
        "FOR SYSTEM_TIME AS OF takes the stream's ROWTIME, got {written}.\nWrite FOR SYSTEM_TIME AS OF {}.ROWTIME (use a TIMESTAMP column as the stream's ROWTIME with WITH (TIMESTAMP='column')).",
        left.name
    )
}

/// ksqlDB cannot join sources whose values are in the KAFKA format.
pub(super) fn check_formats(leaves: &[(String, SourceDef)]) -> PlanResult<()> {
    let kafka: Vec<&str> = leaves
        .iter()
        .filter(|(_, s)| s.value_format.kind == crate::format::FormatKind::Kafka)
        .map(|(_, s)| s.name.as_str())
        .collect();
    if kafka.is_empty() {
        return Ok(());
    }
    plan_err!(
        "Source(s) {} are using the 'KAFKA' value format. This format does not yet support JOIN.",
        kafka.join(", ")
    )
}

/// How ksqlDB prints a join type in its messages.
fn kind_text(kind: sql::JoinKind) -> &'static str {
    match kind {
        sql::JoinKind::Inner => "[INNER] JOIN",
        sql::JoinKind::Left => "LEFT [OUTER] JOIN",
        sql::JoinKind::Right => "RIGHT [OUTER] JOIN",
        sql::JoinKind::Full => "[FULL] OUTER JOIN",
    }
}

/// The join's shape, or why ksqlDB (and Brook) refuse it.
pub(super) fn shape(
    left: &Side,
    right: &Side,
    join: &sql::Join,
    criteria: &[Criterion],
    (left_keys, right_keys): (&[TExpr], &[TExpr]),
    nested: bool,
) -> PlanResult<JoinShape> {
    let got = format!("{} {} {}", left.name, kind_text(join.kind), right.name);
    let written = criteria
        .iter()
        .map(|c| c.written.clone())
        .collect::<Vec<_>>()
        .join(" AND ");
    match (left.kind, right.kind) {
        (SourceKind::Table, SourceKind::Stream) => plan_err!(
            "Invalid join order: table-stream joins are not supported; only stream-table joins. Got {got}.\nPut the stream first: FROM {} JOIN {}.",
            right.name,
            left.name
        ),
        (SourceKind::Stream, SourceKind::Stream) => match join.within {
            Some((before_ms, after_ms)) => Ok(JoinShape::StreamStream {
                before_ms,
                after_ms,
                grace_ms: join.grace_ms,
            }),
            None => plan_err!(
                "Stream-Stream joins must have a WITHIN clause specified. None was provided. To learn about how to specify a WITHIN clause with a stream-stream join, please visit: https://docs.confluent.io/current/ksql/docs/syntax-reference.html#create-stream-as-select"
            ),
        },
        _ if join.as_of.is_some()
            && (left.kind, right.kind) != (SourceKind::Stream, SourceKind::Table) =>
        {
            plan_err!(
                "FOR SYSTEM_TIME AS OF makes a stream-table join temporal, and {got} does not join a stream to a table.\nPut the stream first and the table after JOIN: FROM s JOIN t FOR SYSTEM_TIME AS OF s.ROWTIME ON ..."
            )
        }
        (SourceKind::Stream, SourceKind::Table) => {
            if join.within.is_some() && join.as_of.is_none() {
                return plan_err!(
                    "A window definition was provided for a Stream-Table join. These joins are not windowed. Please drop the window definition (ie. the WITHIN clause) and try to execute your join again."
                );
            }
            if matches!(join.kind, sql::JoinKind::Full | sql::JoinKind::Right) {
                let which = if join.kind == sql::JoinKind::Full {
                    "full"
                } else {
                    "right"
                };
                return plan_err!(
                    "Invalid join type: {which}-outer join not supported for stream-table join. Got {got}.\nA stream-table join keeps every stream row (LEFT) or the matched ones (INNER)."
                );
            }
            if !on_primary_key(right, right_keys) {
                return plan_err!(
                    "Invalid join condition: stream-table joins require to join on the table's primary key. Got {written}."
                );
            }
            Ok(match join.as_of {
                Some(_) => JoinShape::Temporal {
                    history_ms: join
                        .within
                        .map_or(TEMPORAL_HISTORY_MS, |(before, _)| before),
                },
                None => JoinShape::StreamTable,
            })
        }
        (SourceKind::Table, SourceKind::Table) => {
            if join.within.is_some() {
                return plan_err!(
                    "A window definition was provided for a Table-Table join. These joins are not windowed. Please drop the window definition (i.e. the WITHIN clause) and try to execute your Table-Table join again."
                );
            }
            if !on_primary_key(right, right_keys) {
                return plan_err!(
                    "Invalid join condition: table-table joins require to join on the primary key of the right input table. Got {written}."
                );
            }
            if on_primary_key(left, left_keys) {
                return Ok(JoinShape::TableTable);
            }
            if join.kind == sql::JoinKind::Full {
                return plan_err!(
                    "Invalid join type: full-outer join not supported for foreign-key table-table join. Got {got}.\nA foreign-key join keeps every row of the left table (LEFT) or the matched ones (INNER)."
                );
            }
            if nested {
                return plan_err!(
                    "Invalid join condition: foreign-key table-table joins are not supported as part of n-way joins. Got {written}.\nA foreign-key join can only be the first join of an n-way join."
                );
            }
            Ok(JoinShape::ForeignKey)
        }
    }
}

/// What a foreign-key join refuses once its types are checked: a windowed right table, and
/// RIGHT OUTER (the output is keyed by the left table's rows).
pub(super) fn foreign_key(shape: JoinShape, right: &Side, kind: sql::JoinKind) -> PlanResult<()> {
    if shape != JoinShape::ForeignKey {
        return Ok(());
    }
    if right.window.is_some() {
        return plan_err!("Foreign-key table-table joins are not supported on windowed tables.");
    }
    if kind == sql::JoinKind::Right {
        return plan_err!(
            "RIGHT OUTER JOIN on a foreign key is not supported\nA foreign-key join's rows are keyed by the left table's rows: use INNER or LEFT."
        );
    }
    Ok(())
}

/// Whether `keys` are all of the side's key columns, each once.
fn on_primary_key(side: &Side, keys: &[TExpr]) -> bool {
    if keys.len() != side.key.len() {
        return false;
    }
    let mut found: Vec<usize> = Vec::new();
    for e in keys {
        let Node::Column { index, .. } = &e.node else {
            return false;
        };
        let Some(k) = side
            .key
            .iter()
            .position(|k| k.position == *index || k.viable.iter().any(|v| v.scope_index == *index))
        else {
            return false;
        };
        if found.contains(&k) {
            return false;
        }
        found.push(k);
    }
    true
}

/// The two sides of each equality must have one type.
pub(super) fn key_types(
    shape: JoinShape,
    criteria: &[Criterion],
    left: &[TExpr],
    right: &[TExpr],
    combined: &Scope,
) -> PlanResult<()> {
    for ((c, l), r) in criteria.iter().zip(left).zip(right) {
        if l.ty == r.ty {
            continue;
        }
        if shape.joins_tables() {
            return plan_err!(
                "Invalid join condition: types don't match. Got {}{{{}}} = {}{{{}}}.",
                qualified(&c.left, combined),
                l.ty,
                qualified(&c.right, combined),
                r.ty
            );
        }
        return plan_err!(
            "Invalid join. Key types differ: {} vs {}\nCast one side to the other's type, e.g. ON {} = CAST({} AS {}).",
            l.ty,
            r.ty,
            qualified(&c.left, combined),
            qualified(&c.right, combined),
            l.ty
        );
    }
    Ok(())
}

/// The message for a persistent join query whose projection lacks the key component
/// `component` (ksqlDB's `PlanNode.throwKeysNotIncludedError`).
pub fn missing_key_message(sink: &str, component: &super::KeyComponent) -> String {
    if let Some(name) = &component.synthetic {
        return format!(
            "Key missing from projection (ie, SELECT). See https://cnfl.io/2LV7ouS.\nThe query used to build `{sink}` must include the join expression {name} in its projection (eg, SELECT {name}...).\n{name} was added as a synthetic key column because the join criteria did not match any source column. This expression must be included in the projection and may be aliased. "
        );
    }
    let texts: Vec<&str> = component.viable.iter().map(|v| v.text.as_str()).collect();
    let (listed, plural) = match texts.split_last() {
        Some((last, [])) => (last.to_string(), ""),
        Some((last, rest)) => (format!("{} or {last}", rest.join(", ")), "s"),
        None => (String::new(), ""),
    };
    format!(
        "Key missing from projection (ie, SELECT). \nThe query used to build `{sink}` must include the join expression{plural} {listed} in its projection (eg, SELECT {}...).",
        texts.first().copied().unwrap_or_default()
    )
}

/// The message for a persistent foreign-key join query whose projection lacks key columns of
/// the left table `left` (ksqlDB's `JoinNode.validateKeyPresent`): `missing` names them.
pub fn missing_foreign_key_message(left: &str, missing: &[String]) -> String {
    let listed: Vec<String> = missing.iter().map(|m| format!("`{m}`")).collect();
    format!(
        "Primary key columns missing in projection. For foreign-key table-table joins, the projection must include all primary key columns from the left input table (`{left}`). Missing columns: {}.",
        listed.join(", ")
    )
}

/// ksqlDB requires the two inputs of a join to have as many partitions
/// (`JoinNode.ensureMatchingPartitionCounts`); `partitions` says how many a source's topic has.
pub fn check_partitions(
    root: &LogicalPlan,
    partitions: &dyn Fn(&SourceDef) -> Option<u32>,
) -> PlanResult<()> {
    subtree_partitions(root, partitions).map(|_| ())
}

/// The partitions of a subtree's rows and the name it goes by (its leftmost source).
fn subtree_partitions(
    node: &LogicalPlan,
    partitions: &dyn Fn(&SourceDef) -> Option<u32>,
) -> PlanResult<Option<(String, u32)>> {
    match node {
        LogicalPlan::Source(n) => Ok(partitions(&n.source).map(|p| (n.source.name.clone(), p))),
        LogicalPlan::Join(j) => {
            let left = subtree_partitions(&j.left, partitions)?;
            let right = subtree_partitions(&j.right, partitions)?;
            match (left, right) {
                (Some((l, lp)), Some((r, rp))) if lp != rp => plan_err!(
                    "Can't join `{l}` with `{r}` since the number of partitions don't match. `{l}` partitions = {lp}; `{r}` partitions = {rp}. Please repartition either one so that the number of partitions match."
                ),
                (Some((l, _)), Some((_, rp))) => Ok(Some((l, rp))),
                (l, r) => Ok(l.or(r)),
            }
        }
        other => {
            let mut found = None;
            for input in other.inputs() {
                if let Some(p) = subtree_partitions(input, partitions)? {
                    found.get_or_insert(p);
                }
            }
            Ok(found)
        }
    }
}

/// ksqlDB refuses to re-key by a map, or a type containing one (its key formats cannot
/// serialize maps consistently).
pub(super) fn no_map_in_key(ty: &crate::common::SqlType, text: &str) -> PlanResult<()> {
    use crate::common::SqlType;
    fn has_map(ty: &SqlType) -> bool {
        match ty {
            SqlType::Map(_, _) => true,
            SqlType::Array(e) => has_map(e),
            SqlType::Struct(fields) => fields.iter().any(|f| has_map(&f.sql_type)),
            _ => false,
        }
    }
    if !has_map(ty) {
        return Ok(());
    }
    let name = text.replace('.', "_");
    plan_err!(
        "Map keys, including types that contain maps, are not supported as they may lead to unexpected behavior due to inconsistent serialization. Key column name: `{name}`. Column type: {ty}. See https://github.com/confluentinc/ksql/issues/6621 for more."
    )
}

/// Windowed rows join windowed rows of the same kind of window (ksqlDB's
/// `Analyzer.visitJoinedSource`).
pub(super) fn windows(left: &Side, right: &Side) -> PlanResult<()> {
    let describe = |s: &Side| match &s.window {
        Some((w, _)) => format!("{} is {} windowed", s.name, w.kind.name()),
        None => format!("{} is not windowed", s.name),
    };
    match (&left.window, &right.window) {
        (None, None) => Ok(()),
        (Some((l, _)), Some((r, _))) => {
            let session =
                |w: &crate::format::WindowInfo| w.kind == crate::format::WindowKind::Session;
            if session(l) == session(r) {
                return Ok(());
            }
            plan_err!(
                "Incompatible windowed sources.\n{}\n{}\nSession windowed sources can only be joined to other session windowed sources, and may still not result in expected behaviour as session bounds must be an exact match for the join to work\nHopping and tumbling windowed sources can only be joined to other hopping and tumbling windowed sources",
                describe(left),
                describe(right)
            )
        }
        _ => plan_err!(
            "Can not join windowed source to non-windowed source.\n{}\n{}",
            describe(left),
            describe(right)
        ),
    }
}
