//! The engine: executes statements against the catalog, runs persistent queries (each in its
//! own thread, or stepped by the caller in manual mode — what the conformance driver uses), and
//! serves transient push queries.
//!
//! May import: everything below it (`common`, `sql`, `plan`, `format`, `exec`, `transport`,
//! `log`).

mod admin;
mod catalog;
mod commands;
mod ddl;
mod describe;
mod error;
mod explain;
mod insert_coercion;
mod insert_values;
mod listing;
mod manual;
mod metrics;
mod names;
mod peers;
pub mod processing_log;
mod pull;
mod pull_keys;
mod pull_lookup;
pub mod push_rows;
mod queries;
mod query_ids;
pub mod results;
mod sandbox;
mod shared_catalog;
mod statement_text;
pub mod value_json;

pub use catalog::{Catalog, QueryInfo};
pub use commands::COMMAND_TOPIC;
pub use error::{EngineError, EngineResult, ErrorKind};
pub use metrics::QueryMetrics;
pub use names::{DEFAULT_SERVICE_ID, InternalNames};
pub use peers::{LOCAL_ONLY, PeerRows, Tables, member_client_id};
pub use results::{Listing, QueryDescription, Section, StatementResult};
pub use shared_catalog::CommandFollower;

use crate::exec::QueryDriver;
use crate::plan::functions::FunctionRegistry;
use crate::sql::{self, Statement, StatementKind};
use crate::transport::Transport;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

/// How persistent queries are driven.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunMode {
    /// Each query runs in its own thread.
    Threads,
    /// Queries run only when the caller calls [`Engine::run_until_idle`].
    Manual,
}

enum QueryRunner {
    Manual(Box<QueryDriver>),
    Thread {
        stop: Arc<AtomicBool>,
        handle: Option<std::thread::JoinHandle<()>>,
        /// Set when the query stopped on a fatal error (its state is then ERROR).
        failed: Arc<Mutex<Option<String>>>,
    },
}

impl QueryRunner {
    /// A query that is not running because of `why` (its state is ERROR).
    fn failed(why: String) -> QueryRunner {
        QueryRunner::Thread {
            stop: Arc::new(AtomicBool::new(true)),
            handle: None,
            failed: Arc::new(Mutex::new(Some(why))),
        }
    }
}

/// Properties and variables, saved and restored around a request (see
/// [`Engine::restore_session`]).
#[derive(Clone, Debug, Default)]
pub struct Session {
    pub properties: BTreeMap<String, String>,
    pub variables: HashMap<String, String>,
}

pub struct Engine {
    transport: Arc<dyn Transport>,
    catalog: Catalog,
    functions: Arc<FunctionRegistry>,
    properties: BTreeMap<String, String>,
    variables: HashMap<String, String>,
    runners: BTreeMap<String, QueryRunner>,
    mode: RunMode,
    /// The number of the next persistent query's id (see `query_ids.rs`).
    next_query_number: u64,
    /// The number of the next push query's id (apart, so push queries never shift the ids
    /// of persistent ones).
    next_transient_number: u64,
    /// What is being replayed from the command log.
    replay: query_ids::Replay,
    /// Problems found while restoring the catalog and its queries, by query.
    recovery_warnings: Vec<String>,
    processing_log: Arc<Mutex<processing_log::ErrorTally>>,
    /// Whether persistent statements are appended to the command log (off while replaying,
    /// and for engines that do not persist, like the conformance runner's).
    recording: bool,
    /// Where persistent queries keep their state (`<data dir>/state`); without it, each uses
    /// a temporary directory that its changelogs rebuild after a restart.
    state_root: Option<std::path::PathBuf>,
    /// Tables that pull queries can read, by name: each a read-only view of the committed
    /// state of the query that writes it.
    materializations: peers::Tables,
    /// Each persistent query's record counts (for `/metrics`).
    counters: BTreeMap<String, Arc<crate::exec::QueryCounters>>,
    /// A sandbox (`sandbox.rs`): persistent queries are planned and catalogued, not started.
    sandboxed: bool,
    /// The names of the command log and of queries' groups and internal topics.
    names: InternalNames,
    /// A catalog shared with the other servers of the service (`shared_catalog.rs`).
    shared: Option<shared_catalog::SharedCatalog>,
    /// The other servers of the service, for pull queries (`peers.rs`).
    peers: peers::Peers,
}

impl Engine {
    pub fn new(transport: Arc<dyn Transport>, mode: RunMode) -> Engine {
        Engine::with_functions(transport, mode, Arc::new(FunctionRegistry::standard()))
    }

    /// An engine with the given function registry (shared, as a sandbox shares its engine's).
    fn with_functions(
        transport: Arc<dyn Transport>,
        mode: RunMode,
        functions: Arc<FunctionRegistry>,
    ) -> Engine {
        Engine {
            transport,
            catalog: Catalog::default(),
            functions,
            properties: BTreeMap::new(),
            variables: HashMap::new(),
            runners: BTreeMap::new(),
            mode,
            next_query_number: 0,
            next_transient_number: 0,
            replay: query_ids::Replay::default(),
            recovery_warnings: Vec::new(),
            processing_log: Arc::new(Mutex::new(processing_log::ErrorTally::default())),
            recording: false,
            state_root: None,
            materializations: peers::Tables::default(),
            counters: BTreeMap::new(),
            sandboxed: false,
            names: InternalNames::embedded(),
            shared: None,
            peers: peers::Peers::default(),
        }
    }

    /// An engine whose command log and queries' groups and internal topics have these names
    /// (ksqlDB's, on Kafka).
    pub fn with_names(mut self, names: InternalNames) -> Engine {
        self.names = names;
        self
    }

    /// The names of the command log and of queries' groups and internal topics.
    pub fn names(&self) -> &InternalNames {
        &self.names
    }

    /// Persistent queries keep their state in `<root>/<query id>`.
    pub fn with_state_dir(mut self, root: impl Into<std::path::PathBuf>) -> Engine {
        self.state_root = Some(root.into());
        self
    }

    /// An engine that persists its catalog in the command log: replays it now and records
    /// every later persistent statement.
    pub fn open(transport: Arc<dyn Transport>, mode: RunMode) -> EngineResult<Engine> {
        Engine::new(transport, mode).recovered()
    }

    /// Replays the command log (see [`Engine::open`]) into an engine built with options.
    pub fn recovered(self) -> EngineResult<Engine> {
        let mut engine = self;
        engine.recover()?;
        if !engine.catalog.sources.contains_key(processing_log::STREAM) {
            let created = engine.execute_text(&processing_log::create_statement());
            // In a shared catalog another server may have created it at the same time.
            if !engine.catalog.sources.contains_key(processing_log::STREAM) {
                created?;
            }
        }
        Ok(engine)
    }

    /// What the last restore could not recover, query by query (also logged as warnings).
    pub fn recovery_warnings(&self) -> &[String] {
        &self.recovery_warnings
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    pub fn transport(&self) -> &Arc<dyn Transport> {
        &self.transport
    }

    pub fn functions(&self) -> &Arc<FunctionRegistry> {
        &self.functions
    }

    /// Adds functions to this engine's catalogue (the conformance runner's test fixtures):
    /// `add` receives the registry before any query is planned with it.
    pub fn register_functions(&mut self, add: impl FnOnce(&mut FunctionRegistry)) {
        add(Arc::make_mut(&mut self.functions));
    }

    /// Sets an engine property (as `SET` does).
    pub fn set_property(&mut self, name: &str, value: &str) {
        if name.to_ascii_lowercase().starts_with("ksql.functions.") {
            Arc::make_mut(&mut self.functions).set_config(name, value);
        }
        self.properties.insert(name.to_string(), value.to_string());
    }

    /// Removes an engine property (as `UNSET` does).
    pub fn unset_property(&mut self, name: &str) {
        if name.to_ascii_lowercase().starts_with("ksql.functions.") {
            Arc::make_mut(&mut self.functions).remove_config(name);
        }
        self.properties.remove(name);
    }

    /// The latest processing errors (up to 1000; all are in the processing log topic).
    pub fn processing_errors(&self) -> Vec<crate::exec::ProcessingError> {
        self.processing_log
            .lock()
            .map(|l| l.recent())
            .unwrap_or_default()
    }

    /// Processing errors of every query since the engine started.
    pub fn processing_error_total(&self) -> u64 {
        self.processing_log.lock().map_or(0, |l| l.total())
    }

    /// Processing errors of `kind` that query `id` reported since the engine started.
    pub fn processing_error_count(&self, id: &str, kind: crate::exec::ErrorKind) -> u64 {
        self.processing_log.lock().map_or(0, |l| l.count(id, kind))
    }

    /// Runs every statement of a script in order, stopping at the first error.
    pub fn execute_script(&mut self, text: &str) -> EngineResult<Vec<StatementResult>> {
        let mut results = Vec::new();
        for piece in sql::split_statements(text)? {
            let statement = self.parse(&piece)?;
            results.push(self.execute(statement)?);
        }
        Ok(results)
    }

    /// Parses (after `${var}` substitution) and executes one statement.
    pub fn execute_text(&mut self, text: &str) -> EngineResult<StatementResult> {
        let statement = self.parse(&sql::ScriptStatement::alone(text))?;
        self.execute(statement)
    }

    /// Parses one statement of a script after `${var}` substitution, with the custom types
    /// known now; positions in its errors count from the start of the script.
    pub fn parse(&self, piece: &sql::ScriptStatement) -> EngineResult<Statement> {
        let text = sql::substitute_variables(&piece.text, &self.variables)?;
        let types = &self.catalog.types;
        Ok(sql::parse_statement_at(&text, piece.start, &|name| {
            types.get(name).cloned()
        })?)
    }

    /// Defines a variable, as `DEFINE name = 'value';` does.
    pub fn define_variable(&mut self, name: &str, value: &str) {
        self.variables.insert(name.to_string(), value.to_string());
    }

    /// The properties set (`SET`, or by the caller) and in effect for new statements.
    pub fn properties(&self) -> &BTreeMap<String, String> {
        &self.properties
    }

    /// The settings a session may change: properties and variables (see
    /// [`Engine::restore_session`]).
    pub fn session(&self) -> Session {
        Session {
            properties: self.properties.clone(),
            variables: self.variables.clone(),
        }
    }

    /// Puts back the properties and variables of `session`: the HTTP API scopes what a request
    /// sets (its `streamsProperties`, `SET`, `DEFINE`) to that request.
    pub fn restore_session(&mut self, session: Session) {
        let functions = Arc::make_mut(&mut self.functions);
        for name in self.properties.keys() {
            if !session.properties.contains_key(name) {
                functions.remove_config(name);
            }
        }
        for (name, value) in &session.properties {
            if name.to_ascii_lowercase().starts_with("ksql.functions.") {
                functions.set_config(name, value);
            }
        }
        self.properties = session.properties;
        self.variables = session.variables;
    }

    pub fn execute(&mut self, statement: Statement) -> EngineResult<StatementResult> {
        let persistent = commands::is_persistent(&statement.kind);
        if persistent && self.recording && self.shared.is_some() {
            return self.execute_shared(statement);
        }
        self.catch_up()?;
        let text = statement.text.clone();
        let result = self.apply(statement)?;
        if persistent {
            self.record_command(&text, &result)?;
        }
        Ok(result)
    }

    fn apply(&mut self, statement: Statement) -> EngineResult<StatementResult> {
        let text = statement.text.clone();
        match statement.kind {
            StatementKind::CreateSource(c) => self.create_source(&c, &text),
            StatementKind::CreateAsSelect(c) => self.create_as_select(&c, &text),
            StatementKind::InsertSelect {
                target,
                target_location,
                properties,
                query,
            } => self.insert_select((&target, target_location), &properties, &query, &text),
            StatementKind::InsertValues {
                target,
                columns,
                values,
            } => self.insert_values(&target, columns.as_deref(), &values),
            StatementKind::DropSource {
                kind,
                name,
                if_exists,
                delete_topic,
            } => self.drop_source(kind, &name, if_exists, delete_topic),
            StatementKind::CreateType {
                name,
                sql_type,
                if_not_exists,
            } => self.create_type(&name, sql_type, if_not_exists),
            StatementKind::DropType { name, if_exists } => self.drop_type(&name, if_exists),
            StatementKind::Terminate(id) => self.terminate(id.as_deref()),
            StatementKind::Set { name, value } => {
                self.set_property(&name, &value);
                Ok(StatementResult::Success(format!(
                    "Successfully changed local property '{name}' to '{value}'."
                )))
            }
            StatementKind::Unset(name) => {
                self.unset_property(&name);
                Ok(StatementResult::Success(format!(
                    "Successfully unset local property '{name}'."
                )))
            }
            StatementKind::Define { name, value } => {
                self.variables.insert(name, value);
                Ok(StatementResult::Success(String::new()))
            }
            StatementKind::Undefine(name) => {
                self.variables.remove(&name);
                Ok(StatementResult::Success(String::new()))
            }
            // A client command: see `execute_client_text`.
            StatementKind::RunScript { location, .. } => {
                Err(sql::SqlError::new("Syntax Error\nUnknown statement 'RUN'", location).into())
            }
            StatementKind::AlterSource {
                kind,
                name,
                columns,
            } => self.alter_source(kind, &name, &columns),
            StatementKind::AssertTopic {
                topic,
                exists,
                properties,
                timeout_ms,
            } => self.assert_topic(&topic, exists, &properties, timeout_ms),
            StatementKind::AssertSchema { .. } => error::statement_err(
                "Cannot check schemas: Brook has no schema registry (it supports the JSON, DELIMITED, KAFKA and NONE formats, which need none).",
            ),
            StatementKind::Select(q) if self.is_pull_query(&q) => self.pull_query(&q),
            StatementKind::Select(q) => self.transient_query(&q, &text),
            other => self.listing(other),
        }
    }

    /// Runs a startup query file: statements whose stream, table or query already exists
    /// (from an earlier run, restored from the command log) are skipped, so re-running the same
    /// files is safe. Returns the results of the statements that ran.
    pub fn execute_startup_script(&mut self, text: &str) -> EngineResult<Vec<StatementResult>> {
        let mut results = Vec::new();
        for piece in sql::split_statements(text)? {
            let statement = self.parse(&piece)?;
            let exists = match &statement.kind {
                StatementKind::CreateSource(c) => self.catalog.sources.contains_key(&c.name),
                StatementKind::CreateAsSelect(c) => self.catalog.sources.contains_key(&c.name),
                StatementKind::CreateType { name, .. } => self.catalog.types.contains_key(name),
                StatementKind::InsertSelect { .. } => self
                    .catalog
                    .queries
                    .values()
                    .any(|q| q.sql == statement.text),
                _ => false,
            };
            if exists {
                results.push(StatementResult::Success(format!(
                    "Already exists, skipped: {}",
                    first_line(&statement.text)
                )));
                continue;
            }
            let created_name = match &statement.kind {
                StatementKind::CreateSource(c) => Some(c.name.clone()),
                StatementKind::CreateAsSelect(c) => Some(c.name.clone()),
                _ => None,
            };
            let text = statement.text.clone();
            match self.execute(statement) {
                Ok(result) => results.push(result),
                // In a shared catalog another server running the same files may have created
                // it first.
                Err(_)
                    if self.shared.is_some()
                        && created_name.is_some_and(|n| self.catalog.sources.contains_key(&n)) =>
                {
                    results.push(StatementResult::Success(format!(
                        "Already exists, skipped: {}",
                        first_line(&text)
                    )));
                }
                Err(e) => return Err(e),
            }
        }
        Ok(results)
    }

    /// The error that stopped a persistent query (its state is then ERROR).
    pub fn query_failure(&self, id: &str) -> Option<String> {
        match self.runners.get(id) {
            Some(QueryRunner::Thread { failed, .. }) => failed.lock().ok().and_then(|f| f.clone()),
            _ => None,
        }
    }

    /// Stops every query (threads are joined).
    pub fn shutdown(&mut self) {
        for (_, runner) in std::mem::take(&mut self.runners) {
            queries::stop_runner(runner);
        }
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or(text)
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.shutdown();
    }
}
