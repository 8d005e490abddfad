//! Stream records with a null value pass through a stateless query as records with a null
//! value, keyed like the input (as ksqlDB does): the key columns that the query projects
//! unchanged keep their values, others are NULL.

use crate::common::Value;
use crate::format::{self, ColumnSpec, FormatSpec, Part};
use crate::plan::expr::Node;
use crate::plan::schema::ColumnRole;
use crate::plan::{QueryPlan, SourceDef};
use crate::transport::{ProducerRecord, Record};
use bytes::Bytes;

pub struct Tombstones {
    source_key_format: FormatSpec,
    source_keys: Vec<ColumnSpec>,
    /// For each output key column, the source key column it copies, if any.
    mapping: Vec<Option<usize>>,
    output_keys: Vec<ColumnSpec>,
    output_key_format: FormatSpec,
    /// The query has a WHERE clause, which drops null rows.
    pub filtered: bool,
}

impl Tombstones {
    pub fn new(plan: &QueryPlan, output_key_format: &FormatSpec) -> Tombstones {
        let source: &SourceDef = &plan.source;
        let keys: Vec<&crate::plan::schema::Column> = source
            .schema
            .columns
            .iter()
            .filter(|c| c.role == ColumnRole::Key)
            .collect();
        let mapping = plan
            .keys()
            .map(|k| match &k.compiled.expr.node {
                Node::Column { name, .. } => keys.iter().position(|c| &c.name == name),
                _ => None,
            })
            .collect();
        Tombstones {
            source_key_format: source.key_format.clone(),
            source_keys: keys
                .iter()
                .map(|c| ColumnSpec {
                    name: c.name.clone(),
                    sql_type: c.sql_type.clone(),
                })
                .collect(),
            mapping,
            output_keys: plan
                .keys()
                .map(|k| ColumnSpec {
                    name: k.name.clone(),
                    sql_type: k.output_type(),
                })
                .collect(),
            output_key_format: output_key_format.clone(),
            filtered: plan.filter.is_some(),
        }
    }

    /// The output record for an input record whose value is null.
    pub fn pass_through(&self, record: &Record) -> Result<ProducerRecord, String> {
        let source_values = format::deserialize(
            &self.source_key_format,
            Part::Key,
            &self.source_keys,
            record.key.as_deref(),
        )
        .map_err(|e| e.to_string())?
        .unwrap_or_default();
        let values: Vec<Value> = self
            .mapping
            .iter()
            .map(|m| {
                m.and_then(|i| source_values.get(i).cloned())
                    .unwrap_or(Value::Null)
            })
            .collect();
        let key = format::serialize(
            &self.output_key_format,
            Part::Key,
            &self.output_keys,
            &values,
        )
        .map_err(|e| e.to_string())?;
        Ok(ProducerRecord {
            key: key.map(Bytes::from),
            value: None,
            timestamp: Some(record.timestamp),
            headers: Vec::new(),
        })
    }
}
