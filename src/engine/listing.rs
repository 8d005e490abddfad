//! SHOW/LIST, DESCRIBE, EXPLAIN and PRINT.

use super::error::{EngineResult, statement_err};
use super::{Engine, Listing, StatementResult};
use crate::sql::{ShowKind, SourceKind, StatementKind};
use crate::transport::{OffsetSpec, StartFrom, TopicPartition};
use std::time::Duration;

fn listing(title: &str, columns: &[&str], rows: Vec<Vec<String>>) -> StatementResult {
    StatementResult::Listing(Listing {
        title: title.to_string(),
        columns: columns.iter().map(|c| c.to_string()).collect(),
        rows,
        ..Listing::default()
    })
}

impl Engine {
    pub(super) fn listing(&mut self, kind: StatementKind) -> EngineResult<StatementResult> {
        match kind {
            StatementKind::Show { what, .. } => self.show(what),
            StatementKind::Describe { name, extended } => self.describe(&name, extended),
            StatementKind::DescribeSources { kind, .. } => {
                self.show(if kind == SourceKind::Stream {
                    ShowKind::Streams
                } else {
                    ShowKind::Tables
                })
            }
            StatementKind::DescribeFunction(name) => match self.functions.get(&name) {
                Some(f) => Ok(listing(
                    &format!("Name: {}", f.name()),
                    &["Description"],
                    vec![vec![f.description().to_string()]],
                )),
                None => statement_err(format!("Can't find any functions with the name '{name}'")),
            },
            StatementKind::ExplainQuery(id) => self.explain_query(&id),
            StatementKind::ExplainStatement(statement) => self.explain_statement(&statement),
            StatementKind::Print {
                topic,
                from_beginning,
                limit,
                ..
            } => self.print(&topic, from_beginning, limit),
            other => statement_err(format!("unsupported statement {other:?}")),
        }
    }

    fn show(&self, what: ShowKind) -> EngineResult<StatementResult> {
        Ok(match what {
            ShowKind::Streams | ShowKind::Tables => {
                let kind = if what == ShowKind::Streams {
                    SourceKind::Stream
                } else {
                    SourceKind::Table
                };
                let rows = self
                    .catalog
                    .sources
                    .values()
                    .filter(|s| s.kind == kind)
                    .map(|s| {
                        vec![
                            s.name.clone(),
                            s.topic.clone(),
                            s.key_format.kind.name().into(),
                            s.value_format.kind.name().into(),
                            s.window.is_some().to_string(),
                        ]
                    })
                    .collect();
                let title = if kind == SourceKind::Stream {
                    "Streams"
                } else {
                    "Tables"
                };
                listing(
                    title,
                    &[
                        if kind == SourceKind::Stream {
                            "Stream Name"
                        } else {
                            "Table Name"
                        },
                        "Kafka Topic",
                        "Key Format",
                        "Value Format",
                        "Windowed",
                    ],
                    rows,
                )
            }
            ShowKind::Topics => {
                let mut rows = Vec::new();
                for name in self.transport.list_topics()? {
                    let partitions = self.transport.partition_count(&name)?;
                    rows.push(vec![name, partitions.to_string()]);
                }
                listing("Topics", &["Kafka Topic", "Partitions"], rows)
            }
            ShowKind::Queries => {
                let rows = self
                    .catalog
                    .queries
                    .values()
                    .map(|q| {
                        vec![
                            q.id.clone(),
                            "PERSISTENT".into(),
                            self.query_state(&q.id).into(),
                            q.sink.clone().unwrap_or_default(),
                            q.sql.clone(),
                        ]
                    })
                    .collect();
                listing(
                    "Queries",
                    &[
                        "Query ID",
                        "Query Type",
                        "Status",
                        "Sink Name",
                        "Query String",
                    ],
                    rows,
                )
            }
            ShowKind::Properties => listing(
                "Properties",
                &["Property", "Value"],
                self.properties
                    .iter()
                    .map(|(k, v)| vec![k.clone(), v.clone()])
                    .collect(),
            ),
            ShowKind::Functions => listing(
                "Functions",
                &["Function Name", "Type"],
                self.functions
                    .iter()
                    .map(|f| vec![f.name().to_string(), "SCALAR".into()])
                    .collect(),
            ),
            ShowKind::Types => listing(
                "Types",
                &["Type Name", "Schema"],
                self.catalog
                    .types
                    .iter()
                    .map(|(k, v)| vec![k.clone(), v.to_string()])
                    .collect(),
            ),
            ShowKind::Variables => listing(
                "Variables",
                &["Variable Name", "Value"],
                self.variables
                    .iter()
                    .map(|(k, v)| vec![k.clone(), v.clone()])
                    .collect(),
            ),
        })
    }

    /// Prints records of a topic as text (up to `limit`, or what exists now).
    fn print(
        &self,
        topic: &str,
        from_beginning: bool,
        limit: Option<u64>,
    ) -> EngineResult<StatementResult> {
        let count = self.transport.partition_count(topic)?;
        let tps: Vec<TopicPartition> = (0..count).map(|p| TopicPartition::new(topic, p)).collect();
        let start = if from_beginning {
            StartFrom::Earliest
        } else {
            StartFrom::Latest
        };
        let mut consumer = self.transport.consumer(None)?;
        consumer.assign(&tps.iter().map(|tp| (tp.clone(), start)).collect::<Vec<_>>())?;
        let ends: Vec<i64> = tps
            .iter()
            .map(|tp| self.transport.list_offset(tp, OffsetSpec::Latest))
            .collect::<Result<_, _>>()?;
        let mut rows = Vec::new();
        let text = |b: &Option<bytes::Bytes>| {
            b.as_ref().map_or("<null>".to_string(), |b| {
                String::from_utf8_lossy(b).into_owned()
            })
        };
        while tps
            .iter()
            .zip(&ends)
            .any(|(tp, end)| consumer.position(tp).is_some_and(|p| p < *end))
            && limit.is_none_or(|l| (rows.len() as u64) < l)
        {
            let batches = consumer.poll(1000, Duration::ZERO)?;
            if batches.is_empty() {
                break;
            }
            for r in batches
                .iter()
                .flat_map(|b| b.records.iter().map(move |r| (b.partition, r)))
            {
                if limit.is_some_and(|l| rows.len() as u64 >= l) {
                    break;
                }
                rows.push(vec![
                    crate::plan::expr::format_timestamp_iso(r.1.timestamp),
                    text(&r.1.key),
                    text(&r.1.value),
                    r.0.to_string(),
                ]);
            }
        }
        Ok(listing(
            &format!("Topic: {topic}"),
            &["rowtime", "key", "value", "partition"],
            rows,
        ))
    }
}
