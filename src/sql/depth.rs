//! How deeply an expression may nest. Every later stage (binding, planning, evaluation, and
//! DataFusion's physical expressions) walks expressions recursively, so a statement that nests
//! deeper than the threads' stacks allow would take the server down; it is refused here instead,
//! with its position.
//!
//! sqlparser bounds recursive nesting (parentheses, function calls) by its recursion limit, but
//! builds operator chains (`1+1+...`, `a OR b OR ...`, `x IS NULL IS NULL ...`) in a loop, so the
//! dialect checks each chain as it grows ([`check_chain`]), and every parsed expression is then
//! measured whole ([`check_expr`]).

use sqlparser::ast::{Expr, Visit, Visitor};
use std::ops::ControlFlow;

/// The deepest an expression may nest: operators in a chain count one level each.
pub const MAX_EXPRESSION_DEPTH: usize = 500;

/// The message for an expression nested deeper than [`MAX_EXPRESSION_DEPTH`].
pub fn too_deep_message() -> String {
    format!(
        "The expression is nested too deeply: more than {MAX_EXPRESSION_DEPTH} levels of operators, functions or parentheses. Split it, or use IN (...) instead of a long chain of OR."
    )
}

/// Whether the operand on the left of an operator about to be parsed is already a chain as
/// deep as allowed. Follows only the operand's leftmost operators, which is what the parser's
/// loop builds, and stops at the limit, so a chain costs at most the limit per operator.
pub fn chain_too_deep(left: &Expr) -> bool {
    let mut depth = 1;
    let mut current = left;
    while let Some(next) = chain_child(current) {
        depth += 1;
        if depth > MAX_EXPRESSION_DEPTH {
            return true;
        }
        current = next;
    }
    false
}

/// The operand an infix or postfix operator keeps on its left.
fn chain_child(e: &Expr) -> Option<&Expr> {
    Some(match e {
        Expr::BinaryOp { left, .. } => left,
        Expr::IsNull(x)
        | Expr::IsNotNull(x)
        | Expr::IsTrue(x)
        | Expr::IsNotTrue(x)
        | Expr::IsFalse(x)
        | Expr::IsNotFalse(x)
        | Expr::IsUnknown(x)
        | Expr::IsNotUnknown(x)
        | Expr::Nested(x)
        | Expr::UnaryOp { expr: x, .. } => x,
        Expr::IsDistinctFrom(x, _) | Expr::IsNotDistinctFrom(x, _) => x,
        Expr::InList { expr, .. }
        | Expr::Between { expr, .. }
        | Expr::Like { expr, .. }
        | Expr::ILike { expr, .. }
        | Expr::SimilarTo { expr, .. }
        | Expr::RLike { expr, .. }
        | Expr::Cast { expr, .. }
        | Expr::Collate { expr, .. } => expr,
        Expr::CompoundFieldAccess { root, .. } => root,
        Expr::AnyOp { left, .. } | Expr::AllOp { left, .. } => left,
        _ => return None,
    })
}

/// Refuses an expression that nests deeper than [`MAX_EXPRESSION_DEPTH`]. (sqlparser's visitor
/// grows its stack as it needs, so measuring cannot overflow it.)
pub fn check_expr(e: &Expr) -> Result<(), String> {
    let mut measure = Depth { current: 0 };
    match e.visit(&mut measure) {
        ControlFlow::Continue(()) => Ok(()),
        ControlFlow::Break(()) => Err(too_deep_message()),
    }
}

/// Drops an expression that may be too deep for the stack of the thread dropping it (on a
/// stack of its own, grown as needed).
pub fn drop_deep(e: Expr) {
    stacker::grow(256 << 20, move || drop(e));
}

struct Depth {
    current: usize,
}

impl Visitor for Depth {
    type Break = ();

    fn pre_visit_expr(&mut self, _expr: &Expr) -> ControlFlow<()> {
        self.current += 1;
        if self.current > MAX_EXPRESSION_DEPTH {
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, _expr: &Expr) -> ControlFlow<()> {
        self.current -= 1;
        ControlFlow::Continue(())
    }
}
