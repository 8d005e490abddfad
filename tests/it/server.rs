//! `brook server` as a child process on free loopback ports (HTTP API and Kafka listener), with
//! its own data directory, and client scripts (Python in `.ci/install-deps`'s virtualenv, Node
//! with the packages it installs with npm, bash over command-line clients such as kcat) driven
//! against it. Used by the client tests (`http_clients.rs`, `kafka_clients.rs`).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `brook server`; killed when dropped (its data directory then removed).
pub struct BrookServer {
    child: Child,
    pub http_port: u16,
    pub kafka_port: u16,
    dir: tempfile::TempDir,
}

impl BrookServer {
    /// Starts a server on an empty data directory with no startup files, ready for requests.
    pub fn start() -> BrookServer {
        let dir = tempfile::tempdir().expect("tempdir");
        let (http_port, kafka_port) = (free_port(), free_port());
        let server = BrookServer {
            child: spawn(dir.path(), http_port, kafka_port),
            http_port,
            kafka_port,
            dir,
        };
        wait_ready(http_port);
        server
    }

    /// The server's data directory (`--data-dir`).
    pub fn data_dir(&self) -> std::path::PathBuf {
        self.dir.path().join("data")
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.http_port)
    }

    pub fn bootstrap(&self) -> String {
        format!("127.0.0.1:{}", self.kafka_port)
    }

    /// Stops the server with SIGTERM (a clean shutdown) and starts it again on the same data
    /// directory and ports.
    pub fn restart(&mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let _ = self.child.wait();
        self.child = spawn(self.dir.path(), self.http_port, self.kafka_port);
        wait_ready(self.http_port);
    }

    /// Runs `tests/clients/<script>` with the virtualenv's Python, `KSQL_URL` and
    /// `KAFKA_BOOTSTRAP` set to this server; panics with its output unless it succeeds.
    pub fn run_python(&self, script: &str) {
        let python = python();
        assert!(
            python.exists(),
            "{} is missing: run .ci/install-deps (it installs tests/clients/requirements.txt)",
            python.display()
        );
        let mut command = Command::new(&python);
        command.arg(clients_dir().join(script));
        self.run_client(script, command);
    }

    /// Runs `tests/clients/node/<script>` with `node`, its packages (kafkajs) resolved from
    /// `.ci/install-deps`'s node directory through `NODE_PATH`, `KSQL_URL` and
    /// `KAFKA_BOOTSTRAP` set to this server; panics with its output unless it succeeds.
    pub fn run_node(&self, script: &str) {
        let modules = node_dir().join("node_modules");
        assert!(
            modules.join("kafkajs").is_dir(),
            "{} has no kafkajs: run .ci/install-deps (it installs tests/clients/node with npm ci)",
            modules.display()
        );
        let mut command = Command::new("node");
        command
            .arg(clients_dir().join("node").join(script))
            .env("NODE_PATH", &modules);
        self.run_client(script, command);
    }

    /// Runs `tests/clients/<script>` with `bash`, `KSQL_URL` and `KAFKA_BOOTSTRAP` set to this
    /// server and `BROOK_PYTHON` to the virtualenv's Python (for calls to the HTTP API); panics
    /// with its output unless it succeeds. The commands it runs are the caller's to check.
    ///
    /// `cargo test` puts the build's native library directories first in `LD_LIBRARY_PATH`;
    /// among them rdkafka-sys's own librdkafka.so.1, which kcat would load instead of the
    /// system's (one built without zstd). The script gets `LD_LIBRARY_PATH` without them.
    pub fn run_shell(&self, script: &str) {
        let mut command = Command::new("bash");
        command
            .arg(clients_dir().join(script))
            .env("BROOK_PYTHON", python());
        match library_path_outside_target() {
            Some(path) => command.env("LD_LIBRARY_PATH", path),
            None => command.env_remove("LD_LIBRARY_PATH"),
        };
        self.run_client(script, command);
    }

    /// Runs a client script's `command` against this server, up to 240 s. Its output goes to
    /// files rather than pipes, so a script that writes much is never blocked on a full pipe.
    fn run_client(&self, script: &str, mut command: Command) {
        let (stdout, stderr) = (output_file(), output_file());
        let mut child = command
            .env("KSQL_URL", self.url())
            .env("KAFKA_BOOTSTRAP", self.bootstrap())
            .stdout(stdout.try_clone().expect("dup"))
            .stderr(stderr.try_clone().expect("dup"))
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run {script} ({command:?}): {e}; .ci/install-deps installs what it needs")
            });
        let deadline = Instant::now() + Duration::from_secs(240);
        let mut finished = None;
        while Instant::now() < deadline {
            finished = child.try_wait().expect("wait");
            if finished.is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let Some(status) = finished else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{script} did not finish in 240 s:\n{}\n{}",
                read_output(stdout),
                read_output(stderr)
            );
        };
        assert!(
            status.success(),
            "{script} failed ({status}):\n{}\n{}",
            read_output(stdout),
            read_output(stderr)
        );
    }
}

/// An anonymous temporary file for a client's output.
fn output_file() -> std::fs::File {
    tempfile::tempfile().expect("a temporary file for a client's output")
}

fn read_output(mut file: std::fs::File) -> String {
    use std::io::{Read, Seek};
    let mut bytes = Vec::new();
    file.rewind().expect("rewind");
    file.read_to_end(&mut bytes)
        .expect("read a client's output");
    String::from_utf8_lossy(&bytes).into_owned()
}

impl Drop for BrookServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The virtualenv's Python: `BROOK_PYTHON`, or that of `.ci/install-deps`'s virtualenv
/// (`BROOK_PY_VENV`, by default ~/.cache/brook-py).
pub fn python() -> PathBuf {
    if let Ok(p) = std::env::var("BROOK_PYTHON") {
        return PathBuf::from(p);
    }
    if let Ok(venv) = std::env::var("BROOK_PY_VENV") {
        return PathBuf::from(venv).join("bin/python");
    }
    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    PathBuf::from(home).join(".cache/brook-py/bin/python")
}

/// `.ci/install-deps`'s directory for the Node packages of `tests/clients/node`:
/// `BROOK_NODE_DIR`, by default ~/.cache/brook-node.
pub fn node_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("BROOK_NODE_DIR") {
        return PathBuf::from(dir);
    }
    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    PathBuf::from(home).join(".cache/brook-node")
}

/// `LD_LIBRARY_PATH` without the directories under the build's profile directory (that of the
/// brook binary, e.g. `target/debug`), or `None` when nothing is left.
fn library_path_outside_target() -> Option<std::ffi::OsString> {
    let profile = std::path::Path::new(env!("CARGO_BIN_EXE_brook")).parent()?;
    let path = std::env::var_os("LD_LIBRARY_PATH")?;
    let kept: Vec<PathBuf> = std::env::split_paths(&path)
        .filter(|dir| !dir.starts_with(profile))
        .collect();
    if kept.is_empty() {
        return None;
    }
    std::env::join_paths(kept).ok()
}

fn clients_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/clients")
}

pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

fn spawn(dir: &std::path::Path, http_port: u16, kafka_port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_brook"))
        .arg("--data-dir")
        .arg(dir.join("data"))
        .arg("--queries-dir")
        .arg(dir.join("no-queries"))
        .arg("--listen")
        .arg(format!("127.0.0.1:{http_port}"))
        .arg("--kafka-listen")
        .arg(format!("127.0.0.1:{kafka_port}"))
        .arg("server")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn brook server")
}

pub fn wait_ready(http_port: u16) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if super::http_api::get(http_port, "/healthcheck")
            .is_some_and(|b| b.contains("\"serverState\":\"READY\""))
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("brook server did not become healthy");
}
