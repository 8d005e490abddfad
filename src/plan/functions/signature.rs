//! Helpers to resolve function overloads the way ksqlDB does.

use crate::common::SqlType;

/// An argument's type; `None` is an untyped NULL literal (it matches any parameter).
pub type Arg = Option<SqlType>;

/// The chosen overload: argument types to cast to, and the result type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    pub args: Vec<SqlType>,
    pub ret: SqlType,
}

/// Whether ksqlDB implicitly converts `from` to `to` for a function argument.
pub fn can_widen(from: &SqlType, to: &SqlType) -> bool {
    use SqlType::*;
    from == to
        || matches!(
            (from, to),
            (Int, Bigint)
                | (Int, Decimal { .. })
                | (Int, Double)
                | (Bigint, Decimal { .. })
                | (Bigint, Double)
                | (Decimal { .. }, Double)
        )
}

/// One fixed signature: `args` must match `params` (by widening); `variadic` repeats.
pub fn exact(
    name: &str,
    args: &[Arg],
    params: &[SqlType],
    variadic: Option<&SqlType>,
    ret: SqlType,
) -> Result<Resolved, String> {
    let arity_ok = match variadic {
        None => args.len() == params.len(),
        Some(_) => args.len() >= params.len(),
    };
    if !arity_ok {
        return Err(mismatch(name, args));
    }
    let mut out = Vec::with_capacity(args.len());
    for (i, arg) in args.iter().enumerate() {
        let param = params
            .get(i)
            .or(variadic)
            .ok_or_else(|| mismatch(name, args))?;
        match arg {
            Some(t) if !can_widen(t, param) => return Err(mismatch(name, args)),
            _ => out.push(param.clone()),
        }
    }
    Ok(Resolved { args: out, ret })
}

/// All arguments must share one type (NULL literals take it); returns that type.
pub fn same_type_args(name: &str, args: &[Arg]) -> Result<SqlType, String> {
    let mut found: Option<&SqlType> = None;
    for t in args.iter().flatten() {
        match found {
            None => found = Some(t),
            Some(f) if f == t => {}
            Some(_) => return Err(mismatch(name, args)),
        }
    }
    found
        .cloned()
        .ok_or_else(|| format!("Function '{name}' cannot be called with only NULL arguments"))
}

/// ksqlDB's message when no overload matches.
pub fn mismatch(name: &str, args: &[Arg]) -> String {
    let types: Vec<String> = args
        .iter()
        .map(|a| a.as_ref().map_or("null".to_string(), |t| t.to_string()))
        .collect();
    format!(
        "Function '{name}' does not accept parameters ({}).",
        types.join(", ")
    )
}
