//! Parser tests over representative ksqlDB statements.

use super::*;

fn one(text: &str) -> StatementKind {
    parse_statement(text, &|_| None)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .kind
}

#[test]
fn create_stream_with_keys_headers_and_properties() {
    let StatementKind::CreateSource(c) = one(
        "CREATE OR REPLACE STREAM `Orders` (id INT KEY, `Name` VARCHAR, tags ARRAY<STRING>, h BYTES HEADER('trace'))
         WITH (KAFKA_TOPIC='orders', value_format='JSON', partitions=3, wrap_single_value=false);",
    ) else {
        panic!("not a CREATE")
    };
    assert_eq!(
        (c.kind, c.or_replace, c.name.as_str()),
        (SourceKind::Stream, true, "Orders")
    );
    let names: Vec<&str> = c.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, vec!["ID", "Name", "TAGS", "H"]);
    assert_eq!(c.columns[0].constraint, ColumnConstraint::Key);
    assert_eq!(
        c.columns[3].constraint,
        ColumnConstraint::Header(Some("trace".into()))
    );
    assert_eq!(
        c.properties.get_text("KAFKA_TOPIC").as_deref(),
        Some("orders")
    );
    assert_eq!(
        c.properties.get("PARTITIONS"),
        Some(&PropertyValue::Number("3".into()))
    );
    assert_eq!(
        c.properties.get("WRAP_SINGLE_VALUE"),
        Some(&PropertyValue::Boolean(false))
    );
}

#[test]
fn create_as_select_with_every_clause() {
    let StatementKind::CreateAsSelect(c) = one(
        "CREATE TABLE t WITH (kafka_topic='out') AS SELECT s.k, COUNT(*) AS cnt, col->field, arr[1], m['x']
         FROM src s LEFT JOIN other o WITHIN 1 HOUR ON s.k = o.k
         WINDOW HOPPING (SIZE 10 SECONDS, ADVANCE BY 5 SECONDS, GRACE PERIOD 2 MINUTES)
         WHERE x > 1 AND name LIKE 'a%' GROUP BY s.k HAVING COUNT(*) > 1 EMIT FINAL LIMIT 5;",
    ) else {
        panic!("not a CTAS")
    };
    assert_eq!(c.kind, SourceKind::Table);
    assert_eq!(c.query.select.len(), 5);
    assert_eq!(c.query.from.alias.as_deref(), Some("S"));
    assert_eq!(c.query.joins[0].within, Some((3_600_000, 3_600_000)));
    let w = c.query.window.expect("window");
    assert_eq!(
        (w.kind, w.size_ms, w.advance_ms, w.grace_ms),
        (WindowKind::Hopping, 10_000, Some(5_000), Some(120_000))
    );
    assert_eq!(
        (c.query.emit, c.query.limit, c.query.group_by.len()),
        (Some(Emit::Final), Some(5), 1)
    );
    assert!(c.query.having.is_some());
    let SelectItem::Expr { expr, .. } = &c.query.select[2].0 else {
        panic!()
    };
    assert_eq!(expr.to_string(), "col.field");
}

#[test]
fn ksql_expression_syntax() {
    let StatementKind::Select(q) = one(
        "SELECT TRANSFORM(arr, x => x + 1), REDUCE(arr, 0, (s, x) => s + x), STRUCT(a := 1, b := 'x'),
                MAP('k' := 1), ARRAY[1, 2], CAST(v AS MAP<STRING, ARRAY<INT>>), CASE WHEN a THEN 1 ELSE 2 END
         FROM s EMIT CHANGES;",
    ) else {
        panic!("not a SELECT")
    };
    assert_eq!(q.select.len(), 7);
    assert_eq!(q.emit, Some(Emit::Changes));
}

#[test]
fn other_statements() {
    assert_eq!(
        one("INSERT INTO s (a, b) VALUES (1, 'x');"),
        StatementKind::InsertValues {
            target: "S".into(),
            columns: Some(vec!["A".into(), "B".into()]),
            values: match one("SELECT 1, 'x' FROM s;") {
                StatementKind::Select(q) => q
                    .select
                    .into_iter()
                    .map(|(i, _)| match i {
                        SelectItem::Expr { expr, .. } => expr,
                        _ => panic!(),
                    })
                    .collect(),
                _ => panic!(),
            },
        }
    );
    assert!(matches!(
        one("INSERT INTO s SELECT * FROM t;"),
        StatementKind::InsertSelect { .. }
    ));
    assert_eq!(
        one("SHOW STREAMS EXTENDED;"),
        StatementKind::Show {
            what: ShowKind::Streams,
            extended: true
        }
    );
    assert_eq!(
        one("LIST TOPICS;"),
        StatementKind::Show {
            what: ShowKind::Topics,
            extended: false
        }
    );
    assert_eq!(
        one("DESCRIBE EXTENDED orders;"),
        StatementKind::Describe {
            name: "ORDERS".into(),
            extended: true
        }
    );
    assert_eq!(
        one("DESCRIBE FUNCTION ucase;"),
        StatementKind::DescribeFunction("UCASE".into())
    );
    assert_eq!(
        one("PRINT 'orders' FROM BEGINNING LIMIT 2;"),
        StatementKind::Print {
            topic: "orders".into(),
            from_beginning: true,
            interval: None,
            limit: Some(2)
        }
    );
    assert_eq!(one("TERMINATE ALL;"), StatementKind::Terminate(None));
    assert_eq!(
        one("DROP TABLE IF EXISTS t DELETE TOPIC;"),
        StatementKind::DropSource {
            kind: SourceKind::Table,
            name: "T".into(),
            if_exists: true,
            delete_topic: true
        }
    );
    assert_eq!(
        one("SET 'auto.offset.reset'='earliest';"),
        StatementKind::Set {
            name: "auto.offset.reset".into(),
            value: "earliest".into()
        }
    );
    assert_eq!(
        one("DEFINE topic = 'x';"),
        StatementKind::Define {
            name: "topic".into(),
            value: "x".into()
        }
    );
    assert!(matches!(
        one("EXPLAIN CSAS_OUT_0;"),
        StatementKind::ExplainQuery(_)
    ));
    let StatementKind::ExplainStatement(inner) =
        one("EXPLAIN -- plan\n  SELECT * FROM s EMIT CHANGES;")
    else {
        panic!("EXPLAIN of a statement expected");
    };
    assert_eq!(inner.text, "SELECT * FROM s EMIT CHANGES;");
    assert!(matches!(inner.kind, StatementKind::Select(_)));
    assert_eq!(
        one("DESCRIBE orders EXTENDED;"),
        StatementKind::Describe {
            name: "ORDERS".into(),
            extended: true
        }
    );
    assert!(matches!(
        one("CREATE TYPE address AS STRUCT<street STRING, n INT>;"),
        StatementKind::CreateType { .. }
    ));
}

#[test]
fn errors_point_at_the_offending_text() {
    let e = parse_statement(
        "CREATE STREAM s (id INT KEY)\nWITH (kafka_topic=);",
        &|_| None,
    )
    .expect_err("bad");
    assert_eq!((e.location.line, e.location.column), (2, 19), "{e}");
    let e = parse_statement("SELECT * FROM s EMIT NOW;", &|_| None).expect_err("bad");
    assert!(e.to_string().starts_with("line 1:22:"), "{e}");
    let e = parse_statement("FROB s;", &|_| None).expect_err("bad");
    assert_eq!(e.message, "Syntax Error\nUnknown statement 'FROB'");
    let e = parse_statement("SELECT * FROM s PARTITION BY a AND b;", &|_| None).expect_err("bad");
    assert!(e.message.starts_with("Syntax Error"), "{e}");
    let e = parse_statement("SELECT * FROM s PARTITION BY ();", &|_| None).expect_err("bad");
    assert_eq!(e.message, "PARTITION BY requires at least one expression");
}

/// The select items of `text`, each as its expression.
fn select_exprs(text: &str) -> Vec<Expr> {
    let StatementKind::Select(q) = one(text) else {
        panic!("not a SELECT: {text}")
    };
    q.select
        .into_iter()
        .map(|(item, _)| match item {
            SelectItem::Expr { expr, .. } => expr,
            other => panic!("{text}: {other:?}"),
        })
        .collect()
}

/// Words that sqlparser gives a syntax of their own but ksqlDB does not reserve.
const FUNCTION_LIKE_WORDS: &[&str] = &[
    "FLOOR",
    "CEIL",
    "SUBSTR",
    "SUBSTRING",
    "EXTRACT",
    "CONVERT",
    "OVERLAY",
    "POSITION",
    "TRIM",
    "CAST",
    "TRY_CAST",
    "SAFE_CAST",
    "INTERVAL",
    "ARRAY",
    "MAP",
    "STRUCT",
];

#[test]
fn function_like_keywords_are_names_and_ordinary_calls() {
    let names = FUNCTION_LIKE_WORDS.join(", ").to_lowercase();
    let exprs = select_exprs(&format!("SELECT {names} FROM s WHERE floor > ceil;"));
    let got: Vec<String> = exprs
        .iter()
        .map(|e| match e {
            Expr::Identifier(i) => i.value.to_uppercase(),
            other => panic!("not a name: {other:?}"),
        })
        .collect();
    assert_eq!(got, FUNCTION_LIKE_WORDS);

    let calls = select_exprs(
        "SELECT FLOOR(v), CEIL(v), SUBSTRING(t, 1, 2), TRIM(t), POSITION(t, 'a'), EXTRACT(t) FROM s;",
    );
    let got: Vec<String> = calls
        .iter()
        .map(|e| match e {
            Expr::Function(f) => f.to_string(),
            other => panic!("not a call: {other:?}"),
        })
        .collect();
    assert_eq!(
        got,
        [
            "FLOOR(v)",
            "CEIL(v)",
            "SUBSTRING(t, 1, 2)",
            "TRIM(t)",
            "POSITION(t, 'a')",
            "EXTRACT(t)"
        ]
    );
}
