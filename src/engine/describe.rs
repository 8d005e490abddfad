//! DESCRIBE [EXTENDED] name: a stream's or table's columns as the ksql CLI lists them and, when
//! extended, its type, event-time column, formats, topic, statement, the queries reading and
//! writing it, and how far each reading query has consumed its topic.

use super::error::{EngineResult, statement_err};
use super::{Engine, Listing, QueryInfo, Section, StatementResult};
use crate::common::SqlType;
use crate::format::WindowInfo;
use crate::plan::SourceDef;
use crate::plan::schema::{ColumnRole, LogicalSchema};
use crate::sql::SourceKind;
use crate::transport::{OffsetSpec, TopicPartition};

impl Engine {
    pub(super) fn describe(&self, name: &str, extended: bool) -> EngineResult<StatementResult> {
        let Some(source) = self.catalog.sources.get(name) else {
            return statement_err(format!(
                "Could not find STREAM/TABLE '{name}' in the Metastore"
            ));
        };
        let is_table = source.kind == SourceKind::Table;
        let rows = field_rows(&source.schema, is_table, source.window.as_ref());
        let mut out = Listing {
            title: format!("{:<20} : {}", "Name", source.name),
            columns: vec!["Field".into(), "Type".into()],
            rows,
            ..Listing::default()
        };
        if !extended {
            out.sections.push(Section::new(
                "",
                vec!["For runtime statistics and query details run: DESCRIBE <Stream,Table> EXTENDED;".into()],
            ));
            return Ok(StatementResult::Listing(out));
        }
        out.properties = self.source_properties(source)?;
        let kind = source.kind.name();
        let readers = self.queries_reading(&source.name);
        let writers = self.queries_writing(&source.name);
        out.sections
            .extend(self.query_section(&readers, &format!("read from this {kind}")));
        out.sections
            .extend(self.query_section(&writers, &format!("write from this {kind}")));
        out.sections
            .extend(self.consumer_groups(&readers, &source.topic)?);
        Ok(StatementResult::Listing(out))
    }

    fn source_properties(&self, source: &SourceDef) -> EngineResult<Vec<(String, String)>> {
        let timestamp = match &source.timestamp {
            Some(t) => t.column.clone(),
            None => "Not set - using <ROWTIME>".to_string(),
        };
        let partitions = self.transport.partition_count(&source.topic)?;
        let mut out = vec![
            ("Type".to_string(), source.kind.name().to_string()),
            ("Timestamp field".into(), timestamp),
            ("Key format".into(), source.key_format.kind.name().into()),
            (
                "Value format".into(),
                source.value_format.kind.name().into(),
            ),
            (
                "Kafka topic".into(),
                format!(
                    "{} (partitions: {partitions}, replication: 1)",
                    source.topic
                ),
            ),
        ];
        if let Some(window) = &source.window {
            out.push(("Windowed".into(), window.to_string()));
        }
        out.push(("Statement".into(), source.sql.clone()));
        Ok(out)
    }

    fn queries_reading(&self, name: &str) -> Vec<&QueryInfo> {
        let queries = self.catalog.queries.values();
        queries
            .filter(|q| q.sources.iter().any(|s| s == name))
            .collect()
    }

    fn queries_writing(&self, name: &str) -> Vec<&QueryInfo> {
        let queries = self.catalog.queries.values();
        queries
            .filter(|q| q.sink.as_deref() == Some(name))
            .collect()
    }

    /// RUNNING, or ERROR once the query stopped on a fatal error.
    pub(super) fn query_state(&self, id: &str) -> &'static str {
        match self.query_failure(id) {
            Some(_) => "ERROR",
            None => "RUNNING",
        }
    }

    /// "Queries that read from this STREAM": `ID (STATE) : sql` lines (none when no query).
    fn query_section(&self, queries: &[&QueryInfo], what: &str) -> Option<Section> {
        if queries.is_empty() {
            return None;
        }
        let mut lines: Vec<String> = queries
            .iter()
            .map(|q| {
                format!(
                    "{} ({}) : {}",
                    q.id,
                    self.query_state(&q.id),
                    one_line(&q.sql)
                )
            })
            .collect();
        lines.push(String::new());
        lines.push("For query topology and execution plan please run: EXPLAIN <QueryId>".into());
        Some(Section::new(&format!("Queries that {what}"), lines))
    }

    /// ksqlDB's "Consumer Groups summary": per reading query, its committed offset and lag in
    /// each partition of the topic.
    fn consumer_groups(
        &self,
        readers: &[&QueryInfo],
        topic: &str,
    ) -> EngineResult<Option<Section>> {
        if readers.is_empty() {
            return Ok(None);
        }
        let mut lines = Vec::new();
        for query in readers {
            let group = self.names.query_group(&query.id);
            let committed = self.transport.committed_offsets(&group, topic)?;
            let mut rows = Vec::new();
            for partition in 0..self.transport.partition_count(topic)? {
                let tp = TopicPartition::new(topic, partition);
                let start = self.transport.list_offset(&tp, OffsetSpec::Earliest)?;
                let end = self.transport.list_offset(&tp, OffsetSpec::Latest)?;
                let offset = committed.iter().find(|(p, _)| *p == partition);
                let offset = offset.map_or(start, |(_, o)| *o);
                rows.push([partition as i64, start, end, offset, end - offset]);
            }
            lines.push(format!("{:<20} : {group}", "Consumer Group"));
            lines.push(format!("{:<20} : {topic}", "Kafka topic"));
            let max_lag = rows.iter().map(|r| r[4]).max().unwrap_or(0);
            lines.push(format!("{:<20} : {max_lag}", "Max lag"));
            lines.push(String::new());
            lines.extend(offset_table(&rows));
        }
        Ok(Some(Section::new("Consumer Groups summary", lines)))
    }
}

fn offset_table(rows: &[[i64; 5]]) -> Vec<String> {
    let header = ["Partition", "Start Offset", "End Offset", "Offset", "Lag"];
    let mut cells = vec![header.map(str::to_string)];
    cells.extend(rows.iter().map(|r| r.map(|v| v.to_string())));
    let widths: Vec<usize> = (0..header.len())
        .map(|i| cells.iter().map(|r| r[i].len()).max().unwrap_or(0))
        .collect();
    let line = |row: &[String; 5]| {
        let row = row.iter().zip(&widths).map(|(c, w)| format!(" {c:<w$} "));
        row.collect::<Vec<_>>().join("|").trim_end().to_string()
    };
    let mut out: Vec<String> = cells.iter().map(line).collect();
    let rule = "-".repeat(widths.iter().map(|w| w + 3).sum::<usize>() - 1);
    out.insert(1, rule);
    out
}

fn one_line(sql: &str) -> String {
    sql.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The "Field | Type" rows of ksqlDB's DESCRIBE: key columns marked `(key)` (`(primary key)`
/// in tables, with the window type of windowed keys), header columns with their header.
pub(super) fn field_rows(
    schema: &LogicalSchema,
    is_table: bool,
    window: Option<&WindowInfo>,
) -> Vec<Vec<String>> {
    let rows = schema.columns.iter().map(|c| {
        let type_text = describe_type(&c.sql_type);
        let type_cell = match &c.role {
            ColumnRole::Value => type_text,
            ColumnRole::Key => {
                let key = if is_table { "(primary key)" } else { "(key)" };
                let window = window.map_or(String::new(), |w| {
                    format!(" (Window type: {})", w.kind.name())
                });
                format!("{type_text:<16} {key}{window}")
            }
            ColumnRole::Header(None) => format!("{type_text:<16} (headers)"),
            ColumnRole::Header(Some(k)) => format!("{type_text:<16} (header('{k}'))"),
        };
        vec![c.name.clone(), type_cell]
    });
    rows.collect()
}

/// A type as ksqlDB's DESCRIBE shows it (`SchemaInfo.toTypeString`): strings as
/// `VARCHAR(STRING)`, map keys as `STRING`.
pub(super) fn describe_type(t: &SqlType) -> String {
    match t {
        SqlType::String => "VARCHAR(STRING)".into(),
        SqlType::Array(e) => format!("ARRAY<{}>", describe_type(e)),
        SqlType::Map(_, v) => format!("MAP<STRING, {}>", describe_type(v)),
        SqlType::Struct(fields) => {
            let fields = fields
                .iter()
                .map(|f| format!("{} {}", f.name, describe_type(&f.sql_type)));
            format!("STRUCT<{}>", fields.collect::<Vec<_>>().join(", "))
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::StructField;
    use crate::plan::schema::Column;

    #[test]
    fn fields_as_ksqldb_lists_them() {
        let schema = LogicalSchema::new(vec![
            Column::new("K", SqlType::String, ColumnRole::Key),
            Column::new(
                "M",
                SqlType::map(SqlType::String, SqlType::Int),
                ColumnRole::Value,
            ),
            Column::new(
                "S",
                SqlType::Struct(vec![StructField {
                    name: "A".into(),
                    sql_type: SqlType::Array(Box::new(SqlType::String)),
                }]),
                ColumnRole::Value,
            ),
            Column::new("H", SqlType::Bytes, ColumnRole::Header(Some("h".into()))),
        ]);
        let rows = field_rows(&schema, false, None);
        let text: Vec<String> = rows.iter().map(|r| r.join(" | ")).collect();
        insta::assert_snapshot!(text.join("\n"));
        let windowed = WindowInfo {
            kind: crate::format::WindowKind::Tumbling,
            size_ms: Some(1000),
        };
        let table = field_rows(&schema, true, Some(&windowed));
        assert_eq!(
            table[0][1],
            "VARCHAR(STRING)  (primary key) (Window type: TUMBLING)"
        );
    }

    #[test]
    fn offsets_as_a_small_table() {
        insta::assert_snapshot!(offset_table(&[[0, 0, 5, 3, 2]]).join("\n"));
    }
}
