//! ksqlDB's own Python clients (`ksql-python-ng` and `ksqldb`, from PyPI, installed by
//! `.ci/install-deps` into a virtualenv) driven against `brook server`: each script in
//! `tests/clients/` creates a stream, inserts rows, receives them through a push query while
//! they are produced (HTTP/2 cleartext), runs a pull query on a table and closes a query;
//! `seed_pipeline.py` creates, feeds and reads the seed pipeline (a stream-table join, a filter
//! over it, an aggregation grouped by the window alone).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::server::BrookServer;

fn run_client(script: &str) {
    BrookServer::start().run_python(script);
}

#[test]
fn ksql_python_ng_client() {
    run_client("ksql_python_ng.py");
}

#[test]
fn ksqldb_python_client() {
    run_client("ksqldb_client.py");
}

/// The seed pipeline (queries/01-orders.sql) created, fed and read over the API.
#[test]
fn the_seed_pipeline_with_the_ksqldb_python_client() {
    run_client("seed_pipeline.py");
}

/// `brook shell --server`: statements typed into the shell run on the server; SET is kept by
/// the shell and sent with the query, whose rows print as they arrive.
#[test]
fn the_shell_of_a_server() {
    use std::io::Write;
    let server = BrookServer::start();
    let mut child = Command::new(env!("CARGO_BIN_EXE_brook"))
        .args(["shell", "--server", &server.url()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the shell");
    let script = "CREATE STREAM s (id INT KEY, v STRING) WITH (kafka_topic='s', value_format='JSON', partitions=1);\n\
        INSERT INTO s (id, v) VALUES (7, 'seven');\n\
        SET 'auto.offset.reset'='earliest';\n\
        SELECT * FROM s EMIT CHANGES LIMIT 1;\n\
        SHOW STREAMS;\n";
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(script.as_bytes())
        .expect("write");
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the shell did not finish");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().expect("output");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Stream created"), "{text}");
    assert!(text.contains("| 7 ") && text.contains("seven"), "{text}");
    assert!(
        text.contains("| S "),
        "SHOW STREAMS after the query: {text}"
    );
}
