//! The `brook` command line run as a user would: topics, produce from stdin, consume.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

pub fn brook(data: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_brook"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn brook");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("brook output")
}

pub fn ok(data: &Path, args: &[&str], stdin: &str) -> String {
    let out = brook(data, args, stdin);
    assert!(
        out.status.success(),
        "brook {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn topic_lifecycle_produce_and_consume() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    assert!(
        ok(d, &["topic", "create", "orders", "--partitions", "3"], "")
            .contains("created topic orders")
    );
    ok(d, &["topic", "create", "users", "--compact"], "");
    assert_eq!(ok(d, &["topic", "list"], ""), "orders\nusers\n");
    let input = "a:{\"id\":1,\"ts\":1000}\nb:{\"id\":2,\"ts\":2000}\na:{\"id\":3,\"ts\":3000}\n";
    assert_eq!(
        ok(
            d,
            &["produce", "orders", "-K", ":", "--timestamp-field", "ts"],
            input
        ),
        "appended 3 record(s) to orders\n"
    );
    let described = ok(d, &["topic", "describe", "orders"], "");
    assert!(
        described.contains("partitions: 3") && described.contains("cleanup.policy: delete"),
        "{described}"
    );
    let out = ok(
        d,
        &[
            "consume",
            "orders",
            "--from-beginning",
            "--format",
            "%k|%v|%T",
        ],
        "",
    );
    let mut lines: Vec<&str> = out.lines().collect();
    lines.sort();
    assert_eq!(
        lines,
        vec![
            "a|{\"id\":1,\"ts\":1000}|1000",
            "a|{\"id\":3,\"ts\":3000}|3000",
            "b|{\"id\":2,\"ts\":2000}|2000"
        ]
    );
    let a_partition = brook::transport::partition_for_key(b"a", 3).to_string();
    let only_a = ok(
        d,
        &[
            "consume",
            "orders",
            "--from-beginning",
            "--partition",
            &a_partition,
            "--format",
            "%o %k",
        ],
        "",
    );
    assert_eq!(
        only_a.lines().filter(|l| l.ends_with(" a")).count(),
        2,
        "{only_a}"
    );
    ok(d, &["topic", "delete", "users"], "");
    assert_eq!(ok(d, &["topic", "list"], ""), "orders\n");
}

#[test]
fn consumer_groups_resume_and_limits_stop() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    ok(d, &["topic", "create", "t"], "");
    ok(d, &["produce", "t"], "1\n2\n3\n4\n5\n");
    assert_eq!(
        ok(
            d,
            &[
                "consume",
                "t",
                "--group",
                "g",
                "--from-beginning",
                "--limit",
                "2"
            ],
            ""
        ),
        "1\n2\n"
    );
    assert_eq!(
        ok(d, &["consume", "t", "--group", "g", "--limit", "2"], ""),
        "3\n4\n"
    );
    assert_eq!(ok(d, &["consume", "t", "--group", "g"], ""), "5\n");
    assert_eq!(ok(d, &["consume", "t", "--group", "g"], ""), "");
    assert_eq!(ok(d, &["consume", "t", "--offset", "3"], ""), "4\n5\n");
    assert_eq!(ok(d, &["consume", "t"], ""), "", "default start is the end");
}

#[test]
fn bad_input_is_reported_with_where_and_nothing_accepted_is_lost() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    ok(d, &["topic", "create", "t"], "");
    let out = brook(
        d,
        &["produce", "t", "-K", ":"],
        "k1:v1\nk2:v2\nno separator here\nk3:v3\n",
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line 3") && err.contains("no key separator"),
        "{err}"
    );
    assert_eq!(
        ok(
            d,
            &["consume", "t", "--from-beginning", "--format", "%k=%v"],
            ""
        ),
        "k1=v1\nk2=v2\n"
    );
    let missing = brook(d, &["produce", "nope"], "x\n");
    assert!(String::from_utf8_lossy(&missing.stderr).contains("'nope' does not exist"));
    let bad_name = brook(d, &["topic", "create", "a b"], "");
    assert!(String::from_utf8_lossy(&bad_name.stderr).contains("invalid topic name"));
    let bad_format = brook(d, &["consume", "t", "--format", "%z"], "");
    assert!(String::from_utf8_lossy(&bad_format.stderr).contains("unknown format token"));
}

#[test]
fn help_lists_the_subcommands() {
    let out = Command::new(env!("CARGO_BIN_EXE_brook"))
        .arg("--help")
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    for word in ["topic", "produce", "consume", "--data-dir"] {
        assert!(text.contains(word), "--help lacks {word}:\n{text}");
    }
}

/// Runs `brook run FILE` with a deadline (a hang is a failure, not a stuck test).
fn run_sql(data: &Path, sql: &str) -> (bool, String) {
    let file = data.with_extension(format!("{}.sql", sql.len()));
    std::fs::write(&file, sql).expect("write sql");
    let mut child = Command::new(env!("CARGO_BIN_EXE_brook"))
        .arg("--data-dir")
        .arg(data)
        .arg("run")
        .arg(&file)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn brook run");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while child.try_wait().expect("wait").is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("brook run did not finish: {sql}");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let out = child.wait_with_output().expect("output");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn sql_files_run_and_queries_resume_after_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let (ok, out) = run_sql(
        &data,
        "CREATE STREAM nums (k VARCHAR KEY, v INT) WITH (KAFKA_TOPIC='nums', VALUE_FORMAT='JSON', PARTITIONS=1);
         CREATE STREAM doubled AS SELECT k, v * 2 AS d FROM nums;
         INSERT INTO nums (k, v) VALUES ('a', 21);",
    );
    assert!(
        ok && out.contains("Created query with ID CSAS_DOUBLED_0"),
        "{out}"
    );
    // A new process: the command log restores the stream and the query, which resumes and
    // processes the record inserted above.
    let (ok, out) = run_sql(
        &data,
        "SET 'auto.offset.reset'='earliest'; SELECT * FROM doubled EMIT CHANGES LIMIT 1;",
    );
    assert!(ok, "{out}");
    assert!(out.contains("| a ") && out.contains("| 42 "), "{out}");
    let (ok, out) = run_sql(&data, "SHOW QUERIES; SELECT * FROM nope EMIT CHANGES;");
    assert!(!ok, "a failing statement must fail the run: {out}");
    assert!(
        out.contains("CSAS_DOUBLED_0") && out.contains("NOPE does not exist"),
        "{out}"
    );
}

/// `brook topic`, `produce` and `consume` on a data directory a running server owns go through
/// its Kafka listener (the address it wrote to `<data-dir>/kafka-listener`); `topic verify`,
/// which reads segment files, says to stop the server.
#[test]
fn log_commands_go_through_a_running_servers_listener() {
    let server = super::server::BrookServer::start();
    let d = &server.data_dir();
    let created = ok(d, &["topic", "create", "busy", "--partitions", "2"], "");
    assert!(created.contains("created topic busy"), "{created}");
    let appended = ok(
        d,
        &["produce", "busy", "-K", ":", "--header", "h=v"],
        "k1:one\nk2:two\nk3:three\n",
    );
    assert!(appended.contains("appended 3 record(s)"), "{appended}");
    let listed = ok(d, &["topic", "list"], "");
    assert!(listed.lines().any(|l| l == "busy"), "{listed}");
    let described = ok(d, &["topic", "describe", "busy"], "");
    assert!(described.contains("partitions: 2"), "{described}");
    let mut read: Vec<String> = ok(
        d,
        &[
            "consume",
            "busy",
            "--from-beginning",
            "--format",
            "%k=%v %h\n",
        ],
        "",
    )
    .lines()
    .map(str::to_string)
    .collect();
    read.sort();
    assert_eq!(read, vec!["k1=one h=v", "k2=two h=v", "k3=three h=v"]);
    // A group resumes where it committed.
    let first = ok(
        d,
        &["consume", "busy", "--group", "g", "--from-beginning"],
        "",
    );
    assert_eq!(first.lines().count(), 3, "{first}");
    ok(d, &["produce", "busy"], "four\n");
    let second = ok(d, &["consume", "busy", "--group", "g"], "");
    assert_eq!(second.trim(), "four");
    let verify = brook(d, &["topic", "verify", "busy"], "");
    let err = String::from_utf8_lossy(&verify.stderr);
    assert!(
        !verify.status.success() && err.contains("stop it first"),
        "{err}"
    );
    ok(d, &["topic", "delete", "busy"], "");
    assert!(!ok(d, &["topic", "list"], "").lines().any(|l| l == "busy"));
}
