//! Conformance: runs ksqlDB's query-validation tests (`../shared/qtt`) and compares with
//! `tests/qtt/passing.txt`. A listed case that no longer passes fails this test; newly passing
//! cases are printed so the list can grow (`BROOK_QTT_UPDATE=1 cargo test --test it qtt` adds
//! them). The list only grows.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/qtt/query-validation-tests")
}

fn passing_list() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/qtt/passing.txt")
}

#[test]
fn conformance_cases_that_passed_still_pass() {
    let dir = corpus();
    if !dir.exists() {
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
        for r in brook::qtt::run_file(file).expect("case file parses") {
            if r.status == "passed" {
                passed.insert(r.id.trim().to_string());
            } else if let Some(reason) = r.reason {
                reasons.insert(r.id.trim().to_string(), reason);
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
                reasons.get(id).map(String::as_str).unwrap_or("not run")
            )
        })
        .collect();
    let new: Vec<&String> = passed.difference(&listed).collect();
    if !new.is_empty() {
        eprintln!(
            "{} newly passing conformance cases (BROOK_QTT_UPDATE=1 adds them to tests/qtt/passing.txt):",
            new.len()
        );
        new.iter().for_each(|id| eprintln!("  {id}"));
        if std::env::var("BROOK_QTT_UPDATE").is_ok() {
            let all: BTreeSet<&String> = listed.iter().chain(new.iter().copied()).collect();
            let body: String = all.iter().map(|id| format!("{id}\n")).collect();
            std::fs::write(passing_list(), format!("# Conformance cases that pass (see tests/it/qtt.rs). This list only grows.\n{body}")).expect("write list");
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
