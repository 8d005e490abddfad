//! What executing a statement returns, for the REPL and the HTTP API to render.

use crate::exec::QueryDriver;
use crate::plan::explain::Explanation;

/// A table of text: SHOW/LIST/DESCRIBE/EXPLAIN results. Shown as the title, the properties
/// (`name : value` lines), the table (when it has columns), then the sections.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Listing {
    pub title: String,
    pub properties: Vec<(String, String)>,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
    pub sections: Vec<Section>,
}

/// Text after a listing's table: a heading (none when empty) and lines.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Section {
    pub heading: String,
    pub lines: Vec<String>,
}

impl Section {
    pub fn new(heading: &str, lines: Vec<String>) -> Section {
        Section {
            heading: heading.to_string(),
            lines,
        }
    }
}

pub enum StatementResult {
    /// A statement that succeeded with a message ("Stream created", ...).
    Success(String),
    /// A persistent query was started.
    QueryStarted {
        id: String,
        message: String,
    },
    Listing(Listing),
    /// EXPLAIN: a query's description.
    QueryDescription(Box<QueryDescription>),
    /// A transient push query: rows arrive as the query is stepped.
    PushQuery(Box<PushQuery>),
    /// A pull query's rows, read at once from a table's committed state.
    PullQuery(PullResult),
}

/// What EXPLAIN says of a query (ksqlDB's `QueryDescription`); shown as its
/// [`QueryDescription::listing`] by the shell, as ksqlDB's `queryDescription` entity by the
/// HTTP API.
#[derive(Clone, Debug, PartialEq)]
pub struct QueryDescription {
    pub id: String,
    /// PERSISTENT or PUSH.
    pub query_type: &'static str,
    pub sql: String,
    /// The consumer group it reads with.
    pub consumer_group: String,
    /// A running query's state (RUNNING or ERROR), and the error that stopped it.
    pub state: Option<(&'static str, Option<String>)>,
    pub explanation: Explanation,
}

/// What a pull query returns: its header and all its rows.
#[derive(Clone, Debug, PartialEq)]
pub struct PullResult {
    /// The header schema as ksqlDB prints it: `` `ID` STRING KEY, `COUNT` BIGINT ``.
    pub schema: String,
    pub column_names: Vec<String>,
    /// Each column's type as ksqlDB writes it (`STRING`, `ARRAY<INTEGER>`, ...).
    pub column_types: Vec<String>,
    pub rows: Vec<Vec<crate::common::Value>>,
}

/// A running transient query and the rows it produced so far.
pub struct PushQuery {
    pub id: String,
    pub column_names: Vec<String>,
    pub column_types: Vec<String>,
    pub query: QueryDriver,
    pub rows: super::push_rows::PushRows,
    pub limit: Option<u64>,
}

impl std::fmt::Debug for StatementResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StatementResult::Success(m) => write!(f, "Success({m:?})"),
            StatementResult::QueryStarted { id, .. } => write!(f, "QueryStarted({id})"),
            StatementResult::Listing(l) => write!(f, "Listing({l:?})"),
            StatementResult::QueryDescription(d) => write!(f, "QueryDescription({})", d.id),
            StatementResult::PushQuery(q) => write!(f, "PushQuery({})", q.id),
            StatementResult::PullQuery(r) => write!(f, "PullQuery({} rows)", r.rows.len()),
        }
    }
}

impl StatementResult {
    /// A one-line text form for logs and simple callers.
    pub fn message(&self) -> String {
        match self {
            StatementResult::Success(m) => m.clone(),
            StatementResult::QueryStarted { message, .. } => message.clone(),
            StatementResult::Listing(l) => l.title.clone(),
            StatementResult::QueryDescription(d) => format!("Query {}", d.id),
            StatementResult::PushQuery(q) => format!("Push query {}", q.id),
            StatementResult::PullQuery(r) => format!("{} rows", r.rows.len()),
        }
    }
}
