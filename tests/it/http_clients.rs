//! ksqlDB's own Python clients (`ksql-python-ng` and `ksqldb`, from PyPI, installed by
//! `.ci/install-deps` into a virtualenv) driven against `brook server`: each script in
//! `tests/clients/` creates a stream, inserts rows, receives them through a push query while
//! they are produced (HTTP/2 cleartext), runs a pull query on a table and closes a query;
//! `seed_pipeline.py` creates, feeds and reads the seed pipeline (a stream-table join, a filter
//! over it, an aggregation grouped by the window alone).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The virtualenv's Python: `BROOK_PYTHON`, or that of `.ci/install-deps`'s virtualenv
/// (`BROOK_PY_VENV`, by default ~/.cache/brook-py).
fn python() -> PathBuf {
    if let Ok(p) = std::env::var("BROOK_PYTHON") {
        return PathBuf::from(p);
    }
    if let Ok(venv) = std::env::var("BROOK_PY_VENV") {
        return PathBuf::from(venv).join("bin/python");
    }
    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    PathBuf::from(home).join(".cache/brook-py/bin/python")
}

/// `brook server` on a free port, with an empty data dir and no startup files.
struct Server {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

fn start_server() -> Server {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_brook"))
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .arg("--queries-dir")
        .arg(dir.path().join("no-queries"))
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .arg("server")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn brook server");
    let server = Server {
        child,
        url: format!("http://127.0.0.1:{port}"),
        _dir: dir,
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if super::http_api::get(port, "/healthcheck")
            .is_some_and(|b| b.contains("\"serverState\":\"READY\""))
        {
            return server;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("brook server did not become healthy");
}

fn run_client(script: &str) {
    let python = python();
    assert!(
        python.exists(),
        "{} is missing: run .ci/install-deps (it installs tests/clients/requirements.txt)",
        python.display()
    );
    let server = start_server();
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/clients")
        .join(script);
    let mut child = Command::new(&python)
        .arg(&path)
        .env("KSQL_URL", &server.url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the client script");
    let deadline = Instant::now() + Duration::from_secs(240);
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{script} did not finish");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = child.wait_with_output().expect("output");
    assert!(
        out.status.success(),
        "{script} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
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
    let server = start_server();
    let mut child = Command::new(env!("CARGO_BIN_EXE_brook"))
        .args(["shell", "--server", &server.url])
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
