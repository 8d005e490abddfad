//! The runner for ksqlDB's rest-query-validation-tests, through the HTTP API: each case gets an
//! engine (stepped by the runner) served on a loopback port. As ksqlDB's RestTestExecutor does,
//! the statements before the first `SELECT ` go to `/ksql` in one request, then every input
//! record is produced, the persistent queries run until idle, and then each query goes to
//! `/query`; the
//! responses (header schema and rows, in order) or the expected error are compared, and then
//! the records in the case's output topics.
//!
//! Topics get 4 partitions unless declared otherwise (as in ksqlDB's rest tests; table scans
//! return rows partition by partition, so the order depends on it). A case whose
//! inputConditions say `waitForActivePushQuery` sends its queries first, waits until the
//! server runs them, and only then produces its inputs (ksqlDB's scalable push queries).
//! Headers are compared by schema: query ids are not (ksqlDB's scalable push queries are
//! named `SCALABLE_PUSH_QUERY_...`; Brook's push queries all read the log the same way and are
//! named `transient_...`). Cases that need joins, a schema registry, or protobuf responses
//! are skipped.

use super::case::{Case, Variant};
use super::rest_compare::{Responses, compare_responses};
use super::runner::{Outcome, produce};
use crate::engine::{Engine, RunMode};
use crate::http::HttpConfig;
use crate::http::client::{Reply, post_json};
use crate::log::{EmbeddedLog, FlushPolicy, LogConfig};
use crate::sql::{self, StatementKind};
use crate::transport::Transport;
use serde::Deserialize;
use serde_json::Value as Json;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

/// Partitions of topics that a case does not size.
const DEFAULT_PARTITIONS: u32 = 4;

#[derive(Debug, Deserialize)]
pub struct RestFile {
    pub tests: Vec<RestCase>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
pub struct RestCase {
    #[serde(flatten)]
    pub case: Case,
    #[serde(default)]
    pub responses: Vec<Json>,
    pub expected_error: Option<ExpectedError>,
    pub output_conditions: Option<OutputConditions>,
    pub input_conditions: Option<Json>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
pub struct OutputConditions {
    #[serde(default)]
    pub verify_order: bool,
}

#[derive(Debug, Deserialize, Clone)]
pub struct ExpectedError {
    pub message: Option<String>,
}

/// Whether a parsed case file is a rest-query-validation file (its cases have responses).
pub fn is_rest_file(json: &Json) -> bool {
    let tests = json.get("tests").and_then(Json::as_array);
    tests.is_some_and(|t| {
        t.iter()
            .any(|c| c.get("responses").is_some() || c.get("expectedError").is_some())
    })
}

pub fn run_rest_variant(case: &RestCase, variant: &Variant) -> Outcome {
    if let Some(reason) = skip_reason(case, variant) {
        return Outcome::Skipped(reason);
    }
    match run(case, variant) {
        Ok(outcome) => outcome,
        Err(e) => Outcome::Failed(e),
    }
}

fn skip_reason(case: &RestCase, variant: &Variant) -> Option<String> {
    if let Some(reason) = case.case.skip_reason(variant) {
        return Some(reason);
    }
    let proto = case.responses.iter().any(|r| r.get("queryProto").is_some());
    if proto {
        return Some("protobuf-encoded query responses (Brook answers JSON only)".into());
    }
    None
}

/// The statements from the first `SELECT ` on (RestTestExecutor's split).
fn queries(variant: &Variant) -> &[String] {
    let first = variant
        .statements
        .iter()
        .position(|s| s.starts_with("SELECT "))
        .unwrap_or(variant.statements.len());
    &variant.statements[first..]
}

/// What the case expects to fail, and how: `Some(message)` when it expects an error.
struct Expectation<'a> {
    error: Option<&'a str>,
}

impl Expectation<'_> {
    /// The outcome of an error `message`: passed if expected, else failed.
    fn on_error(&self, what: &str, message: &str) -> Outcome {
        match self.error {
            Some(expected) if message.contains(expected) => Outcome::Passed,
            Some(expected) => Outcome::Failed(format!(
                "expected error containing {expected:?}, got {message:?}"
            )),
            None => Outcome::Failed(format!("{what} failed: {message}")),
        }
    }
}

fn run(case: &RestCase, variant: &Variant) -> Result<Outcome, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let config = LogConfig {
        flush: FlushPolicy::Never,
        maintenance_interval: Duration::from_secs(3600),
        ..LogConfig::default()
    };
    let log = EmbeddedLog::open(dir.path(), config).map_err(|e| e.to_string())?;
    let transport: Arc<dyn Transport> = Arc::new(log.clone());
    let mut engine = Engine::new(transport.clone(), RunMode::Manual);
    super::fixtures::register(&mut engine);
    // ksqlDB's rest tests produce their inputs before the queries that read them.
    engine.set_property("auto.offset.reset", "earliest");
    for (k, v) in &case.case.properties {
        let value = v
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| v.to_string());
        engine.set_property(k, &value);
    }
    create_topics(&case.case, variant, transport.as_ref())?;
    let expect = Expectation {
        error: case
            .expected_error
            .as_ref()
            .map(|e| e.message.as_deref().unwrap_or_default()),
    };
    let queries = queries(variant);
    let admin = &variant.statements[..variant.statements.len() - queries.len()];
    let engine = Arc::new(Mutex::new(engine));
    let config = HttpConfig {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        ..HttpConfig::default()
    };
    let server = crate::http::start(engine.clone(), config).map_err(|e| e.to_string())?;
    server.set_ready();
    let addr = server.local_addr;
    let outcome = (|| {
        if !admin.is_empty() {
            let request = serde_json::json!({"ksql": admin.join("\n")}).to_string();
            let reply = post_json(addr, "/ksql", &request, TIMEOUT).map_err(|e| e.to_string())?;
            if reply.status != 200 {
                return Ok(expect.on_error("statement", &error_message(&reply)));
            }
        }
        // Inputs produced and the persistent queries run until idle.
        let produce_and_run = || -> Result<Option<String>, String> {
            let mut engine = engine
                .lock()
                .map_err(|_| "engine lock poisoned".to_string())?;
            for input in &inputs_by_topic(&case.case) {
                produce(&engine, transport.as_ref(), input)?;
            }
            // All of them are there before the queries poll, so each step polls every input
            // partition and takes records in timestamp order across them (Kafka Streams'
            // `PartitionGroup`), not partition by partition.
            let all_at_once = case.case.inputs.len().max(1);
            let run = engine.run_until_idle_with(all_at_once);
            Ok(run.err().map(|e| e.to_string()))
        };
        let ordered = case
            .output_conditions
            .as_ref()
            .is_some_and(|c| c.verify_order);
        let expected = Responses {
            admin_count: admin.len(),
            responses: &case.responses,
            ordered,
        };
        let replies = match waits_for_push_queries(case) {
            // The push queries start first and receive the rows as they are produced.
            true => match live_replies(addr, queries, produce_and_run)? {
                Ok(replies) => replies,
                Err(e) => return Ok(expect.on_error("query", &e)),
            },
            false => {
                if let Some(e) = produce_and_run()? {
                    return Ok(expect.on_error("query", &e));
                }
                queries.iter().map(|q| query_reply(addr, q)).collect()
            }
        };
        let outcome = judge_replies(queries, replies, &expect, &expected)?;
        if outcome != Outcome::Passed || expect.error.is_some() || case.case.outputs.is_empty() {
            return Ok(outcome);
        }
        // Then the records the statements wrote, as RestTestExecutor's verifyOutput.
        let engine = engine
            .lock()
            .map_err(|_| "engine lock poisoned".to_string())?;
        super::runner::compare_outputs(&case.case, &engine, transport.as_ref())?;
        Ok(Outcome::Passed)
    })();
    server.stop();
    if let Ok(mut engine) = engine.lock() {
        engine.shutdown();
    }
    drop(engine);
    log.close().map_err(|e| e.to_string())?;
    outcome
}

/// How long a query's response may stall (a push query without enough rows for its LIMIT).
const TIMEOUT: Duration = Duration::from_secs(10);

/// An error response's message (its body when that is not ksqlDB's error JSON).
fn error_message(reply: &Reply) -> String {
    serde_json::from_str::<Json>(&reply.body)
        .ok()
        .and_then(|j| j.get("message").and_then(Json::as_str).map(str::to_string))
        .unwrap_or_else(|| reply.body.clone())
}

/// Whether the case's push queries must be running before its inputs are produced.
fn waits_for_push_queries(case: &RestCase) -> bool {
    case.input_conditions
        .as_ref()
        .and_then(|c| c.get("waitForActivePushQuery"))
        .and_then(Json::as_bool)
        .unwrap_or(false)
}

/// A query's `/query` reply.
fn query_reply(addr: SocketAddr, query: &str) -> Result<Reply, String> {
    let request = serde_json::json!({"ksql": query}).to_string();
    post_json(addr, "/query", &request, TIMEOUT).map_err(|e| format!("{query}: {e}"))
}

/// Starts every query, waits until the server runs them as push queries (or they ended, as
/// a failing or LIMIT 0 query does), then produces the inputs and collects the replies; the
/// inner `Err` is a persistent query's failure.
fn live_replies(
    addr: SocketAddr,
    queries: &[String],
    produce_and_run: impl FnOnce() -> Result<Option<String>, String>,
) -> Result<Result<Vec<Result<Reply, String>>, String>, String> {
    let running: Vec<_> = queries
        .iter()
        .map(|q| {
            let q = q.clone();
            std::thread::spawn(move || query_reply(addr, &q))
        })
        .collect();
    let deadline = std::time::Instant::now() + TIMEOUT;
    loop {
        let active = push_queries_running(addr);
        let ended = running.iter().filter(|t| t.is_finished()).count();
        if active + ended >= running.len() || std::time::Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let failed = produce_and_run()?;
    let replies = running
        .into_iter()
        .map(|t| {
            t.join()
                .unwrap_or_else(|_| Err("the query thread panicked".into()))
        })
        .collect();
    Ok(match failed {
        Some(e) => Err(e),
        None => Ok(replies),
    })
}

/// The server's count of running push queries (from `/metrics`).
fn push_queries_running(addr: SocketAddr) -> usize {
    let reply = crate::http::client::request(addr, "GET", "/metrics", "", "", TIMEOUT);
    reply
        .ok()
        .and_then(|r| {
            r.body
                .lines()
                .find_map(|l| l.strip_prefix("brook_push_queries "))
                .and_then(|n| n.trim().parse().ok())
        })
        .unwrap_or(0)
}

/// Compares the queries' replies with the responses (or the expected error).
fn judge_replies(
    queries: &[String],
    replies: Vec<Result<Reply, String>>,
    expect: &Expectation<'_>,
    expected: &Responses<'_>,
) -> Result<Outcome, String> {
    let mut actual = Vec::new();
    let mut failed = None;
    for (query, reply) in queries.iter().zip(replies) {
        let reply = reply?;
        if reply.status == 200 {
            let items: Json = serde_json::from_str(&reply.body)
                .map_err(|e| format!("{query}: the response is not JSON ({e}): {}", reply.body))?;
            actual.push(items);
            continue;
        }
        let outcome = expect.on_error("query", &error_message(&reply));
        if outcome != Outcome::Passed {
            return Ok(outcome);
        }
        failed = Some(outcome);
    }
    if let Some(expected) = expect.error {
        return Ok(match (failed, actual.is_empty()) {
            (Some(_), true) => Outcome::Passed,
            _ => Outcome::Failed(format!(
                "expected an error containing {expected:?}, but the queries succeeded"
            )),
        });
    }
    compare_responses(
        expected.responses,
        expected.admin_count,
        &actual,
        expected.ordered,
    )?;
    Ok(Outcome::Passed)
}

/// The inputs grouped by topic, topics in order of first appearance (ksqlDB's producer sends
/// each topic's records together).
fn inputs_by_topic(case: &Case) -> Vec<super::case::TestRecord> {
    let mut topics: Vec<&str> = Vec::new();
    for input in &case.inputs {
        if !topics.contains(&input.topic.as_str()) {
            topics.push(&input.topic);
        }
    }
    topics
        .iter()
        .flat_map(|t| case.inputs.iter().filter(move |i| i.topic == *t).cloned())
        .collect()
}

/// Topics of the case: declared ones, those records use, and those source statements name.
fn create_topics(case: &Case, variant: &Variant, transport: &dyn Transport) -> Result<(), String> {
    let mut wanted: Vec<(String, u32)> = case
        .topics
        .iter()
        .map(|t| (t.name.clone(), t.partitions.unwrap_or(DEFAULT_PARTITIONS)))
        .collect();
    for statement in &variant.statements {
        for piece in sql::split_statements(statement).unwrap_or_default() {
            if let Ok(s) = sql::parse_statement(&piece.text, &|_| None)
                && let StatementKind::CreateSource(c) = s.kind
                && let Some(topic) = c.properties.get_text("KAFKA_TOPIC")
            {
                let partitions = c.properties.get_text("PARTITIONS");
                let partitions = partitions.and_then(|p| p.parse().ok());
                wanted.push((topic, partitions.unwrap_or(DEFAULT_PARTITIONS)));
            }
        }
    }
    let inputs = case
        .inputs
        .iter()
        .map(|r| (r.topic.clone(), DEFAULT_PARTITIONS));
    wanted.extend(inputs);
    super::runner::create_listed_topics(transport, wanted)
}
