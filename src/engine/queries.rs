//! Persistent and transient queries: CREATE ... AS SELECT, INSERT INTO ... SELECT, TERMINATE,
//! and push queries (SELECT ... EMIT CHANGES).

use super::error::{EngineError, EngineResult, statement_err};
use super::results::PushQuery;
use super::{Engine, QueryInfo, QueryRunner, RunMode, StatementResult};
use crate::exec::{MemberStart, QueryDriver, QueryStart, StateLocation};
use crate::format::FormatKind;
use crate::plan::ddl::{check_properties, formats, validate_formats};
use crate::plan::schema::ColumnRole;
use crate::plan::{QueryKind, QueryPlan, SourceDef, check_projection, plan_query};
use crate::sql::{CreateAsSelect, Properties, Query, SourceKind};
use crate::transport::AutoOffsetReset;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

impl Engine {
    /// A join's inputs must have as many partitions as each other (ksqlDB's rule).
    pub(super) fn check_join_partitions(&self, plan: &QueryPlan) -> EngineResult<()> {
        let Some(joined) = &plan.join else {
            return Ok(());
        };
        let partitions = |s: &SourceDef| self.transport.partition_count(&s.topic).ok();
        crate::plan::join::check_partitions(&joined.tree, &partitions)
            .map_err(|e| EngineError::Statement(e.to_string()))
    }
    pub(super) fn plan(&self, q: &Query, kind: QueryKind) -> EngineResult<QueryPlan> {
        Ok(plan_query(q, &self.catalog, &self.functions, kind)?)
    }

    /// ksqlDB's `ksql.new.query.planner.enabled`: allows projections without the key.
    pub(super) fn new_planner(&self) -> bool {
        self.properties
            .get("ksql.new.query.planner.enabled")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    /// `ksql.timestamp.throw.on.invalid` (default false: such records go to the processing log).
    fn fatal_timestamp_errors(&self) -> bool {
        self.properties
            .get("ksql.timestamp.throw.on.invalid")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    pub(super) fn offset_reset(&self) -> AutoOffsetReset {
        // ksqlDB's clients send the Kafka Streams name of the setting.
        let value = self
            .properties
            .get("auto.offset.reset")
            .or_else(|| self.properties.get("ksql.streams.auto.offset.reset"));
        match value.map(|s| s.to_ascii_lowercase()) {
            Some(v) if v == "earliest" => AutoOffsetReset::Earliest,
            _ => AutoOffsetReset::Latest,
        }
    }

    pub(super) fn create_as_select(
        &mut self,
        c: &CreateAsSelect,
        sql: &str,
    ) -> EngineResult<StatementResult> {
        let kind = c.kind.name().to_ascii_lowercase();
        if self.catalog.sources.contains_key(&c.name) {
            if c.if_not_exists {
                return Ok(StatementResult::Success(format!(
                    "A {kind} with the same name already exists: {}",
                    c.name
                )));
            }
            if !c.or_replace {
                return statement_err(format!(
                    "Cannot add {kind} '{}': A {kind} with the same name already exists",
                    c.name
                ));
            }
        }
        check_properties(&c.properties)?;
        let (plan, sink) = self.plan_create_as_select(c, sql)?;
        self.check_join_partitions(&plan)?;
        let partitions = self.transport.partition_count(&plan.source.topic)?;
        self.ensure_topic(&sink.topic, &c.properties, Some(partitions))?;
        let replaced = self.query_writing(&c.name).filter(|_| c.or_replace);
        let id = match &replaced {
            // CREATE OR REPLACE: the query goes on under its id, from its offsets and state.
            Some(existing) => {
                self.replay.query_id = None;
                self.stop_query(existing);
                existing.clone()
            }
            None => {
                let base = format!("{}_{}", create_as_prefix(c.kind), c.name);
                self.new_query_id(&base, &plan.source.topic)
            }
        };
        let before = (
            self.catalog.sources.get(&c.name).cloned(),
            self.catalog.queries.get(&id).cloned(),
        );
        self.catalog.sources.insert(sink.name.clone(), sink.clone());
        if let Err(e) = self.start_persistent(&id, &plan, &sink, sql) {
            self.undo_create_as_select(&c.name, &id, before, &e);
            return Err(e);
        }
        Ok(StatementResult::QueryStarted {
            message: format!("Created query with ID {id}"),
            id,
        })
    }

    /// Puts the catalog back as it was before a CREATE ... AS SELECT whose query could not
    /// start. A query it was replacing was stopped: it shows as ERROR (the command log still
    /// holds it, so the next start runs it again).
    fn undo_create_as_select(
        &mut self,
        name: &str,
        id: &str,
        (source, query): (Option<SourceDef>, Option<super::QueryInfo>),
        error: &EngineError,
    ) {
        match source {
            Some(source) => self.catalog.sources.insert(name.to_string(), source),
            None => self.catalog.sources.remove(name),
        };
        match query {
            Some(query) => {
                self.catalog.queries.insert(id.to_string(), query);
                let why = format!("stopped by a CREATE OR REPLACE that failed: {error}");
                self.runners
                    .insert(id.to_string(), QueryRunner::failed(why));
            }
            None => {
                self.catalog.queries.remove(id);
            }
        }
    }

    /// The CREATE ... AS SELECT query that writes `sink`, if it still runs (not an INSERT
    /// INTO query that also writes it).
    fn query_writing(&self, sink: &str) -> Option<String> {
        let creates = |id: &str| ["CSAS_", "CTAS_"].iter().any(|p| id.starts_with(p));
        self.catalog
            .queries
            .values()
            .find(|q| q.sink.as_deref() == Some(sink) && creates(&q.id))
            .map(|q| q.id.clone())
    }

    /// Plans a CREATE STREAM|TABLE AS SELECT (without running it): the query and its sink.
    pub(super) fn plan_create_as_select(
        &self,
        c: &CreateAsSelect,
        sql: &str,
    ) -> EngineResult<(QueryPlan, SourceDef)> {
        if c.query.limit.is_some() {
            let kind = match c.kind {
                SourceKind::Stream => "STREAM",
                SourceKind::Table => "TABLE",
            };
            return statement_err(format!(
                "CREATE {kind} AS SELECT statements don't support LIMIT clause."
            ));
        }
        let plan = self.plan(&c.query, QueryKind::Persistent)?;
        let produces_table = plan.aggregation.is_some() || plan.source.is_table();
        match (c.kind, produces_table) {
            (SourceKind::Table, false) => {
                return statement_err(
                    "Invalid result type. Your SELECT query produces a STREAM. Please use CREATE STREAM AS SELECT statement instead.",
                );
            }
            (SourceKind::Stream, true) => {
                return statement_err(
                    "Invalid result type. Your SELECT query produces a TABLE. Please use CREATE TABLE AS SELECT statement instead.",
                );
            }
            _ => {}
        }
        // (ksqlDB checks the sink's TIMESTAMP column before the projection.)
        crate::plan::ddl::timestamp_spec(&c.properties, &plan.output_schema)?;
        check_projection(&plan, &c.name, self.new_planner())?;
        let sink = self.sink_source(c, &plan, sql)?;
        Ok((plan, sink))
    }

    /// The definition of a CREATE ... AS SELECT's output.
    pub(super) fn sink_source(
        &self,
        c: &CreateAsSelect,
        plan: &QueryPlan,
        sql: &str,
    ) -> EngineResult<SourceDef> {
        let defaults = self.ddl_defaults();
        let topic = c.properties.get_text("KAFKA_TOPIC").unwrap_or_else(|| {
            let prefix = defaults.get("ksql.output.topic.name.prefix").unwrap_or("");
            format!("{prefix}{}", c.name)
        });
        let (mut key_format, mut value_format) = formats(
            &c.properties,
            &defaults,
            Some((&plan.source.key_format, &plan.source.value_format)),
        )?;
        defaults.apply_wrap_default(
            &mut value_format,
            plan.output_schema.value_columns().count(),
        );
        let explicit_key =
            c.properties.get("KEY_FORMAT").is_some() || c.properties.get("FORMAT").is_some();
        let has_key = plan.output_schema.key_columns().next().is_some();
        if !has_key
            && c.properties.get("KEY_FORMAT").is_some()
            && key_format.kind != FormatKind::None
        {
            return statement_err(format!(
                "Key format specified for {} without key columns.",
                c.kind.name().to_ascii_lowercase()
            ));
        }
        if has_key && explicit_key && key_format.kind == FormatKind::None {
            let keys: Vec<String> = plan
                .output_schema
                .key_columns()
                .map(|c| format!("`{}` {} KEY", c.name, c.sql_type))
                .collect();
            return statement_err(format!(
                "The 'NONE' format can only be used when no columns are defined. Got: [{}]",
                keys.join(", ")
            ));
        }
        if !has_key && !explicit_key {
            key_format = crate::format::FormatSpec::new(FormatKind::None);
        } else if has_key && key_format.kind == FormatKind::None {
            // A keyless source re-keyed by PARTITION BY: the default key format.
            let default = defaults.get("ksql.persistence.default.format.key");
            let kind = default.and_then(|f| FormatKind::parse(f).ok());
            key_format = crate::format::FormatSpec::new(kind.unwrap_or(FormatKind::Kafka));
        }
        if let Err(e) = validate_formats(&plan.output_schema, &key_format, &value_format) {
            // As ksqlDB's, the error quotes the statement as rewritten by planning.
            let statement = super::statement_text::create_as_select_text(c, plan);
            return statement_err(format!("{e}\nStatement: {statement}"));
        }
        let timestamp = crate::plan::ddl::timestamp_spec(&c.properties, &plan.output_schema)?;
        let formats = (key_format, value_format);
        Ok(plan.sink((&c.name, c.kind), topic, formats, timestamp, sql))
    }

    pub(super) fn insert_select(
        &mut self,
        (target, target_location): (&str, crate::sql::Location),
        props: &Properties,
        q: &Query,
        sql: &str,
    ) -> EngineResult<StatementResult> {
        check_properties(props)?;
        let Some(sink) = self.catalog.sources.get(target).cloned() else {
            let message = format!("Source `{target}` does not exist.");
            return Err(crate::plan::PlanError::at(message, target_location).into());
        };
        if sink.kind == SourceKind::Table {
            return statement_err(format!(
                "INSERT INTO can only be used to insert into a stream. {target} is a table."
            ));
        }
        if sink.read_only {
            return statement_err(format!("Cannot insert into read-only stream: {target}"));
        }
        if sink
            .schema
            .columns
            .iter()
            .any(|c| matches!(c.role, ColumnRole::Header(_)))
        {
            return statement_err(format!(
                "Cannot insert into {target} because it has header columns"
            ));
        }
        let plan = self.plan(q, QueryKind::Persistent)?;
        self.check_join_partitions(&plan)?;
        if !same_columns(&plan, &sink) {
            return statement_err(format!(
                "Incompatible schema between results and sink.\nResult schema is {}\nSink schema is {}",
                plan.output_schema, sink.schema
            ));
        }
        let id = self.new_query_id("INSERTQUERY", &plan.source.topic);
        self.start_persistent(&id, &plan, &sink, sql)?;
        Ok(StatementResult::QueryStarted {
            message: format!("Created query with ID {id}"),
            id,
        })
    }

    fn start_persistent(
        &mut self,
        id: &str,
        plan: &QueryPlan,
        sink: &SourceDef,
        sql: &str,
    ) -> EngineResult<()> {
        self.catalog.queries.insert(
            id.to_string(),
            query_info(self.transport.as_ref(), &self.names, id, plan, sink, sql),
        );
        if self.sandboxed {
            return Ok(());
        }
        let start = PersistentStart {
            id: id.to_string(),
            plan: plan.clone(),
            sink: sink.clone(),
            reset: self.offset_reset(),
            fatal_timestamp_errors: self.fatal_timestamp_errors(),
        };
        if self.replay.active {
            // Started once the whole log is replayed, if no later TERMINATE removed it.
            self.replay.deferred.insert(id.to_string(), start);
            return Ok(());
        }
        let started = self.run_persistent(start);
        if started.is_err() {
            self.catalog.queries.remove(id);
        }
        started
    }

    /// Starts a persistent query's consumer, state and runner (a thread, or manual steps).
    pub(super) fn run_persistent(&mut self, start: PersistentStart) -> EngineResult<()> {
        let PersistentStart { id, plan, sink, .. } = &start;
        let group = self.names.query_group(id);
        let member = self.shared.as_ref().map(|shared| MemberStart {
            transport: self.transport.clone(),
            transactional_id: format!("{group}-{}", shared.server_id),
        });
        let query_start = QueryStart {
            member,
            id,
            plan,
            group: &group,
            reset: start.reset,
            fatal_timestamp_errors: start.fatal_timestamp_errors,
            state: self.state_location(id),
        };
        let query = QueryDriver::to_topic(self.transport.as_ref(), query_start, sink)?;
        self.register_materialization(id, plan, sink, &query)?;
        self.counters.insert(id.to_string(), query.counters());
        let runner = match self.mode {
            RunMode::Manual => QueryRunner::Manual(Box::new(query)),
            RunMode::Threads => {
                spawn_query_thread(query, self.processing_log.clone(), self.transport.clone())
            }
        };
        self.runners.insert(id.to_string(), runner);
        Ok(())
    }

    /// Stops a persistent query's runner and forgets what serves it, keeping what it owns
    /// (offsets, state, changelogs): for TERMINATE, and for CREATE OR REPLACE.
    fn stop_query(&mut self, id: &str) {
        self.forget_materializations(id);
        self.counters.remove(id);
        if let Ok(mut tally) = self.processing_log.lock() {
            tally.forget(id);
        }
        if let Some(runner) = self.runners.remove(id) {
            stop_runner(runner);
        }
    }

    pub(super) fn terminate(&mut self, id: Option<&str>) -> EngineResult<StatementResult> {
        let ids: Vec<String> = match id {
            None => self.catalog.queries.keys().cloned().collect(),
            Some(id) => {
                let upper = id.to_ascii_uppercase();
                if !self.catalog.queries.contains_key(&upper) {
                    return statement_err(format!("Unknown queryId: {id}"));
                }
                vec![upper]
            }
        };
        let mut leftovers = Vec::new();
        for id in &ids {
            self.catalog.queries.remove(id);
            self.stop_query(id);
            // The query is gone either way; what could not be removed is said, not fatal.
            if let Err(e) = self.delete_query_state(id) {
                tracing::warn!(query = %id, "removing what the terminated query owned: {e}");
                leftovers.push(format!("{id}: {e}"));
            }
        }
        let mut message = match id {
            None => "All queries terminated.".to_string(),
            Some(_) => "Query terminated.".to_string(),
        };
        if !leftovers.is_empty() {
            message.push_str(&format!(
                " Some of what it owned could not be removed: {}",
                leftovers.join("; ")
            ));
        }
        Ok(StatementResult::Success(message))
    }

    /// A push query: rows are collected as the caller steps `PushQuery::query`.
    pub(super) fn transient_query(
        &mut self,
        q: &Query,
        _sql: &str,
    ) -> EngineResult<StatementResult> {
        let plan = self.plan(q, QueryKind::Transient)?;
        self.check_join_partitions(&plan)?;
        let id = format!(
            "transient_{}_{}",
            plan.source.name, self.next_transient_number
        );
        self.next_transient_number += 1;
        let rows: super::push_rows::PushRows = Arc::default();
        let limit = q.limit;
        let subscriber = super::push_rows::subscriber(&plan, limit, rows.clone());
        let group = self.names.transient_group(&id);
        let start = QueryStart {
            member: None,
            id: &id,
            plan: &plan,
            group: &group,
            reset: self.offset_reset(),
            fatal_timestamp_errors: self.fatal_timestamp_errors(),
            state: StateLocation::Temporary {
                changelog_prefix: None,
            },
        };
        let query = QueryDriver::to_subscriber(self.transport.as_ref(), start, subscriber)?;
        Ok(StatementResult::PushQuery(Box::new(PushQuery {
            id,
            column_names: plan.column_names(),
            column_types: plan.column_types(),
            query,
            rows,
            limit,
        })))
    }
}

pub(super) fn same_columns(plan: &QueryPlan, sink: &SourceDef) -> bool {
    let result: Vec<(&str, &crate::common::SqlType, bool)> = plan
        .output_schema
        .columns
        .iter()
        .map(|c| (c.name.as_str(), &c.sql_type, c.role == ColumnRole::Key))
        .collect();
    let target: Vec<(&str, &crate::common::SqlType, bool)> = sink
        .schema
        .columns
        .iter()
        .filter(|c| !matches!(c.role, ColumnRole::Header(_)))
        .map(|c| (c.name.as_str(), &c.sql_type, c.role == ColumnRole::Key))
        .collect();
    result == target
}

/// What starting a persistent query needs, decided when its statement ran (the offset reset
/// and timestamp handling in effect then).
pub(super) struct PersistentStart {
    pub id: String,
    pub plan: QueryPlan,
    pub sink: SourceDef,
    pub reset: AutoOffsetReset,
    pub fatal_timestamp_errors: bool,
}

/// How the catalog records a persistent query.
fn query_info(
    transport: &dyn crate::transport::Transport,
    names: &super::InternalNames,
    id: &str,
    plan: &QueryPlan,
    sink: &SourceDef,
    sql: &str,
) -> QueryInfo {
    QueryInfo {
        id: id.to_string(),
        sql: sql.to_string(),
        sink: Some(sink.name.clone()),
        sources: crate::plan::explain::source_names(plan),
        explanation: super::explain::explanation(transport, names, plan, id, Some(sink)),
    }
}

fn spawn_query_thread(
    mut query: QueryDriver,
    log: Arc<Mutex<super::processing_log::ErrorTally>>,
    transport: Arc<dyn crate::transport::Transport>,
) -> QueryRunner {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let failed: Arc<Mutex<Option<String>>> = Arc::default();
    let failure = failed.clone();
    let handle = std::thread::Builder::new()
        .name(format!("query-{}", query.id))
        .stack_size(crate::common::limits::THREAD_STACK_BYTES)
        .spawn(move || {
            let mut topic_log = super::processing_log::TopicProcessingLog::new(&transport).ok();
            while !flag.load(Ordering::Acquire) {
                let mut local = crate::exec::MemoryProcessingLog::default();
                // A panic is a bug in Brook: the query stops in ERROR (its uncommitted step is
                // redone from the committed offsets at the next start) instead of vanishing.
                let stepped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    query.step(10_000, Duration::from_millis(100), &mut local)
                }));
                let stepped = stepped.unwrap_or_else(|panic| {
                    let what = panic
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default();
                    Err(crate::exec::StepError::Internal(format!(
                        "a bug in Brook stopped the query: {what}"
                    )))
                });
                match stepped {
                    Ok(_) => {}
                    Err(
                        e
                        @ (crate::exec::StepError::Fatal(_) | crate::exec::StepError::Internal(_)),
                    ) => {
                        let e = e.to_string();
                        tracing::error!(query = %query.id, "query stopped: {e}");
                        if let Ok(mut f) = failure.lock() {
                            *f = Some(e);
                        }
                        break;
                    }
                    Err(e) => {
                        tracing::error!(query = %query.id, "query step failed (retrying): {e}");
                        std::thread::sleep(Duration::from_millis(500));
                    }
                }
                if local.errors.is_empty() {
                    continue;
                }
                if let Some(t) = topic_log.as_mut() {
                    local
                        .errors
                        .iter()
                        .cloned()
                        .for_each(|e| crate::exec::ProcessingLog::report(t, e));
                    t.flush();
                }
                if let Ok(mut shared) = log.lock() {
                    for e in local.errors {
                        crate::exec::ProcessingLog::report(&mut *shared, e);
                    }
                }
            }
        });
    match handle {
        Ok(h) => QueryRunner::Thread {
            stop,
            handle: Some(h),
            failed,
        },
        Err(e) => {
            tracing::error!("could not start a query thread: {e}");
            QueryRunner::Thread {
                stop,
                handle: None,
                failed,
            }
        }
    }
}

impl Engine {
    /// Where persistent query `id` keeps its state: `<state dir>/<id>`, or a temporary
    /// directory (rebuilt from the changelogs on restart) when the engine has no state dir.
    fn state_location(&self, id: &str) -> StateLocation {
        let changelog_prefix = self.names.query_group(id);
        match &self.state_root {
            Some(root) => StateLocation::Durable {
                path: root.join(path_safe(id)),
                changelog_prefix,
            },
            None => StateLocation::Temporary {
                changelog_prefix: Some(changelog_prefix),
            },
        }
    }

    /// A terminated query's state directory, changelog and repartition topics and committed
    /// offsets are deleted.
    fn delete_query_state(&self, id: &str) -> EngineResult<()> {
        let group = self.names.query_group(id);
        match self.transport.delete_group(&group) {
            // In a shared catalog every server applies the TERMINATE; the group can be deleted
            // once the last of them has left it, which that server does.
            Err(e) if self.shared.is_some() => {
                tracing::info!(query = %id, "group {group} not deleted here (other servers may still be leaving it): {e}");
            }
            deleted => deleted?,
        }
        if let Some(root) = &self.state_root {
            crate::state::StateDir::delete(root.join(path_safe(id)))
                .map_err(|e| EngineError::Statement(e.to_string()))?;
        }
        let prefix = format!("{}-", self.names.query_group(id));
        for topic in self.transport.list_topics()? {
            let internal = topic.ends_with("-changelog") || topic.ends_with("-repartition");
            if topic.starts_with(&prefix) && internal {
                match self.transport.delete_topic(&topic) {
                    // Another server applying the same TERMINATE deleted it first.
                    Err(crate::transport::TransportError::UnknownTopic(_))
                        if self.shared.is_some() => {}
                    deleted => deleted?,
                }
            }
        }
        Ok(())
    }
}

/// A query id as a file name: characters other than letters, digits, `_` and `-` become `_`.
pub(super) fn path_safe(id: &str) -> String {
    id.chars()
        .map(
            |c| match c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                true => c,
                false => '_',
            },
        )
        .collect()
}

pub(super) fn stop_runner(runner: QueryRunner) {
    if let QueryRunner::Thread { stop, handle, .. } = runner {
        stop.store(true, Ordering::Release);
        if let Some(h) = handle {
            let _ = h.join();
        }
    }
}

impl From<std::io::Error> for EngineError {
    fn from(e: std::io::Error) -> Self {
        EngineError::Statement(e.to_string())
    }
}

/// Query ids of CREATE ... AS SELECT: `CSAS_<name>_<n>` for streams, `CTAS_...` for tables.
pub(super) fn create_as_prefix(kind: SourceKind) -> &'static str {
    match kind {
        SourceKind::Stream => "CSAS",
        SourceKind::Table => "CTAS",
    }
}
