//! `brook qtt PATH...`: runs ksqlDB query-validation test files and reports the results.

use brook::qtt::{CaseResult, Cluster, collect_files, run_file_on};
use clap::Args;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct QttArgs {
    /// Case files or directories of them.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Write every case's result as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Also list passing and skipped cases.
    #[arg(long)]
    pub verbose: bool,
    /// Run the queries on Kafka through rdkafka, with a Kafka-protocol listener on each case's
    /// log as the cluster (cases of one partition whose records have times; others are skipped).
    #[arg(long)]
    pub on_kafka: bool,
}

pub fn run(args: QttArgs) -> anyhow::Result<()> {
    let files = collect_files(&args.paths)?;
    let mut all: Vec<CaseResult> = Vec::new();
    let mut out = std::io::stdout().lock();
    for file in &files {
        let cluster = match args.on_kafka {
            true => Cluster::KafkaListener,
            false => Cluster::Embedded,
        };
        let results = match run_file_on(file, cluster) {
            Ok(r) => r,
            Err(e) => {
                writeln!(out, "ERROR {e}")?;
                continue;
            }
        };
        for r in &results {
            if r.status == "failed" || args.verbose {
                let reason = r.reason.as_deref().unwrap_or("").replace('\n', " | ");
                writeln!(out, "{} {} {}", r.status.to_ascii_uppercase(), r.id, reason)?;
            }
        }
        let count = |s: &str| results.iter().filter(|r| r.status == s).count();
        writeln!(
            out,
            "== {}: {} passed, {} failed, {} skipped",
            file.display(),
            count("passed"),
            count("failed"),
            count("skipped")
        )?;
        all.extend(results);
    }
    let mut totals: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &all {
        *totals.entry(r.status).or_default() += 1;
    }
    writeln!(
        out,
        "{} passed, {} failed, {} skipped",
        totals.get("passed").unwrap_or(&0),
        totals.get("failed").unwrap_or(&0),
        totals.get("skipped").unwrap_or(&0)
    )?;
    if let Some(path) = args.json {
        std::fs::write(&path, serde_json::to_string_pretty(&all)?)?;
    }
    Ok(())
}
