//! The statements of Brook's dialect. Expressions are sqlparser's `Expr` (see `dialect.rs` for
//! how ksqlDB syntax maps onto it); names are already normalised (unquoted names upper-cased).

pub use sqlparser::ast::{AccessExpr, Expr};

use crate::common::SqlType;

/// Line and column (1-based) of a token in the statement text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Location {
    pub line: u64,
    pub column: u64,
}

impl Location {
    /// The first character of a text.
    pub const START: Location = Location { line: 1, column: 1 };

    /// This position in a text that begins at `start` of a larger one, as a position in the
    /// larger one. An unknown position (line 0) stays unknown.
    pub fn within(self, start: Location) -> Location {
        if self.line == 0 {
            return self;
        }
        let column = match self.line {
            1 => self.column + start.column.saturating_sub(1),
            _ => self.column,
        };
        Location {
            line: self.line + start.line.saturating_sub(1),
            column,
        }
    }
}

/// A parsed statement with the text it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Statement {
    pub kind: StatementKind,
    /// The statement's text, ending with `;`.
    pub text: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceKind {
    Stream,
    Table,
}

impl SourceKind {
    pub fn name(&self) -> &'static str {
        match self {
            SourceKind::Stream => "STREAM",
            SourceKind::Table => "TABLE",
        }
    }
}

/// A literal value in a `WITH (...)` clause or `SET`.
#[derive(Clone, Debug, PartialEq)]
pub enum PropertyValue {
    String(String),
    Number(String),
    Boolean(bool),
}

impl PropertyValue {
    pub fn as_text(&self) -> String {
        match self {
            PropertyValue::String(s) | PropertyValue::Number(s) => s.clone(),
            PropertyValue::Boolean(b) => b.to_string(),
        }
    }
}

/// `WITH (NAME = value, ...)`, names upper-cased, in the order written.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Properties(pub Vec<(String, PropertyValue, Location)>);

impl Properties {
    pub fn get(&self, name: &str) -> Option<&PropertyValue> {
        self.0.iter().find(|(n, _, _)| n == name).map(|(_, v, _)| v)
    }

    pub fn get_text(&self, name: &str) -> Option<String> {
        self.get(name).map(PropertyValue::as_text)
    }
}

/// How a declared column is filled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ColumnConstraint {
    None,
    Key,
    PrimaryKey,
    /// `HEADERS` (all headers, `None`) or `HEADER('key')`.
    Header(Option<String>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct ColumnDef {
    pub name: String,
    pub sql_type: SqlType,
    pub constraint: ColumnConstraint,
    pub location: Location,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CreateSource {
    pub kind: SourceKind,
    pub or_replace: bool,
    pub if_not_exists: bool,
    /// `CREATE SOURCE STREAM|TABLE`: read-only (and materialised, for tables).
    pub read_only: bool,
    pub name: String,
    pub columns: Vec<ColumnDef>,
    pub properties: Properties,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CreateAsSelect {
    pub kind: SourceKind,
    pub or_replace: bool,
    pub if_not_exists: bool,
    pub name: String,
    pub properties: Properties,
    pub query: Query,
}

/// (Select items are short-lived parse results: variants are kept inline.)
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum SelectItem {
    /// `*`
    Wildcard,
    /// `alias.*`
    QualifiedWildcard(String),
    /// `expr->*`: every field of a struct, each as a column named after the field.
    StructFields(Expr),
    Expr {
        expr: Expr,
        alias: Option<String>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JoinKind {
    Inner,
    Left,
    Right,
    Full,
}

#[derive(Clone, Debug, PartialEq)]
pub struct AliasedSource {
    pub name: String,
    pub alias: Option<String>,
    pub location: Location,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Join {
    pub kind: JoinKind,
    pub right: AliasedSource,
    /// `WITHIN n unit` or `WITHIN (before, after)`, in milliseconds.
    pub within: Option<(i64, i64)>,
    pub grace_ms: Option<i64>,
    /// `FOR SYSTEM_TIME AS OF expr` after the right source (a temporal join, Brook's).
    pub as_of: Option<Expr>,
    pub on: Expr,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WindowKind {
    Tumbling,
    Hopping,
    Session,
}

/// `WINDOW TUMBLING|HOPPING|SESSION (...)`, all durations in milliseconds.
#[derive(Clone, Debug, PartialEq)]
pub struct WindowSpec {
    pub kind: WindowKind,
    /// Window size (the gap, for session windows).
    pub size_ms: i64,
    pub advance_ms: Option<i64>,
    pub retention_ms: Option<i64>,
    pub grace_ms: Option<i64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Emit {
    Changes,
    Final,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Query {
    pub select: Vec<(SelectItem, Location)>,
    pub from: AliasedSource,
    pub joins: Vec<Join>,
    pub window: Option<WindowSpec>,
    pub where_clause: Option<Expr>,
    pub group_by: Vec<Expr>,
    pub partition_by: Vec<Expr>,
    pub having: Option<Expr>,
    pub emit: Option<Emit>,
    pub limit: Option<u64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShowKind {
    Streams,
    Tables,
    Queries,
    Topics,
    Properties,
    Functions,
    Types,
    Variables,
}

/// (Statements are short-lived parse results: variants are kept inline.)
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum StatementKind {
    CreateSource(CreateSource),
    CreateAsSelect(CreateAsSelect),
    InsertSelect {
        target: String,
        /// Where the target's name is (for "Source `X` does not exist.").
        target_location: Location,
        properties: Properties,
        query: Query,
    },
    InsertValues {
        target: String,
        columns: Option<Vec<String>>,
        values: Vec<Expr>,
    },
    /// A transient query: push (`EMIT CHANGES`) or pull.
    Select(Query),
    Show {
        what: ShowKind,
        extended: bool,
    },
    Describe {
        name: String,
        extended: bool,
    },
    DescribeSources {
        kind: SourceKind,
        extended: bool,
    },
    DescribeFunction(String),
    ExplainQuery(String),
    ExplainStatement(Box<Statement>),
    Print {
        topic: String,
        from_beginning: bool,
        interval: Option<u64>,
        limit: Option<u64>,
    },
    Terminate(Option<String>),
    DropSource {
        kind: SourceKind,
        name: String,
        if_exists: bool,
        delete_topic: bool,
    },
    CreateType {
        name: String,
        sql_type: SqlType,
        if_not_exists: bool,
    },
    DropType {
        name: String,
        if_exists: bool,
    },
    Set {
        name: String,
        value: String,
    },
    Unset(String),
    Define {
        name: String,
        value: String,
    },
    Undefine(String),
    /// A client command (the REPL and `brook run` read the file); servers reject it.
    RunScript {
        path: String,
        location: Location,
    },
    /// `ALTER STREAM|TABLE name ADD COLUMN ...`
    AlterSource {
        kind: SourceKind,
        name: String,
        columns: Vec<ColumnDef>,
    },
    /// `ASSERT [NOT EXISTS] TOPIC name [WITH (...)] [TIMEOUT ...]`
    AssertTopic {
        topic: String,
        exists: bool,
        properties: Properties,
        timeout_ms: Option<i64>,
    },
    /// `ASSERT [NOT EXISTS] SCHEMA [SUBJECT s] [ID n] [TIMEOUT ...]`
    AssertSchema {
        subject: Option<String>,
        id: Option<u64>,
        exists: bool,
        timeout_ms: Option<i64>,
    },
}
