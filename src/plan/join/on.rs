//! The ON clause of one join (ksqlDB's `Analyzer.visitJoinedSource`): a conjunction of
//! equalities, each between an expression over the sources already joined and one over the
//! source being joined (flipped when written the other way round).

use super::super::PlanResult;
use super::super::expr::{Binder, Scope, ksql_text};
use super::super::functions::FunctionRegistry;
use crate::plan::PlanError;
use crate::plan_err;
use crate::sql::Expr;
use sqlparser::ast::BinaryOperator;
use std::collections::BTreeSet;

/// One equality of the ON clause, oriented: `left` reads the sources already joined, `right`
/// the source being joined.
#[derive(Clone, Debug)]
pub(super) struct Criterion {
    pub left: Expr,
    pub right: Expr,
    /// The equality as written, its columns qualified (`LEFT_TABLE.F2 = RIGHT_TABLE.ID1`).
    pub written: String,
    /// The texts of `left` and `right`, qualified.
    pub left_text: String,
    pub right_text: String,
}

/// The equalities of `on`, joining source `right_alias` to those before it. `scope` has the
/// columns of every source of the join so far, qualified by their aliases.
pub(super) fn criteria(
    on: &Expr,
    scope: &Scope,
    functions: &FunctionRegistry,
    right_alias: &str,
) -> PlanResult<Vec<Criterion>> {
    let mut conjuncts = Vec::new();
    split_and(on, &mut conjuncts);
    let mut out = Vec::new();
    for c in conjuncts {
        out.push(criterion(c, scope, functions, right_alias)?);
    }
    Ok(out)
}

fn split_and<'a>(e: &'a Expr, out: &mut Vec<&'a Expr>) {
    match e {
        Expr::Nested(inner) => split_and(inner, out),
        Expr::BinaryOp {
            left,
            op: BinaryOperator::And,
            right,
        } => {
            split_and(left, out);
            split_and(right, out);
        }
        other => out.push(other),
    }
}

fn criterion(
    e: &Expr,
    scope: &Scope,
    functions: &FunctionRegistry,
    right_alias: &str,
) -> PlanResult<Criterion> {
    let (left, right) = match e {
        Expr::BinaryOp {
            left,
            op: BinaryOperator::Eq,
            right,
        } => (&**left, &**right),
        Expr::BinaryOp {
            op:
                BinaryOperator::Lt
                | BinaryOperator::LtEq
                | BinaryOperator::Gt
                | BinaryOperator::GtEq
                | BinaryOperator::NotEq,
            ..
        } => return plan_err!("Only equality join criteria is supported."),
        other => {
            return plan_err!(
                "Unsupported join expression: {}. A join's ON clause is one or more equalities joined by AND; put other conditions in WHERE.",
                ksql_text(other)
            );
        }
    };
    let texts = [qualified(left, scope), qualified(right, scope)];
    let written = format!("{} = {}", texts[0], texts[1]);
    let mut sources = Vec::new();
    for (side, text) in [left, right].into_iter().zip(&texts) {
        let read = sources_read(side, scope, functions)?;
        if read.len() != 1 {
            return plan_err!(
                "Invalid comparison expression '{text}' in join '({written})'. Each side of the join comparision must contain references from exactly one source."
            );
        }
        sources.extend(read);
    }
    let (l, r) = (&sources[0], &sources[1]);
    if l == r {
        return plan_err!(
            "Each side of the join must reference exactly one source and not the same source. Left side references {l} and right references {r}"
        );
    }
    if l != right_alias && r != right_alias {
        return plan_err!(
            "A join criteria is expected to reference the source (`{right_alias}`) in the FROM clause, instead the right source references `{r}` and the left source references `{l}`"
        );
    }
    let flip = l == right_alias;
    let [left_text, right_text] = texts;
    let (left, right, left_text, right_text) = match flip {
        true => (right, left, right_text, left_text),
        false => (left, right, left_text, right_text),
    };
    Ok(Criterion {
        left: left.clone(),
        right: right.clone(),
        written,
        left_text,
        right_text,
    })
}

/// The aliases of the sources an expression reads.
fn sources_read(
    side: &Expr,
    scope: &Scope,
    functions: &FunctionRegistry,
) -> PlanResult<BTreeSet<String>> {
    let mut binder = Binder::new(scope, functions);
    let bound = binder.bind(side).map_err(|e| match e {
        PlanError::UnknownColumn(name) => {
            let message = format!("JOIN ON column '{name}' cannot be resolved.");
            match first_location(side) {
                Some(at) => PlanError::at(message, at),
                None => PlanError::Invalid(message),
            }
        }
        other => other,
    })?;
    Ok(bound
        .column_indices()
        .into_iter()
        .filter_map(|i| scope.columns.get(i).and_then(|c| c.qualifier.clone()))
        .collect())
}

/// Where the first column reference of an expression starts.
fn first_location(e: &Expr) -> Option<crate::sql::Location> {
    let mut found = None;
    let _ = sqlparser::ast::visit_expressions(e, |x| {
        let ident = match x {
            Expr::Identifier(i) => Some(i),
            Expr::CompoundIdentifier(parts) => parts.first(),
            _ => None,
        };
        if let Some(i) = ident {
            found = Some(crate::sql::Location {
                line: i.span.start.line,
                column: i.span.start.column,
            });
            return std::ops::ControlFlow::Break(());
        }
        std::ops::ControlFlow::Continue(())
    });
    found
}

/// ksqlDB's text of an expression with its columns qualified by their source's alias.
pub(super) fn qualified(e: &Expr, scope: &Scope) -> String {
    let mut e = e.clone();
    let _ = sqlparser::ast::visit_expressions_mut(&mut e, |x| {
        if let Expr::Identifier(i) = x {
            let name = super::super::expr::ident_name(i);
            let owners: BTreeSet<&str> = scope
                .columns
                .iter()
                .filter(|c| c.name == name)
                .filter_map(|c| c.qualifier.as_deref())
                .collect();
            if let [only] = owners.into_iter().collect::<Vec<_>>()[..] {
                let q = sqlparser::ast::Ident::with_quote('`', only);
                *x = Expr::CompoundIdentifier(vec![q, i.clone()]);
            }
        }
        std::ops::ControlFlow::<()>::Continue(())
    });
    ksql_text(&e)
}
