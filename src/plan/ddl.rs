//! Planning `CREATE STREAM/TABLE` over a topic: columns, formats and properties → [`SourceDef`].

use super::schema::{
    Column, ColumnRole, LogicalSchema, ROWOFFSET, ROWPARTITION, ROWTIME, WINDOWEND, WINDOWSTART,
};
use super::{PlanError, PlanResult, SourceDef, TimestampSpec};
use crate::common::SqlType;
use crate::format::{self, ColumnSpec, FormatKind, FormatSpec, Part};
use crate::plan_err;
use crate::sql::{ColumnConstraint, CreateSource, Properties, SourceKind};
use std::collections::HashMap;

/// Engine settings that affect DDL (`ksql.persistence.default.format.*`).
#[derive(Clone, Debug, Default)]
pub struct DdlDefaults {
    pub properties: HashMap<String, String>,
}

impl DdlDefaults {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.properties.get(name).map(String::as_str)
    }

    /// `ksql.persistence.wrap.single.values`, for a value format without WRAP_SINGLE_VALUE:
    /// it applies to JSON values of exactly one column (others are always wrapped, or never).
    pub fn apply_wrap_default(&self, value: &mut FormatSpec, value_columns: usize) {
        let Some(wrap) = self.get("ksql.persistence.wrap.single.values") else {
            return;
        };
        if value.wrap_single_value.is_none() && value_columns == 1 && value.kind == FormatKind::Json
        {
            value.wrap_single_value = Some(!wrap.eq_ignore_ascii_case("false"));
        }
    }
}

const KNOWN_PROPERTIES: &[&str] = &[
    "KAFKA_TOPIC",
    "VALUE_FORMAT",
    "KEY_FORMAT",
    "FORMAT",
    "PARTITIONS",
    "REPLICAS",
    "TIMESTAMP",
    "TIMESTAMP_FORMAT",
    "VALUE_DELIMITER",
    "KEY_DELIMITER",
    "WRAP_SINGLE_VALUE",
    "WINDOW_TYPE",
    "WINDOW_SIZE",
    "RETENTION_MS",
    "KEY_SCHEMA_ID",
    "VALUE_SCHEMA_ID",
    "KEY_SCHEMA_FULL_NAME",
    "VALUE_SCHEMA_FULL_NAME",
    "VALUE_AVRO_SCHEMA_FULL_NAME",
    "SOURCE_CONNECTOR",
];

pub fn check_properties(props: &Properties) -> PlanResult<()> {
    for (name, _, location) in &props.0 {
        if !KNOWN_PROPERTIES.contains(&name.as_str()) {
            return Err(PlanError::at(
                format!("Invalid config variable(s) in the WITH clause: {name}"),
                *location,
            ));
        }
    }
    Ok(())
}

/// Key and value formats from `FORMAT`, `KEY_FORMAT`, `VALUE_FORMAT` and the defaults.
pub fn formats(
    props: &Properties,
    defaults: &DdlDefaults,
    inherited: Option<(&FormatSpec, &FormatSpec)>,
) -> PlanResult<(FormatSpec, FormatSpec)> {
    let both = props.get_text("FORMAT");
    if both.is_some() && (props.get("KEY_FORMAT").is_some() || props.get("VALUE_FORMAT").is_some())
    {
        return plan_err!(
            "Cannot supply both 'KEY_FORMAT' and 'FORMAT' properties, as 'FORMAT' sets both key and value formats. Either use just 'FORMAT', or use 'KEY_FORMAT' and 'VALUE_FORMAT'."
        );
    }
    let key_name = props.get_text("KEY_FORMAT").or_else(|| both.clone());
    let value_name = props.get_text("VALUE_FORMAT").or(both);
    let key = match (key_name, inherited) {
        (Some(k), _) => kind(&k)?,
        (None, Some((k, _))) => k.kind.clone(),
        (None, None) => kind(
            defaults
                .get("ksql.persistence.default.format.key")
                .unwrap_or("KAFKA"),
        )?,
    };
    let value = match (value_name, inherited) {
        (Some(v), _) => kind(&v)?,
        (None, Some((_, v))) => v.kind.clone(),
        (None, None) => match defaults.get("ksql.persistence.default.format.value") {
            Some(v) => kind(v)?,
            None => {
                return plan_err!(
                    "Statement is missing the 'VALUE_FORMAT' property from the WITH clause. Either provide one or set a default via the 'ksql.persistence.default.format.value' config."
                );
            }
        },
    };
    let mut key = FormatSpec::new(key);
    let mut value = FormatSpec::new(value);
    if let Some((k, v)) = inherited {
        if key.kind == k.kind {
            key.delimiter = k.delimiter;
        }
        if value.kind == v.kind {
            // WRAP_SINGLE_VALUE is not inherited: a sink is wrapped unless its WITH says otherwise.
            value.delimiter = v.delimiter;
        }
    }
    if let Some(d) = props.get_text("VALUE_DELIMITER") {
        value.delimiter = delimiter(&d, "VALUE_DELIMITER", &value.kind)?;
    }
    if let Some(d) = props.get_text("KEY_DELIMITER") {
        key.delimiter = delimiter(&d, "KEY_DELIMITER", &key.kind)?;
    }
    if let Some(w) = props.get("WRAP_SINGLE_VALUE") {
        value.wrap_single_value = Some(match w {
            crate::sql::PropertyValue::Boolean(b) => *b,
            other => other.as_text().eq_ignore_ascii_case("true"),
        });
    }
    Ok((key, value))
}

fn kind(name: &str) -> PlanResult<FormatKind> {
    FormatKind::parse(name).map_err(|e| PlanError::Invalid(e.to_string()))
}

fn delimiter(text: &str, property: &str, kind: &FormatKind) -> PlanResult<char> {
    if *kind != FormatKind::Delimited {
        return plan_err!(
            "{} does not support the following configs: [delimiter]",
            kind.name()
        );
    }
    let prefix = format!("Failed to prepare statement: Configuration {property} is invalid: ");
    match text {
        "TAB" => Ok('\t'),
        "SPACE" => Ok(' '),
        t if t.trim().is_empty() => plan_err!(
            "{prefix}Delimiter cannot be empty, if you meant to have a tab or space for delimiter, please use the special values 'TAB' or 'SPACE'\nExample valid value: ';'"
        ),
        t if t.chars().count() == 1 => Ok(t.chars().next().unwrap_or(',')),
        t => plan_err!(
            "{prefix}Invalid delimiter value: '{t}'. Delimiter must be a single character or TAB,SPACE\nExample valid value: ';'"
        ),
    }
}

/// Checks columns can be serialised by the formats, with ksqlDB's messages.
pub fn validate_formats(
    schema: &LogicalSchema,
    key: &FormatSpec,
    value: &FormatSpec,
) -> PlanResult<()> {
    let specs = |role: ColumnRole| -> Vec<ColumnSpec> {
        schema
            .columns
            .iter()
            .filter(|c| c.role == role)
            .map(|c| ColumnSpec {
                name: c.name.clone(),
                sql_type: c.sql_type.clone(),
            })
            .collect()
    };
    let keys = specs(ColumnRole::Key);
    format::validate(key, Part::Key, &keys).map_err(|e| {
        let reason = e.to_string();
        if !reason.starts_with("The '") {
            return PlanError::Invalid(reason);
        }
        // A key schema the format cannot hold, in ksqlDB's words.
        let listed: Vec<String> = keys
            .iter()
            .map(|c| format!("`{}` {} KEY", c.name, c.sql_type))
            .collect();
        PlanError::Invalid(format!(
            "Key format does not support schema.\nformat: {}\nschema: Persistence{{columns=[{}], features=[]}}\nreason: {reason}",
            key.kind.name(),
            listed.join(", ")
        ))
    })?;
    format::validate(value, Part::Value, &specs(ColumnRole::Value))
        .map_err(|e| PlanError::Invalid(e.to_string()))
}

/// `CREATE STREAM|TABLE name (columns) WITH (...)`.
pub fn plan_create_source(
    c: &CreateSource,
    defaults: &DdlDefaults,
    sql: &str,
) -> PlanResult<SourceDef> {
    check_properties(&c.properties)?;
    let (key_format_spec, value_format_spec) = formats(&c.properties, defaults, None)?;
    if c.columns.is_empty() {
        return plan_err!("The statement does not define any columns.");
    }
    let mut columns = Vec::with_capacity(c.columns.len());
    for col in &c.columns {
        if [ROWTIME, ROWPARTITION, ROWOFFSET, WINDOWSTART, WINDOWEND].contains(&col.name.as_str()) {
            return Err(PlanError::at(
                format!(
                    "'{}' is a reserved column name. You cannot use it as a name for a column.",
                    col.name
                ),
                col.location,
            ));
        }
        if columns.iter().any(|c: &Column| c.name == col.name) {
            return Err(PlanError::at(
                format!("Duplicate column names: {}", col.name),
                col.location,
            ));
        }
        let role = match (&col.constraint, c.kind) {
            (ColumnConstraint::Key, SourceKind::Table) => {
                return Err(PlanError::at(
                    format!(
                        "Column `{}` is a 'KEY' column: please use 'PRIMARY KEY' for tables.\nTables have PRIMARY KEYs, which are unique and NON NULL.\nStreams have KEYs, which have no uniqueness or NON NULL constraints.",
                        col.name
                    ),
                    col.location,
                ));
            }
            (ColumnConstraint::PrimaryKey, SourceKind::Stream) => {
                return Err(PlanError::at(
                    format!(
                        "Column `{}` is a 'PRIMARY KEY' column: please use 'KEY' for streams.\nTables have PRIMARY KEYs, which are unique and NON NULL.\nStreams have KEYs, which have no uniqueness or NON NULL constraints.",
                        col.name
                    ),
                    col.location,
                ));
            }
            (ColumnConstraint::Key | ColumnConstraint::PrimaryKey, _) => ColumnRole::Key,
            (ColumnConstraint::Header(k), _) => header_role(k, &col.sql_type, &col.name)?,
            (ColumnConstraint::None, _) => ColumnRole::Value,
        };
        columns.push(Column::new(col.name.clone(), col.sql_type.clone(), role));
    }
    if c.kind == SourceKind::Table && !columns.iter().any(|c| c.role == ColumnRole::Key) {
        return plan_err!("Tables require a PRIMARY KEY. Please define the PRIMARY KEY.");
    }
    let schema = LogicalSchema::new(columns);
    let window = super::windowed_source::window_properties(&c.properties, &schema)?;
    let Some(topic) = c.properties.get_text("KAFKA_TOPIC") else {
        return plan_err!("Missing required property \"KAFKA_TOPIC\" which has no default value.");
    };
    let (mut key_format, mut value_format) = (key_format_spec, value_format_spec);
    if schema.key_columns().next().is_none()
        && c.properties.get("KEY_FORMAT").is_none()
        && c.properties.get("FORMAT").is_none()
    {
        key_format = FormatSpec::new(FormatKind::None);
    }
    defaults.apply_wrap_default(&mut value_format, schema.value_columns().count());
    validate_formats(&schema, &key_format, &value_format)?;
    let timestamp = timestamp_spec(&c.properties, &schema)?;
    Ok(SourceDef {
        name: c.name.clone(),
        kind: c.kind,
        schema,
        topic,
        key_format,
        value_format,
        timestamp,
        read_only: c.read_only,
        from_query: false,
        window,
        sql: sql.to_string(),
    })
}

fn header_role(key: &Option<String>, t: &SqlType, name: &str) -> PlanResult<ColumnRole> {
    let headers_type = SqlType::array(SqlType::Struct(vec![
        crate::common::StructField {
            name: "KEY".into(),
            sql_type: SqlType::String,
        },
        crate::common::StructField {
            name: "VALUE".into(),
            sql_type: SqlType::Bytes,
        },
    ]));
    match key {
        None if *t != headers_type => {
            plan_err!("Invalid type for HEADERS column: expected {headers_type}, got {t}")
        }
        Some(k) if *t != SqlType::Bytes => {
            let _ = name;
            plan_err!("Invalid type for HEADER('{k}') column: expected BYTES, got {t}")
        }
        _ => Ok(ColumnRole::Header(key.clone())),
    }
}

/// `TIMESTAMP='col'` (BIGINT, TIMESTAMP, or STRING with `TIMESTAMP_FORMAT`).
pub fn timestamp_spec(
    props: &Properties,
    schema: &LogicalSchema,
) -> PlanResult<Option<TimestampSpec>> {
    let Some(column) = props.get_text("TIMESTAMP") else {
        if props.get("TIMESTAMP_FORMAT").is_some() {
            return plan_err!("Cannot use TIMESTAMP_FORMAT without TIMESTAMP");
        }
        return Ok(None);
    };
    let name = if column.starts_with('`') {
        column.trim_matches('`').to_string()
    } else {
        column.to_ascii_uppercase()
    };
    let Some(col) = schema.find(&name) else {
        return plan_err!(
            "The TIMESTAMP column set in the WITH clause does not exist in the schema: '{name}'"
        );
    };
    let format = props.get_text("TIMESTAMP_FORMAT");
    match (&col.sql_type, &format) {
        (SqlType::Bigint | SqlType::Timestamp, None) | (SqlType::String, Some(_)) => {}
        (SqlType::String, None) => {
            return plan_err!(
                "Timestamp column, `{name}`, should be of type BIGINT or TIMESTAMP. If the column is of type STRING, then TIMESTAMP_FORMAT must be specified."
            );
        }
        (_, _) => {
            return plan_err!(
                "Timestamp column, `{name}`, should be LONG(INT64), TIMESTAMP, or a String with a timestamp_format specified"
            );
        }
    }
    Ok(Some(TimestampSpec {
        column: name,
        format,
    }))
}
