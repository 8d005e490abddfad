//! Runs one case: a fresh embedded log and engine (manual mode), the statements, then each
//! input record followed by running every query until idle, then the output comparison.
//!
//! On Kafka (`Cluster::KafkaListener`) the engine runs through rdkafka, with a Kafka-protocol
//! listener on the case's log as the cluster: inputs are appended to that log and outputs read
//! from it, the queries consume, produce and commit over the wire.

use super::case::{Case, TestRecord, Variant};
use super::compare::same;
use super::records::{Side, append_window, sides, split_window, to_bytes, to_json};
use crate::engine::{Engine, RunMode};
use crate::format::Part;
use crate::log::{EmbeddedLog, FlushPolicy, LogConfig};
use crate::sql::{self, StatementKind};
use crate::transport::{
    Header, OffsetSpec, ProducerRecord, StartFrom, TopicConfig, TopicPartition, Transport,
    TransportError,
};
use base64::Engine as _;
use bytes::Bytes;
use serde_json::Value as Json;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    Failed(String),
    Skipped(String),
}

/// Where a case's queries run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cluster {
    /// On the embedded log.
    Embedded,
    /// On Kafka through rdkafka, a Kafka-protocol listener on the case's log as the cluster.
    KafkaListener,
}

pub fn run_variant(case: &Case, variant: &Variant) -> Outcome {
    run_variant_on(case, variant, Cluster::Embedded)
}

/// Runs a case with its queries on `cluster`.
pub fn run_variant_on(case: &Case, variant: &Variant, cluster: Cluster) -> Outcome {
    let skipped = match cluster {
        Cluster::Embedded => case.skip_reason(variant),
        Cluster::KafkaListener => case.kafka_skip_reason(variant),
    };
    if let Some(reason) = skipped {
        return Outcome::Skipped(reason);
    }
    match run(case, variant, cluster) {
        Ok(outcome) => outcome,
        Err(e) => Outcome::Failed(e),
    }
}

/// The engine's log: the case's log itself, or Kafka with a listener on it (kept alive).
fn engine_log(
    log: &EmbeddedLog,
    cluster: Cluster,
) -> Result<(Engine, Option<crate::kafka_wire::KafkaServer>), String> {
    if cluster == Cluster::Embedded {
        return Ok((Engine::new(Arc::new(log.clone()), RunMode::Manual), None));
    }
    let config = crate::kafka_wire::KafkaConfig {
        listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        ..Default::default()
    };
    let server = crate::kafka_wire::start(log.clone(), config).map_err(|e| e.to_string())?;
    let kafka = crate::kafka::KafkaTransport::connect(&server.local_addr.to_string())
        .map_err(|e| e.to_string())?;
    let engine = Engine::new(Arc::new(kafka), RunMode::Manual)
        .with_names(crate::engine::InternalNames::for_service("qtt_"));
    Ok((engine, Some(server)))
}

fn run(case: &Case, variant: &Variant, cluster: Cluster) -> Result<Outcome, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let config = LogConfig {
        flush: FlushPolicy::Never,
        maintenance_interval: Duration::from_secs(3600),
        ..LogConfig::default()
    };
    let log = EmbeddedLog::open(dir.path(), config).map_err(|e| e.to_string())?;
    let transport: Arc<dyn Transport> = Arc::new(log.clone());
    let (mut engine, listener) = engine_log(&log, cluster)?;
    super::fixtures::register(&mut engine);
    for (k, v) in &case.properties {
        engine.set_property(
            k,
            &v.as_str()
                .map(str::to_string)
                .unwrap_or_else(|| v.to_string()),
        );
    }
    create_topics(case, variant, transport.as_ref())?;
    let expected_error = case
        .expected_exception
        .as_ref()
        .map(|e| e.message.clone().unwrap_or_default());
    // One script, a statement per line, as ksqlDB's runner joins them: error positions are
    // positions in that script ("line 2:40").
    let script = variant.statements.join("\n");
    if let Err(e) = engine.execute_script(&script) {
        let message = e.to_string();
        return Ok(match &expected_error {
            Some(expected) if message.contains(expected.as_str()) => Outcome::Passed,
            Some(expected) => Outcome::Failed(format!(
                "expected error containing {expected:?}, got {message:?}"
            )),
            None => Outcome::Failed(format!("statement failed: {message}")),
        });
    }
    for input in &case.inputs {
        produce(&engine, transport.as_ref(), input)?;
        let ran = match cluster {
            Cluster::Embedded => engine.run_until_idle(),
            Cluster::KafkaListener => engine.run_until_caught_up(1, Duration::from_secs(30)),
        };
        if let Err(e) = ran {
            // A query that stops on bad data is the expected error of some cases.
            let message = e.to_string();
            return match &expected_error {
                Some(expected) if message.contains(expected.as_str()) => Ok(Outcome::Passed),
                _ => Err(format!("query failed: {message}")),
            };
        }
    }
    if let Some(expected) = &expected_error {
        return Ok(Outcome::Failed(format!(
            "expected an error containing {expected:?}, but everything succeeded"
        )));
    }
    compare_outputs(case, &engine, transport.as_ref())?;
    check_post(case, &engine)?;
    drop(engine);
    if let Some(listener) = listener {
        listener.stop();
    }
    log.close().map_err(|e| e.to_string())?;
    Ok(Outcome::Passed)
}

/// Topics of the case: declared ones, those records use, and those source statements name.
fn create_topics(case: &Case, variant: &Variant, transport: &dyn Transport) -> Result<(), String> {
    let mut wanted: Vec<(String, u32)> = case
        .topics
        .iter()
        .map(|t| (t.name.clone(), t.partitions.unwrap_or(1)))
        .collect();
    wanted.extend(
        case.inputs
            .iter()
            .chain(&case.outputs)
            .map(|r| (r.topic.clone(), 1)),
    );
    for statement in &variant.statements {
        for piece in sql::split_statements(statement).unwrap_or_default() {
            if let Ok(s) = sql::parse_statement(&piece.text, &|_| None)
                && let StatementKind::CreateSource(c) = s.kind
                && let Some(topic) = c.properties.get_text("KAFKA_TOPIC")
            {
                let partitions = c
                    .properties
                    .get_text("PARTITIONS")
                    .and_then(|p| p.parse().ok())
                    .unwrap_or(1);
                wanted.push((topic, partitions));
            }
        }
    }
    create_listed_topics(transport, wanted)
}

/// Creates each (topic, partitions) with no retention; existing topics and names the log
/// refuses (a case's deliberately invalid ones) are left as they are.
pub(super) fn create_listed_topics(
    transport: &dyn Transport,
    wanted: Vec<(String, u32)>,
) -> Result<(), String> {
    for (name, partitions) in wanted {
        let config = TopicConfig {
            retention_ms: None,
            ..TopicConfig::with_partitions(partitions)
        };
        match transport.create_topic(&name, &config) {
            Ok(())
            | Err(TransportError::TopicExists(_))
            | Err(TransportError::InvalidTopicName { .. }) => {}
            Err(e) => return Err(format!("creating topic {name}: {e}")),
        }
    }
    Ok(())
}

/// The key and value sides of the source registered on `topic` (the latest one).
fn topic_sides(engine: &Engine, topic: &str) -> Option<(Side, Side)> {
    engine
        .catalog()
        .sources
        .values()
        .rfind(|s| s.topic == topic)
        .map(sides)
}

pub(super) fn produce(
    engine: &Engine,
    transport: &dyn Transport,
    input: &TestRecord,
) -> Result<(), String> {
    let sides = topic_sides(engine, &input.topic);
    let mut key = to_bytes(&input.key, sides.as_ref().map(|s| &s.0), Part::Key)
        .map_err(|e| format!("input key: {e}"))?;
    if let (Some(key), Some(window), Some((side, _))) = (&mut key, &input.window, &sides) {
        append_window(key, window, side).map_err(|e| format!("input key: {e}"))?;
    }
    let value = to_bytes(&input.value, sides.as_ref().map(|s| &s.1), Part::Value)
        .map_err(|e| format!("input value: {e}"))?;
    let headers = input.headers.iter().flatten().filter_map(|h| {
        let key = h.get("KEY").or_else(|| h.get("key"))?.as_str()?.to_string();
        let value = h
            .get("VALUE")
            .or_else(|| h.get("value"))
            .and_then(Json::as_str)
            .and_then(|v| base64::engine::general_purpose::STANDARD.decode(v).ok())
            .map(Bytes::from);
        Some(Header { key, value })
    });
    let record = ProducerRecord {
        key: key.map(Bytes::from),
        value: value.map(Bytes::from),
        timestamp: Some(input.timestamp.unwrap_or(0)),
        headers: headers.collect(),
    };
    let mut producer = transport.producer().map_err(|e| e.to_string())?;
    producer
        .send(&input.topic, None, record)
        .map_err(|e| e.to_string())?;
    producer.flush().map_err(|e| e.to_string())?;
    Ok(())
}

pub(super) fn compare_outputs(
    case: &Case,
    engine: &Engine,
    transport: &dyn Transport,
) -> Result<(), String> {
    let mut topics: Vec<&str> = Vec::new();
    for o in &case.outputs {
        if !topics.contains(&o.topic.as_str()) {
            topics.push(&o.topic);
        }
    }
    for topic in topics {
        let expected: Vec<&TestRecord> = case.outputs.iter().filter(|o| o.topic == topic).collect();
        let actual = read_topic(engine, transport, topic)?;
        let sides = topic_sides(engine, topic);
        let columns: Option<Vec<String>> = sides
            .as_ref()
            .filter(|s| s.1.format.kind == crate::format::FormatKind::Json)
            .map(|s| s.1.columns.iter().map(|c| c.name.clone()).collect());
        if expected.len() != actual.len() {
            return Err(format!(
                "topic {topic}: expected {} records, got {}: {}",
                expected.len(),
                actual.len(),
                render(&actual)
            ));
        }
        for (i, (e, a)) in expected.iter().zip(&actual).enumerate() {
            let key_ok = same(&e.key, &a.0) && same_window(e.window.as_ref(), a.3.as_ref());
            let value_ok = same(
                &through_schema(&e.value, columns.as_deref()),
                &through_schema(&a.1, columns.as_deref()),
            );
            let ts_ok = e.timestamp.is_none_or(|t| t == a.2);
            if !(key_ok && value_ok && ts_ok) {
                return Err(format!(
                    "topic {topic} record {i}: expected key {}{} value {} ts {:?}, got key {}{} value {} ts {}",
                    e.key,
                    window_text(e.window.as_ref()),
                    e.value,
                    e.timestamp,
                    a.0,
                    window_text(a.3.as_ref()),
                    a.1,
                    a.2
                ));
            }
        }
    }
    Ok(())
}

/// Reads a JSON value object as the sink's schema does: its columns, missing ones NULL,
/// unknown fields ignored (how ksqlDB's test harness reads expected values).
fn through_schema(value: &Json, columns: Option<&[String]>) -> Json {
    match (value, columns) {
        (Json::Object(fields), Some(columns)) if !columns.is_empty() => Json::Object(
            columns
                .iter()
                .map(|c| {
                    let v = fields
                        .get(c)
                        .or_else(|| {
                            fields
                                .iter()
                                .find(|(k, _)| k.eq_ignore_ascii_case(c))
                                .map(|(_, v)| v)
                        })
                        .cloned()
                        .unwrap_or(Json::Null);
                    (c.clone(), v)
                })
                .collect(),
        ),
        (other, _) => other.clone(),
    }
}

/// An expected window (if the case gives one) equals the record's.
fn same_window(expected: Option<&Json>, actual: Option<&Json>) -> bool {
    let bounds = |w: &Json| (w.get("start").cloned(), w.get("end").cloned());
    match (expected, actual) {
        (None, _) => true,
        (Some(e), Some(a)) => bounds(e) == bounds(a),
        (Some(_), None) => false,
    }
}

fn window_text(window: Option<&Json>) -> String {
    window.map(|w| format!(" window {w}")).unwrap_or_default()
}

/// A record read back: key, value, timestamp and the window of a windowed key.
type ReadRecord = (Json, Json, i64, Option<Json>);

fn render(records: &[ReadRecord]) -> String {
    records
        .iter()
        .map(|(k, v, t, w)| format!("[{k}{} {v} @{t}]", window_text(w.as_ref())))
        .collect::<Vec<_>>()
        .join(" ")
}

fn read_topic(
    engine: &Engine,
    transport: &dyn Transport,
    topic: &str,
) -> Result<Vec<ReadRecord>, String> {
    let sides = topic_sides(engine, topic);
    let count = match transport.partition_count(topic) {
        Ok(n) => n,
        Err(TransportError::UnknownTopic(_)) => return Ok(Vec::new()),
        Err(e) => return Err(e.to_string()),
    };
    let mut out = Vec::new();
    for p in 0..count {
        let tp = TopicPartition::new(topic, p);
        let end = transport
            .list_offset(&tp, OffsetSpec::Latest)
            .map_err(|e| e.to_string())?;
        let mut consumer = transport.consumer(None).map_err(|e| e.to_string())?;
        consumer
            .assign(&[(tp.clone(), StartFrom::Earliest)])
            .map_err(|e| e.to_string())?;
        while consumer.position(&tp).unwrap_or(end) < end {
            let batches = consumer
                .poll(10_000, Duration::ZERO)
                .map_err(|e| e.to_string())?;
            if batches.is_empty() {
                break;
            }
            for r in batches.iter().flat_map(|b| &b.records) {
                let key_side = sides.as_ref().map(|s| &s.0);
                let (key, window) = match (r.key.as_deref(), key_side) {
                    (Some(bytes), Some(side)) => split_window(bytes, side),
                    (key, _) => (key.unwrap_or_default(), None),
                };
                let key = match r.key {
                    Some(_) => to_json(Some(key), key_side, Part::Key),
                    None => Json::Null,
                };
                let value = to_json(
                    r.value.as_deref(),
                    sides.as_ref().map(|s| &s.1),
                    Part::Value,
                );
                out.push((key, value, r.timestamp, window));
            }
        }
    }
    Ok(out)
}

/// `post.sources`: each listed source exists with the given type and schema.
fn check_post(case: &Case, engine: &Engine) -> Result<(), String> {
    let Some(sources) = case
        .post
        .as_ref()
        .and_then(|p| p.get("sources"))
        .and_then(Json::as_array)
    else {
        return Ok(());
    };
    for expected in sources {
        let Some(name) = expected.get("name").and_then(Json::as_str) else {
            continue;
        };
        let Some(source) = engine.catalog().sources.get(name) else {
            return Err(format!("post: source {name} does not exist"));
        };
        if let Some(kind) = expected.get("type").and_then(Json::as_str)
            && !kind.eq_ignore_ascii_case(source.kind.name())
        {
            return Err(format!(
                "post: {name} is a {}, expected a {kind}",
                source.kind.name()
            ));
        }
        if let Some(schema) = expected.get("schema").and_then(Json::as_str) {
            let actual = source.schema.to_string();
            if normalize_schema(schema) != normalize_schema(&actual) {
                return Err(format!(
                    "post: {name} has schema {actual}, expected {schema}"
                ));
            }
        }
        check_post_formats(name, expected, source)?;
    }
    Ok(())
}

/// `post.sources[].keyFormat` (format and window), `valueFormat` and `isSource`.
fn check_post_formats(
    name: &str,
    expected: &Json,
    source: &crate::plan::SourceDef,
) -> Result<(), String> {
    let format_name = |f: &Json| match f {
        Json::String(s) => Some(s.clone()),
        other => other
            .get("format")
            .and_then(Json::as_str)
            .map(str::to_string),
    };
    let mut actual = vec![("keyFormat", Json::from(source.key_format.kind.name()))];
    actual.push(("valueFormat", Json::from(source.value_format.kind.name())));
    actual.push(("isSource", Json::from(source.read_only)));
    let window = source.window;
    actual.push((
        "windowType",
        window.map_or(Json::Null, |w| w.kind.name().into()),
    ));
    actual.push(("windowSize", window.and_then(|w| w.size_ms).into()));
    let key = expected.get("keyFormat");
    for (field, actual) in actual {
        let want = match field {
            "keyFormat" => key.and_then(format_name).map(Json::from),
            "valueFormat" => expected.get(field).and_then(format_name).map(Json::from),
            "windowType" | "windowSize" => key.map(|k| k.get(field).cloned().unwrap_or_default()),
            _ => expected.get(field).cloned(),
        };
        if let Some(want) = want
            && want != actual
        {
            return Err(format!(
                "post: {name} has {field} {actual}, expected {want}"
            ));
        }
    }
    Ok(())
}

/// Compares schemas regardless of backticks, spacing and INT/INTEGER, VARCHAR/STRING, PRIMARY
/// KEY/KEY spelling.
fn normalize_schema(s: &str) -> String {
    let mut t = s.replace('`', "").to_ascii_uppercase();
    for (from, to) in [
        ("INTEGER", "INT"),
        ("VARCHAR", "STRING"),
        ("PRIMARY KEY", "KEY"),
        (", ", ","),
        (" ,", ","),
        ("< ", "<"),
        (" >", ">"),
    ] {
        t = t.replace(from, to);
    }
    t.split_whitespace().collect::<Vec<_>>().join(" ")
}
