//! Rendering results as the ksql CLI does: boxed tables, streaming rows, errors with a caret.

use crate::common::Value;
use crate::engine::results::PullResult;
use crate::engine::{EngineError, Listing};
use crate::plan::PlanError;
use crate::plan::expr::to_text;
use crate::sql::ScriptStatement;

/// A boxed table of text.
pub fn table(columns: &[String], rows: &[Vec<String>]) -> String {
    let widths: Vec<usize> = (0..columns.len())
        .map(|i| {
            rows.iter()
                .map(|r| r.get(i).map_or(0, |c| c.chars().count()))
                .max()
                .unwrap_or(0)
                .max(columns[i].chars().count())
        })
        .collect();
    let rule = format!(
        "+{}+\n",
        widths
            .iter()
            .map(|w| "-".repeat(w + 2))
            .collect::<Vec<_>>()
            .join("+")
    );
    let line = |cells: &[String]| {
        format!(
            "|{}|\n",
            cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!(" {c:<w$} "))
                .collect::<Vec<_>>()
                .join("|")
        )
    };
    let mut out = rule.clone();
    out.push_str(&line(columns));
    out.push_str(&rule);
    for r in rows {
        out.push_str(&line(r));
    }
    out.push_str(&rule);
    out
}

/// A pull query's rows as a boxed table, then how many rows it returned.
pub fn pull(result: &PullResult) -> String {
    let rows: Vec<Vec<String>> = result
        .rows
        .iter()
        .map(|r| r.iter().map(cell).collect())
        .collect();
    let count = match rows.len() {
        1 => "1 row".to_string(),
        n => format!("{n} rows"),
    };
    format!(
        "{}Query terminated ({count})\n",
        table(&result.column_names, &rows)
    )
}

/// A listing as the ksql CLI prints it: the title, `name : value` properties, the table, then
/// each section under its underlined heading.
pub fn listing(l: &Listing) -> String {
    let mut out = format!("{}\n", l.title);
    for (name, value) in &l.properties {
        out.push_str(&format!("{name:<20} : {value}\n"));
    }
    if !l.columns.is_empty() {
        if !l.properties.is_empty() {
            out.push('\n');
        }
        out.push_str(&table(&l.columns, &l.rows));
    }
    for section in &l.sections {
        if !section.heading.is_empty() {
            let rule = "-".repeat(section.heading.chars().count());
            out.push_str(&format!("\n{}\n{rule}\n", section.heading));
        }
        for line in &section.lines {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// One row of a push query, as a table line.
pub fn row(values: &[Value], widths: &[usize]) -> String {
    let cells: Vec<String> = values
        .iter()
        .zip(widths)
        .map(|(v, w)| format!(" {:<w$} ", cell(v)))
        .collect();
    format!("|{}|", cells.join("|"))
}

pub fn cell(v: &Value) -> String {
    match v {
        Value::Null => "null".to_string(),
        other => to_text(other),
    }
}

/// An error, with the offending line of the statement and a caret under the column.
pub fn error(statement: &ScriptStatement, e: &EngineError) -> String {
    let location = match e {
        EngineError::Sql(s) => Some(s.location),
        EngineError::Plan(PlanError::At { location, .. }) => Some(*location),
        EngineError::Plan(PlanError::Sql(s)) => Some(s.location),
        _ => None,
    };
    let text = match e {
        EngineError::Sql(s) => s.short(),
        other => other.to_string(),
    };
    let mut out = format!("error: {text}\n");
    if let Some(loc) = location
        && loc.line > 0
        && let Some(line) = statement.script_line(loc.line)
    {
        out.push_str(&format!(
            "  {line}\n  {}^\n",
            " ".repeat((loc.column as usize).saturating_sub(1))
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boxed_table_and_caret() {
        let t = table(
            &["A".into(), "Long".into()],
            &[vec!["x".into(), "y".into()]],
        );
        assert_eq!(
            t,
            "+---+------+\n| A | Long |\n+---+------+\n| x | y    |\n+---+------+\n"
        );
        let e = EngineError::Sql(crate::sql::SqlError::new(
            "bad",
            crate::sql::Location { line: 2, column: 3 },
        ));
        assert_eq!(
            error(&ScriptStatement::alone("SELECT\nA B C"), &e),
            "error: line 2:3: bad\n  A B C\n    ^\n"
        );
    }
}
