//! The conformance runner for ksqlDB's query-validation tests (`../shared/qtt`): runs case
//! files through the engine in manual mode and reports per case, per file and in total.
//!
//! May import: everything (it drives the whole engine, like the CLI).

mod case;
mod compare;
mod fixtures;
mod fixtures_udaf;
mod fixtures_udf;
mod fixtures_udtf;
mod records;
mod rest;
mod rest_compare;
mod runner;

pub use case::{Case, CaseFile, Variant};
pub use rest::{RestCase, RestFile, run_rest_variant};
pub use runner::{Cluster, Outcome, run_variant, run_variant_on};

use serde::Serialize;
use std::path::{Path, PathBuf};

/// The result of one case run.
#[derive(Debug, Clone, Serialize)]
pub struct CaseResult {
    pub file: String,
    pub case: String,
    /// `"file/case"` or `"file/case [FORMAT]"`: the stable id used in `tests/qtt/passing.txt`.
    pub id: String,
    pub status: &'static str,
    pub reason: Option<String>,
}

/// Every `.json` file under the given files or directories, sorted.
pub fn collect_files(paths: &[PathBuf]) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            for entry in std::fs::read_dir(p)? {
                let path = entry?.path();
                if path.extension().is_some_and(|e| e == "json") {
                    files.push(path);
                }
            }
        } else {
            files.push(p.clone());
        }
    }
    files.sort();
    Ok(files)
}

/// Runs every case of one file.
pub fn run_file(path: &Path) -> Result<Vec<CaseResult>, String> {
    run_file_on(path, Cluster::Embedded)
}

/// [`run_file`] with the query-validation cases' queries on `cluster` (rest files always run
/// on the embedded log).
pub fn run_file_on(path: &Path, cluster: Cluster) -> Result<Vec<CaseResult>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let name = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
        .to_string();
    if rest::is_rest_file(&json) {
        let file: RestFile =
            serde_json::from_value(json).map_err(|e| format!("{}: {e}", path.display()))?;
        let cases = file.tests.iter().map(|c| (&c.case, c));
        return Ok(run_cases(&name, cases, run_rest_variant));
    }
    let file: CaseFile =
        serde_json::from_value(json).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(run_cases(
        &name,
        file.tests.iter().map(|c| (c, c)),
        |case, variant| run_variant_on(case, variant, cluster),
    ))
}

/// Runs each variant of each case with `run` (a panic fails the case).
fn run_cases<'a, T: 'a>(
    name: &str,
    cases: impl Iterator<Item = (&'a Case, &'a T)>,
    run: impl Fn(&T, &Variant) -> Outcome,
) -> Vec<CaseResult> {
    let mut results = Vec::new();
    for (case, runnable) in cases {
        for variant in case.variants() {
            let id = match &variant.label {
                Some(l) => format!("{name}/{} [{l}]", case.name),
                None => format!("{name}/{}", case.name),
            };
            let outcome =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(runnable, &variant)))
                    .unwrap_or_else(|_| Outcome::Failed("panicked".into()));
            let (status, reason) = match outcome {
                Outcome::Passed => ("passed", None),
                Outcome::Failed(r) => ("failed", Some(r)),
                Outcome::Skipped(r) => ("skipped", Some(r)),
            };
            results.push(CaseResult {
                file: name.to_string(),
                case: case.name.clone(),
                id,
                status,
                reason,
            });
        }
    }
    results
}
