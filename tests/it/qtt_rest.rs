//! Conformance of the HTTP API: runs ksqlDB's rest-query-validation tests
//! (`../shared/qtt/rest-query-validation-tests`: pull and push queries, INSERT VALUES) through
//! `/ksql` and `/query` on a loopback server, and fails if a case listed in
//! `tests/qtt/rest-passing.txt` stops passing. Newly passing cases are printed;
//! `BROOK_QTT_UPDATE=1 cargo test --test it qtt_rest` adds them. The list only grows.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/qtt/rest-query-validation-tests")
}

fn passing_list() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/qtt/rest-passing.txt")
}

#[test]
fn rest_conformance_cases_that_passed_still_pass() {
    let dir = corpus();
    if !dir.exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "the rest corpus is not at {}",
            dir.display()
        );
        eprintln!("skipping: the rest corpus is not at {}", dir.display());
        return;
    }
    let files = brook::qtt::collect_files(&[dir]).expect("list corpus");
    let mut passed = BTreeSet::new();
    let mut reasons = BTreeMap::new();
    for file in &files {
        for r in brook::qtt::run_file(file).expect("case file parses") {
            match r.status {
                "passed" => {
                    passed.insert(r.id.trim().to_string());
                }
                _ => {
                    reasons.insert(r.id.trim().to_string(), r.reason.unwrap_or_default());
                }
            }
        }
    }
    let text = std::fs::read_to_string(passing_list()).unwrap_or_default();
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
                reasons.get(id).map_or("not run", String::as_str)
            )
        })
        .collect();
    let new: Vec<&String> = passed.difference(&listed).collect();
    if !new.is_empty() {
        eprintln!("{} newly passing rest cases:", new.len());
        new.iter().for_each(|id| eprintln!("  {id}"));
        if std::env::var("BROOK_QTT_UPDATE").is_ok() {
            let all: BTreeSet<&String> = listed.iter().chain(new.iter().copied()).collect();
            let body: String = all.iter().map(|id| format!("{id}\n")).collect();
            let header = "# Rest conformance cases that pass (see tests/it/qtt_rest.rs). This list only grows.\n";
            std::fs::write(passing_list(), format!("{header}{body}")).expect("write list");
        }
    }
    assert!(
        regressed.is_empty(),
        "{} rest conformance cases regressed:\n{}",
        regressed.len(),
        regressed.join("\n")
    );
}
