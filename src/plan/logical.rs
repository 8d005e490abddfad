//! The logical plan tree: what a query computes, as nodes that each list their inputs and know
//! their output schema (as DataFusion's `LogicalPlan`). `exec::physical` turns a tree into
//! operators. The tree is built from the planner's [`QueryPlan`] by [`logical_plan`]
//! (`logical_build.rs`); EXPLAIN prints it.
//!
//! Shapes built today (leaf last):
//!
//! ```text
//! stateless over a stream      aggregation                       table from a table
//! Sink                         Sink                              Sink
//!   Project                      Project                           Materialize
//!     TableFunction                Filter (HAVING, updates)          Project
//!       Rekey (PARTITION BY)         Aggregate                         Filter (WHERE, table)
//!         Filter (WHERE)               Rekey (GROUP BY)                  Source (table)
//!           Source (stream)              Filter (WHERE)
//!                                          Source
//! ```
//!
//! A join node is part of the tree (two inputs); the planner does not build it yet.

use super::aggregate::{AggregateCall, WindowPlan};
use super::query::{Compiled, OutputColumn};
use super::source::SourceDef;
use arrow::datatypes::SchemaRef;

pub use super::logical_build::{SinkTarget, logical_plan};

/// A node of the tree.
#[derive(Clone)]
pub enum LogicalPlan {
    Source(SourceNode),
    Filter(FilterNode),
    Project(ProjectNode),
    TableFunction(TableFunctionNode),
    Rekey(RekeyNode),
    Aggregate(AggregateNode),
    Materialize(MaterializeNode),
    Sink(SinkNode),
    Join(JoinNode),
}

/// Rows read from a stream or a table's topic (in the source's batch layout). A record
/// without a value is a deletion of its key.
#[derive(Clone)]
pub struct SourceNode {
    pub source: SourceDef,
    pub schema: SchemaRef,
    /// Why the query drops a stream's records without a value at the source (reported to the
    /// processing log), when nothing after it can use them; `None`: they flow on.
    pub drops_null_values: Option<&'static str>,
}

/// How a filter treats each kind of change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilterRule {
    /// A stream: rows for which the predicate is not TRUE are dropped; a record without a
    /// value is dropped and reported.
    Stream,
    /// A table's changes, read without the rows they replace (Kafka Streams' table filter
    /// without old values): a row that fails becomes a deletion of its key; deletions pass.
    Table,
    /// A push query over a table: rows that fail are not shown; a deletion is shown unless
    /// the predicate reads only the key and rejects it.
    TableView,
    /// A changelog whose updates come as `U-`/`U+` pairs with the old row (an aggregation's
    /// output, HAVING): a key is written when its new row passes, and deleted when its old
    /// row passed and its new one does not; a deletion passes when its row passed.
    Updates,
}

#[derive(Clone)]
pub struct FilterNode {
    pub input: Box<LogicalPlan>,
    pub predicate: Compiled,
    pub rule: FilterRule,
    /// The clause it comes from (`WHERE`, `HAVING`), for EXPLAIN.
    pub clause: &'static str,
    /// The predicate reads only key columns and window bounds (it can judge a deletion).
    pub reads_keys_only: bool,
}

/// Where a projected column's values come from.
#[derive(Clone)]
pub enum ColumnSource {
    /// An expression over the input row.
    Expr(Compiled),
    /// An input column as it is (a key computed by a re-key, a table function's element).
    Input(usize),
}

#[derive(Clone)]
pub struct ProjectColumn {
    pub name: String,
    pub source: ColumnSource,
    /// Whether a deletion (a row of its key only) has this column: it reads only key columns
    /// and window bounds. Other columns of a deletion are NULL.
    pub on_deletions: bool,
}

/// The query's columns, then the input columns carried after them (window bounds, ROWTIME).
#[derive(Clone)]
pub struct ProjectNode {
    pub input: Box<LogicalPlan>,
    pub columns: Vec<ProjectColumn>,
    /// Input positions of the carried columns.
    pub carried: Vec<usize>,
    pub schema: SchemaRef,
}

/// Table functions (EXPLODE): each input row repeats once per element of the longest array;
/// the elements are appended as columns (NULL where an array is shorter).
#[derive(Clone)]
pub struct TableFunctionNode {
    pub input: Box<LogicalPlan>,
    pub functions: Vec<Compiled>,
    pub schema: SchemaRef,
}

/// Why rows are re-keyed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RekeyReason {
    PartitionBy,
    GroupBy,
    /// A join side keyed by its join criteria.
    Join,
}

/// Computes new key columns from the input row and appends them. On a deletion, a key that
/// reads anything but the input's key columns is NULL.
#[derive(Clone)]
pub struct RekeyNode {
    pub input: Box<LogicalPlan>,
    pub keys: Vec<Compiled>,
    /// Per key: whether it reads only the input's key columns and window bounds.
    pub keys_on_deletions: Vec<bool>,
    pub reason: RekeyReason,
    pub schema: SchemaRef,
}

/// EMIT CHANGES or EMIT FINAL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Emit {
    Changes,
    Final,
}

/// Groups rows by key columns (and window) and aggregates them; its output is a changelog in
/// the aggregation's intermediate layout (keys, results, window bounds, ROWTIME).
#[derive(Clone)]
pub struct AggregateNode {
    pub input: Box<LogicalPlan>,
    /// Input positions of the grouping columns (appended by the re-key below).
    pub group_columns: Vec<usize>,
    pub calls: Vec<AggregateCall>,
    pub window: Option<WindowPlan>,
    pub emit: Emit,
    /// Aggregating a table: the input positions of its key columns (a row's contribution is
    /// remembered by them and undone when the row changes or is deleted).
    pub table_keys: Option<Vec<usize>>,
    pub schema: SchemaRef,
}

/// Keeps the current row of each key, for pull queries.
#[derive(Clone)]
pub struct MaterializeNode {
    pub input: Box<LogicalPlan>,
    /// Input positions of the key columns.
    pub key_columns: Vec<usize>,
}

/// Where a query's rows go.
#[derive(Clone)]
pub struct SinkNode {
    pub input: Box<LogicalPlan>,
    pub target: SinkTarget,
    /// The query's output columns (keys marked), in the input's first positions.
    pub columns: Vec<OutputColumn>,
    /// The output key is the source's (no PARTITION BY or GROUP BY).
    pub source_keys: bool,
}

/// `INNER`, `LEFT`, `RIGHT` or `FULL OUTER`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JoinKind {
    Inner,
    Left,
    Right,
    Outer,
}

/// A join of two inputs on equal keys (ADR 0006). Input 0 is the left side, input 1 the
/// right; the output has the key columns (`KSQL_JOIN_KEY_<i>`), the left side's contributed
/// columns, the right side's, then ROWTIME, ROWPARTITION and ROWOFFSET.
#[derive(Clone)]
pub struct JoinNode {
    pub left: Box<LogicalPlan>,
    pub right: Box<LogicalPlan>,
    pub kind: JoinKind,
    pub shape: JoinShape,
    /// Positions of the key columns in the left input (one per key component; a foreign-key
    /// join's: the left table's primary key).
    pub left_keys: Vec<usize>,
    /// A foreign-key join's foreign-key values in the left input (one per right key column);
    /// empty for the other shapes.
    pub foreign_key: Vec<usize>,
    /// Positions of the key columns in the right input (same count and types).
    pub right_keys: Vec<usize>,
    /// Positions of the columns the left input contributes, in output order.
    pub left_columns: Vec<usize>,
    /// Positions of the columns the right input contributes, in output order.
    pub right_columns: Vec<usize>,
    /// ksqlDB's query context (`Join`, `L_Join`, ...), which names the join's stores.
    pub context: String,
    /// The join criteria as written (`O.CUSTOMER_ID = C.CUSTOMER_ID`), for EXPLAIN.
    pub criteria: String,
    pub schema: SchemaRef,
}

/// What the two inputs of a join are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JoinShape {
    /// Two streams, rows `before` ms earlier to `after` ms later than each other; `grace`:
    /// how long after a window closes late rows still join (`None`: ksqlDB's legacy form, which
    /// emits unmatched outer rows at once).
    StreamStream {
        before_ms: i64,
        after_ms: i64,
        grace_ms: Option<i64>,
    },
    /// A stream (left) enriched with a table's current rows (right).
    StreamTable,
    /// A stream (left) enriched with the table row (right) valid at each stream row's
    /// ROWTIME (`FOR SYSTEM_TIME AS OF`, Brook's); the table's versions are kept for
    /// `history_ms` behind its newest change.
    Temporal { history_ms: i64 },
    /// Two tables joined on their primary keys.
    TableTable,
    /// Two tables, the left's foreign key (an expression over its row) equal to the right's
    /// primary key; the output is keyed by the left table's primary key.
    ForeignKey,
}

impl JoinShape {
    /// Whether both inputs, and so the output, are tables.
    pub fn joins_tables(self) -> bool {
        matches!(self, JoinShape::TableTable | JoinShape::ForeignKey)
    }

    pub fn name(self) -> &'static str {
        match self {
            JoinShape::StreamStream { .. } => "stream-stream",
            JoinShape::StreamTable => "stream-table",
            JoinShape::Temporal { .. } => "temporal stream-table",
            JoinShape::TableTable => "table-table",
            JoinShape::ForeignKey => "foreign-key table-table",
        }
    }
}

impl LogicalPlan {
    /// The node's inputs, left to right (none for a source).
    pub fn inputs(&self) -> Vec<&LogicalPlan> {
        match self {
            LogicalPlan::Source(_) => Vec::new(),
            LogicalPlan::Filter(n) => vec![&n.input],
            LogicalPlan::Project(n) => vec![&n.input],
            LogicalPlan::TableFunction(n) => vec![&n.input],
            LogicalPlan::Rekey(n) => vec![&n.input],
            LogicalPlan::Aggregate(n) => vec![&n.input],
            LogicalPlan::Materialize(n) => vec![&n.input],
            LogicalPlan::Sink(n) => vec![&n.input],
            LogicalPlan::Join(n) => vec![&n.left, &n.right],
        }
    }

    /// The Arrow schema of the node's output rows.
    pub fn schema(&self) -> SchemaRef {
        match self {
            LogicalPlan::Source(n) => n.schema.clone(),
            LogicalPlan::Project(n) => n.schema.clone(),
            LogicalPlan::TableFunction(n) => n.schema.clone(),
            LogicalPlan::Rekey(n) => n.schema.clone(),
            LogicalPlan::Aggregate(n) => n.schema.clone(),
            LogicalPlan::Join(n) => n.schema.clone(),
            LogicalPlan::Filter(n) => n.input.schema(),
            LogicalPlan::Materialize(n) => n.input.schema(),
            LogicalPlan::Sink(n) => n.input.schema(),
        }
    }

    /// Whether the node's rows are a changelog (changes to rows by key) rather than a stream.
    pub fn is_changelog(&self) -> bool {
        match self {
            LogicalPlan::Source(n) => n.source.is_table(),
            LogicalPlan::Aggregate(_) => true,
            LogicalPlan::Join(n) => n.shape.joins_tables(),
            other => other.inputs().iter().all(|i| i.is_changelog()),
        }
    }

    /// Whether the node or one of its inputs aggregates.
    pub fn aggregates(&self) -> bool {
        matches!(self, LogicalPlan::Aggregate(_)) || self.inputs().iter().any(|i| i.aggregates())
    }

    /// The node's name and its main detail, one line (EXPLAIN's tree).
    pub fn describe(&self) -> String {
        match self {
            LogicalPlan::Source(n) => {
                let kind = if n.source.is_table() {
                    "table"
                } else {
                    "stream"
                };
                format!(
                    "Source {} ({kind}, topic {})",
                    n.source.name, n.source.topic
                )
            }
            LogicalPlan::Filter(n) => {
                format!("Filter {} {} ({:?})", n.clause, n.predicate.expr, n.rule)
            }
            LogicalPlan::Project(n) => {
                let names: Vec<&str> = n.columns.iter().map(|c| c.name.as_str()).collect();
                format!("Project {}", names.join(", "))
            }
            LogicalPlan::TableFunction(n) => {
                let f: Vec<String> = n.functions.iter().map(|f| f.expr.to_string()).collect();
                format!("TableFunction EXPLODE({})", f.join(", "))
            }
            LogicalPlan::Rekey(n) => {
                let keys: Vec<String> = n.keys.iter().map(|k| k.expr.to_string()).collect();
                let by = match n.reason {
                    RekeyReason::PartitionBy => "PARTITION BY",
                    RekeyReason::Join => "JOIN",
                    RekeyReason::GroupBy => "GROUP BY",
                };
                format!("Rekey {by} {}", keys.join(", "))
            }
            LogicalPlan::Aggregate(n) => aggregate_text(n),
            LogicalPlan::Materialize(_) => "Materialize (rows by key, for pull queries)".into(),
            LogicalPlan::Sink(n) => match &n.target {
                SinkTarget::Topic(sink) => format!("Sink {} (topic {})", sink.name, sink.topic),
                SinkTarget::Subscriber => "Sink (push query subscriber)".into(),
            },
            LogicalPlan::Join(n) => {
                format!("Join {:?} {} ON {}", n.kind, n.shape.name(), n.criteria)
            }
        }
    }

    /// The tree as text: one line per node, each input indented under its consumer.
    pub fn tree_text(&self) -> String {
        let mut out = String::new();
        self.write_tree(0, &mut out);
        out
    }

    fn write_tree(&self, depth: usize, out: &mut String) {
        out.push_str(&"  ".repeat(depth));
        out.push_str(&self.describe());
        out.push('\n');
        for input in self.inputs() {
            input.write_tree(depth + 1, out);
        }
    }
}

fn aggregate_text(n: &AggregateNode) -> String {
    let calls: Vec<String> = n
        .calls
        .iter()
        .map(|c| {
            let args: Vec<String> = c.args.iter().map(|a| a.expr.to_string()).collect();
            format!("{}({})", c.udaf.name, args.join(", "))
        })
        .collect();
    let window = match &n.window {
        Some(w) => format!(" {:?} {} ms", w.kind, w.size_ms),
        None => String::new(),
    };
    let emit = match n.emit {
        Emit::Changes => "EMIT CHANGES",
        Emit::Final => "EMIT FINAL",
    };
    let over = if n.table_keys.is_some() {
        " over a table"
    } else {
        ""
    };
    format!("Aggregate {}{window} {emit}{over}", calls.join(", "))
}
