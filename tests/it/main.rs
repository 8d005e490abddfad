//! End-to-end tests, one crate so they link once (see docs/testing.md).

mod aggregation;
mod aggregation_crash;
mod architecture;
mod bounds;
mod cli;
mod engine_admin;
mod explain;
mod grammar;
mod http_api;
mod http_clients;
mod http_hostile;
mod log_api;
mod log_crash;
mod log_damage;
mod log_recovery;
mod pull_query;
mod push_query;
mod qtt;
mod qtt_rest;
mod restart;
mod state_changelog;
mod step_budget;
mod support;
mod tasks;
mod windowed_source;
mod wrong_values;
