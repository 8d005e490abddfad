//! The text form of change batches, for tests and snapshots (RisingWave's `StreamChunk::to_pretty`
//! and `from_pretty`): a header `| op | K:STRING | V:BIGINT |` naming each column and its SQL
//! type, then one line per row `| + | a | 1 |`, the op first (`+ - U- U+`).
//!
//! Cells are written as SQL text: `null` for NULL, numbers as Rust prints them (a DOUBLE always
//! with a `.` or an exponent), DECIMAL with its scale's digits, TIMESTAMP/DATE/TIME as their raw
//! number (milliseconds or days), ARRAY as `[1, 2, null]` with its strings in double quotes. A
//! STRING cell is bare unless it is empty, `null`, has spaces at either end or holds `|`, `"`,
//! `\` or a control character; then it is a JSON string literal (`""`, `"null"`, `"a|b"`).
//!
//! `from_pretty` reads that form back for the types BOOLEAN, INT/INTEGER, BIGINT, DOUBLE,
//! DECIMAL(p, s), STRING/VARCHAR, TIMESTAMP, DATE, TIME and ARRAY of those; the `op` column may
//! be left out (every row an insert). Other types print (MAP, STRUCT, BYTES) but do not parse.
//!
//! May import: the rest of `common`.

use super::change::{ChangeBatch, Op};
use super::types::SqlType;
use super::value::{Value, values_to_array};
use arrow::compute::kernels::cast_utils::parse_decimal;
use arrow::datatypes::{DataType, Decimal128Type, DecimalType, Field, Schema};
use arrow::record_batch::{RecordBatch, RecordBatchOptions};
use arrow::util::display::array_value_to_string;
use std::sync::Arc;

/// The batch as an aligned text table, one line per row, ending with a newline.
pub fn to_pretty(batch: &ChangeBatch) -> String {
    let schema = batch.schema();
    let mut header = vec!["op".to_string()];
    header.extend(
        schema
            .fields()
            .iter()
            .map(|f| format!("{}:{}", f.name(), type_name(f.data_type()))),
    );
    let mut lines = vec![header];
    for row in 0..batch.num_rows() {
        let mut cells = vec![batch.op(row).symbol().to_string()];
        for column in batch.data().columns() {
            cells.push(match SqlType::from_arrow(column.data_type()) {
                Some(_) => cell_text(&Value::from_array(column.as_ref(), row)),
                None => array_value_to_string(column, row).unwrap_or_else(|e| format!("<{e}>")),
            });
        }
        lines.push(cells);
    }
    align(&lines)
}

/// Reads a batch written as [`to_pretty`] writes it; the error names the line (counting from 1,
/// blank lines included) and the column that went wrong.
pub fn from_pretty(text: &str) -> Result<ChangeBatch, String> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, line)| (i + 1, line.trim()))
        .filter(|(_, line)| !line.is_empty());
    let (header_line, header) = lines.next().ok_or("no header line")?;
    let header = split_cells(header).map_err(|e| format!("line {header_line}: {e}"))?;
    let has_op = header.first().is_some_and(|c| c == "op");
    let columns = header[usize::from(has_op)..]
        .iter()
        .map(|cell| parse_column(cell))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("line {header_line}: {e}"))?;
    let mut ops = Vec::new();
    let mut values: Vec<Vec<Value>> = vec![Vec::new(); columns.len()];
    for (n, line) in lines {
        let cells = split_cells(line).map_err(|e| format!("line {n}: {e}"))?;
        if cells.len() != header.len() {
            let (got, want) = (cells.len(), header.len());
            return Err(format!("line {n}: {got} cells under a header of {want}"));
        }
        let mut cells = cells.iter();
        let op = match has_op {
            true => cells.next().map_or("", String::as_str),
            false => "+",
        };
        ops.push(Op::from_symbol(op).ok_or_else(|| format!("line {n}: unknown op `{op}`"))?);
        for ((name, sql_type), (cell, column)) in columns.iter().zip(cells.zip(&mut values)) {
            let value =
                parse_cell(cell, sql_type).map_err(|e| format!("line {n}, column {name}: {e}"))?;
            column.push(value);
        }
    }
    build(&columns, &values, ops)
}

fn type_name(data_type: &DataType) -> String {
    SqlType::from_arrow(data_type).map_or_else(|| format!("{data_type:?}"), |t| t.to_string())
}

/// Lines of cells, each column padded to its widest cell.
fn align(lines: &[Vec<String>]) -> String {
    let columns = lines.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..columns)
        .map(|i| {
            lines
                .iter()
                .map(|l| l.get(i).map_or(0, |c| c.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for line in lines {
        let cells: Vec<String> = line
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    out
}

/// A cell: a STRING bare when that cannot be misread, any other value as its literal.
fn cell_text(value: &Value) -> String {
    match value {
        Value::String(s) if is_bare(s) => s.clone(),
        other => literal(other),
    }
}

fn is_bare(s: &str) -> bool {
    !s.is_empty()
        && s != "null"
        && s.trim() == s
        && !s
            .chars()
            .any(|c| matches!(c, '|' | '"' | '\\') || c.is_control())
}

fn literal(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Boolean(b) => b.to_string(),
        Value::Int(x) | Value::Date(x) | Value::Time(x) => x.to_string(),
        Value::Bigint(x) | Value::Timestamp(x) => x.to_string(),
        Value::Double(d) => format!("{d:?}"),
        // The largest precision: every digit of the unscaled value is printed.
        Value::Decimal(x, scale) => Decimal128Type::format_decimal(*x, u8::MAX, *scale),
        Value::String(s) => serde_json::to_string(s).unwrap_or_else(|_| format!("{s:?}")),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(literal).collect();
            format!("[{}]", items.join(", "))
        }
        other => format!("{other:?}"),
    }
}

/// The trimmed cells between a line's `|`s (a `|` inside a double-quoted string is text).
fn split_cells(line: &str) -> Result<Vec<String>, String> {
    let inner = line.strip_prefix('|').ok_or("a line starts with `|`")?;
    let mut cells = Vec::new();
    let mut cell = String::new();
    let (mut quoted, mut escaped) = (false, false);
    for c in inner.chars() {
        if c == '|' && !quoted {
            cells.push(cell.trim().to_string());
            cell.clear();
            continue;
        }
        if c == '"' && !escaped {
            quoted = !quoted;
        }
        escaped = quoted && !escaped && c == '\\';
        cell.push(c);
    }
    if quoted {
        return Err("a string is not closed".into());
    }
    if !cell.trim().is_empty() {
        return Err("a line ends with `|`".into());
    }
    Ok(cells)
}

/// A header cell `NAME:TYPE`.
fn parse_column(cell: &str) -> Result<(String, SqlType), String> {
    let (name, type_text) = cell
        .rsplit_once(':')
        .ok_or_else(|| format!("column `{cell}` is not NAME:TYPE"))?;
    let name = name.trim();
    if name.is_empty() {
        return Err(format!("column `{cell}` has no name"));
    }
    let sql_type = parse_type(type_text).map_err(|e| format!("column {name}: {e}"))?;
    Ok((name.to_string(), sql_type))
}

fn parse_type(text: &str) -> Result<SqlType, String> {
    let upper = text.trim().to_ascii_uppercase();
    if let Some(element) = upper
        .strip_prefix("ARRAY<")
        .and_then(|r| r.strip_suffix('>'))
    {
        return Ok(SqlType::array(parse_type(element)?));
    }
    if let Some(args) = upper
        .strip_prefix("DECIMAL(")
        .and_then(|r| r.strip_suffix(')'))
    {
        return parse_decimal_type(args).ok_or_else(|| format!("bad type `{}`", text.trim()));
    }
    Ok(match upper.as_str() {
        "BOOLEAN" => SqlType::Boolean,
        "INT" | "INTEGER" => SqlType::Int,
        "BIGINT" => SqlType::Bigint,
        "DOUBLE" => SqlType::Double,
        "STRING" | "VARCHAR" => SqlType::String,
        "TIMESTAMP" => SqlType::Timestamp,
        "DATE" => SqlType::Date,
        "TIME" => SqlType::Time,
        _ => return Err(format!("unsupported type `{}`", text.trim())),
    })
}

/// `p, s` with 1 <= p <= 38 and 0 <= s <= p.
fn parse_decimal_type(args: &str) -> Option<SqlType> {
    let (precision, scale) = args.split_once(',')?;
    let precision: u8 = precision.trim().parse().ok()?;
    let scale: i8 = scale.trim().parse().ok()?;
    let fits = (1..=super::MAX_DECIMAL_PRECISION).contains(&precision)
        && u8::try_from(scale).is_ok_and(|s| s <= precision);
    fits.then(|| SqlType::decimal(precision, scale))
}

fn parse_cell(cell: &str, sql_type: &SqlType) -> Result<Value, String> {
    if *sql_type == SqlType::String && cell != "null" && !cell.starts_with('"') {
        return Ok(Value::String(cell.to_string()));
    }
    let mut literal = Literal { rest: cell };
    let value = literal.value(sql_type)?;
    match literal.rest.trim() {
        "" => Ok(value),
        rest => Err(format!("unexpected `{rest}` after the value")),
    }
}

/// A literal being read: what is left of the cell.
struct Literal<'a> {
    rest: &'a str,
}

impl Literal<'_> {
    fn value(&mut self, sql_type: &SqlType) -> Result<Value, String> {
        self.rest = self.rest.trim_start();
        if self.peek_token() == "null" {
            self.token();
            return Ok(Value::Null);
        }
        match sql_type {
            SqlType::Array(element) => self.array(element),
            SqlType::String if self.rest.starts_with('"') => self.quoted(),
            _ => scalar(self.token(), sql_type),
        }
    }

    fn array(&mut self, element: &SqlType) -> Result<Value, String> {
        self.rest = self
            .rest
            .strip_prefix('[')
            .ok_or_else(|| format!("`{}` is not an ARRAY", self.rest))?;
        let mut items = Vec::new();
        if let Some(rest) = self.rest.trim_start().strip_prefix(']') {
            self.rest = rest;
            return Ok(Value::Array(items));
        }
        loop {
            items.push(self.value(element)?);
            let rest = self.rest.trim_start();
            let (separator, rest) = rest.split_at(rest.len().min(1));
            self.rest = rest;
            match separator {
                "," => continue,
                "]" => return Ok(Value::Array(items)),
                _ => return Err("an ARRAY's items are separated by `,` and end with `]`".into()),
            }
        }
    }

    /// A JSON string literal.
    fn quoted(&mut self) -> Result<Value, String> {
        let mut escaped = false;
        for (i, c) in self.rest.char_indices().skip(1) {
            if c == '"' && !escaped {
                let (text, rest) = self.rest.split_at(i + 1);
                self.rest = rest;
                let s: String = serde_json::from_str(text).map_err(|e| format!("{text}: {e}"))?;
                return Ok(Value::String(s));
            }
            escaped = !escaped && c == '\\';
        }
        Err("a string is not closed".into())
    }

    /// The text up to the next `,` or `]`, trimmed.
    fn peek_token(&self) -> &str {
        let end = self.rest.find([',', ']']).unwrap_or(self.rest.len());
        self.rest[..end].trim()
    }

    fn token(&mut self) -> String {
        let token = self.peek_token().to_string();
        let end = self.rest.find([',', ']']).unwrap_or(self.rest.len());
        self.rest = &self.rest[end..];
        token
    }
}

/// A value that is one token: a number, a boolean, or a bare string inside an ARRAY.
fn scalar(token: String, sql_type: &SqlType) -> Result<Value, String> {
    let invalid = || format!("`{token}` is not a valid {sql_type}");
    if token.is_empty() {
        return Err(format!("no {sql_type} value"));
    }
    Ok(match sql_type {
        SqlType::Boolean => match token.to_ascii_lowercase().as_str() {
            "true" => Value::Boolean(true),
            "false" => Value::Boolean(false),
            _ => return Err(invalid()),
        },
        SqlType::Int => Value::Int(token.parse().map_err(|_| invalid())?),
        SqlType::Bigint => Value::Bigint(token.parse().map_err(|_| invalid())?),
        SqlType::Double => Value::Double(token.parse().map_err(|_| invalid())?),
        SqlType::Timestamp => Value::Timestamp(token.parse().map_err(|_| invalid())?),
        SqlType::Date => Value::Date(token.parse().map_err(|_| invalid())?),
        SqlType::Time => Value::Time(token.parse().map_err(|_| invalid())?),
        SqlType::Decimal { precision, scale } => Value::Decimal(
            parse_decimal::<Decimal128Type>(&token, *precision, *scale).map_err(|_| invalid())?,
            *scale,
        ),
        SqlType::String => Value::String(token),
        other => return Err(format!("values of type {other} cannot be read")),
    })
}

fn build(
    columns: &[(String, SqlType)],
    values: &[Vec<Value>],
    ops: Vec<Op>,
) -> Result<ChangeBatch, String> {
    let fields: Vec<Field> = columns
        .iter()
        .map(|(name, t)| Field::new(name, t.arrow_type(), true))
        .collect();
    let arrays = columns
        .iter()
        .zip(values)
        .map(|((_, t), v)| values_to_array(v, t))
        .collect();
    let options = RecordBatchOptions::new().with_row_count(Some(ops.len()));
    let data = RecordBatch::try_new_with_options(Arc::new(Schema::new(fields)), arrays, &options)
        .map_err(|e| e.to_string())?;
    ChangeBatch::new(data, ops).map_err(|e| e.to_string())
}

#[cfg(test)]
#[path = "change_pretty_tests.rs"]
mod tests;
