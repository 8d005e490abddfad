//! The typed expression IR the binder produces. It is lowered to DataFusion physical
//! expressions (`physical.rs`) for batches and interpreted row by row (`eval.rs`) inside lambdas
//! and for literal rows; both follow the same ksqlDB semantics.

use super::super::functions::ScalarFunction;
use crate::common::{SqlType, Value};
use std::fmt;
use std::sync::Arc;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

impl ArithOp {
    /// The operator as written in SQL.
    pub fn symbol(self) -> &'static str {
        match self {
            ArithOp::Add => "+",
            ArithOp::Sub => "-",
            ArithOp::Mul => "*",
            ArithOp::Div => "/",
            ArithOp::Mod => "%",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CmpOp {
    Eq,
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
    IsDistinctFrom,
    IsNotDistinctFrom,
}

/// A typed expression node.
#[derive(Clone)]
pub struct TExpr {
    pub node: Node,
    pub ty: SqlType,
}

#[derive(Clone)]
pub enum Node {
    /// A column of the input batch, by position.
    Column {
        index: usize,
        name: String,
    },
    /// A lambda parameter, by position in the lambda environment (outermost first).
    LambdaVar {
        index: usize,
        name: String,
    },
    Literal(Value),
    /// `NULL` written without a type; binding gives it one from its context.
    UntypedNull,
    Arith {
        op: ArithOp,
        left: Box<TExpr>,
        right: Box<TExpr>,
    },
    /// `STRING + STRING`: Java concatenation (NULL becomes "null").
    Concat(Box<TExpr>, Box<TExpr>),
    /// Comparisons; a NULL operand gives FALSE.
    Compare {
        op: CmpOp,
        left: Box<TExpr>,
        right: Box<TExpr>,
    },
    And(Box<TExpr>, Box<TExpr>),
    Or(Box<TExpr>, Box<TExpr>),
    Not(Box<TExpr>),
    IsNull {
        expr: Box<TExpr>,
        negated: bool,
    },
    Negate(Box<TExpr>),
    Case {
        whens: Vec<(TExpr, TExpr)>,
        otherwise: Option<Box<TExpr>>,
    },
    Cast(Box<TExpr>),
    InList {
        expr: Box<TExpr>,
        list: Vec<TExpr>,
        negated: bool,
    },
    Like {
        expr: Box<TExpr>,
        pattern: Box<TExpr>,
        escape: Option<char>,
        negated: bool,
    },
    Call {
        function: Arc<dyn ScalarFunction>,
        args: Vec<TExpr>,
    },
    /// `array[i]` (1-based, negative from the end) or `map[key]`.
    Subscript {
        expr: Box<TExpr>,
        index: Box<TExpr>,
    },
    /// `struct->field`.
    Field {
        expr: Box<TExpr>,
        name: String,
    },
    ArrayCtor(Vec<TExpr>),
    MapCtor(Vec<(TExpr, TExpr)>),
    StructCtor(Vec<(String, TExpr)>),
    /// A higher-order function (TRANSFORM, FILTER, REDUCE) with lambdas in `args`.
    LambdaCall {
        name: String,
        args: Vec<TExpr>,
    },
    /// `(a, b) => body`; only as an argument of a `LambdaCall`.
    Lambda {
        params: Vec<String>,
        body: Box<TExpr>,
    },
}

impl TExpr {
    pub fn new(node: Node, ty: SqlType) -> TExpr {
        TExpr { node, ty }
    }

    pub fn literal(value: Value, ty: SqlType) -> TExpr {
        TExpr::new(Node::Literal(value), ty)
    }

    /// Wraps in a CAST unless already of type `to`.
    pub fn cast_to(self, to: &SqlType) -> TExpr {
        if &self.ty == to {
            self
        } else {
            TExpr::new(Node::Cast(Box::new(self)), to.clone())
        }
    }

    /// An untyped `NULL` literal (a typed one, e.g. `CAST(NULL AS INT)`, is not).
    /// The direct sub-expressions.
    pub fn children(&self) -> Vec<&TExpr> {
        match &self.node {
            Node::Column { .. } | Node::LambdaVar { .. } | Node::Literal(_) | Node::UntypedNull => {
                Vec::new()
            }
            Node::Arith { left, right, .. }
            | Node::Compare { left, right, .. }
            | Node::Concat(left, right)
            | Node::And(left, right)
            | Node::Or(left, right) => vec![left, right],
            Node::Not(e)
            | Node::IsNull { expr: e, .. }
            | Node::Negate(e)
            | Node::Cast(e)
            | Node::Field { expr: e, .. }
            | Node::Lambda { body: e, .. } => vec![e],
            Node::Case { whens, otherwise } => whens
                .iter()
                .flat_map(|(w, t)| [w, t])
                .chain(otherwise.as_deref())
                .collect(),
            Node::InList { expr, list, .. } => std::iter::once(&**expr).chain(list).collect(),
            Node::Like { expr, pattern, .. } => vec![expr, pattern],
            Node::Call { args, .. } | Node::LambdaCall { args, .. } | Node::ArrayCtor(args) => {
                args.iter().collect()
            }
            Node::Subscript { expr, index } => vec![expr, index],
            Node::MapCtor(entries) => entries.iter().flat_map(|(k, v)| [k, v]).collect(),
            Node::StructCtor(fields) => fields.iter().map(|(_, v)| v).collect(),
        }
    }

    /// Rebuilds the expression with each direct sub-expression replaced by `f(child)`.
    pub fn try_map_children<E>(
        self,
        f: &mut dyn FnMut(TExpr) -> Result<TExpr, E>,
    ) -> Result<TExpr, E> {
        let node = match self.node {
            leaf @ (Node::Column { .. }
            | Node::LambdaVar { .. }
            | Node::Literal(_)
            | Node::UntypedNull) => leaf,
            Node::Arith { op, left, right } => Node::Arith {
                op,
                left: boxed(f, *left)?,
                right: boxed(f, *right)?,
            },
            Node::Compare { op, left, right } => Node::Compare {
                op,
                left: boxed(f, *left)?,
                right: boxed(f, *right)?,
            },
            Node::Concat(l, r) => Node::Concat(boxed(f, *l)?, boxed(f, *r)?),
            Node::And(l, r) => Node::And(boxed(f, *l)?, boxed(f, *r)?),
            Node::Or(l, r) => Node::Or(boxed(f, *l)?, boxed(f, *r)?),
            Node::Not(e) => Node::Not(boxed(f, *e)?),
            Node::IsNull { expr, negated } => Node::IsNull {
                expr: boxed(f, *expr)?,
                negated,
            },
            Node::Negate(e) => Node::Negate(boxed(f, *e)?),
            Node::Cast(e) => Node::Cast(boxed(f, *e)?),
            Node::Field { expr, name } => Node::Field {
                expr: boxed(f, *expr)?,
                name,
            },
            Node::Lambda { params, body } => Node::Lambda {
                params,
                body: boxed(f, *body)?,
            },
            Node::Case { whens, otherwise } => Node::Case {
                whens: whens
                    .into_iter()
                    .map(|(w, t)| Ok((f(w)?, f(t)?)))
                    .collect::<Result<_, E>>()?,
                otherwise: otherwise.map(|e| boxed(f, *e)).transpose()?,
            },
            Node::InList {
                expr,
                list,
                negated,
            } => Node::InList {
                expr: boxed(f, *expr)?,
                list: list.into_iter().map(&mut *f).collect::<Result<_, E>>()?,
                negated,
            },
            Node::Like {
                expr,
                pattern,
                escape,
                negated,
            } => Node::Like {
                expr: boxed(f, *expr)?,
                pattern: boxed(f, *pattern)?,
                escape,
                negated,
            },
            Node::Call { function, args } => Node::Call {
                function,
                args: args.into_iter().map(&mut *f).collect::<Result<_, E>>()?,
            },
            Node::LambdaCall { name, args } => Node::LambdaCall {
                name,
                args: args.into_iter().map(&mut *f).collect::<Result<_, E>>()?,
            },
            Node::ArrayCtor(items) => {
                Node::ArrayCtor(items.into_iter().map(&mut *f).collect::<Result<_, E>>()?)
            }
            Node::Subscript { expr, index } => Node::Subscript {
                expr: boxed(f, *expr)?,
                index: boxed(f, *index)?,
            },
            Node::MapCtor(entries) => Node::MapCtor(
                entries
                    .into_iter()
                    .map(|(k, v)| Ok((f(k)?, f(v)?)))
                    .collect::<Result<_, E>>()?,
            ),
            Node::StructCtor(fields) => Node::StructCtor(
                fields
                    .into_iter()
                    .map(|(n, v)| Ok((n, f(v)?)))
                    .collect::<Result<_, E>>()?,
            ),
        };
        Ok(TExpr { node, ty: self.ty })
    }

    /// The input columns (batch positions) the expression reads, in first-use order.
    pub fn column_indices(&self) -> Vec<usize> {
        let mut out = Vec::new();
        let mut stack = vec![self];
        while let Some(e) = stack.pop() {
            if let Node::Column { index, .. } = &e.node
                && !out.contains(index)
            {
                out.push(*index);
            }
            stack.extend(e.children().into_iter().rev());
        }
        out
    }

    pub fn is_null_literal(&self) -> bool {
        matches!(self.node, Node::UntypedNull)
    }
}

/// `f` applied to a boxed sub-expression.
fn boxed<E>(f: &mut dyn FnMut(TExpr) -> Result<TExpr, E>, e: TExpr) -> Result<Box<TExpr>, E> {
    Ok(Box::new(f(e)?))
}

impl fmt::Display for CmpOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CmpOp::Eq => "=",
            CmpOp::NotEq => "<>",
            CmpOp::Lt => "<",
            CmpOp::LtEq => "<=",
            CmpOp::Gt => ">",
            CmpOp::GtEq => ">=",
            CmpOp::IsDistinctFrom => "IS DISTINCT FROM",
            CmpOp::IsNotDistinctFrom => "IS NOT DISTINCT FROM",
        })
    }
}

impl fmt::Display for TExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.node {
            Node::Column { name, .. } | Node::LambdaVar { name, .. } => write!(f, "{name}"),
            Node::Literal(v) => write!(f, "{}", super::eval::literal_text(v)),
            Node::UntypedNull => f.write_str("null"),
            Node::Arith { op, left, right } => write!(f, "({left} {} {right})", op.symbol()),
            Node::Concat(l, r) => write!(f, "({l} + {r})"),
            Node::Compare { op, left, right } => write!(f, "({left} {op} {right})"),
            Node::And(l, r) => write!(f, "({l} AND {r})"),
            Node::Or(l, r) => write!(f, "({l} OR {r})"),
            Node::Not(e) => write!(f, "(NOT {e})"),
            Node::IsNull { expr, negated } => {
                write!(f, "({expr} IS {}NULL)", if *negated { "NOT " } else { "" })
            }
            Node::Negate(e) => write!(f, "-{e}"),
            Node::Case { whens, otherwise } => {
                f.write_str("(CASE")?;
                for (w, t) in whens {
                    write!(f, " WHEN {w} THEN {t}")?;
                }
                if let Some(o) = otherwise {
                    write!(f, " ELSE {o}")?;
                }
                f.write_str(" END)")
            }
            Node::Cast(e) => write!(f, "CAST({e} AS {})", self.ty),
            Node::InList {
                expr,
                list,
                negated,
            } => {
                let items: Vec<String> = list.iter().map(|e| e.to_string()).collect();
                write!(
                    f,
                    "({expr} {}IN ({}))",
                    if *negated { "NOT " } else { "" },
                    items.join(", ")
                )
            }
            Node::Like {
                expr,
                pattern,
                negated,
                ..
            } => write!(
                f,
                "({expr} {}LIKE {pattern})",
                if *negated { "NOT " } else { "" }
            ),
            Node::Call { function, args } => write!(f, "{}({})", function.name(), join(args)),
            Node::LambdaCall { name, args } => write!(f, "{name}({})", join(args)),
            Node::Subscript { expr, index } => write!(f, "{expr}[{index}]"),
            Node::Field { expr, name } => write!(f, "{expr}->{name}"),
            Node::ArrayCtor(items) => write!(f, "ARRAY[{}]", join(items)),
            Node::MapCtor(entries) => {
                let items: Vec<String> = entries.iter().map(|(k, v)| format!("{k}:={v}")).collect();
                write!(f, "MAP({})", items.join(", "))
            }
            Node::StructCtor(fields) => {
                let items: Vec<String> = fields.iter().map(|(k, v)| format!("{k}:={v}")).collect();
                write!(f, "STRUCT({})", items.join(", "))
            }
            Node::Lambda { params, body } => write!(f, "({}) => {body}", params.join(", ")),
        }
    }
}

fn join(items: &[TExpr]) -> String {
    items
        .iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
