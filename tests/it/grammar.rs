//! The dialect's grammar (`grammar/brook.ebnf`): every statement of `grammar/examples/*.sql`
//! parses, and statements the grammar does not allow are rejected at the right position.

use brook::common::SqlType;
use brook::sql::{self, SqlError, StatementKind};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Fewer parsed statements than this means the examples went missing.
const MIN_STATEMENTS: usize = 100;

fn examples() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("grammar/examples");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    files
}

/// Parses a script as the engine does: split at `;`, substitute `${name}` with the variables
/// DEFINEd earlier in the script, and resolve custom types made earlier with CREATE TYPE.
/// Returns the number of statements parsed and a description of each failure.
fn parse_like_the_engine(text: &str) -> Result<(usize, Vec<String>), SqlError> {
    let mut variables: HashMap<String, String> = HashMap::new();
    let mut types: HashMap<String, SqlType> = HashMap::new();
    let mut parsed = 0;
    let mut failures = Vec::new();
    for piece in sql::split_statements(text)? {
        let result = sql::substitute_variables(&piece.text, &variables).and_then(|t| {
            sql::parse_statement_at(&t, piece.start, &|name| types.get(name).cloned())
        });
        match result {
            Ok(statement) => {
                parsed += 1;
                match statement.kind {
                    StatementKind::Define { name, value } => {
                        variables.insert(name, value);
                    }
                    StatementKind::Undefine(name) => {
                        variables.remove(&name);
                    }
                    StatementKind::CreateType { name, sql_type, .. } => {
                        types.insert(name, sql_type);
                    }
                    StatementKind::DropType { name, .. } => {
                        types.remove(&name);
                    }
                    _ => {}
                }
            }
            Err(e) => failures.push(format!("  {}\n    -> {e}", piece.text)),
        }
    }
    Ok((parsed, failures))
}

#[test]
fn every_example_statement_parses() {
    let files = examples();
    assert!(!files.is_empty(), "no grammar/examples/*.sql files");
    let mut total = 0;
    let mut failures = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("read example");
        let name = file.file_name().expect("file name").to_string_lossy();
        match parse_like_the_engine(&text) {
            Ok((parsed, errors)) => {
                assert!(parsed + errors.len() > 0, "{name} holds no statements");
                total += parsed;
                failures.extend(errors.into_iter().map(|e| format!("{name}:\n{e}")));
            }
            Err(e) => failures.push(format!("{name}: cannot be split into statements: {e}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} example statement(s) do not parse:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        total >= MIN_STATEMENTS,
        "only {total} example statements parsed; expected at least {MIN_STATEMENTS}"
    );
}

/// Statements outside the grammar, with the (line, column) the error must point at.
#[test]
fn invalid_statements_are_rejected_at_the_offending_text() {
    let cases: &[(&str, (u64, u64))] = &[
        // The column list is never closed.
        (
            "CREATE STREAM s (a INT, b STRING WITH (kafka_topic='t');",
            (1, 34),
        ),
        // EMIT takes CHANGES or FINAL.
        ("SELECT * FROM s EMIT NOW;", (1, 22)),
        // A property needs a value.
        ("CREATE STREAM s (a INT) WITH (kafka_topic=);", (1, 43)),
        // The error is reported on the line it is on.
        (
            "CREATE STREAM s (id INT KEY)\nWITH (kafka_topic=);",
            (2, 19),
        ),
        // Not a statement.
        ("FROB s;", (1, 1)),
        // A HOPPING window needs ADVANCE BY (reported at the token after the window).
        (
            "SELECT * FROM s WINDOW HOPPING (SIZE 10 SECONDS) EMIT CHANGES;",
            (1, 50),
        ),
        // An unknown time unit.
        (
            "SELECT * FROM s WINDOW TUMBLING (SIZE 10 WEEKS) EMIT CHANGES;",
            (1, 47),
        ),
        // Unknown type: no CREATE TYPE made it (reported at the token after the name).
        (
            "CREATE STREAM s (a ADDRESS) WITH (kafka_topic='t');",
            (1, 20),
        ),
        // `<>` is one token (not-equal): an empty STRUCT is written `STRUCT< >`.
        ("SELECT CAST(x AS STRUCT<>) FROM s;", (1, 24)),
        // DECIMAL scale greater than its precision.
        (
            "CREATE STREAM s (a DECIMAL(2, 3)) WITH (kafka_topic='t');",
            (1, 33),
        ),
        // A CREATE ... AS SELECT cannot declare columns.
        ("CREATE STREAM s (a INT) AS SELECT * FROM t;", (1, 28)),
        // Column list without VALUES.
        ("INSERT INTO s (a, b) SELECT * FROM t;", (1, 22)),
        // Text after the end of the statement.
        ("SHOW STREAMS EXTENDED NOW;", (1, 23)),
        // A property value must be a literal.
        ("CREATE STREAM s (a INT) WITH (kafka_topic=topic);", (1, 43)),
        // An unterminated string.
        ("SELECT 'open FROM s;", (1, 8)),
        // Nothing after DROP STREAM.
        ("DROP STREAM;", (1, 12)),
        // LIMIT takes an integer.
        ("SELECT * FROM s EMIT CHANGES LIMIT x;", (1, 36)),
    ];
    let mut wrong = Vec::new();
    for (text, (line, column)) in cases {
        match sql::parse_statement(text, &|_| None) {
            Ok(s) => wrong.push(format!("{text}\n    -> parsed as {:?}", s.kind)),
            Err(e) if (e.location.line, e.location.column) != (*line, *column) => wrong.push(
                format!("{text}\n    -> expected an error at {line}:{column}, got {e}"),
            ),
            Err(_) => {}
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
