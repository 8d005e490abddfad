//! Binding: sqlparser expressions → typed IR, resolving columns, literals, operators and
//! functions with ksqlDB's typing rules and error messages.

use super::decimal;
use super::ir::{ArithOp, CmpOp, Node, TExpr};
use super::scope::Scope;
use crate::common::{SqlType, StructField, Value};
use crate::plan::functions::{Arg, FunctionRegistry};
use crate::plan::{PlanError, PlanResult};
use crate::plan_err;
use crate::sql::Expr;
use sqlparser::ast::{
    AccessExpr, BinaryOperator, CaseWhen, Function, FunctionArg, FunctionArgExpr,
    FunctionArguments, Ident, LambdaFunction, Subscript, UnaryOperator, Value as SqlValue,
    ValueWithSpan,
};

pub struct Binder<'a> {
    scope: &'a Scope,
    functions: &'a FunctionRegistry,
    /// Lambda parameters in scope, outermost first.
    lambda_vars: Vec<(String, SqlType)>,
    /// While binding an aggregation's SELECT and HAVING: the aggregate calls met so far,
    /// each replaced in the bound expression by a placeholder (see `AggregateCalls`).
    aggregates: Option<AggregateCalls>,
}

/// Aggregate calls collected by the binder: each call's function and bound arguments. In the
/// bound expression a call is a placeholder column named `KSQL_AGG_VARIABLE_n` whose index is
/// `AggregateCalls::placeholder_index(n)`, to be rewritten to the aggregation's output.
#[derive(Default)]
pub struct AggregateCalls {
    pub calls: Vec<(crate::plan::aggregates::ResolvedUdaf, Vec<TExpr>)>,
    /// Inside an aggregate's arguments (nesting is an error).
    within_call: bool,
}

impl AggregateCalls {
    const PLACEHOLDER_BASE: usize = usize::MAX / 2;

    pub fn placeholder_index(n: usize) -> usize {
        Self::PLACEHOLDER_BASE + n
    }

    /// The call number of a placeholder column index.
    pub fn call_of(index: usize) -> Option<usize> {
        index.checked_sub(Self::PLACEHOLDER_BASE)
    }
}

pub fn ident_name(ident: &Ident) -> String {
    if ident.quote_style.is_some() {
        ident.value.clone()
    } else {
        ident.value.to_ascii_uppercase()
    }
}

impl<'a> Binder<'a> {
    /// The functions calls resolve against.
    pub fn functions(&self) -> &'a FunctionRegistry {
        self.functions
    }

    pub fn new(scope: &'a Scope, functions: &'a FunctionRegistry) -> Self {
        Binder {
            scope,
            functions,
            lambda_vars: Vec::new(),
            aggregates: None,
        }
    }

    /// From now on aggregate calls are collected (see `AggregateCalls`).
    pub fn collect_aggregates(&mut self) {
        self.aggregates = Some(AggregateCalls::default());
    }

    /// The aggregate calls collected so far.
    pub fn aggregate_calls(&self) -> Option<&AggregateCalls> {
        self.aggregates.as_ref()
    }

    pub fn bind(&mut self, e: &Expr) -> PlanResult<TExpr> {
        crate::common::limits::deep(|| self.bind_node(e))
    }

    fn bind_node(&mut self, e: &Expr) -> PlanResult<TExpr> {
        match e {
            Expr::Identifier(ident) => self.name(None, ident),
            Expr::CompoundIdentifier(parts) if parts.len() == 2 => {
                self.name(Some(&parts[0]), &parts[1])
            }
            Expr::CompoundIdentifier(parts) => {
                let mut expr = self.name(Some(&parts[0]), &parts[1])?;
                for p in &parts[2..] {
                    expr = self.field(expr, &ident_name(p))?;
                }
                Ok(expr)
            }
            Expr::Value(v) => literal(v, false),
            Expr::Nested(inner) => self.bind(inner),
            Expr::UnaryOp { op, expr } => self.unary(*op, expr),
            Expr::BinaryOp { left, op, right } => self.binary(left, op, right),
            Expr::IsNull(x) => Ok(TExpr::new(
                Node::IsNull {
                    expr: Box::new(self.bind(x)?),
                    negated: false,
                },
                SqlType::Boolean,
            )),
            Expr::IsNotNull(x) => Ok(TExpr::new(
                Node::IsNull {
                    expr: Box::new(self.bind(x)?),
                    negated: true,
                },
                SqlType::Boolean,
            )),
            Expr::IsDistinctFrom(l, r) => self.compare(l, CmpOp::IsDistinctFrom, r),
            Expr::IsNotDistinctFrom(l, r) => self.compare(l, CmpOp::IsNotDistinctFrom, r),
            Expr::Between {
                expr,
                negated,
                low,
                high,
            } => {
                let ge = self.compare(expr, CmpOp::GtEq, low)?;
                let le = self.compare(expr, CmpOp::LtEq, high)?;
                let both = TExpr::new(Node::And(Box::new(ge), Box::new(le)), SqlType::Boolean);
                Ok(if *negated {
                    TExpr::new(Node::Not(Box::new(both)), SqlType::Boolean)
                } else {
                    both
                })
            }
            Expr::InList {
                expr,
                list,
                negated,
            } => self.in_list(expr, list, *negated),
            Expr::Like {
                negated,
                expr,
                pattern,
                escape_char,
                ..
            } => self.like(
                expr,
                pattern,
                escape_char.as_ref().map(|v| &v.value),
                *negated,
            ),
            Expr::Case {
                operand,
                conditions,
                else_result,
                ..
            } => self.case(operand.as_deref(), conditions, else_result.as_deref()),
            Expr::Cast {
                expr, data_type, ..
            } => {
                let target = crate::sql::cast_type(data_type).ok_or_else(|| {
                    PlanError::Invalid(format!("unsupported CAST target {data_type}"))
                })?;
                let inner = self.bind(expr)?;
                if inner.is_null_literal() {
                    return Ok(TExpr::literal(Value::Null, target));
                }
                if !castable(&inner.ty, &target) {
                    return plan_err!(
                        "Invalid Select: Cast of {} to {target} is not supported",
                        inner.ty
                    );
                }
                Ok(TExpr::new(Node::Cast(Box::new(inner)), target))
            }
            Expr::Function(f) => self.function(f),
            Expr::Array(array) => self.array(&array.elem),
            Expr::CompoundFieldAccess { root, access_chain } => {
                // `alias.column[1]`: a qualified column, then the rest of the chain.
                let (mut expr, chain) = match (&**root, access_chain.first()) {
                    (Expr::Identifier(q), Some(AccessExpr::Dot(Expr::Identifier(column))))
                        if self.scope.is_qualifier(&ident_name(q)) =>
                    {
                        (self.name(Some(q), column)?, &access_chain[1..])
                    }
                    _ => (self.bind(root)?, &access_chain[..]),
                };
                for access in chain {
                    expr = match access {
                        AccessExpr::Dot(Expr::Identifier(field)) => {
                            self.field(expr, &ident_name(field))?
                        }
                        AccessExpr::Subscript(Subscript::Index { index }) => {
                            self.subscript(expr, index)?
                        }
                        other => return plan_err!("unsupported access '{other}'"),
                    };
                }
                Ok(expr)
            }
            Expr::Lambda(_) => {
                plan_err!("a lambda can only be an argument of TRANSFORM, FILTER or REDUCE")
            }
            other => plan_err!("unsupported expression '{other}'"),
        }
    }

    fn name(&self, qualifier: Option<&Ident>, ident: &Ident) -> PlanResult<TExpr> {
        let name = ident_name(ident);
        if qualifier.is_none()
            && let Some(i) = self.lambda_vars.iter().rposition(|(n, _)| n == &name)
        {
            return Ok(TExpr::new(
                Node::LambdaVar { index: i, name },
                self.lambda_vars[i].1.clone(),
            ));
        }
        let qualifier = qualifier.map(ident_name);
        if let Some(message) = self.scope.ambiguity(qualifier.as_deref(), &name) {
            if qualifier.is_some() {
                return Err(PlanError::Invalid(message));
            }
            let start = ident.span.start;
            return plan_err!(
                "Exception while preparing statement: Line: {}, Col: {}: {message}",
                start.line,
                start.column
            );
        }
        let (index, column) = self.scope.resolve(qualifier.as_deref(), &name)?;
        // A joined row's column is named as the row has it, `<ALIAS>_<COLUMN>` (as ksqlDB
        // prints it), so columns of two sources never look alike.
        let name = match (&column.qualifier, self.scope.joined) {
            (Some(q), true) => format!("{q}_{}", column.name),
            _ => column.name.clone(),
        };
        Ok(TExpr::new(
            Node::Column { index, name },
            column.sql_type.clone(),
        ))
    }

    fn field(&self, expr: TExpr, name: &str) -> PlanResult<TExpr> {
        let SqlType::Struct(fields) = &expr.ty else {
            return plan_err!("Expected STRUCT type, got: {}", expr.ty);
        };
        let found = fields
            .iter()
            .find(|f| f.name == name)
            .or_else(|| fields.iter().find(|f| f.name.eq_ignore_ascii_case(name)));
        let Some(field) = found else {
            return plan_err!("Could not find field '{name}' in '{expr}'.");
        };
        let (fname, ty) = (field.name.clone(), field.sql_type.clone());
        Ok(TExpr::new(
            Node::Field {
                expr: Box::new(expr),
                name: fname,
            },
            ty,
        ))
    }

    fn subscript(&mut self, expr: TExpr, index: &Expr) -> PlanResult<TExpr> {
        let index = self.bind(index)?;
        let ty = match &expr.ty {
            SqlType::Array(elem) if index.ty.is_integral() => (**elem).clone(),
            SqlType::Map(k, v) => {
                let index = index.cast_to(k);
                return Ok(TExpr::new(
                    Node::Subscript {
                        expr: Box::new(expr.clone()),
                        index: Box::new(index),
                    },
                    (**v).clone(),
                ));
            }
            other => return plan_err!("cannot subscript {other} with {}", index.ty),
        };
        Ok(TExpr::new(
            Node::Subscript {
                expr: Box::new(expr),
                index: Box::new(index),
            },
            ty,
        ))
    }

    fn unary(&mut self, op: UnaryOperator, expr: &Expr) -> PlanResult<TExpr> {
        // ksqlDB's grammar reads `-12` as one literal: `-2147483648` is an INT.
        if op == UnaryOperator::Minus
            && let Expr::Value(v) = expr
            && matches!(v.value, SqlValue::Number(..))
        {
            return literal(v, true);
        }
        let inner = self.bind(expr)?;
        match op {
            UnaryOperator::Not => Ok(TExpr::new(
                Node::Not(Box::new(expect_boolean(inner, "NOT")?)),
                SqlType::Boolean,
            )),
            UnaryOperator::Plus => Ok(inner),
            UnaryOperator::Minus => match (&inner.node, &inner.ty) {
                (Node::Literal(v), _) => Ok(TExpr::literal(negate_literal(v)?, inner.ty.clone())),
                (_, t) if t.is_numeric() => {
                    let ty = t.clone();
                    Ok(TExpr::new(Node::Negate(Box::new(inner)), ty))
                }
                (_, t) => plan_err!("Unsupported arithmetic types. {t}"),
            },
            other => plan_err!("unsupported operator {other}"),
        }
    }

    fn binary(&mut self, left: &Expr, op: &BinaryOperator, right: &Expr) -> PlanResult<TExpr> {
        let cmp = |op| Some(op);
        let comparison = match op {
            BinaryOperator::Eq => cmp(CmpOp::Eq),
            BinaryOperator::NotEq => cmp(CmpOp::NotEq),
            BinaryOperator::Lt => cmp(CmpOp::Lt),
            BinaryOperator::LtEq => cmp(CmpOp::LtEq),
            BinaryOperator::Gt => cmp(CmpOp::Gt),
            BinaryOperator::GtEq => cmp(CmpOp::GtEq),
            _ => None,
        };
        if let Some(c) = comparison {
            return self.compare(left, c, right);
        }
        let arith = match op {
            BinaryOperator::Plus => Some(ArithOp::Add),
            BinaryOperator::Minus => Some(ArithOp::Sub),
            BinaryOperator::Multiply => Some(ArithOp::Mul),
            BinaryOperator::Divide => Some(ArithOp::Div),
            BinaryOperator::Modulo => Some(ArithOp::Mod),
            _ => None,
        };
        let (l, r) = (self.bind(left)?, self.bind(right)?);
        if let Some(a) = arith {
            return arithmetic(a, l, r);
        }
        match op {
            BinaryOperator::And => Ok(TExpr::new(
                Node::And(
                    Box::new(expect_boolean(l, "AND")?),
                    Box::new(expect_boolean(r, "AND")?),
                ),
                SqlType::Boolean,
            )),
            BinaryOperator::Or => Ok(TExpr::new(
                Node::Or(
                    Box::new(expect_boolean(l, "OR")?),
                    Box::new(expect_boolean(r, "OR")?),
                ),
                SqlType::Boolean,
            )),
            BinaryOperator::StringConcat => self.call("CONCAT", vec![l, r]),
            BinaryOperator::Custom(s) if s == ":=" => {
                plan_err!("':=' is only allowed inside STRUCT(...) and MAP(...)")
            }
            other => plan_err!("unsupported operator {other}"),
        }
    }

    fn compare(&mut self, left: &Expr, op: CmpOp, right: &Expr) -> PlanResult<TExpr> {
        let (l, r) = (self.bind(left)?, self.bind(right)?);
        if l.is_null_literal() || r.is_null_literal() {
            if matches!(op, CmpOp::IsDistinctFrom | CmpOp::IsNotDistinctFrom)
                && !(l.is_null_literal() && r.is_null_literal())
            {
                let ty = if l.is_null_literal() {
                    r.ty.clone()
                } else {
                    l.ty.clone()
                };
                return Ok(TExpr::new(
                    Node::Compare {
                        op,
                        left: Box::new(retype_null(l, &ty)),
                        right: Box::new(retype_null(r, &ty)),
                    },
                    SqlType::Boolean,
                ));
            }
            return plan_err!(
                "Comparison with NULL not supported: {} {} {}\nUse 'IS NULL' or 'IS NOT NULL' instead.",
                null_text(&l),
                op,
                null_text(&r)
            );
        }
        let (l, r) = comparable(l, op, r, left, right)?;
        Ok(TExpr::new(
            Node::Compare {
                op,
                left: Box::new(l),
                right: Box::new(r),
            },
            SqlType::Boolean,
        ))
    }

    fn in_list(&mut self, expr: &Expr, list: &[Expr], negated: bool) -> PlanResult<TExpr> {
        let mut items = vec![self.bind(expr)?];
        let mut texts = vec![sql_text(expr)];
        for item in list {
            let bound = self.bind(item)?;
            // A NULL in the list never matches: ksqlDB drops it before typing the list.
            if !bound.is_null_literal() {
                items.push(bound);
                texts.push(sql_text(item));
            }
        }
        let coerced = super::coercion::coerce_list(items, &texts)
            .map_err(|m| PlanError::Invalid(format!("Invalid Predicate: {m}")))?;
        let mut items = coerced.items.into_iter();
        let value = items.next().expect("the tested value");
        Ok(TExpr::new(
            Node::InList {
                expr: Box::new(value),
                list: items.collect(),
                negated,
            },
            SqlType::Boolean,
        ))
    }

    fn like(
        &mut self,
        expr: &Expr,
        pattern: &Expr,
        escape: Option<&SqlValue>,
        negated: bool,
    ) -> PlanResult<TExpr> {
        let (e, p) = (self.bind(expr)?, self.bind(pattern)?);
        if e.ty != SqlType::String {
            return plan_err!(
                "The column type for Like condition must be VARCHAR. The column type is {}",
                e.ty
            );
        }
        if p.ty != SqlType::String {
            return plan_err!(
                "The pattern for Like condition must be VARCHAR. The pattern type is {}",
                p.ty
            );
        }
        let escape = match escape {
            Some(SqlValue::SingleQuotedString(s)) if s.chars().count() == 1 => s.chars().next(),
            Some(other) => {
                return plan_err!("the LIKE escape must be a single character, not {other}");
            }
            None => None,
        };
        Ok(TExpr::new(
            Node::Like {
                expr: Box::new(e),
                pattern: Box::new(p),
                escape,
                negated,
            },
            SqlType::Boolean,
        ))
    }

    fn case(
        &mut self,
        operand: Option<&Expr>,
        conditions: &[CaseWhen],
        else_result: Option<&Expr>,
    ) -> PlanResult<TExpr> {
        let mut whens = Vec::with_capacity(conditions.len());
        for c in conditions {
            let condition = match operand {
                Some(op) => self.compare(op, CmpOp::Eq, &c.condition)?,
                None => expect_boolean(self.bind(&c.condition)?, "WHEN")?,
            };
            whens.push((condition, self.bind(&c.result)?));
        }
        let otherwise = else_result.map(|e| self.bind(e)).transpose()?;
        let result_type = whens
            .iter()
            .map(|(_, t)| t)
            .chain(otherwise.iter())
            .find(|t| !t.is_null_literal())
            .map(|t| t.ty.clone());
        let Some(ty) = result_type else {
            return plan_err!("Invalid Case expression. All case branches have NULL type");
        };
        let mut typed = Vec::with_capacity(whens.len());
        for (w, t) in whens {
            if !t.is_null_literal() && t.ty != ty {
                return plan_err!(
                    "Invalid Case expression. Type for all 'THEN' clauses should be the same.\nTHEN expression '{t}' has type: {}. Previous THEN expression(s) type: {ty}.",
                    t.ty
                );
            }
            typed.push((w, retype_null(t, &ty)));
        }
        if let Some(o) = &otherwise
            && !o.is_null_literal()
            && o.ty != ty
        {
            return plan_err!(
                "Invalid Case expression. Type for 'ELSE' clause should be the same as for 'THEN' clause(s).\nELSE expression '{o}' has type: {}. THEN expression(s) type: {ty}.",
                o.ty
            );
        }
        let otherwise = otherwise.map(|o| Box::new(retype_null(o, &ty)));
        Ok(TExpr::new(
            Node::Case {
                whens: typed,
                otherwise,
            },
            ty,
        ))
    }

    fn array(&mut self, elements: &[Expr]) -> PlanResult<TExpr> {
        if elements.is_empty() {
            return plan_err!(
                "Array constructor cannot be empty. Please supply at least one element (see https://github.com/confluentinc/ksql/issues/4239)."
            );
        }
        let items = elements
            .iter()
            .map(|e| self.bind(e))
            .collect::<PlanResult<Vec<_>>>()?;
        let texts: Vec<String> = elements.iter().map(sql_text).collect();
        let coerced = super::coercion::coerce_list(items, &texts).map_err(PlanError::Invalid)?;
        let ty = coerced.ty.ok_or_else(|| PlanError::Invalid("Cannot construct an array with all NULL elements (see https://github.com/confluentinc/ksql/issues/4239). As a workaround, you may cast a NULL value to the desired type.".into()))?;
        Ok(TExpr::new(
            Node::ArrayCtor(coerced.items),
            SqlType::array(ty),
        ))
    }

    fn function(&mut self, f: &Function) -> PlanResult<TExpr> {
        let name = f.name.to_string().to_ascii_uppercase();
        let args = match &f.args {
            FunctionArguments::List(list) => list.args.clone(),
            FunctionArguments::None => Vec::new(),
            FunctionArguments::Subquery(_) => return plan_err!("subqueries are not supported"),
        };
        match name.as_str() {
            "STRUCT" => return self.struct_ctor(&args),
            "MAP" => return self.map_ctor(&args),
            "TRANSFORM" | "FILTER" | "REDUCE" => {
                return super::lambda_bind::bind_lambda_call(self, &name, &args);
            }
            _ => {}
        }
        let aggregate = self.aggregates.is_some() && self.functions.is_aggregate(&name);
        const NESTED: &str = "Aggregate functions can not be nested";
        if aggregate && self.aggregates.as_ref().is_some_and(|a| a.within_call) {
            return plan_err!("{NESTED}");
        }
        if let (true, Some(a)) = (aggregate, self.aggregates.as_mut()) {
            a.within_call = true;
        }
        let bound = self.bind_args(&args);
        if let (true, Some(a)) = (aggregate, self.aggregates.as_mut()) {
            a.within_call = false;
        }
        let bound = match bound {
            Err(PlanError::Invalid(m)) if aggregate && m == NESTED => {
                return plan_err!("{NESTED}: {}", sql_text_of_call(f));
            }
            other => other?,
        };
        if aggregate {
            return self.aggregate_call(&name, bound);
        }
        self.call(&name, bound)
    }

    fn bind_args(&mut self, args: &[FunctionArg]) -> PlanResult<Vec<TExpr>> {
        let mut bound = Vec::with_capacity(args.len());
        for arg in args {
            match arg {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => bound.push(self.bind_arg(e)?),
                FunctionArg::Unnamed(FunctionArgExpr::Wildcard) => {}
                other => return plan_err!("unsupported function argument '{other}'"),
            }
        }
        Ok(bound)
    }

    /// An aggregate call: resolved, recorded, and replaced by its placeholder column.
    fn aggregate_call(&mut self, name: &str, args: Vec<TExpr>) -> PlanResult<TExpr> {
        let types: Vec<SqlType> = args.iter().map(|a| a.ty.clone()).collect();
        let literals: Vec<Option<Value>> = args
            .iter()
            .map(|a| match &a.node {
                Node::Literal(v) => Some(v.clone()),
                _ => None,
            })
            .collect();
        let texts: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let call_args = crate::plan::aggregates::CallArgs {
            types: &types,
            literals: &literals,
            texts: &texts,
            config: Some(self.functions.config()),
        };
        let resolved = match self.functions.resolve_aggregate(name, &call_args) {
            Some(r) => r.map_err(PlanError::Invalid)?,
            None => return plan_err!("Can't find any functions with the name '{name}'"),
        };
        let args = args
            .into_iter()
            .zip(&resolved.arg_types)
            .map(|(a, t)| retype_null(a, t).cast_to(t))
            .collect();
        let Some(calls) = self.aggregates.as_mut() else {
            return plan_err!("Aggregate functions are not supported in this query: {name}");
        };
        let n = calls.calls.len();
        let ty = resolved.ret.clone();
        calls.calls.push((resolved, args));
        let node = Node::Column {
            index: AggregateCalls::placeholder_index(n),
            name: format!("KSQL_AGG_VARIABLE_{n}"),
        };
        Ok(TExpr::new(node, ty))
    }

    /// A function argument; a bare time unit (`DATEADD(DAYS, ...)`) becomes its name as text.
    fn bind_arg(&mut self, e: &Expr) -> PlanResult<TExpr> {
        match (self.bind(e), e) {
            (Err(PlanError::UnknownColumn(_)), Expr::Identifier(ident))
                if ident.quote_style.is_none() && is_time_unit(&ident.value) =>
            {
                Ok(TExpr::literal(
                    Value::String(ident.value.to_ascii_uppercase()),
                    SqlType::String,
                ))
            }
            (result, _) => result,
        }
    }

    pub fn call(&mut self, name: &str, args: Vec<TExpr>) -> PlanResult<TExpr> {
        let Some(function) = self.functions.get(name) else {
            if self.functions.is_aggregate(name) {
                return plan_err!("Aggregate functions are not supported in this query: {name}");
            }
            return plan_err!("Can't find any functions with the name '{name}'");
        };
        let types: Vec<Arg> = args
            .iter()
            .map(|a| (!a.is_null_literal()).then(|| a.ty.clone()))
            .collect();
        let resolved = function.resolve(&types).map_err(PlanError::Invalid)?;
        let args = args
            .into_iter()
            .zip(&resolved.args)
            .map(|(a, t)| retype_null(a, t).cast_to(t))
            .collect();
        Ok(TExpr::new(Node::Call { function, args }, resolved.ret))
    }

    fn struct_ctor(&mut self, args: &[FunctionArg]) -> PlanResult<TExpr> {
        let mut fields: Vec<(String, TExpr)> = Vec::new();
        for arg in args {
            let (name, value) = match arg {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::BinaryOp {
                    left,
                    op: BinaryOperator::Custom(op),
                    right,
                })) if op == ":=" => match &**left {
                    Expr::Identifier(ident) => (ident_name(ident), self.bind(right)?),
                    other => {
                        return plan_err!("STRUCT field names must be identifiers, not '{other}'");
                    }
                },
                FunctionArg::Named {
                    name,
                    arg: FunctionArgExpr::Expr(e),
                    ..
                } => (ident_name(name), self.bind(e)?),
                other => {
                    return plan_err!("STRUCT arguments must be 'name := value', not '{other}'");
                }
            };
            if fields.iter().any(|(n, _)| n == &name) {
                return plan_err!("Duplicate field names found in STRUCT: '{name}'");
            }
            if value.is_null_literal() {
                return plan_err!(
                    "Cannot infer the type of NULL for STRUCT field '{name}'; cast it to the desired type."
                );
            }
            fields.push((name, value));
        }
        let ty = SqlType::Struct(
            fields
                .iter()
                .map(|(n, v)| StructField {
                    name: n.clone(),
                    sql_type: v.ty.clone(),
                })
                .collect(),
        );
        Ok(TExpr::new(Node::StructCtor(fields), ty))
    }

    fn map_ctor(&mut self, args: &[FunctionArg]) -> PlanResult<TExpr> {
        let (mut keys, mut values) = (Vec::new(), Vec::new());
        let (mut key_texts, mut value_texts) = (Vec::new(), Vec::new());
        for arg in args {
            match arg {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::BinaryOp {
                    left,
                    op: BinaryOperator::Custom(op),
                    right,
                })) if op == ":=" => {
                    keys.push(self.bind(left)?);
                    values.push(self.bind(right)?);
                    key_texts.push(sql_text(left));
                    value_texts.push(sql_text(right));
                }
                other => return plan_err!("MAP arguments must be 'key := value', not '{other}'"),
            }
        }
        if keys.is_empty() {
            return plan_err!(
                "Map constructor cannot be empty. Please supply at least one key value pair (see https://github.com/confluentinc/ksql/issues/4239)."
            );
        }
        let keys = super::coercion::coerce_list(keys, &key_texts).map_err(PlanError::Invalid)?;
        let values =
            super::coercion::coerce_list(values, &value_texts).map_err(PlanError::Invalid)?;
        let key_type = keys.ty.ok_or_else(|| PlanError::Invalid("Cannot construct a map with all NULL keys (see https://github.com/confluentinc/ksql/issues/4239). As a workaround, you may cast a NULL key to the desired type.".into()))?;
        let value_type = values.ty.ok_or_else(|| PlanError::Invalid("Cannot construct a map with all NULL values (see https://github.com/confluentinc/ksql/issues/4239). As a workaround, you may cast a NULL value to the desired type.".into()))?;
        Ok(TExpr::new(
            Node::MapCtor(keys.items.into_iter().zip(values.items).collect()),
            SqlType::map(key_type, value_type),
        ))
    }

    /// Binds a lambda body with `params` in scope.
    pub fn bind_lambda(
        &mut self,
        lambda: &LambdaFunction,
        params: &[SqlType],
    ) -> PlanResult<TExpr> {
        let names: Vec<String> = match &lambda.params {
            sqlparser::ast::OneOrManyWithParens::One(p) => vec![ident_name(&p.name)],
            sqlparser::ast::OneOrManyWithParens::Many(ps) => {
                ps.iter().map(|p| ident_name(&p.name)).collect()
            }
        };
        if names.len() != params.len() {
            return plan_err!(
                "the lambda takes {} parameters here, not {}",
                params.len(),
                names.len()
            );
        }
        let depth = self.lambda_vars.len();
        self.lambda_vars
            .extend(names.iter().cloned().zip(params.iter().cloned()));
        let body = self.bind(&lambda.body);
        self.lambda_vars.truncate(depth);
        let body = body?;
        let ty = body.ty.clone();
        Ok(TExpr::new(
            Node::Lambda {
                params: names,
                body: Box::new(body),
            },
            ty,
        ))
    }
}

fn is_time_unit(word: &str) -> bool {
    let w = word.to_ascii_uppercase();
    ["MILLISECOND", "SECOND", "MINUTE", "HOUR", "DAY"].contains(&w.trim_end_matches('S'))
}

/// Whether ksqlDB allows `CAST(x AS to)` for `x` of type `from`.
fn castable(from: &SqlType, to: &SqlType) -> bool {
    use SqlType::*;
    match (from, to) {
        (a, b) if a == b => true,
        (_, String) => true,
        (String, Boolean | Int | Bigint | Double | Decimal { .. } | Timestamp | Date | Time) => {
            true
        }
        (a, b) if a.is_numeric() && b.is_numeric() => true,
        (Boolean, Boolean) => true,
        (Timestamp, Date | Time) | (Date, Timestamp) => true,
        (Array(a), Array(b)) => castable(a, b),
        (Map(ka, va), Map(kb, vb)) => castable(ka, kb) && castable(va, vb),
        (Struct(_), Struct(_)) => true,
        _ => false,
    }
}

fn expect_boolean(e: TExpr, context: &str) -> PlanResult<TExpr> {
    if e.ty == SqlType::Boolean || e.is_null_literal() {
        Ok(retype_null(e, &SqlType::Boolean))
    } else {
        plan_err!("{context} operand must be BOOLEAN, not {} ({})", e.ty, e)
    }
}

/// An untyped NULL literal takes type `ty`; anything else is unchanged.
pub fn retype_null(e: TExpr, ty: &SqlType) -> TExpr {
    if e.is_null_literal() {
        TExpr::literal(Value::Null, ty.clone())
    } else {
        e
    }
}

/// A comparison operand in the NULL-comparison error: NULL, or the operand's type.
fn null_text(e: &TExpr) -> String {
    if e.is_null_literal() {
        "NULL".into()
    } else {
        e.ty.to_string()
    }
}

fn wider_numeric(a: &SqlType, b: &SqlType) -> SqlType {
    use SqlType::*;
    match (a, b) {
        (Double, _) | (_, Double) => Double,
        (
            Decimal {
                precision: p1,
                scale: s1,
            },
            Decimal {
                precision: p2,
                scale: s2,
            },
        ) => {
            let scale = (*s1).max(*s2);
            let int_digits = (i16::from(*p1) - i16::from(*s1)).max(i16::from(*p2) - i16::from(*s2));
            SqlType::decimal((int_digits + i16::from(scale)).clamp(1, 38) as u8, scale)
        }
        (Decimal { .. }, _) | (_, Decimal { .. }) => {
            wider_numeric(&a.as_decimal(), &b.as_decimal())
        }
        (Bigint, _) | (_, Bigint) => Bigint,
        _ => Int,
    }
}

trait DecimalExt {
    fn as_decimal(&self) -> SqlType;
}

impl DecimalExt for SqlType {
    fn as_decimal(&self) -> SqlType {
        match self {
            SqlType::Int => SqlType::decimal(10, 0),
            SqlType::Bigint => SqlType::decimal(19, 0),
            other => other.clone(),
        }
    }
}

/// Types both sides of a comparison to comparable types, or explains why they are not.
fn comparable(
    l: TExpr,
    op: CmpOp,
    r: TExpr,
    left: &Expr,
    right: &Expr,
) -> PlanResult<(TExpr, TExpr)> {
    use SqlType::*;
    let equality = matches!(
        op,
        CmpOp::Eq | CmpOp::NotEq | CmpOp::IsDistinctFrom | CmpOp::IsNotDistinctFrom
    );
    let ok = match (&l.ty, &r.ty) {
        (a, b) if a.is_numeric() && b.is_numeric() => {
            let wide = wider_numeric(a, b);
            return Ok(if matches!(wide, Decimal { .. }) {
                (l, r)
            } else {
                (l.cast_to(&wide), r.cast_to(&wide))
            });
        }
        // ksqlDB's "magic" timestamp conversion: ROWTIME, WINDOWSTART or WINDOWEND compared
        // with a timestamp string.
        (Bigint, String) if is_rowtime(&l) && matches!(r.node, Node::Literal(_)) => {
            return Ok((l, rowtime_literal(r)?));
        }
        (String, Bigint) if is_rowtime(&r) && matches!(l.node, Node::Literal(_)) => {
            return Ok((rowtime_literal(l)?, r));
        }
        (String, Timestamp | Date | Time) => return Ok((l.clone().cast_to(&r.ty), r)),
        (Timestamp | Date | Time, String) => {
            let ty = l.ty.clone();
            return Ok((l, r.cast_to(&ty)));
        }
        (Timestamp, Date) | (Date, Timestamp) => true,
        (Boolean, Boolean) => equality,
        (Array(_), Array(_)) | (Map(..), Map(..)) | (Struct(_), Struct(_)) => {
            equality && l.ty == r.ty
        }
        (a, b) => a == b,
    };
    if ok {
        return Ok((l, r));
    }
    let name = match op {
        CmpOp::Eq => "EQUAL",
        CmpOp::NotEq => "NOT_EQUAL",
        CmpOp::Lt => "LESS_THAN",
        CmpOp::LtEq => "LESS_THAN_OR_EQUAL",
        CmpOp::Gt => "GREATER_THAN",
        CmpOp::GtEq => "GREATER_THAN_OR_EQUAL",
        CmpOp::IsDistinctFrom => "IS_DISTINCT_FROM",
        CmpOp::IsNotDistinctFrom => "IS_NOT_DISTINCT_FROM",
    };
    plan_err!(
        "Cannot compare {} ({}) to {} ({}) with {name}.",
        sql_text(left),
        l.ty,
        sql_text(right),
        r.ty
    )
}

/// ROWTIME and the window bounds: BIGINT columns that ksqlDB compares with timestamp strings.
fn is_rowtime(e: &TExpr) -> bool {
    use crate::plan::schema::{ROWTIME, WINDOWEND, WINDOWSTART};
    matches!(&e.node, Node::Column { name, .. } if [ROWTIME, WINDOWSTART, WINDOWEND].contains(&name.as_str()))
}

/// A timestamp string compared with ROWTIME, as epoch milliseconds.
fn rowtime_literal(e: TExpr) -> PlanResult<TExpr> {
    let Node::Literal(Value::String(s)) = &e.node else {
        return Ok(e);
    };
    let ms = super::time::parse_timestamp_lenient(s).map_err(PlanError::Invalid)?;
    Ok(TExpr::literal(Value::Bigint(ms), SqlType::Bigint))
}

/// A function call as ksqlDB prints it in messages.
fn sql_text_of_call(f: &Function) -> String {
    super::format::ksql_text(&Expr::Function(f.clone()))
}

/// An expression as ksqlDB prints it in messages.
fn sql_text(e: &Expr) -> String {
    super::format::ksql_text(e)
}

fn arithmetic(op: ArithOp, l: TExpr, r: TExpr) -> PlanResult<TExpr> {
    use SqlType::*;
    let sym = op.symbol();
    // A NULL literal has no type to do arithmetic in (ksqlDB refuses it too).
    if l.is_null_literal() || r.is_null_literal() {
        let name = |e: &TExpr| match e.is_null_literal() {
            true => "null".to_string(),
            false => e.ty.to_string(),
        };
        return plan_err!(
            "Error processing expression: ({l} {sym} {r}). Arithmetic on types {} and {} are not supported.",
            name(&l),
            name(&r)
        );
    }
    if op == ArithOp::Add && l.ty == String && r.ty == String {
        return Ok(TExpr::new(Node::Concat(Box::new(l), Box::new(r)), String));
    }
    if !l.ty.is_numeric() || !r.ty.is_numeric() {
        return plan_err!(
            "Error processing expression: ({l} {sym} {r}). Unsupported arithmetic types. {} {}",
            l.ty.base_name(),
            r.ty.base_name()
        );
    }
    let ty = match wider_numeric(&l.ty, &r.ty) {
        Decimal { .. } => {
            let (
                Decimal {
                    precision: p1,
                    scale: s1,
                },
                Decimal {
                    precision: p2,
                    scale: s2,
                },
            ) = (l.ty.as_decimal(), r.ty.as_decimal())
            else {
                return plan_err!("Unsupported arithmetic types. {} {}", l.ty, r.ty);
            };
            let ty = decimal::result_type(op, (p1, s1), (p2, s2));
            let (lt, rt) = (l.ty.as_decimal(), r.ty.as_decimal());
            return Ok(TExpr::new(
                Node::Arith {
                    op,
                    left: Box::new(l.cast_to(&lt)),
                    right: Box::new(r.cast_to(&rt)),
                },
                ty,
            ));
        }
        wide => wide,
    };
    Ok(TExpr::new(
        Node::Arith {
            op,
            left: Box::new(l.cast_to(&ty)),
            right: Box::new(r.cast_to(&ty)),
        },
        ty,
    ))
}

/// Types a literal as ksqlDB does: `12` INT (BIGINT if large), `1.5` DECIMAL, `1e3` DOUBLE;
/// `negative` when a minus sign precedes a number.
fn literal(v: &ValueWithSpan, negative: bool) -> PlanResult<TExpr> {
    Ok(match &v.value {
        SqlValue::Number(n, _) => {
            let text = if negative { format!("-{n}") } else { n.clone() };
            number_literal(&text).map_err(|message| {
                // ksqlDB reports these one column right of the literal's first character.
                let start = v.span.start;
                PlanError::Invalid(format!(
                    "Failed to prepare statement: line {}:{}: {message}",
                    start.line,
                    start.column + 1
                ))
            })?
        }
        SqlValue::SingleQuotedString(s) => {
            TExpr::literal(Value::String(s.clone()), SqlType::String)
        }
        SqlValue::Boolean(b) => TExpr::literal(Value::Boolean(*b), SqlType::Boolean),
        SqlValue::Null => TExpr::new(Node::UntypedNull, SqlType::String),
        other => return plan_err!("unsupported literal {other}"),
    })
}

/// A number literal's value and type; the error says why it is not a valid number.
fn number_literal(n: &str) -> Result<TExpr, String> {
    if n.contains(['e', 'E']) {
        let d: f64 = n
            .parse()
            .map_err(|_| format!("Invalid numeric literal: {n}"))?;
        if d.is_infinite() {
            return Err(format!("Number overflows DOUBLE: {n}"));
        }
        return Ok(TExpr::literal(Value::Double(d), SqlType::Double));
    }
    if n.contains('.') {
        let (unscaled, scale) = decimal::parse(n)?;
        let digits = unscaled
            .unsigned_abs()
            .to_string()
            .len()
            .max(scale as usize)
            .max(1);
        return Ok(TExpr::literal(
            Value::Decimal(unscaled, scale),
            SqlType::decimal(digits.min(38) as u8, scale),
        ));
    }
    if let Ok(i) = n.parse::<i32>() {
        return Ok(TExpr::literal(Value::Int(i), SqlType::Int));
    }
    n.parse::<i64>()
        .map(|b| TExpr::literal(Value::Bigint(b), SqlType::Bigint))
        .map_err(|_| format!("Invalid numeric literal: {n}"))
}

fn negate_literal(v: &Value) -> PlanResult<Value> {
    Ok(match v {
        Value::Int(x) => Value::Int(x.wrapping_neg()),
        Value::Bigint(x) => Value::Bigint(x.wrapping_neg()),
        Value::Double(x) => Value::Double(-x),
        Value::Decimal(x, s) => Value::Decimal(-x, *s),
        Value::Null => Value::Null,
        other => return plan_err!("cannot negate {other:?}"),
    })
}
