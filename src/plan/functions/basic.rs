//! AS_VALUE, and the overload picker the function families share: ksqlDB's `UdfIndex` rules —
//! exact matches first, then implicit casts (numeric widening, STRING → DATE/TIME/TIMESTAMP);
//! among the matches, fixed arity beats variadic and more declared parameters win.

use super::signature::mismatch;
use super::{Arg, FunctionRegistry, Resolved};
use crate::common::SqlType;

pub fn register(r: &mut FunctionRegistry) {
    r.add_udf(
        "AS_VALUE",
        "Copies a key column into the value.",
        |a| one_any("as_value", a),
        |v| Ok(v[0].clone()),
    );
}

/// One overload. A DECIMAL of precision 0 ([`ANY_DECIMAL`]) accepts any DECIMAL.
pub(super) struct Sig {
    pub params: Vec<SqlType>,
    pub variadic: Option<SqlType>,
    pub ret: SqlType,
}

pub(super) const ANY_DECIMAL: SqlType = SqlType::Decimal {
    precision: 0,
    scale: 0,
};

pub(super) fn sig(params: &[SqlType], ret: SqlType) -> Sig {
    Sig {
        params: params.to_vec(),
        variadic: None,
        ret,
    }
}

pub(super) fn var_sig(params: &[SqlType], variadic: SqlType, ret: SqlType) -> Sig {
    Sig {
        params: params.to_vec(),
        variadic: Some(variadic),
        ret,
    }
}

/// Picks an overload and returns its declared result type.
pub(super) fn pick(name: &str, args: &[Arg], sigs: &[Sig]) -> Result<Resolved, String> {
    let (i, args) = choose(name, args, sigs)?;
    Ok(Resolved {
        args,
        ret: sigs[i].ret.clone(),
    })
}

/// Picks an overload: its index and the concrete types to cast the arguments to.
pub(super) fn choose(
    name: &str,
    args: &[Arg],
    sigs: &[Sig],
) -> Result<(usize, Vec<SqlType>), String> {
    for casts in [false, true] {
        let matches: Vec<(usize, Vec<SqlType>)> = sigs
            .iter()
            .enumerate()
            .filter_map(|(i, s)| match_sig(s, args, casts).map(|t| (i, t)))
            .collect();
        let rank = |i: usize| (sigs[i].variadic.is_none(), sigs[i].params.len());
        let Some(best) = matches.iter().map(|(i, _)| rank(*i)).max() else {
            continue;
        };
        let mut top = matches.into_iter().filter(|(i, _)| rank(*i) == best);
        let first = top.next().ok_or_else(|| mismatch(name, args))?;
        // Ties between variadic overloads are ambiguous (LEAST(INT, BIGINT)); between fixed ones
        // the first declared (narrowest) wins, so ROUND(INT, INT) picks ROUND(DOUBLE, INT).
        if sigs[first.0].variadic.is_some() && top.next().is_some() {
            let types: Vec<String> = args
                .iter()
                .map(|a| a.as_ref().map_or("null".to_string(), |t| t.to_string()))
                .collect();
            return Err(format!(
                "Function '{name}' cannot be resolved due to ambiguous method parameters ({}).",
                types.join(", ")
            ));
        }
        return Ok(first);
    }
    Err(mismatch(name, args))
}

fn match_sig(s: &Sig, args: &[Arg], casts: bool) -> Option<Vec<SqlType>> {
    let arity_ok = if s.variadic.is_some() {
        args.len() >= s.params.len()
    } else {
        args.len() == s.params.len()
    };
    if !arity_ok {
        return None;
    }
    args.iter()
        .enumerate()
        .map(|(i, a)| match_param(a.as_ref(), s.params.get(i).or(s.variadic.as_ref())?, casts))
        .collect()
}

fn match_param(arg: Option<&SqlType>, param: &SqlType, casts: bool) -> Option<SqlType> {
    use SqlType::*;
    let Some(arg) = arg else {
        return Some(if *param == ANY_DECIMAL {
            SqlType::decimal(38, 0)
        } else {
            param.clone()
        });
    };
    if arg == param || (*param == ANY_DECIMAL && matches!(arg, Decimal { .. })) {
        return Some(arg.clone());
    }
    if !casts {
        return None;
    }
    match (arg, param) {
        (Int, p) if *p == ANY_DECIMAL => Some(SqlType::decimal(10, 0)),
        (Bigint, p) if *p == ANY_DECIMAL => Some(SqlType::decimal(19, 0)),
        (Int, Bigint | Double) | (Bigint, Double) | (Decimal { .. }, Double) => Some(param.clone()),
        (String, Date | Time | Timestamp) => Some(param.clone()),
        _ => None,
    }
}

fn one_any(name: &str, a: &[Arg]) -> Result<Resolved, String> {
    match a {
        [Some(t)] => Ok(Resolved {
            args: vec![t.clone()],
            ret: t.clone(),
        }),
        _ => Err(mismatch(name, a)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overloads_prefer_exact_then_casts_and_report_ambiguity() {
        use SqlType::*;
        let sigs = [
            var_sig(&[Int], Int, Int),
            var_sig(&[Bigint], Bigint, Bigint),
            var_sig(&[Double], Double, Double),
        ];
        assert_eq!(
            choose("least", &[Some(Int), Some(Int)], &sigs).map(|c| c.0),
            Ok(0)
        );
        let err = choose("least", &[Some(Int), Some(Bigint)], &sigs).unwrap_err();
        assert_eq!(
            err,
            "Function 'least' cannot be resolved due to ambiguous method parameters (INTEGER, BIGINT)."
        );
        let fixed = [sig(&[Double, Double], Double)];
        assert_eq!(
            choose("f", &[Some(Int), None], &fixed),
            Ok((0, vec![Double, Double]))
        );
        assert!(choose("f", &[Some(String), Some(Double)], &fixed).is_err());
        let dec = [sig(&[ANY_DECIMAL], Int)];
        assert_eq!(
            choose("f", &[Some(Bigint)], &dec),
            Ok((0, vec![SqlType::decimal(19, 0)]))
        );
    }
}
