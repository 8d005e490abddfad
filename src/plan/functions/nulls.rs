//! NULL handling: COALESCE, IFNULL and NULLIF. Their arguments are one generic type `T`: every
//! non-NULL argument must have exactly the same type (no widening, as in ksqlDB).

use super::signature::mismatch;
use super::{Arg, FunctionRegistry, Resolved, same_type_args};
use crate::common::Value;

pub fn register(r: &mut FunctionRegistry) {
    r.add_udf(
        "COALESCE",
        "The first non-NULL argument.",
        |a| generic("coalesce", a, 1, usize::MAX),
        |v| {
            Ok(v.iter()
                .find(|x| !x.is_null())
                .cloned()
                .unwrap_or(Value::Null))
        },
    );
    r.add_udf(
        "IFNULL",
        "The second argument if the first is NULL.",
        |a| generic("ifnull", a, 2, 2),
        |v| {
            Ok(if v[0].is_null() {
                v[1].clone()
            } else {
                v[0].clone()
            })
        },
    );
    r.add_udf(
        "NULLIF",
        "NULL if both arguments are equal, else the first.",
        |a| generic("nullif", a, 2, 2),
        |v| {
            Ok(if v[0] == v[1] {
                Value::Null
            } else {
                v[0].clone()
            })
        },
    );
}

fn generic(name: &str, a: &[Arg], min: usize, max: usize) -> Result<Resolved, String> {
    if a.len() < min || a.len() > max {
        return Err(mismatch(name, a));
    }
    let t = same_type_args(name, a)?;
    Ok(Resolved {
        args: vec![t.clone(); a.len()],
        ret: t,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::SqlType;

    #[test]
    fn generic_types_must_match_exactly() {
        assert!(
            generic(
                "coalesce",
                &[Some(SqlType::Int), Some(SqlType::Bigint)],
                1,
                usize::MAX
            )
            .is_err()
        );
        assert_eq!(
            generic("ifnull", &[None, Some(SqlType::String)], 2, 2).map(|r| r.ret),
            Ok(SqlType::String)
        );
        assert!(generic("ifnull", &[Some(SqlType::Int)], 2, 2).is_err());
    }

    #[test]
    fn nullif_compares_values() {
        let r = FunctionRegistry::standard();
        let f = r.get("NULLIF").unwrap();
        assert_eq!(f.invoke(&[Value::Int(1), Value::Int(1)]), Ok(Value::Null));
        assert_eq!(f.invoke(&[Value::Int(1), Value::Int(2)]), Ok(Value::Int(1)));
        assert_eq!(f.invoke(&[Value::Null, Value::Int(2)]), Ok(Value::Null));
    }
}
