//! Unit tests of the stateless operators, the materialize operator and the sinks: each
//! operator of a query planned from SQL (`super::fixture`), fed pretty-printed change batches,
//! its output compared as text with insta.

mod filter;
mod materialize;
mod project;
mod rekey;
mod sink;
mod table_function;
