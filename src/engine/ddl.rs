//! Data definition: CREATE/DROP STREAM and TABLE over topics, CREATE/DROP TYPE.

use super::error::{EngineError, EngineResult, statement_err};
use super::{Engine, StatementResult};
use crate::common::SqlType;
use crate::plan::ddl::{DdlDefaults, plan_create_source};
use crate::sql::{CreateSource, Properties, SourceKind};
use crate::transport::{TopicConfig, TransportError};

impl Engine {
    pub(super) fn ddl_defaults(&self) -> DdlDefaults {
        DdlDefaults {
            properties: self
                .properties
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        }
    }

    pub(super) fn create_source(
        &mut self,
        c: &CreateSource,
        sql: &str,
    ) -> EngineResult<StatementResult> {
        let noun = if c.kind == SourceKind::Stream {
            "stream"
        } else {
            "table"
        };
        if c.or_replace && c.read_only {
            return statement_err(format!(
                "Cannot add {noun} '{}': CREATE OR REPLACE is not supported on source {noun}s.",
                c.name
            ));
        }
        if let Some(existing) = self.catalog.sources.get(&c.name) {
            if c.or_replace && existing.read_only {
                return statement_err(format!(
                    "Cannot add {noun} '{}': CREATE OR REPLACE is not supported on source {noun}s.",
                    c.name
                ));
            }
            if c.if_not_exists {
                return Ok(StatementResult::Success(format!(
                    "A {noun} with the same name already exists"
                )));
            }
            if !c.or_replace || existing.kind != c.kind {
                let existing_noun = if existing.kind == SourceKind::Stream {
                    "stream"
                } else {
                    "table"
                };
                return statement_err(format!(
                    "Cannot add {noun} '{}': A {existing_noun} with the same name already exists",
                    c.name
                ));
            }
        }
        let source = plan_create_source(c, &self.ddl_defaults(), sql)?;
        self.ensure_topic(&source.topic, &c.properties, None)?;
        self.catalog.sources.insert(source.name.clone(), source);
        Ok(StatementResult::Success(format!(
            "{} created",
            if c.kind == SourceKind::Stream {
                "Stream"
            } else {
                "Table"
            }
        )))
    }

    /// Creates the topic if missing. Without `PARTITIONS` (or a default), a missing topic is an
    /// error, as in ksqlDB.
    pub(super) fn ensure_topic(
        &self,
        topic: &str,
        props: &Properties,
        default_partitions: Option<u32>,
    ) -> EngineResult<u32> {
        match self.transport.partition_count(topic) {
            Ok(n) => return Ok(n),
            Err(TransportError::UnknownTopic(_)) => {}
            Err(e) => return Err(e.into()),
        }
        let partitions = match props.get_text("PARTITIONS") {
            Some(p) => p.parse::<u32>().map_err(|_| {
                EngineError::Statement(format!("Invalid value for PARTITIONS: '{p}'"))
            })?,
            None => match default_partitions {
                Some(p) => p,
                None => {
                    return statement_err(format!(
                        "Topic '{topic}' does not exist. If you want to create a new topic for the stream/table please re-run the statement providing the required 'PARTITIONS' configuration in the WITH clause (and optionally 'REPLICAS'). For example: CREATE STREAM FOO (ID INT, VAL STRING) WITH (KAFKA_TOPIC='{topic}', PARTITIONS=2, REPLICAS=1, VALUE_FORMAT='JSON');"
                    ));
                }
            },
        };
        let config = TopicConfig {
            retention_ms: None,
            ..TopicConfig::with_partitions(partitions)
        };
        self.transport.create_topic(topic, &config)?;
        Ok(partitions)
    }

    pub(super) fn drop_source(
        &mut self,
        kind: SourceKind,
        name: &str,
        if_exists: bool,
        delete_topic: bool,
    ) -> EngineResult<StatementResult> {
        let noun = kind.name().to_ascii_lowercase();
        let Some(source) = self.catalog.sources.get(name) else {
            if if_exists {
                return Ok(StatementResult::Success(format!(
                    "Source `{name}` does not exist."
                )));
            }
            return statement_err(format!(
                "{} {name} does not exist.",
                if kind == SourceKind::Stream {
                    "Stream"
                } else {
                    "Table"
                }
            ));
        };
        if source.kind != kind {
            return statement_err(format!(
                "Incompatible data source type is {}, but statement was DROP {}",
                source.kind.name(),
                kind.name()
            ));
        }
        if delete_topic && source.read_only {
            return statement_err(format!("Cannot delete topic for read-only source: {name}"));
        }
        let writers: Vec<String> = self
            .catalog
            .queries
            .values()
            .filter(|q| q.sink.as_deref() == Some(name))
            .map(|q| q.id.clone())
            .collect();
        let readers: Vec<String> = self
            .catalog
            .queries
            .values()
            .filter(|q| q.sources.iter().any(|s| s == name))
            .map(|q| q.id.clone())
            .collect();
        if !writers.is_empty() || !readers.is_empty() {
            return statement_err(format!(
                "Cannot drop {name}.\nThe following queries read from this source: [{}].\nThe following queries write into this source: [{}].\nYou need to terminate them before dropping {name}.",
                readers.join(", "),
                writers.join(", ")
            ));
        }
        let topic = source.topic.clone();
        self.catalog.sources.remove(name);
        if delete_topic {
            match self.transport.delete_topic(&topic) {
                // In a shared catalog another server applying the same DROP deleted it.
                Err(crate::transport::TransportError::UnknownTopic(_)) if self.shared.is_some() => {
                }
                deleted => deleted?,
            }
        }
        Ok(StatementResult::Success(format!(
            "Source `{name}` ({noun}) was dropped."
        )))
    }

    pub(super) fn create_type(
        &mut self,
        name: &str,
        sql_type: SqlType,
        if_not_exists: bool,
    ) -> EngineResult<StatementResult> {
        if self.catalog.types.contains_key(name) {
            if if_not_exists {
                return Ok(StatementResult::Success(format!(
                    "Type '{name}' already exists"
                )));
            }
            return statement_err(format!(
                "Cannot register custom type '{name}' since it is already registered with type: {}",
                self.catalog.types[name]
            ));
        }
        self.catalog
            .types
            .insert(name.to_string(), sql_type.clone());
        Ok(StatementResult::Success(format!(
            "Registered custom type with name '{name}' and SQL type {sql_type}"
        )))
    }

    pub(super) fn drop_type(
        &mut self,
        name: &str,
        if_exists: bool,
    ) -> EngineResult<StatementResult> {
        if self.catalog.types.remove(name).is_none() && !if_exists {
            return statement_err(format!("Type {name} does not exist."));
        }
        Ok(StatementResult::Success(format!("Dropped type '{name}'")))
    }
}
