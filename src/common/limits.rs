//! Bounds on what evaluating expressions for one record may take, so that no statement or
//! record can exhaust the server's memory or hold a query for hours: the size of one value, the
//! work (bytes of values produced) of evaluating one expression for one row, and the rows a
//! table function may make of one record. A function that would pass a bound fails for that
//! row with a message saying which; the row goes to the processing log, the query goes on.
//!
//! Sizes are estimates of memory in use ([`crate::common::Value::footprint`]): every value counts its own
//! slot, strings and bytes their length, and collections their elements.
//!
//! The work budget is per evaluation scope ([`scoped`]): a row function opens one for each row,
//! and every function result inside it (lambda bodies included) is charged against it. Outside
//! a scope nothing is charged.
//!
//! A query's step (the records of one poll, one transaction) has a budget of its own
//! ([`StepBudget`], [`MAX_STEP_WORK_BYTES`]): what evaluation keeps for the whole batch (each
//! row function's results, the copies a table function makes) is charged to it with
//! [`charge_step`]. Passing it does not fail rows: the query's driver rolls the step back and
//! runs it again with fewer records (`exec::driver`).

use std::cell::Cell;

/// The largest value a function may produce (64 MiB, as the log's largest record batch).
pub const MAX_VALUE_BYTES: usize = 64 << 20;

/// The bytes of values that evaluating one expression for one row may produce in all.
pub const MAX_ROW_WORK_BYTES: usize = 256 << 20;

/// The rows a table function (EXPLODE, ...) may make of one input record.
pub const MAX_TABLE_FUNCTION_ROWS: usize = 100_000;

/// The bytes of values evaluating one query step's batch may keep (results of row functions,
/// rows a table function makes), 1 GiB. A step whose batch passes it is run again with fewer
/// records; a single record that passes it goes to the processing log. What the process holds
/// at the peak is a small multiple of it (a function's results are built as values and then
/// copied into an Arrow array). It must stay under 2 GiB: an Arrow string column holds at most
/// that (its offsets are 32-bit; building a larger one panics).
pub const MAX_STEP_WORK_BYTES: usize = 1 << 30;

thread_local! {
    /// Bytes produced in the innermost open scope; `None` outside any scope.
    static SPENT: Cell<Option<usize>> = const { Cell::new(None) };
    /// The open step's spending and limit; `None` outside a step.
    static STEP: Cell<Option<StepSpend>> = const { Cell::new(None) };
}

#[derive(Clone, Copy, Debug)]
struct StepSpend {
    spent: usize,
    limit: usize,
}

/// The budget of a query step on this thread while it lives (the enclosing one, if any, is
/// restored when it is dropped). Not `Send`: it belongs to the thread that opened it.
pub struct StepBudget {
    outer: Option<StepSpend>,
    _thread_bound: std::marker::PhantomData<*const ()>,
}

impl StepBudget {
    /// Opens a step allowed to keep `limit` bytes of values.
    pub fn open(limit: usize) -> StepBudget {
        let outer = STEP.with(|step| step.replace(Some(StepSpend { spent: 0, limit })));
        StepBudget {
            outer,
            _thread_bound: std::marker::PhantomData,
        }
    }

    /// The bytes charged so far.
    pub fn spent(&self) -> usize {
        STEP.with(|step| step.get().map_or(0, |s| s.spent))
    }

    /// Whether the step has passed its limit (it then stays passed).
    pub fn exceeded(&self) -> bool {
        step_exceeded()
    }
}

impl Drop for StepBudget {
    fn drop(&mut self) {
        STEP.with(|step| step.set(self.outer));
    }
}

/// Charges `bytes` kept for the step's batch to the open step (nothing outside one); fails
/// once the step has passed its limit, and from then on until it ends.
pub fn charge_step(bytes: usize) -> Result<(), String> {
    STEP.with(|step| {
        let Some(mut spend) = step.get() else {
            return Ok(());
        };
        spend.spent = spend.spent.saturating_add(bytes);
        step.set(Some(spend));
        if spend.spent > spend.limit {
            return Err(step_error(spend.limit));
        }
        Ok(())
    })
}

/// Fails when the open step has passed its limit: work for it is wasted (it will be rolled
/// back), so evaluation stops early.
pub fn check_step() -> Result<(), String> {
    match STEP.with(Cell::get) {
        Some(spend) if spend.spent > spend.limit => Err(step_error(spend.limit)),
        _ => Ok(()),
    }
}

/// Whether an open step has passed its limit.
pub fn step_exceeded() -> bool {
    check_step().is_err()
}

fn step_error(limit: usize) -> String {
    format!(
        "evaluating the step's records produced more than {} MiB of values",
        limit >> 20
    )
}

/// The stack of every thread that parses, plans or runs statements (the command line's, the
/// HTTP API's, each query's). Statements are walked recursively, by Brook and by the crates it
/// uses (sqlparser's clone and drop, DataFusion's evaluation), and in debug builds a level of
/// an expression can take 17 KiB; this holds [`crate::sql::MAX_EXPRESSION_DEPTH`] levels many
/// times over. Only the pages a thread touches are ever committed.
pub const THREAD_STACK_BYTES: usize = 64 << 20;

/// Runs `f` on this thread's stack, or on a fresh segment of the heap when less than 256 KiB
/// of the stack is left. Recursive walks over expressions call it at each level, so an
/// expression as deep as the parser allows cannot overflow any thread's stack (their frames
/// are large in debug builds: binding takes about 17 KiB a level).
pub fn deep<R>(f: impl FnOnce() -> R) -> R {
    stacker::maybe_grow(256 << 10, 4 << 20, f)
}

/// Fails when a value of `bytes` would be larger than [`MAX_VALUE_BYTES`]; `what` names it.
pub fn check_value_size(bytes: usize, what: &str) -> Result<(), String> {
    if bytes > MAX_VALUE_BYTES {
        return Err(format!(
            "{what} would take {} MiB, more than the limit of {} MiB for one value",
            bytes >> 20,
            MAX_VALUE_BYTES >> 20
        ));
    }
    Ok(())
}

/// [`check_value_size`] for `count` elements of `each` bytes (no overflow).
pub fn check_elements(count: u128, each: usize, what: &str) -> Result<(), String> {
    let bytes = count.saturating_mul(each as u128);
    check_value_size(usize::try_from(bytes).unwrap_or(usize::MAX), what)
}

/// [`check_value_size`] for the result of `function`, of `bytes` (its message is built only
/// when it fails: this runs for every call).
pub fn check_result(bytes: usize, function: &str) -> Result<(), String> {
    if bytes <= MAX_VALUE_BYTES {
        return Ok(());
    }
    check_value_size(bytes, &format!("{function}'s result"))
}

/// Charges `bytes` to the open scope; fails once its work passes [`MAX_ROW_WORK_BYTES`]
/// (and keeps failing until the scope ends, so loops stop early).
pub fn charge(bytes: usize) -> Result<(), String> {
    SPENT.with(|spent| {
        let Some(so_far) = spent.get() else {
            return Ok(());
        };
        let total = so_far.saturating_add(bytes);
        spent.set(Some(total));
        if total > MAX_ROW_WORK_BYTES {
            return charge_error(total);
        }
        Ok(())
    })
}

/// Runs `f` in a fresh work scope (restoring any enclosing one after); its result becomes an
/// error if the work it did passed the budget, whatever `f` made of that.
pub fn scoped<T>(f: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    let outer = SPENT.with(|spent| spent.replace(Some(0)));
    let result = f();
    let spent = SPENT.with(|spent| spent.replace(outer));
    match (result, spent) {
        (Ok(_), Some(total)) if total > MAX_ROW_WORK_BYTES => charge_error(total),
        (other, _) => other,
    }
}

fn charge_error<T>(total: usize) -> Result<T, String> {
    Err(format!(
        "evaluating the expression for one row produced {} MiB of values, more than the limit of {} MiB",
        total >> 20,
        MAX_ROW_WORK_BYTES >> 20
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_is_charged_only_inside_a_scope_and_passing_the_budget_fails_it() {
        assert!(charge(usize::MAX).is_ok(), "charged outside a scope");
        let result = scoped(|| {
            charge(MAX_ROW_WORK_BYTES)?;
            assert!(charge(1).is_err());
            Ok(1)
        });
        assert!(result.is_err());
        let swallowed = scoped(|| {
            let _ = charge(MAX_ROW_WORK_BYTES + 1);
            Ok(1)
        });
        assert!(
            swallowed.is_err(),
            "an error the body ignored still fails the scope"
        );
        assert_eq!(scoped(|| charge(10).map(|()| 2)), Ok(2));
    }

    #[test]
    fn scopes_nest_and_the_outer_one_keeps_its_count() {
        let result = scoped(|| {
            charge(MAX_ROW_WORK_BYTES - 10)?;
            scoped(|| charge(MAX_ROW_WORK_BYTES))?;
            charge(20)
        });
        assert!(result.is_err(), "the outer scope lost its count");
    }

    #[test]
    fn a_step_fails_once_past_its_limit_and_stays_failed_until_it_ends() {
        assert!(charge_step(usize::MAX).is_ok(), "charged outside a step");
        {
            let budget = StepBudget::open(100);
            assert!(charge_step(60).is_ok());
            assert!(charge_step(40).is_ok());
            assert_eq!(budget.spent(), 100);
            assert!(!budget.exceeded());
            assert!(charge_step(1).is_err());
            assert!(budget.exceeded() && check_step().is_err());
            {
                let inner = StepBudget::open(10);
                assert!(!inner.exceeded(), "a new step starts afresh");
            }
            assert!(budget.exceeded(), "the outer step lost its count");
        }
        assert!(!step_exceeded() && charge_step(usize::MAX).is_ok());
    }

    #[test]
    fn sizes_past_the_value_limit_are_refused() {
        assert!(check_value_size(MAX_VALUE_BYTES, "x").is_ok());
        let e = check_value_size(MAX_VALUE_BYTES + 1, "LPAD's result").unwrap_err();
        assert!(e.starts_with("LPAD's result would take"), "{e}");
        assert!(check_elements(u128::MAX, 32, "x").is_err());
        assert!(check_elements(1000, 32, "x").is_ok());
    }
}
