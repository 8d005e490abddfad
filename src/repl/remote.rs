//! The shell against a remote Brook (or ksqlDB) server over its HTTP API
//! (`brook shell --server URL`): SELECT statements go to `/query-stream` and their rows print
//! as they arrive (Ctrl-C closes the stream); every other statement goes to `/ksql`, whose
//! entities print as the local shell prints results.

use super::INTERRUPTED;
use super::render;
use crate::http::client::{LineStream, post_json};
use crate::sql::split_statements;
use serde_json::{Value as Json, json};
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(300);

/// The server's address from `http://host:port` (or `host:port`).
pub fn server_address(url: &str) -> std::io::Result<SocketAddr> {
    let rest = url.strip_prefix("http://").unwrap_or(url);
    if url.starts_with("https://") {
        return Err(std::io::Error::other(
            "https is not supported: use http://host:port",
        ));
    }
    let host = rest.trim_end_matches('/');
    let host = if host.contains(':') {
        host.to_string()
    } else {
        format!("{host}:8088")
    };
    host.to_socket_addrs()?
        .next()
        .ok_or_else(|| std::io::Error::other(format!("{url}: no address")))
}

/// The shell's connection: the server, and the properties SET in this shell, which (as in
/// ksqlDB's CLI) are kept here and sent with every request.
pub struct Remote {
    pub addr: SocketAddr,
    pub properties: serde_json::Map<String, Json>,
}

/// Runs each statement of `text` on the server; stops at the first error (false).
pub fn run_text(remote: &mut Remote, text: &str) -> bool {
    let statements = match split_statements(text) {
        Ok(s) => s,
        Err(e) => {
            println!("error: {e}");
            return false;
        }
    };
    statements.iter().all(|s| {
        if let Ok(statement) = crate::sql::parse_statement(&s.text, &|_| None) {
            match statement.kind {
                crate::sql::StatementKind::Set { name, value } => {
                    println!("Successfully changed local property '{name}' to '{value}'.");
                    remote.properties.insert(name, Json::String(value));
                    return true;
                }
                crate::sql::StatementKind::Unset(name) => {
                    remote.properties.remove(&name);
                    println!("Successfully unset local property '{name}'.");
                    return true;
                }
                _ => {}
            }
        }
        // Sent where it stood in the input, so that the server's error positions count from
        // the start of what was typed, as they do in the local shell.
        match is_query(&s.text) {
            true => stream_query(remote, &s.positioned()),
            false => run_statement(remote, &s.positioned()),
        }
    })
}

fn is_query(statement: &str) -> bool {
    let first = statement.split_whitespace().next().unwrap_or("");
    first.eq_ignore_ascii_case("SELECT")
}

/// A statement on `/ksql`; prints its entities or its error.
fn run_statement(remote: &Remote, statement: &str) -> bool {
    let addr = remote.addr;
    let body = json!({"ksql": statement, "streamsProperties": remote.properties}).to_string();
    let reply = match post_json(addr, "/ksql", &body, TIMEOUT) {
        Ok(r) => r,
        Err(e) => {
            println!("error: cannot reach the server at {addr}: {e}");
            return false;
        }
    };
    let parsed: Json = serde_json::from_str(&reply.body).unwrap_or(Json::Null);
    if reply.status != 200 {
        let message = parsed["message"].as_str().unwrap_or(&reply.body);
        println!("error: {message}");
        return false;
    }
    for entity in parsed.as_array().into_iter().flatten() {
        print_entity(entity);
    }
    true
}

fn print_entity(e: &Json) {
    let text = |v: &Json| match v {
        Json::String(s) => s.clone(),
        Json::Null => String::new(),
        other => other.to_string(),
    };
    let table = |title: &str, columns: &[&str], items: &Json, fields: &[&str]| {
        let rows: Vec<Vec<String>> = items
            .as_array()
            .into_iter()
            .flatten()
            .map(|item| fields.iter().map(|f| text(&item[*f])).collect())
            .collect();
        let listing = crate::engine::Listing {
            title: title.to_string(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows,
            ..Default::default()
        };
        print!("{}", render::listing(&listing));
    };
    match e["@type"].as_str().unwrap_or("") {
        "currentStatus" => println!("{}", text(&e["commandStatus"]["message"])),
        "streams" => table(
            "",
            &[
                "Stream Name",
                "Kafka Topic",
                "Key Format",
                "Value Format",
                "Windowed",
            ],
            &e["streams"],
            &["name", "topic", "keyFormat", "valueFormat", "isWindowed"],
        ),
        "tables" => table(
            "",
            &[
                "Table Name",
                "Kafka Topic",
                "Key Format",
                "Value Format",
                "Windowed",
            ],
            &e["tables"],
            &["name", "topic", "keyFormat", "valueFormat", "isWindowed"],
        ),
        "queries" => table(
            "",
            &["Query ID", "Status", "Sink Name", "Query String"],
            &e["queries"],
            &["id", "state", "sinks", "queryString"],
        ),
        "kafka_topics" => table(
            "",
            &["Kafka Topic", "Partitions"],
            &e["topics"],
            &["name", "replicaInfo"],
        ),
        "properties" => table(
            "",
            &["Property", "Value"],
            &e["properties"],
            &["name", "value"],
        ),
        "sourceDescription" => {
            let d = &e["sourceDescription"];
            let title = format!(
                "Name: {}  ({}, topic {})",
                text(&d["name"]),
                text(&d["type"]),
                text(&d["topic"])
            );
            table(
                &title,
                &["Field", "Type"],
                &field_rows(&d["fields"]),
                &["name", "type"],
            );
        }
        "queryDescription" => {
            let d = &e["queryDescription"];
            let title = format!(
                "ID: {}  ({}, {})",
                text(&d["id"]),
                text(&d["queryType"]),
                text(&d["statementText"])
            );
            table(
                &title,
                &["Field", "Type"],
                &field_rows(&d["fields"]),
                &["name", "type"],
            );
            for (heading, key) in [
                ("Execution plan", "executionPlan"),
                ("Processing topology", "topology"),
            ] {
                let rule = "-".repeat(heading.len());
                println!("\n{heading}\n{rule}\n{}", text(&d[key]));
            }
        }
        "listing" => {
            let listing = crate::engine::Listing {
                title: text(&e["title"]),
                columns: e["columns"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(text)
                    .collect(),
                rows: e["rows"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|r| r.as_array().into_iter().flatten().map(text).collect())
                    .collect(),
                ..Default::default()
            };
            print!("{}", render::listing(&listing));
        }
        _ => println!("{e}"),
    }
}

/// ksqlDB's `FieldInfo`s as `{name, type}` rows (`STRING KEY`).
fn field_rows(fields: &Json) -> Json {
    let text = |v: &Json| v.as_str().unwrap_or_default().to_string();
    let rows = fields.as_array().into_iter().flatten().map(|f| {
        let kind = format!("{} {}", text(&f["schema"]["type"]), text(&f["type"]));
        json!({"name": f["name"], "type": kind.trim()})
    });
    Json::Array(rows.collect())
}

/// A query on `/query-stream`: the header, then rows as they arrive until the stream ends or
/// Ctrl-C.
fn stream_query(remote: &Remote, statement: &str) -> bool {
    let addr = remote.addr;
    let body = json!({"sql": statement, "properties": remote.properties}).to_string();
    let mut lines = match LineStream::open(addr, "/query-stream", &body) {
        Ok(l) => l,
        Err(e) => {
            let message = serde_json::from_str::<Json>(&e.to_string())
                .ok()
                .and_then(|j| j["message"].as_str().map(str::to_string))
                .unwrap_or_else(|| e.to_string());
            println!("error: {message}");
            return false;
        }
    };
    let socket = lines.socket.try_clone().ok();
    let (tx, rx) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        while let Ok(Some(line)) = lines.next_line() {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    INTERRUPTED.store(false, Ordering::SeqCst);
    let mut widths = Vec::new();
    loop {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(line) => print_line(&line, &mut widths),
            Err(mpsc::RecvTimeoutError::Timeout) if INTERRUPTED.load(Ordering::SeqCst) => {
                if let Some(s) = &socket {
                    let _ = s.shutdown(std::net::Shutdown::Both);
                }
                println!("Query terminated");
                return true;
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => return true,
        }
    }
}

/// The header (column names) or a row, or an error written into the stream.
fn print_line(line: &str, widths: &mut Vec<usize>) {
    let Ok(item) = serde_json::from_str::<Json>(line) else {
        return;
    };
    if let Some(names) = item["columnNames"].as_array() {
        let names: Vec<String> = names
            .iter()
            .map(|n| n.as_str().unwrap_or("").to_string())
            .collect();
        *widths = names.iter().map(|n| n.len().max(12)).collect();
        let values: Vec<crate::common::Value> = names
            .into_iter()
            .map(crate::common::Value::String)
            .collect();
        println!("{}", render::row(&values, widths));
        return;
    }
    if let Some(message) = item["message"].as_str() {
        println!("error: {message}");
        return;
    }
    let values: Vec<crate::common::Value> = item
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| match v {
            Json::String(s) => crate::common::Value::String(s.clone()),
            Json::Null => crate::common::Value::Null,
            other => crate::common::Value::String(other.to_string()),
        })
        .collect();
    println!("{}", render::row(&values, widths));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls_and_query_detection() {
        assert_eq!(
            server_address("http://127.0.0.1:9000/")
                .expect("addr")
                .port(),
            9000
        );
        assert_eq!(server_address("127.0.0.1").expect("addr").port(), 8088);
        assert!(server_address("https://x:1").is_err());
        assert!(is_query("  select * FROM s;"));
        assert!(!is_query("SHOW STREAMS;"));
    }
}
