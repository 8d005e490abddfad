//! The QTT case file format (see `../shared/qtt/README.md`).

use serde::Deserialize;
use serde_json::Value as Json;

#[derive(Debug, Deserialize)]
pub struct CaseFile {
    pub tests: Vec<Case>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
pub struct Case {
    pub name: String,
    #[serde(default)]
    pub statements: Vec<String>,
    #[serde(default)]
    pub inputs: Vec<TestRecord>,
    #[serde(default)]
    pub outputs: Vec<TestRecord>,
    pub expected_exception: Option<ExpectedException>,
    #[serde(default)]
    pub properties: serde_json::Map<String, Json>,
    pub format: Option<Vec<String>>,
    pub config: Option<Vec<String>>,
    #[serde(default)]
    pub topics: Vec<TopicSpec>,
    pub post: Option<Json>,
    pub enabled: Option<bool>,
}

#[derive(Debug, Deserialize, Clone)]
pub struct TestRecord {
    pub topic: String,
    #[serde(default)]
    pub key: Json,
    #[serde(default)]
    pub value: Json,
    pub timestamp: Option<i64>,
    pub window: Option<Json>,
    pub headers: Option<Vec<Json>>,
}

#[derive(Debug, Deserialize, Clone)]
pub struct ExpectedException {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub message: Option<String>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
pub struct TopicSpec {
    pub name: String,
    pub partitions: Option<u32>,
    pub key_format: Option<String>,
    pub value_format: Option<String>,
    pub key_schema: Option<Json>,
    pub value_schema: Option<Json>,
}

/// One run of a case: `format`/`config` lists expand a case into several runs.
#[derive(Debug, Clone)]
pub struct Variant {
    pub label: Option<String>,
    pub statements: Vec<String>,
}

impl Case {
    pub fn variants(&self) -> Vec<Variant> {
        let expand = |placeholder: &str, values: &[String]| -> Vec<Variant> {
            values
                .iter()
                .map(|v| Variant {
                    label: Some(v.clone()),
                    statements: self
                        .statements
                        .iter()
                        .map(|s| s.replace(placeholder, v))
                        .collect(),
                })
                .collect()
        };
        match (&self.format, &self.config) {
            (Some(formats), _) if !formats.is_empty() => expand("{FORMAT}", formats),
            (_, Some(configs)) if !configs.is_empty() => expand("{CONFIG}", configs),
            _ => vec![Variant {
                label: None,
                statements: self.statements.clone(),
            }],
        }
    }

    /// Why this run needs something Brook does not have (a schema registry), if it does.
    /// Why the case is not run on Kafka (`Cluster::KafkaListener`) though it runs on the
    /// embedded log: a topic of several partitions (the subset is one partition's), or a
    /// record at time 0 or without a time (librdkafka's producers, Brook's on Kafka among them,
    /// write timestamp 0 as "now").
    pub fn kafka_skip_reason(&self, variant: &Variant) -> Option<String> {
        if let Some(reason) = self.skip_reason(variant) {
            return Some(reason);
        }
        let text = variant
            .statements
            .join(" ")
            .to_ascii_uppercase()
            .replace(' ', "");
        let several = self.topics.iter().any(|t| t.partitions.unwrap_or(1) > 1)
            || (2..=64).any(|n| text.contains(&format!("PARTITIONS={n}")));
        if several {
            return Some(
                "topics of several partitions (the Kafka subset is one partition's)".into(),
            );
        }
        let records = self.inputs.iter().chain(&self.outputs);
        if records.clone().any(|r| r.timestamp.is_none_or(|t| t <= 0)) {
            return Some("a record at time 0 (librdkafka writes it as the current time)".into());
        }
        None
    }

    pub fn skip_reason(&self, variant: &Variant) -> Option<String> {
        if self.enabled == Some(false) {
            return Some("disabled upstream".into());
        }
        let text = variant.statements.join(" ").to_ascii_uppercase();
        for needle in ["AVRO", "PROTOBUF", "JSON_SR", "_SCHEMA_ID"] {
            if text.contains(needle) {
                return Some(format!("needs a schema registry format ({needle})"));
            }
        }
        if self
            .topics
            .iter()
            .any(|t| t.key_schema.is_some() || t.value_schema.is_some())
        {
            return Some("needs a schema registry (topic schema)".into());
        }
        None
    }
}
