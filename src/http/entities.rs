//! The JSON entities `/ksql` answers with, in ksqlDB's shapes (its `KsqlEntity` classes): each
//! has `@type` first, the `statementText` and `warnings`. CREATE, DROP, TERMINATE and the like
//! give `currentStatus`; SHOW and DESCRIBE give their listing types, built from the catalog;
//! EXPLAIN gives `queryDescription`. Listings ksqlDB's clients do not read (DESCRIBE FUNCTION,
//! SHOW FUNCTIONS/TYPES/VARIABLES) come as Brook's `listing` entity: title, columns, rows and
//! sections as text.

use crate::common::SqlType;
use crate::engine::Engine;
use crate::engine::results::{Listing, QueryDescription, StatementResult};
use crate::plan::SourceDef;
use crate::plan::schema::ColumnRole;
use crate::sql::{SourceKind, StatementKind};
use serde_json::{Map, Value as Json, json};

/// The entity for a statement that ran (`None`: the statement gives none, as SET or INSERT
/// VALUES in ksqlDB).
pub fn entity(
    engine: &Engine,
    kind: &StatementKind,
    text: &str,
    result: &StatementResult,
    sequence: i64,
) -> Option<Json> {
    if matches!(
        kind,
        StatementKind::Set { .. }
            | StatementKind::Unset(_)
            | StatementKind::Define { .. }
            | StatementKind::Undefine(_)
            | StatementKind::InsertValues { .. }
    ) {
        return None;
    }
    let mut body = match (kind, result) {
        (StatementKind::Show { what, .. }, _) => show(engine, *what),
        (StatementKind::Describe { name, extended }, _) => {
            match engine.catalog().sources.get(name) {
                Some(source) => describe(engine, source, *extended),
                None => listing(result),
            }
        }
        (_, StatementResult::Success(message)) => current_status(kind, message, None, sequence),
        (_, StatementResult::QueryStarted { id, message }) => {
            current_status(kind, message, Some(id), sequence)
        }
        (_, StatementResult::QueryDescription(d)) => query_description(d),
        _ => listing(result),
    };
    Some(tagged(&mut body, text))
}

/// Puts `statementText` and `warnings` into an entity whose `@type` is set.
fn tagged(body: &mut Map<String, Json>, text: &str) -> Json {
    let mut out = Map::new();
    if let Some(t) = body.shift_remove("@type") {
        out.insert("@type".into(), t);
    }
    out.insert("statementText".into(), json!(text));
    out.append(body);
    out.insert("warnings".into(), json!([]));
    Json::Object(out)
}

fn object(value: Json) -> Map<String, Json> {
    match value {
        Json::Object(m) => m,
        _ => Map::new(),
    }
}

/// `currentStatus`: what a command did, as ksqlDB's command topic reports it.
fn current_status(
    kind: &StatementKind,
    message: &str,
    query_id: Option<&str>,
    sequence: i64,
) -> Map<String, Json> {
    object(json!({
        "@type": "currentStatus",
        "commandId": command_id(kind),
        "commandStatus": {"status": "SUCCESS", "message": message, "queryId": query_id},
        "commandSequenceNumber": sequence,
    }))
}

/// ksqlDB's `CommandId`: `type/entity/action`.
fn command_id(kind: &StatementKind) -> String {
    let source = |k: SourceKind| match k {
        SourceKind::Stream => "stream",
        SourceKind::Table => "table",
    };
    match kind {
        StatementKind::CreateSource(c) => format!("{}/`{}`/create", source(c.kind), c.name),
        StatementKind::CreateAsSelect(c) => format!("{}/`{}`/create", source(c.kind), c.name),
        StatementKind::InsertSelect { target, .. } => format!("stream/`{target}`/create"),
        StatementKind::DropSource { kind, name, .. } => format!("{}/`{name}`/drop", source(*kind)),
        StatementKind::AlterSource { kind, name, .. } => {
            format!("{}/`{name}`/alter", source(*kind))
        }
        StatementKind::CreateType { name, .. } => format!("type/{name}/create"),
        StatementKind::DropType { name, .. } => format!("type/{name}/drop"),
        StatementKind::Terminate(Some(id)) => format!("terminate/{id}/execute"),
        StatementKind::Terminate(None) => "terminate/ALL/execute".into(),
        _ => "cluster/CLUSTER/execute".into(),
    }
}

fn show(engine: &Engine, what: crate::sql::ShowKind) -> Map<String, Json> {
    use crate::sql::ShowKind;
    let catalog = engine.catalog();
    match what {
        ShowKind::Streams | ShowKind::Tables => {
            let (kind, field, tag, type_name) = match what {
                ShowKind::Streams => (SourceKind::Stream, "streams", "streams", "STREAM"),
                _ => (SourceKind::Table, "tables", "tables", "TABLE"),
            };
            let items: Vec<Json> = catalog
                .sources
                .values()
                .filter(|s| s.kind == kind)
                .map(|s| {
                    json!({
                        "type": type_name,
                        "name": s.name,
                        "topic": s.topic,
                        "keyFormat": s.key_format.kind.name(),
                        "valueFormat": s.value_format.kind.name(),
                        "isWindowed": s.window.is_some(),
                    })
                })
                .collect();
            let mut m = Map::new();
            m.insert("@type".into(), json!(tag));
            m.insert(field.into(), Json::Array(items));
            m
        }
        ShowKind::Queries => {
            let items: Vec<Json> = catalog
                .queries
                .values()
                .map(|q| {
                    let state = match engine.query_failure(&q.id) {
                        Some(_) => "ERROR",
                        None => "RUNNING",
                    };
                    let sink_topic = q
                        .sink
                        .as_ref()
                        .and_then(|s| catalog.sources.get(s))
                        .map(|s| s.topic.clone());
                    json!({
                        "queryString": q.sql,
                        "sinks": q.sink.iter().collect::<Vec<_>>(),
                        "sinkKafkaTopics": sink_topic.into_iter().collect::<Vec<_>>(),
                        "id": q.id,
                        "statusCount": {state: 1},
                        "queryType": "PERSISTENT",
                        "state": state,
                    })
                })
                .collect();
            object(json!({"@type": "queries", "queries": items}))
        }
        ShowKind::Topics => {
            let transport = engine.transport();
            let topics: Vec<Json> = transport
                .list_topics()
                .unwrap_or_default()
                .into_iter()
                .filter(|t| !t.starts_with('_'))
                .map(|t| {
                    let partitions = transport.partition_count(&t).unwrap_or(0);
                    json!({"name": t, "replicaInfo": vec![1; partitions as usize]})
                })
                .collect();
            object(json!({"@type": "kafka_topics", "topics": topics}))
        }
        ShowKind::Properties => {
            let properties: Vec<Json> = engine
                .properties()
                .iter()
                .map(|(name, value)| {
                    json!({"name": name, "scope": "KSQL", "value": value, "editable": true, "level": "QUERY"})
                })
                .collect();
            object(json!({
                "@type": "properties",
                "properties": properties,
                "overwrittenProperties": [],
                "defaultProperties": [],
            }))
        }
        _ => object(json!({"@type": "listing"})),
    }
}

/// `sourceDescription`: DESCRIBE's fields, formats and the queries reading or writing it.
fn describe(engine: &Engine, source: &SourceDef, extended: bool) -> Map<String, Json> {
    let catalog = engine.catalog();
    let queries = catalog.queries_using(&source.name);
    let query_ref = |q: &&crate::engine::QueryInfo| json!({"queryString": q.sql, "sinks": q.sink.iter().collect::<Vec<_>>(), "id": q.id});
    let read: Vec<Json> = queries
        .iter()
        .filter(|q| q.sources.contains(&source.name))
        .map(query_ref)
        .collect();
    let write: Vec<Json> = queries
        .iter()
        .filter(|q| q.sink.as_deref() == Some(source.name.as_str()))
        .map(query_ref)
        .collect();
    let fields: Vec<Json> = source.schema.columns.iter().map(field_info).collect();
    let partitions = match extended {
        true => engine
            .transport()
            .partition_count(&source.topic)
            .unwrap_or(0),
        false => 0,
    };
    object(json!({
        "@type": "sourceDescription",
        "sourceDescription": {
            "name": source.name,
            "windowType": source.window.as_ref().map(|w| w.kind.name()),
            "readQueries": read,
            "writeQueries": write,
            "fields": fields,
            "type": if source.is_table() { "TABLE" } else { "STREAM" },
            "timestamp": source.timestamp.as_ref().map(|t| t.column.clone()).unwrap_or_default(),
            "statistics": "",
            "errorStats": "",
            "extended": extended,
            "keyFormat": source.key_format.kind.name(),
            "valueFormat": source.value_format.kind.name(),
            "topic": source.topic,
            "partitions": partitions,
            "replication": if extended { 1 } else { 0 },
            "statement": source.sql,
            "queryOffsetSummaries": [],
            "sourceConstraints": [],
            "clusterStatistics": [],
            "clusterErrorStats": [],
        }
    }))
}

/// ksqlDB's `queryDescription` entity (EXPLAIN): the execution plan, and as `topology` the
/// graph the query runs. One server: `ksqlHostQueryStatus` stays empty and `state` says a
/// running query's state (null for a statement). A stopped query's error message is not
/// carried (`queryErrors` stays empty).
fn query_description(d: &QueryDescription) -> Map<String, Json> {
    let e = &d.explanation;
    let fields: Vec<Json> = e.output_schema.columns.iter().map(field_info).collect();
    object(json!({
        "@type": "queryDescription",
        "queryDescription": {
            "id": d.id,
            "statementText": d.sql,
            "windowType": e.window.as_ref().map(|w| w.kind.name()),
            "fields": fields,
            "sources": e.sources,
            "sinks": e.sink.iter().collect::<Vec<_>>(),
            "topology": e.topology,
            "executionPlan": e.execution_plan,
            "overriddenProperties": {},
            "ksqlHostQueryStatus": {},
            "queryType": d.query_type,
            "queryErrors": [],
            "tasksMetadata": [],
            "consumerGroupId": d.consumer_group,
            "state": d.state.as_ref().map(|(state, _)| state),
        },
    }))
}

fn field_info(c: &crate::plan::schema::Column) -> Json {
    let mut m = Map::new();
    m.insert("name".into(), json!(c.name));
    m.insert("schema".into(), schema_info(&c.sql_type));
    match &c.role {
        ColumnRole::Key => {
            m.insert("type".into(), json!("KEY"));
        }
        ColumnRole::Header(key) => {
            m.insert("type".into(), json!("HEADER"));
            if let Some(k) = key {
                m.insert("headerKey".into(), json!(k));
            }
        }
        ColumnRole::Value => {}
    }
    Json::Object(m)
}

/// ksqlDB's `SchemaInfo` of a type: base type, struct fields, array/map member.
fn schema_info(t: &SqlType) -> Json {
    let mut m = Map::new();
    m.insert("type".into(), json!(base_type(t)));
    let fields = match t {
        SqlType::Struct(fields) => json!(
            fields
                .iter()
                .map(|f| json!({"name": f.name, "schema": schema_info(&f.sql_type)}))
                .collect::<Vec<_>>()
        ),
        _ => Json::Null,
    };
    m.insert("fields".into(), fields);
    let member = match t {
        SqlType::Array(element) => schema_info(element),
        SqlType::Map(_, value) => schema_info(value),
        _ => Json::Null,
    };
    m.insert("memberSchema".into(), member);
    if let SqlType::Decimal { precision, scale } = t {
        m.insert(
            "parameters".into(),
            json!({"precision": precision, "scale": scale}),
        );
    }
    Json::Object(m)
}

fn base_type(t: &SqlType) -> String {
    let text = t.to_string();
    let end = text.find(['<', '(']).unwrap_or(text.len());
    text[..end].trim().to_string()
}

/// Any other result as Brook's `listing` entity.
fn listing(result: &StatementResult) -> Map<String, Json> {
    let empty = Listing::default();
    let l = match result {
        StatementResult::Listing(l) => l,
        _ => &empty,
    };
    let sections: Vec<Json> = l
        .sections
        .iter()
        .map(|s| json!({"heading": s.heading, "lines": s.lines}))
        .collect();
    object(json!({
        "@type": "listing",
        "title": l.title,
        "properties": l.properties.iter().map(|(k, v)| json!({"name": k, "value": v})).collect::<Vec<_>>(),
        "columns": l.columns,
        "rows": l.rows,
        "sections": sections,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::StructField;

    #[test]
    fn schema_info_in_ksqldb_shape() {
        let t = SqlType::Struct(vec![StructField {
            name: "A".into(),
            sql_type: SqlType::Array(Box::new(SqlType::decimal(4, 2))),
        }]);
        let info = schema_info(&t);
        assert_eq!(info["type"], "STRUCT");
        assert_eq!(info["memberSchema"], Json::Null);
        let a = &info["fields"][0]["schema"];
        assert_eq!(a["type"], "ARRAY");
        assert_eq!(a["memberSchema"]["type"], "DECIMAL");
        assert_eq!(a["memberSchema"]["parameters"]["precision"], 4);
        assert_eq!(schema_info(&SqlType::Int)["type"], "INTEGER");
    }

    #[test]
    fn entities_put_type_and_text_first() {
        let mut body = current_status(
            &StatementKind::Terminate(Some("Q1".into())),
            "Query terminated.",
            None,
            3,
        );
        let e = tagged(&mut body, "TERMINATE Q1;");
        let keys: Vec<&String> = e.as_object().expect("object").keys().collect();
        assert_eq!(keys[0], "@type");
        assert_eq!(keys[1], "statementText");
        assert_eq!(e["commandId"], "terminate/Q1/execute");
        assert_eq!(e["warnings"], json!([]));
    }
}
