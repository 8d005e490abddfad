//! Unit tests of the list coercion rules in `coercion.rs` (ksqlDB's CoercionUtil).

use super::*;

fn lit(v: Value, ty: SqlType) -> TExpr {
    TExpr::literal(v, ty)
}

fn col(name: &str, ty: SqlType) -> TExpr {
    TExpr::new(
        Node::Column {
            index: 0,
            name: name.into(),
        },
        ty,
    )
}

fn string(s: &str) -> TExpr {
    lit(Value::String(s.into()), SqlType::String)
}

fn common(items: Vec<TExpr>) -> Result<Option<SqlType>, String> {
    let texts: Vec<String> = items.iter().map(|i| i.to_string()).collect();
    coerce_list(items, &texts).map(|c| c.ty)
}

#[test]
fn string_literals_among_numbers_read_as_numbers() {
    assert_eq!(string_number_type("4.000"), Some(SqlType::decimal(4, 3)));
    assert_eq!(string_number_type("0.05"), Some(SqlType::decimal(3, 2)));
    assert_eq!(string_number_type("2e1"), Some(SqlType::decimal(2, 0)));
    assert_eq!(string_number_type(" 12 "), Some(SqlType::Int));
    // The range test is strict, as in ksqlDB: INTEGER's maximum is read as a BIGINT.
    assert_eq!(string_number_type("2147483647"), Some(SqlType::Bigint));
    assert_eq!(string_number_type("2147483648"), Some(SqlType::Bigint));
    assert_eq!(string_number_type("x"), None);

    let int = col("V", SqlType::Int);
    assert_eq!(
        common(vec![int.clone(), string("2147483648")]),
        Ok(Some(SqlType::Bigint))
    );
    assert_eq!(
        common(vec![int.clone(), string("4.000")]),
        Ok(Some(SqlType::decimal(13, 3)))
    );
    assert_eq!(
        common(vec![int, string("10 - nope")]),
        Err("invalid input syntax for type INTEGER: \"10 - nope\".".into())
    );
}

#[test]
fn numbers_widen_and_other_types_do_not_mix() {
    let dec = col("D", SqlType::decimal(4, 2));
    assert_eq!(
        common(vec![dec.clone(), lit(Value::Int(10), SqlType::Int)]),
        Ok(Some(SqlType::decimal(12, 2)))
    );
    assert_eq!(
        common(vec![
            dec.clone(),
            lit(Value::Int(10), SqlType::Int),
            lit(Value::Boolean(true), SqlType::Boolean)
        ]),
        Err("operator does not exist: DECIMAL(12, 2) = BOOLEAN (true)\nHint: You might need to add explicit type casts.".into())
    );
    assert_eq!(
        common(vec![dec, col("X", SqlType::Double)]),
        Ok(Some(SqlType::Double))
    );
    // A number literal may become text; a column may not.
    assert_eq!(
        common(vec![
            col("S", SqlType::String),
            lit(Value::Int(1), SqlType::Int)
        ]),
        Ok(Some(SqlType::String))
    );
    assert!(common(vec![col("S", SqlType::String), col("I", SqlType::Int)]).is_err());
}

#[test]
fn literals_convert_and_expressions_are_cast() {
    let texts = vec!["V".to_string(), "'4.000'".into(), "B".into()];
    let out = coerce_list(
        vec![
            col("V", SqlType::Int),
            string("4.000"),
            col("B", SqlType::Double),
        ],
        &texts,
    )
    .expect("coerces");
    assert_eq!(out.ty, Some(SqlType::Double));
    assert!(matches!(out.items[0].node, Node::Cast(_)));
    assert!(matches!(out.items[1].node, Node::Literal(Value::Double(d)) if d == 4.0));
    assert!(matches!(out.items[2].node, Node::Column { .. }));
}

fn strukt(fields: &[(&str, TExpr)]) -> TExpr {
    let ty = SqlType::Struct(
        fields
            .iter()
            .map(|(n, v)| StructField {
                name: (*n).into(),
                sql_type: v.ty.clone(),
            })
            .collect(),
    );
    TExpr::new(
        Node::StructCtor(
            fields
                .iter()
                .map(|(n, v)| ((*n).to_string(), v.clone()))
                .collect(),
        ),
        ty,
    )
}

fn struct_type(fields: &[(&str, SqlType)]) -> SqlType {
    SqlType::Struct(
        fields
            .iter()
            .map(|(n, t)| StructField {
                name: (*n).into(),
                sql_type: t.clone(),
            })
            .collect(),
    )
}

#[test]
fn structs_unify_to_the_union_of_their_fields() {
    let value = col(
        "V",
        struct_type(&[("A", SqlType::Bigint), ("B", SqlType::Bigint)]),
    );
    let extra = strukt(&[
        ("A", lit(Value::Int(3), SqlType::Int)),
        ("C", lit(Value::Int(4), SqlType::Int)),
    ]);
    // Field names are case-sensitive: `a` is another field, keeping its own type.
    let lower = strukt(&[("a", string("7"))]);
    assert_eq!(
        common(vec![value.clone(), extra, lower]),
        Ok(Some(struct_type(&[
            ("a", SqlType::String),
            ("A", SqlType::Bigint),
            ("C", SqlType::Int),
            ("B", SqlType::Bigint),
        ])))
    );
    let bad = strukt(&[("A", string("not 10"))]);
    assert_eq!(
        common(vec![value, bad]),
        Err("invalid input syntax for type BIGINT: \"not 10\".".into())
    );
}

#[test]
fn constructors_take_the_element_type_of_the_list() {
    let value = col("V", SqlType::array(SqlType::Bigint));
    let ctor = TExpr::new(
        Node::ArrayCtor(vec![
            string("3"),
            TExpr::new(Node::UntypedNull, SqlType::String),
        ]),
        SqlType::array(SqlType::String),
    );
    assert_eq!(
        common(vec![value.clone(), ctor]),
        Ok(Some(SqlType::array(SqlType::Bigint)))
    );
    let booleans = TExpr::new(
        Node::ArrayCtor(vec![col("B", SqlType::Boolean)]),
        SqlType::array(SqlType::Boolean),
    );
    assert_eq!(
        common(vec![value, booleans]),
        Err("operator does not exist: ARRAY<BIGINT> = ARRAY<BOOLEAN> (ARRAY[B])\nHint: You might need to add explicit type casts.".into())
    );
}
