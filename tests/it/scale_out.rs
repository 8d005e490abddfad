//! Several Brook servers sharing a query's work on Kafka (`brook --bootstrap-servers`), with
//! Brook's own Kafka listener as the cluster: one service id, one catalog (the command topic),
//! the query's partitions split between the servers; one server killed with SIGKILL, the other
//! takes its partitions, restores their state from the changelogs, and the table ends equal to
//! what the input says, with one update per input record (nothing lost or counted twice); a
//! TERMINATE on one server stops the query on all and removes its group and internal topics.

use crate::http_api::{get, json, post};
use crate::kafka_support::Fixture;
use crate::server::{free_port, wait_ready};
use brook::kafka::KafkaTransport;
use brook::transport::{ProducerRecord, Record, TopicPartition, Transport};
use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How soon the cluster notices a server that stopped: its partitions move after this
/// session timeout (and the rebalance that follows).
const SESSION_TIMEOUT_MS: &str = "6000";

/// A `brook server` on a Kafka cluster; killed (SIGKILL) when dropped.
struct KafkaServer {
    child: Child,
    http_port: u16,
    _dir: tempfile::TempDir,
}

impl KafkaServer {
    fn start(bootstrap: &str) -> KafkaServer {
        let dir = tempfile::tempdir().expect("tempdir");
        let http_port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_brook"))
            .args(["--bootstrap-servers", bootstrap])
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .arg("--queries-dir")
            .arg(dir.path().join("no-queries"))
            .args(["--listen", &format!("127.0.0.1:{http_port}")])
            .args([
                "--kafka-config",
                &format!("session.timeout.ms={SESSION_TIMEOUT_MS}"),
            ])
            .args(["--kafka-config", "heartbeat.interval.ms=1000"])
            .arg("server")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn brook server");
        wait_ready(http_port);
        KafkaServer {
            child,
            http_port,
            _dir: dir,
        }
    }

    /// Runs statements through this server's /ksql; returns the response entities.
    fn ksql(&self, statements: &str) -> serde_json::Value {
        let body = serde_json::json!({
            "ksql": statements,
            "streamsProperties": {"auto.offset.reset": "earliest"},
        });
        let reply = post(self.http_port, "/ksql", &body.to_string());
        assert_eq!(reply.status, 200, "{}", reply.body);
        json(&reply.body)
    }

    /// The input records query `id` consumed here, from /metrics.
    fn records_in(&self, id: &str) -> u64 {
        let metrics = get(self.http_port, "/metrics").unwrap_or_default();
        let line = format!("brook_query_records_in_total{{query=\"{id}\"}} ");
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(&line))
            .and_then(|n| n.trim().parse::<f64>().ok())
            .map_or(0, |n| n as u64)
    }

    /// The rows of a pull query.
    fn pull(&self, sql: &str) -> Vec<serde_json::Value> {
        self.query(sql, serde_json::json!({}))
    }

    /// The rows of a query over /query-stream (a push query's up to its LIMIT).
    fn query(&self, sql: &str, properties: serde_json::Value) -> Vec<serde_json::Value> {
        let body = serde_json::json!({ "sql": sql, "properties": properties });
        let reply = post(self.http_port, "/query-stream", &body.to_string());
        assert_eq!(reply.status, 200, "{}", reply.body);
        let mut lines = reply.body.lines();
        let header = json(lines.next().expect("header"));
        assert!(header.get("queryId").is_some(), "{}", reply.body);
        lines.filter(|l| !l.trim().is_empty()).map(json).collect()
    }

    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for KafkaServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const USERS: usize = 12;
const WINDOW_MS: i64 = 10_000;

/// Record `i` of the input: its user, its amount and its time. Every 300 records the times
/// start over (one ms later), so records after the kill fall in the windows of records before
/// it and their counts build on state restored from the changelogs.
fn input(i: usize) -> (String, i64, i64) {
    let time = 1 + ((i % 300) as i64) * 700 + (i / 300) as i64;
    (format!("u{}", i % USERS), (i % 7) as i64, time)
}

fn produce(kafka: &KafkaTransport, range: std::ops::Range<usize>) {
    let mut producer = kafka.producer().expect("producer");
    for i in range {
        let (user, amount, time) = input(i);
        let value = format!(r#"{{"AMOUNT":{amount}}}"#);
        let record = ProducerRecord::new(Some(user), Some(value)).with_timestamp(time);
        producer.send("clicks", None, record).expect("send");
    }
    producer.flush().expect("flush");
}

/// Waits until `check` holds, up to `seconds`.
fn wait_for(what: &str, seconds: u64, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Whether group `group` has committed every partition of `topic` to its end.
fn caught_up(kafka: &KafkaTransport, group: &str, topic: &str) -> bool {
    let Ok(count) = kafka.partition_count(topic) else {
        return false;
    };
    let committed = kafka.committed_offsets(group, topic).unwrap_or_default();
    (0..count).all(|p| {
        let tp = TopicPartition::new(topic, p);
        let end = kafka
            .list_offset(&tp, brook::transport::OffsetSpec::Latest)
            .unwrap_or(i64::MAX);
        committed.iter().any(|(q, o)| *q == p && *o >= end)
    })
}

/// (user, window start) → (count, sum) of the first `n` input records.
fn oracle(n: usize) -> BTreeMap<(String, i64), (i64, i64)> {
    let mut table = BTreeMap::new();
    for i in 0..n {
        let (user, amount, time) = input(i);
        let entry = table
            .entry((user, time - time % WINDOW_MS))
            .or_insert((0, 0));
        entry.0 += 1;
        entry.1 += amount;
    }
    table
}

/// The sink's updates per windowed key, in order: each key's counts must be 1, 2, 3, ...
fn updates(kafka: &KafkaTransport) -> BTreeMap<(String, i64), Vec<(i64, i64)>> {
    let mut out: BTreeMap<(String, i64), Vec<(i64, i64)>> = BTreeMap::new();
    for p in 0..kafka.partition_count("PER_USER").expect("sink") {
        for record in crate::support::read_all_from(kafka, "PER_USER", p) {
            let (key, value) = windowed(&record);
            out.entry(key).or_default().push(value);
        }
    }
    out
}

fn windowed(record: &Record) -> ((String, i64), (i64, i64)) {
    let key = record.key.as_deref().expect("key");
    let (user, start) = key.split_at(key.len() - 8);
    let start = i64::from_be_bytes(start.try_into().expect("8 bytes"));
    let value = json(&String::from_utf8_lossy(
        record.value.as_deref().expect("value"),
    ));
    let count = value["CNT"].as_i64().expect("CNT");
    let total = value["TOTAL"].as_i64().expect("TOTAL");
    (
        (String::from_utf8_lossy(user).into_owned(), start),
        (count, total),
    )
}

#[test]
fn two_servers_split_a_windowed_aggregation_and_one_takes_over_after_a_kill() {
    let cluster = Fixture::cluster();
    let kafka = KafkaTransport::connect(&cluster.bootstrap()).expect("connect");
    let first = KafkaServer::start(&cluster.bootstrap());
    let second = KafkaServer::start(&cluster.bootstrap());
    let created = first.ksql(
        "CREATE STREAM clicks (user STRING KEY, amount INT) WITH (kafka_topic='clicks', value_format='JSON', partitions=4);
         CREATE TABLE per_user AS SELECT user, COUNT(*) AS cnt, SUM(amount) AS total FROM clicks
           WINDOW TUMBLING (SIZE 10 SECONDS, GRACE PERIOD 1 HOUR) GROUP BY user EMIT CHANGES;",
    );
    let id = created[1]["commandStatus"]["queryId"]
        .as_str()
        .expect("query id")
        .to_string();
    let group = format!("_confluent-ksql-default_query_{id}");
    // The other server learns the query from the command topic and joins its group.
    wait_for("both servers in the query's group", 60, || {
        let mut members = kafka.group_members(&group).unwrap_or_default();
        members.sort();
        members.dedup();
        members.len() == 2
    });

    // Records go in 30 at a time, each lot once the last is processed, until both servers have
    // processed some: until the group's rebalance to two members settles, the first server may
    // still hold every partition.
    let mut produced = 0;
    wait_for("both servers processing", 180, || {
        let both = first.records_in(&id) > 0 && second.records_in(&id) > 0;
        let done = caught_up(&kafka, &group, "clicks");
        if done && !both {
            produce(&kafka, produced..produced + 30);
            produced += 30;
        }
        done && both
    });
    let by_first = first.records_in(&id);
    let by_second = second.records_in(&id);
    assert!(
        by_first > 0 && by_second > 0,
        "both servers process: {by_first} and {by_second}"
    );

    second.kill();
    produce(&kafka, produced..produced + 300);
    // The cluster notices after the session timeout; the survivor restores the moved tasks'
    // state from their changelogs and goes on.
    let repartition = format!("{group}-Aggregate-GroupBy-repartition");
    wait_for("the survivor to process everything", 180, || {
        caught_up(&kafka, &group, "clicks") && caught_up(&kafka, &group, &repartition)
    });

    // A transaction the killed server left open hides what follows it in its partitions
    // until the cluster aborts it (after the producers' 10 s transaction timeout).
    let expected = oracle(produced + 300);
    let last_of = |updates: &BTreeMap<(String, i64), Vec<(i64, i64)>>| {
        let last: BTreeMap<(String, i64), (i64, i64)> = updates
            .iter()
            .map(|(key, values)| (key.clone(), *values.last().expect("an update")))
            .collect();
        last
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut updates = updates(&kafka);
    while last_of(&updates) != expected && Instant::now() < deadline {
        std::thread::sleep(Duration::from_secs(1));
        updates = self::updates(&kafka);
    }
    assert_same_table(&last_of(&updates), &expected, "the final table");
    for (key, values) in &updates {
        let counts: Vec<i64> = values.iter().map(|(c, _)| *c).collect();
        let one_each: Vec<i64> = (1..=counts.len() as i64).collect();
        assert_eq!(
            counts, one_each,
            "{key:?}: one update per record, none lost or repeated"
        );
    }
    let rows = first.pull("SELECT user, WINDOWSTART, cnt, total FROM per_user;");
    let pulled: BTreeMap<(String, i64), (i64, i64)> = rows
        .iter()
        .map(|r| {
            let key = (
                r[0].as_str().expect("user").to_string(),
                r[1].as_i64().expect("start"),
            );
            (
                key,
                (r[2].as_i64().expect("cnt"), r[3].as_i64().expect("total")),
            )
        })
        .collect();
    assert_same_table(&pulled, &expected, "a pull query on the survivor");
    // A push query reads every partition of its source, whoever runs the persistent query.
    let pushed = first.query(
        &format!(
            "SELECT user FROM clicks EMIT CHANGES LIMIT {};",
            produced + 300
        ),
        serde_json::json!({"auto.offset.reset": "earliest"}),
    );
    assert_eq!(
        pushed.len(),
        produced + 300,
        "a push query sees every record"
    );
    let users: std::collections::BTreeSet<&str> =
        pushed.iter().filter_map(|r| r[0].as_str()).collect();
    assert_eq!(users.len(), USERS, "of every user, hence every partition");

    // TERMINATE on one server, applied by every server of the catalog: the query's group,
    // changelogs and repartition topic are gone once they all stopped it.
    let third = KafkaServer::start(&cluster.bootstrap());
    wait_for("the new server in the query's group", 60, || {
        let mut members = kafka.group_members(&group).unwrap_or_default();
        members.sort();
        members.dedup();
        members.len() == 2
    });
    third.ksql(&format!("TERMINATE {id};"));
    wait_for("the query's group and internal topics deleted", 60, || {
        let groups = kafka.list_groups().unwrap_or_default();
        let topics = kafka.list_topics().unwrap_or_default();
        !groups.contains(&group) && !topics.iter().any(|t| t.starts_with(&format!("{group}-")))
    });
    for server in [&first, &third] {
        let queries = server.ksql("SHOW QUERIES;");
        assert_eq!(
            queries[0]["queries"],
            serde_json::json!([]),
            "no query left"
        );
    }
}

/// Fails with the rows that differ (not both tables whole).
fn assert_same_table(
    got: &BTreeMap<(String, i64), (i64, i64)>,
    expected: &BTreeMap<(String, i64), (i64, i64)>,
    what: &str,
) {
    let mut differences = Vec::new();
    for (key, want) in expected {
        if got.get(key) != Some(want) {
            differences.push(format!("{key:?}: {:?} instead of {want:?}", got.get(key)));
        }
    }
    for key in got.keys().filter(|k| !expected.contains_key(*k)) {
        differences.push(format!("{key:?}: unexpected {:?}", got[key]));
    }
    let shown: Vec<&String> = differences.iter().take(10).collect();
    assert!(
        differences.is_empty(),
        "{what}: {} of {} rows differ, e.g. {shown:?}",
        differences.len(),
        expected.len()
    );
}
