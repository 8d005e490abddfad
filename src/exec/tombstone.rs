//! Stream records with a null value pass through a stateless query as records with a null
//! value (as ksqlDB does). Their key is the query's key computed from the record's key
//! columns: `PARTITION BY ABS(K)` re-keys a tombstone like any record, while a key expression
//! that reads anything else (a value column, ROWTIME) is NULL, there being no value row.

use crate::common::Value;
use crate::format::{self, ColumnSpec, FormatSpec, Part};
use crate::plan::expr::{TExpr, eval};
use crate::plan::schema::ColumnRole;
use crate::plan::{QueryPlan, SourceDef};
use crate::transport::{ProducerRecord, Record};
use bytes::Bytes;

pub struct Tombstones {
    source_key_format: FormatSpec,
    source_keys: Vec<ColumnSpec>,
    /// For each source column, its index among the key columns (None for value and header
    /// columns, which are NULL here).
    source_columns: Vec<Option<usize>>,
    /// The output key columns' expressions over the source row; `None` where an expression
    /// reads more than the key.
    key_exprs: Vec<Option<TExpr>>,
    output_keys: Vec<ColumnSpec>,
    output_key_format: FormatSpec,
    /// The query has a WHERE clause, which drops null rows.
    pub filtered: bool,
}

impl Tombstones {
    pub fn new(plan: &QueryPlan, output_key_format: &FormatSpec) -> Tombstones {
        let source: &SourceDef = &plan.source;
        let mut key_count = 0;
        let source_columns = source
            .schema
            .columns
            .iter()
            .map(|c| {
                (c.role == ColumnRole::Key).then(|| {
                    key_count += 1;
                    key_count - 1
                })
            })
            .collect();
        Tombstones {
            source_key_format: source.key_format.clone(),
            source_keys: source
                .schema
                .key_columns()
                .map(|c| ColumnSpec {
                    name: c.name.clone(),
                    sql_type: c.sql_type.clone(),
                })
                .collect(),
            source_columns,
            key_exprs: plan
                .keys()
                .map(|k| {
                    let e = &k.compiled.expr;
                    let key_only = e.column_indices().iter().all(|i| {
                        source
                            .schema
                            .columns
                            .get(*i)
                            .is_some_and(|c| c.role == ColumnRole::Key)
                    });
                    key_only.then(|| e.clone())
                })
                .collect(),
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

    /// The output record for an input record whose value is null, and the output key's
    /// values.
    pub fn pass_through(&self, record: &Record) -> Result<(ProducerRecord, Vec<Value>), String> {
        let values = self.output_key(record)?;
        let key = format::serialize(
            &self.output_key_format,
            Part::Key,
            &self.output_keys,
            &values,
        )
        .map_err(|e| e.to_string())?;
        let record = ProducerRecord {
            key: key.map(Bytes::from),
            value: None,
            timestamp: Some(record.timestamp),
            headers: Vec::new(),
        };
        Ok((record, values))
    }

    /// The output key's values for an input record's key.
    fn output_key(&self, record: &Record) -> Result<Vec<Value>, String> {
        let keys = format::deserialize(
            &self.source_key_format,
            Part::Key,
            &self.source_keys,
            record.key.as_deref(),
        )
        .map_err(|e| e.to_string())?
        .unwrap_or_default();
        let row: Vec<Value> = self
            .source_columns
            .iter()
            .map(|k| k.and_then(|i| keys.get(i).cloned()).unwrap_or(Value::Null))
            .collect();
        // An expression that fails here gives NULL, as it would for a record with a value.
        let values: Vec<Value> = self
            .key_exprs
            .iter()
            .map(|e| {
                e.as_ref().map_or(Value::Null, |e| {
                    crate::common::limits::scoped(|| eval(e, &row, &[])).unwrap_or(Value::Null)
                })
            })
            .collect();
        Ok(values)
    }
}
