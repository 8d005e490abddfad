//! Renders consumed records with a kcat-like format string.
//!
//! `%t` topic, `%p` partition, `%o` offset, `%T` timestamp (ms), `%k` key, `%v` value,
//! `%h` headers as `k=v,k=v`, `%K`/`%S` key/value length (-1 for null), `%%` a percent sign;
//! `\n`, `\t`, `\\` escapes. Null keys and values print as nothing. A newline is added after each
//! record unless the format already ends with one.

use brook::transport::Record;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Topic,
    Partition,
    Offset,
    Timestamp,
    Key,
    Value,
    Headers,
    KeyLen,
    ValueLen,
}

#[derive(Debug, Clone)]
pub struct RecordFormat {
    parts: Vec<Part>,
}

impl RecordFormat {
    pub fn parse(spec: &str) -> anyhow::Result<RecordFormat> {
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut chars = spec.chars().peekable();
        while let Some(c) = chars.next() {
            let part = match (c, chars.peek().copied()) {
                ('%', Some(d)) => {
                    chars.next();
                    match d {
                        't' => Part::Topic,
                        'p' => Part::Partition,
                        'o' => Part::Offset,
                        'T' => Part::Timestamp,
                        'k' => Part::Key,
                        'v' | 's' => Part::Value,
                        'h' => Part::Headers,
                        'K' => Part::KeyLen,
                        'S' => Part::ValueLen,
                        '%' => {
                            text.push('%');
                            continue;
                        }
                        other => anyhow::bail!(
                            "unknown format token '%{other}' (known: %t %p %o %T %k %v %h %K %S %%)"
                        ),
                    }
                }
                ('\\', Some(d)) => {
                    chars.next();
                    text.push(match d {
                        'n' => '\n',
                        't' => '\t',
                        '\\' => '\\',
                        other => other,
                    });
                    continue;
                }
                (c, _) => {
                    text.push(c);
                    continue;
                }
            };
            if !text.is_empty() {
                parts.push(Part::Text(std::mem::take(&mut text)));
            }
            parts.push(part);
        }
        if !text.ends_with('\n') {
            text.push('\n');
        }
        parts.push(Part::Text(text));
        Ok(RecordFormat { parts })
    }

    pub fn render(&self, topic: &str, partition: u32, r: &Record, out: &mut Vec<u8>) {
        let len = |b: &Option<bytes::Bytes>| b.as_ref().map_or(-1, |b| b.len() as i64).to_string();
        for part in &self.parts {
            match part {
                Part::Text(t) => out.extend_from_slice(t.as_bytes()),
                Part::Topic => out.extend_from_slice(topic.as_bytes()),
                Part::Partition => out.extend_from_slice(partition.to_string().as_bytes()),
                Part::Offset => out.extend_from_slice(r.offset.to_string().as_bytes()),
                Part::Timestamp => out.extend_from_slice(r.timestamp.to_string().as_bytes()),
                Part::Key => out.extend_from_slice(r.key.as_deref().unwrap_or_default()),
                Part::Value => out.extend_from_slice(r.value.as_deref().unwrap_or_default()),
                Part::KeyLen => out.extend_from_slice(len(&r.key).as_bytes()),
                Part::ValueLen => out.extend_from_slice(len(&r.value).as_bytes()),
                Part::Headers => {
                    let joined: Vec<String> = r
                        .headers
                        .iter()
                        .map(|h| {
                            format!(
                                "{}={}",
                                h.key,
                                String::from_utf8_lossy(h.value.as_deref().unwrap_or_default())
                            )
                        })
                        .collect();
                    out.extend_from_slice(joined.join(",").as_bytes());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[test]
    fn renders_every_token() {
        let r = Record {
            offset: 7,
            timestamp: 1000,
            key: Some(Bytes::from_static(b"k")),
            value: None,
            headers: vec![brook::transport::Header {
                key: "a".into(),
                value: Some(Bytes::from_static(b"b")),
            }],
        };
        let f = RecordFormat::parse("%t/%p/%o@%T %k=%v [%h] %K %S 100%%").expect("format");
        let mut out = Vec::new();
        f.render("orders", 2, &r, &mut out);
        assert_eq!(
            String::from_utf8_lossy(&out),
            "orders/2/7@1000 k= [a=b] 1 -1 100%\n"
        );
        assert!(RecordFormat::parse("%q").is_err());
    }
}
