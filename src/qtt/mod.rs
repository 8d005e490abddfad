//! The conformance runner for ksqlDB's query-validation tests (`../shared/qtt`): runs case
//! files through the engine in manual mode and reports per case, per file and in total.
//!
//! May import: everything (it drives the whole engine, like the CLI).

mod case;
mod compare;
mod fixtures;
mod fixtures_udf;
mod fixtures_udtf;
mod records;
mod runner;

pub use case::{Case, CaseFile, Variant};
pub use runner::{Outcome, run_variant};

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
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let file: CaseFile =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let name = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
        .to_string();
    let mut results = Vec::new();
    for case in &file.tests {
        for variant in case.variants() {
            let id = match &variant.label {
                Some(l) => format!("{name}/{} [{l}]", case.name),
                None => format!("{name}/{}", case.name),
            };
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                run_variant(case, &variant)
            }))
            .unwrap_or_else(|_| Outcome::Failed("panicked".into()));
            let (status, reason) = match outcome {
                Outcome::Passed => ("passed", None),
                Outcome::Failed(r) => ("failed", Some(r)),
                Outcome::Skipped(r) => ("skipped", Some(r)),
            };
            results.push(CaseResult {
                file: name.clone(),
                case: case.name.clone(),
                id,
                status,
                reason,
            });
        }
    }
    Ok(results)
}
