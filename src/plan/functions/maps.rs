//! Map functions: MAP_KEYS, MAP_VALUES, MAP_UNION, AS_MAP and ENTRIES. Maps keep their entries'
//! order (ksqlDB's follows Java's HashMap and is unspecified); a key put again keeps its place
//! and takes the new value. NULL keys cannot be stored and are dropped.

use super::collections::{elem, java_cmp, java_eq, unify_all};
use super::signature::mismatch;
use super::{Arg, FunctionRegistry, Resolved};
use crate::common::{SqlType, StructField, Value};

pub fn register(r: &mut FunctionRegistry) {
    r.add_udf(
        "MAP_KEYS",
        "The keys of a map.",
        |a| one_map("map_keys", a, |k, _| SqlType::array(k.clone())),
        |v| {
            Ok(match &v[0] {
                Value::Map(entries) => {
                    Value::Array(entries.iter().map(|(k, _)| k.clone()).collect())
                }
                _ => Value::Null,
            })
        },
    );
    r.add_udf(
        "MAP_VALUES",
        "The values of a map.",
        |a| one_map("map_values", a, |_, v| SqlType::array(v.clone())),
        |v| {
            Ok(match &v[0] {
                Value::Map(entries) => {
                    Value::Array(entries.iter().map(|(_, v)| v.clone()).collect())
                }
                _ => Value::Null,
            })
        },
    );
    r.add_udf(
        "MAP_UNION",
        "Merges two maps; the second wins on shared keys. NULL maps are ignored.",
        map_union_type,
        |v| {
            Ok(match (&v[0], &v[1]) {
                (Value::Null, Value::Null) => Value::Null,
                (a, b) => {
                    let mut out = Vec::new();
                    for m in [a, b] {
                        if let Value::Map(entries) = m {
                            for (k, val) in entries {
                                put(&mut out, k.clone(), val.clone());
                            }
                        }
                    }
                    Value::Map(out)
                }
            })
        },
    );
    r.add_udf(
        "AS_MAP",
        "A map from an array of keys and an array of values, paired by position.",
        as_map_type,
        |v| {
            let (Value::Array(keys), Value::Array(values)) = (&v[0], &v[1]) else {
                return Err("AS_MAP needs non-NULL key and value arrays".into());
            };
            let mut out = Vec::new();
            for (i, k) in keys.iter().enumerate() {
                put(
                    &mut out,
                    k.clone(),
                    values.get(i).cloned().unwrap_or(Value::Null),
                );
            }
            Ok(Value::Map(out))
        },
    );
    r.add_udf(
        "ENTRIES",
        "A map's entries as an array of STRUCT<K, V>, optionally sorted by key.",
        entries_type,
        |v| {
            let Value::Map(entries) = &v[0] else {
                return Ok(Value::Null);
            };
            let Value::Boolean(sorted) = &v[1] else {
                return Err("ENTRIES needs a non-NULL 'sorted' flag".into());
            };
            let mut list: Vec<&(Value, Value)> = entries.iter().collect();
            if *sorted {
                list.sort_by(|a, b| java_cmp(&a.0, &b.0));
            }
            Ok(Value::Array(
                list.into_iter()
                    .map(|(k, v)| {
                        Value::Struct(vec![("K".into(), k.clone()), ("V".into(), v.clone())])
                    })
                    .collect(),
            ))
        },
    );
}

/// `map.put(k, v)` on an entry list (NULL keys are dropped: Brook's maps cannot hold them).
fn put(entries: &mut Vec<(Value, Value)>, k: Value, v: Value) {
    if k.is_null() {
        return;
    }
    match entries.iter_mut().find(|(e, _)| java_eq(e, &k)) {
        Some(slot) => slot.1 = v,
        None => entries.push((k, v)),
    }
}

fn one_map(
    name: &str,
    a: &[Arg],
    ret: fn(&SqlType, &SqlType) -> SqlType,
) -> Result<Resolved, String> {
    match a {
        [Some(SqlType::Map(k, v))] => Ok(Resolved {
            args: vec![SqlType::map((**k).clone(), (**v).clone())],
            ret: ret(k, v),
        }),
        _ => Err(mismatch(name, a)),
    }
}

fn map_union_type(a: &[Arg]) -> Result<Resolved, String> {
    let bad = || mismatch("map_union", a);
    if a.len() != 2
        || a.iter()
            .any(|t| t.as_ref().is_some_and(|t| !matches!(t, SqlType::Map(..))))
    {
        return Err(bad());
    }
    let t = unify_all(a.iter().map(Option::as_ref)).ok_or_else(bad)?;
    Ok(Resolved {
        args: vec![t.clone(), t.clone()],
        ret: t,
    })
}

fn as_map_type(a: &[Arg]) -> Result<Resolved, String> {
    let bad = || mismatch("as_map", a);
    let [keys, values] = a else { return Err(bad()) };
    let key = elem(keys)
        .ok_or_else(bad)?
        .cloned()
        .unwrap_or(SqlType::String);
    let value = elem(values).ok_or_else(bad)?.cloned().ok_or_else(bad)?;
    if key != SqlType::String {
        return Err(bad());
    }
    Ok(Resolved {
        args: vec![
            SqlType::array(SqlType::String),
            SqlType::array(value.clone()),
        ],
        ret: SqlType::map(SqlType::String, value),
    })
}

fn entries_type(a: &[Arg]) -> Result<Resolved, String> {
    match a {
        [Some(SqlType::Map(k, v)), None | Some(SqlType::Boolean)] if **k == SqlType::String => {
            let entry = SqlType::Struct(vec![
                StructField {
                    name: "K".into(),
                    sql_type: SqlType::String,
                },
                StructField {
                    name: "V".into(),
                    sql_type: (**v).clone(),
                },
            ]);
            Ok(Resolved {
                args: vec![
                    SqlType::map(SqlType::String, (**v).clone()),
                    SqlType::Boolean,
                ],
                ret: SqlType::array(entry),
            })
        }
        _ => Err(mismatch("entries", a)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::functions::test_support::invoke as call;

    fn map(entries: &[(&str, Option<i32>)]) -> Value {
        Value::Map(
            entries
                .iter()
                .map(|(k, v)| {
                    (
                        Value::String(k.to_string()),
                        v.map_or(Value::Null, Value::Int),
                    )
                })
                .collect(),
        )
    }

    #[test]
    fn union_prefers_the_second_map() {
        let a = map(&[("foo", Some(10)), ("bar", Some(20))]);
        assert_eq!(
            call(
                "MAP_UNION",
                &[a.clone(), map(&[("foo", None), ("new", Some(1))])]
            ),
            Ok(map(&[("foo", None), ("bar", Some(20)), ("new", Some(1))]))
        );
        assert_eq!(call("MAP_UNION", &[Value::Null, a.clone()]), Ok(a));
        assert_eq!(
            call("MAP_UNION", &[Value::Null, Value::Null]),
            Ok(Value::Null)
        );
    }

    #[test]
    fn as_map_and_entries() {
        let s = |x: &str| Value::String(x.into());
        let keys = Value::Array(vec![s("b"), s("a"), s("b"), Value::Null]);
        assert_eq!(
            call(
                "AS_MAP",
                &[
                    keys.clone(),
                    Value::Array(vec![Value::Int(1), Value::Int(2), Value::Int(3)])
                ]
            ),
            Ok(map(&[("b", Some(3)), ("a", Some(2))]))
        );
        assert!(call("AS_MAP", &[Value::Null, Value::Array(vec![])]).is_err());
        let sorted = call(
            "ENTRIES",
            &[map(&[("b", Some(1)), ("a", None)]), Value::Boolean(true)],
        )
        .unwrap();
        assert_eq!(
            sorted,
            Value::Array(vec![
                Value::Struct(vec![("K".into(), s("a")), ("V".into(), Value::Null)]),
                Value::Struct(vec![("K".into(), s("b")), ("V".into(), Value::Int(1))])
            ])
        );
        assert!(
            entries_type(&[
                Some(SqlType::map(SqlType::Int, SqlType::Int)),
                Some(SqlType::Boolean)
            ])
            .is_err()
        );
    }
}
