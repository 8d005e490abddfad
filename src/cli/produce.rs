//! `brook produce TOPIC`: one record per line of standard input.
//!
//! With `-K SEP` a line is `KEY SEP VALUE` (split at the first separator). Lines are appended in
//! batches; whenever standard input has no more data buffered (an interactive user typing), the
//! batch is appended at once, so each typed line is acknowledged immediately.

use anyhow::{Context, bail};
use brook::transport::{Header, ProducerRecord, Transport};
use bytes::Bytes;
use clap::Args;
use std::io::{BufRead, Write};

#[derive(Args, Debug)]
pub struct ProduceArgs {
    pub topic: String,
    /// Key separator: each line is KEY<SEP>VALUE. Without it records have no key.
    #[arg(short = 'K', long = "key-separator")]
    pub key_separator: Option<String>,
    /// Append to this partition instead of choosing by key (round-robin without keys).
    #[arg(long)]
    pub partition: Option<u32>,
    /// Take each record's timestamp (epoch ms) from this field of its JSON value.
    #[arg(long)]
    pub timestamp_field: Option<String>,
    /// Add a header to every record (repeatable).
    #[arg(long = "header", value_name = "KEY=VALUE")]
    pub headers: Vec<String>,
    /// An empty value is a tombstone (null value), e.g. `key:` deletes a table row.
    #[arg(long)]
    pub empty_is_null: bool,
}

pub fn run(log: &dyn Transport, args: ProduceArgs) -> anyhow::Result<()> {
    log.partition_count(&args.topic).with_context(|| {
        format!(
            "cannot produce to '{}' (create it with `brook topic create {}`)",
            args.topic, args.topic
        )
    })?;
    let headers = parse_headers(&args.headers)?;
    let mut producer = log.producer()?;
    let mut stdin = std::io::BufReader::with_capacity(1 << 16, std::io::stdin().lock());
    let mut line = String::new();
    let (mut appended, mut line_no) = (0usize, 0usize);
    let result = loop {
        line.clear();
        match stdin.read_line(&mut line) {
            Ok(0) => break Ok(()),
            Ok(_) => {}
            Err(e) => {
                break Err(anyhow::Error::new(e).context(format!("reading line {}", line_no + 1)));
            }
        }
        line_no += 1;
        let text = line.trim_end_matches(['\n', '\r']);
        match to_record(text, &args, &headers) {
            Ok(record) => {
                producer.send(&args.topic, args.partition, record)?;
            }
            Err(e) => break Err(e.context(format!("line {line_no}"))),
        }
        if stdin.buffer().is_empty() {
            appended += count(producer.flush()?);
        }
    };
    appended += count(producer.flush()?);
    let mut out = std::io::stdout().lock();
    writeln!(out, "appended {appended} record(s) to {}", args.topic)?;
    result
}

fn count(
    outcomes: Vec<(
        brook::transport::TopicPartition,
        brook::transport::AppendOutcome,
    )>,
) -> usize {
    outcomes
        .iter()
        .map(|(_, o)| (o.last_offset - o.base_offset + 1) as usize)
        .sum()
}

fn to_record(line: &str, args: &ProduceArgs, headers: &[Header]) -> anyhow::Result<ProducerRecord> {
    let (key, value) = match &args.key_separator {
        None => (None, line),
        Some(sep) => match line.split_once(sep.as_str()) {
            Some((k, v)) => (Some(Bytes::copy_from_slice(k.as_bytes())), v),
            None => bail!("no key separator '{sep}' in {line:?} (expected KEY{sep}VALUE)"),
        },
    };
    let timestamp = match &args.timestamp_field {
        Some(field) => Some(timestamp_from_json(value, field)?),
        None => None,
    };
    let value = (!(args.empty_is_null && value.is_empty()))
        .then(|| Bytes::copy_from_slice(value.as_bytes()));
    Ok(ProducerRecord {
        key,
        value,
        timestamp,
        headers: headers.to_vec(),
    })
}

fn timestamp_from_json(value: &str, field: &str) -> anyhow::Result<i64> {
    let json: serde_json::Value = serde_json::from_str(value)
        .with_context(|| format!("value is not JSON, so it has no timestamp field '{field}'"))?;
    let found = json
        .get(field)
        .with_context(|| format!("value has no field '{field}'"))?;
    match found {
        serde_json::Value::Number(n) => n
            .as_i64()
            .with_context(|| format!("field '{field}' is {n}, not whole milliseconds")),
        serde_json::Value::String(s) => s
            .parse()
            .with_context(|| format!("field '{field}' is \"{s}\", not epoch milliseconds")),
        other => bail!("field '{field}' is {other}, not epoch milliseconds"),
    }
}

fn parse_headers(raw: &[String]) -> anyhow::Result<Vec<Header>> {
    raw.iter()
        .map(|h| match h.split_once('=') {
            Some((k, v)) => Ok(Header {
                key: k.to_string(),
                value: Some(Bytes::copy_from_slice(v.as_bytes())),
            }),
            None => bail!("header '{h}' is not KEY=VALUE"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(sep: Option<&str>, ts: Option<&str>) -> ProduceArgs {
        ProduceArgs {
            topic: "t".into(),
            key_separator: sep.map(Into::into),
            partition: None,
            timestamp_field: ts.map(Into::into),
            headers: vec![],
            empty_is_null: true,
        }
    }

    #[test]
    fn splits_keys_reads_timestamps_and_rejects_bad_lines() {
        let r = to_record(
            "k1:{\"ts\": 42, \"x\": 1}",
            &args(Some(":"), Some("ts")),
            &[],
        )
        .expect("record");
        assert_eq!(r.key.as_deref(), Some(&b"k1"[..]));
        assert_eq!(r.timestamp, Some(42));
        assert_eq!(
            to_record("k:", &args(Some(":"), None), &[])
                .expect("tombstone")
                .value,
            None
        );
        assert!(to_record("no separator", &args(Some(":"), None), &[]).is_err());
        assert!(to_record("{\"x\": 1}", &args(None, Some("ts")), &[]).is_err());
        assert!(to_record("not json", &args(None, Some("ts")), &[]).is_err());
    }
}
