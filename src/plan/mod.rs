//! Planning: binding statements against the catalog, typing expressions, and building the
//! logical plan of a query (what to read, filter, project, re-key and write).
//!
//! Depends on a [`CatalogView`] trait, not on the engine's catalog (DataFusion's layering).
//!
//! May import: `common`, `sql`, `format`.

pub mod aggregate;
pub mod aggregates;
pub mod ddl;
mod error;
pub mod explain;
pub mod expr;
pub mod functions;
pub mod join;
pub mod logical;
mod logical_build;
mod partition;
pub mod query;
pub mod schema;
mod source;
mod table_functions;
#[cfg(test)]
pub mod testing;
pub mod windowed_source;

pub use error::{PlanError, PlanResult};
pub use query::{Compiled, OutputColumn, QueryKind, QueryPlan, check_projection, plan_query};
pub use source::{CatalogView, SourceDef, TimestampSpec};
