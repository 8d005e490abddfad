//! ksqlDB's scalar functions: resolution by argument types (with ksqlDB's implicit widening
//! INT → BIGINT → DECIMAL → DOUBLE) and row-wise invocation. Families live in their own files
//! and register themselves in [`FunctionRegistry::standard`].

mod arrays;
mod arrays_sets;
mod basic;
mod bytes;
mod chars;
pub(crate) mod collections;
mod datetime;
mod datetime_arith;
mod datetime_parse;
mod datetime_pattern;
pub(crate) mod datetime_resolve;
mod datetime_zone;
mod json;
mod json_tree;
mod maps;
mod math;
mod nulls;
mod regexp;
mod regexp_java;

mod rounding;
mod signature;
mod split;
mod string;
#[cfg(test)]
mod test_support;
mod url;

pub use signature::{Arg, Resolved, can_widen, exact, same_type_args};

use crate::common::{SqlType, Value};
use crate::plan::aggregates::{self, CallArgs, ResolvedUdaf};
use std::collections::BTreeMap;
use std::sync::Arc;

/// A scalar function.
pub trait ScalarFunction: Send + Sync {
    fn name(&self) -> &str;
    fn description(&self) -> &str;
    /// Picks the overload for these argument types (`None` is an untyped NULL literal): the
    /// types to cast the arguments to and the return type. `Err` explains the mismatch.
    fn resolve(&self, args: &[Arg]) -> Result<Resolved, String>;
    /// Computes the result for one row. An `Err` fails the expression, or makes the call's
    /// value NULL when it is another function's argument; either way the row is reported.
    fn invoke(&self, args: &[Value]) -> Result<Value, String>;
}

/// A function defined by two plain functions.
pub struct Udf {
    pub name: &'static str,
    pub description: &'static str,
    pub resolve: fn(&[Arg]) -> Result<Resolved, String>,
    pub invoke: fn(&[Value]) -> Result<Value, String>,
}

impl ScalarFunction for Udf {
    fn name(&self) -> &str {
        self.name
    }
    fn description(&self) -> &str {
        self.description
    }
    fn resolve(&self, args: &[Arg]) -> Result<Resolved, String> {
        (self.resolve)(args)
    }
    fn invoke(&self, args: &[Value]) -> Result<Value, String> {
        (self.invoke)(args)
    }
}

/// Every function by upper-case name, scalar and table functions sharing one namespace as in
/// ksqlDB. A table function (UDTF) is a [`ScalarFunction`] whose result is the ARRAY of rows
/// one input row turns into (see `plan::table_functions`).
#[derive(Clone, Default)]
pub struct FunctionRegistry {
    functions: BTreeMap<String, Entry>,
    /// Aggregate functions added to the built-in ones (`register_udaf`), by upper-case name.
    udafs: BTreeMap<String, Arc<UdafResolver>>,
    /// Function settings (`ksql.functions.<name>.<setting>`, e.g. COLLECT_LIST's limit).
    config: BTreeMap<String, String>,
}

/// Resolves an added aggregate function for a call's arguments (its overloads): the
/// accumulator logic, result type and argument types, or the error for arguments it refuses.
pub type UdafResolver = dyn Fn(&CallArgs<'_>) -> Result<ResolvedUdaf, String> + Send + Sync;

#[derive(Clone)]
enum Entry {
    Scalar(Arc<dyn ScalarFunction>),
    Table(Arc<dyn ScalarFunction>),
}

impl FunctionRegistry {
    /// Sets a function setting (`ksql.functions.collect_list.limit` = `10`).
    pub fn set_config(&mut self, name: &str, value: &str) {
        self.config
            .insert(name.to_ascii_lowercase(), value.to_string());
    }

    /// Removes a function setting (back to the default).
    pub fn remove_config(&mut self, name: &str) {
        self.config.remove(&name.to_ascii_lowercase());
    }

    /// The function settings.
    pub fn config(&self) -> &BTreeMap<String, String> {
        &self.config
    }

    /// The standard library.
    pub fn standard() -> FunctionRegistry {
        let mut registry = FunctionRegistry::default();
        basic::register(&mut registry);
        datetime::register(&mut registry);
        json::register(&mut registry);
        arrays::register(&mut registry);
        maps::register(&mut registry);
        string::register(&mut registry);
        split::register(&mut registry);
        chars::register(&mut registry);
        bytes::register(&mut registry);
        regexp::register(&mut registry);
        math::register(&mut registry);
        rounding::register(&mut registry);
        nulls::register(&mut registry);
        url::register(&mut registry);
        crate::plan::table_functions::register(&mut registry);
        registry
    }

    /// Adds (or replaces) an aggregate function next to the built-in ones (which it may not
    /// shadow: a built-in name is refused).
    pub fn register_udaf(&mut self, name: &str, resolver: Arc<UdafResolver>) -> Result<(), String> {
        let name = name.to_ascii_uppercase();
        if aggregates::is_aggregate(&name) || self.functions.contains_key(&name) {
            return Err(format!("a function named {name} already exists"));
        }
        self.udafs.insert(name, resolver);
        Ok(())
    }

    /// Resolves aggregate function `name` (upper case) for a call, built-in or added; `None`
    /// when there is no aggregate function of that name.
    pub fn resolve_aggregate(
        &self,
        name: &str,
        args: &CallArgs<'_>,
    ) -> Option<Result<ResolvedUdaf, String>> {
        if let Some(r) = aggregates::resolve(name, args) {
            return Some(r);
        }
        self.udafs.get(name).map(|resolver| resolver(args))
    }

    /// Whether `name` is an aggregate function, built-in or added.
    pub fn is_aggregate(&self, name: &str) -> bool {
        let name = name.to_ascii_uppercase();
        aggregates::is_aggregate(&name) || self.udafs.contains_key(&name)
    }

    pub fn add(&mut self, f: impl ScalarFunction + 'static) {
        self.insert(Arc::new(f));
    }

    /// Adds (or replaces) a scalar function.
    pub fn insert(&mut self, f: Arc<dyn ScalarFunction>) {
        self.functions
            .insert(f.name().to_ascii_uppercase(), Entry::Scalar(f));
    }

    /// Adds (or replaces) a table function: `resolve` must return an ARRAY type, whose
    /// elements are the output rows.
    pub fn insert_table_function(&mut self, f: Arc<dyn ScalarFunction>) {
        self.functions
            .insert(f.name().to_ascii_uppercase(), Entry::Table(f));
    }

    pub fn table_function(&self, name: &str) -> Option<Arc<dyn ScalarFunction>> {
        match self.functions.get(&name.to_ascii_uppercase())? {
            Entry::Table(f) => Some(f.clone()),
            Entry::Scalar(_) => None,
        }
    }

    pub fn add_udf(
        &mut self,
        name: &'static str,
        description: &'static str,
        resolve: fn(&[Arg]) -> Result<Resolved, String>,
        invoke: fn(&[Value]) -> Result<Value, String>,
    ) {
        self.add(Udf {
            name,
            description,
            resolve,
            invoke,
        });
    }

    pub fn get(&self, name: &str) -> Option<Arc<dyn ScalarFunction>> {
        match self.functions.get(&name.to_ascii_uppercase())? {
            Entry::Scalar(f) => Some(f.clone()),
            Entry::Table(_) => None,
        }
    }

    /// The scalar functions.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<dyn ScalarFunction>> {
        self.functions.values().filter_map(|e| match e {
            Entry::Scalar(f) => Some(f),
            Entry::Table(_) => None,
        })
    }
}

/// The type of a value, for functions whose result depends on their input.
pub fn type_name(t: &SqlType) -> String {
    t.to_string()
}
