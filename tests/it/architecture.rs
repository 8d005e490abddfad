//! Checks the layering rules of docs/architecture.md by reading `use crate::...` imports.

use std::collections::BTreeMap;
use std::path::Path;

/// Which top-level modules each module may import.
fn allowed() -> BTreeMap<&'static str, &'static [&'static str]> {
    BTreeMap::from([
        ("common", &[][..]),
        ("transport", &["common"][..]),
        ("log", &["common", "transport"][..]),
        ("format", &["common"][..]),
        ("sql", &["common"][..]),
        ("state", &["common", "transport"][..]),
        ("plan", &["common", "sql", "format", "plan_err"][..]),
        (
            "exec",
            &["common", "plan", "format", "state", "transport"][..],
        ),
        (
            "engine",
            &[
                "common",
                "sql",
                "plan",
                "format",
                "exec",
                "state",
                "transport",
                "log",
                "plan_err",
            ][..],
        ),
        (
            "repl",
            &["common", "sql", "plan", "engine", "exec", "http"][..],
        ),
        ("http", &["common", "sql", "plan", "engine", "exec"][..]),
        ("kafka_wire", &["common", "transport", "log"][..]),
        ("kafka", &["transport"][..]),
    ])
}

fn imports_of(dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            imports_of(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).expect("read file");
            let code = text.lines().filter(|l| !l.trim_start().starts_with("//"));
            for line in code {
                for (i, _) in line.match_indices("crate::") {
                    let rest = &line[i + "crate::".len()..];
                    let module: String = rest
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    out.push((path.display().to_string(), module));
                }
            }
        }
    }
}

#[test]
fn modules_import_only_what_their_layer_allows() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut violations = Vec::new();
    for (module, allowed) in allowed() {
        let dir = src.join(module);
        if !dir.exists() {
            continue;
        }
        let mut found = Vec::new();
        imports_of(&dir, &mut found);
        for (file, imported) in found {
            if imported != module && !allowed.contains(&imported.as_str()) {
                violations.push(format!("{file} imports crate::{imported}"));
            }
        }
    }
    assert!(
        violations.is_empty(),
        "layering violations:\n{}",
        violations.join("\n")
    );
}

#[test]
fn every_module_says_what_it_owns() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut missing = Vec::new();
    let mut files = Vec::new();
    collect_rs(&src, &mut files);
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read");
        if !text.trim_start().starts_with("//!") {
            missing.push(file.display().to_string());
        }
    }
    assert!(
        missing.is_empty(),
        "files without a //! header:\n{}",
        missing.join("\n")
    );
}

fn collect_rs(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            collect_rs(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}
