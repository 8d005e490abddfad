//! Conformance: runs ksqlDB's query-validation tests (`../shared/qtt`) and compares with
//! `tests/qtt/passing.txt`. A listed case that no longer passes fails this test; newly passing
//! cases are printed so the list can grow (`BROOK_QTT_UPDATE=1 cargo test --test it qtt` adds
//! them). The list only grows. The subset of one partition whose records have times runs
//! again with the queries on Kafka (rdkafka, a Kafka listener on each case's log as the
//! cluster), against `tests/qtt/kafka-passing.txt`.
//!
//! Without the corpus these tests pass with a note, except in CI (`CI` set), where they fail.

use brook::qtt::Cluster;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/qtt/query-validation-tests")
}

fn passing_list(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/qtt")
        .join(name)
}

#[test]
fn conformance_cases_that_passed_still_pass() {
    check_corpus(Cluster::Embedded, "passing.txt");
}

#[test]
fn conformance_cases_on_kafka_that_passed_still_pass() {
    check_corpus(Cluster::KafkaListener, "kafka-passing.txt");
}

/// Runs the corpus with the queries on `cluster` and compares with the list `list`.
fn check_corpus(cluster: Cluster, list: &str) {
    let dir = corpus();
    if !dir.exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "the conformance corpus is not at {}",
            dir.display()
        );
        eprintln!(
            "skipping: the conformance corpus is not at {}",
            dir.display()
        );
        return;
    }
    let files = brook::qtt::collect_files(&[dir]).expect("list corpus");
    let mut passed = BTreeSet::new();
    let mut reasons = std::collections::BTreeMap::new();
    for file in &files {
        for r in brook::qtt::run_file_on(file, cluster).expect("case file parses") {
            if r.status == "passed" {
                passed.insert(r.id.trim().to_string());
            } else if let Some(reason) = r.reason {
                reasons.insert(r.id.trim().to_string(), reason);
            }
        }
    }
    let text = std::fs::read_to_string(passing_list(list)).unwrap_or_default();
    let listed: BTreeSet<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect();
    let regressed: Vec<String> = listed
        .difference(&passed)
        .map(|id| {
            format!(
                "{id}: {}",
                reasons.get(id).map(String::as_str).unwrap_or("not run")
            )
        })
        .collect();
    let new: Vec<&String> = passed.difference(&listed).collect();
    if !new.is_empty() {
        eprintln!(
            "{} newly passing conformance cases (BROOK_QTT_UPDATE=1 adds them to tests/qtt/{list}):",
            new.len()
        );
        new.iter().for_each(|id| eprintln!("  {id}"));
        if std::env::var("BROOK_QTT_UPDATE").is_ok() {
            let all: BTreeSet<&String> = listed.iter().chain(new.iter().copied()).collect();
            let body: String = all.iter().map(|id| format!("{id}\n")).collect();
            std::fs::write(passing_list(list), format!("# Conformance cases that pass (see tests/it/qtt.rs). This list only grows.\n{body}")).expect("write list");
        }
    }
    assert!(
        regressed.is_empty(),
        "{} conformance cases regressed:\n{}",
        regressed.len(),
        regressed.join("\n")
    );
    eprintln!(
        "conformance: {} passing, {} listed",
        passed.len(),
        listed.len()
    );
}
