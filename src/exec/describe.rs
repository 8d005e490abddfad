//! What a query's stages and operators are, for EXPLAIN, without running or opening anything:
//! `exec::physical` plans the tree as it would to run it, except that a stateful operator is a
//! stand-in with the same description and stores (its type's `describe_node` / `stores_of`,
//! which its `Operator::describe` and `Operator::stores` use too), so no state is opened. What
//! EXPLAIN shows is the graph that runs: each stage with its task count, its operators in the
//! order they run, their inputs, their stores and the stores' changelog topics.
//!
//! May import what `exec` does.

use super::aggregate::Aggregator;
use super::graph::Feed;
use super::operator::{Ctx, Operator, OperatorError, StoreDecl};
use super::ops::MaterializeOp;
use super::physical::{self, PhysicalContext, PhysicalError};
use super::query_state::{StateLocation, changelog_topic};
use crate::common::change::ChangeBatch;
use crate::plan::logical::LogicalPlan;

/// Where an operator's batches come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// A source's records (its topic).
    Source { topic: String },
    /// Rows the previous stage exchanged by key.
    Exchange,
    /// The operator at this position of the stage's run order.
    Operator(usize),
}

/// One operator of a stage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OperatorDescription {
    /// Its `Operator::describe`.
    pub text: String,
    pub inputs: Vec<Input>,
    /// Its `Operator::stores`.
    pub stores: Vec<StoreDecl>,
}

/// One stage: how many tasks run it, and its operators in run order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StageDescription {
    pub tasks: usize,
    pub operators: Vec<OperatorDescription>,
}

/// What the planner needs to know of the log: how many partitions the query's source has,
/// and how many an existing changelog topic has.
pub struct LogFacts<'a> {
    pub source_partitions: u32,
    pub changelog_partitions: &'a dyn Fn(&str) -> Option<u32>,
}

/// The stages of `root`'s graph, as `exec::physical` plans them.
pub fn stages(
    root: &LogicalPlan,
    changelog_prefix: Option<&str>,
    facts: &LogFacts<'_>,
) -> Result<Vec<StageDescription>, PhysicalError> {
    let state = StateLocation::Temporary {
        changelog_prefix: changelog_prefix.map(str::to_string),
    };
    let ctx = PhysicalContext {
        query_id: "explain",
        fatal_timestamp_errors: false,
        state: &state,
        source_partitions: facts.source_partitions,
        changelog_partitions: facts.changelog_partitions,
        describe_only: true,
    };
    let plan = physical::plan(root, &ctx)?;
    let topics: Vec<String> = plan.sources.iter().map(|s| s.topic.clone()).collect();
    Ok(plan
        .stages
        .iter()
        .enumerate()
        .map(|(stage, tasks)| StageDescription {
            tasks: tasks.len(),
            operators: tasks.first().map_or_else(Vec::new, |graph| {
                let feeds = graph.feeds();
                graph
                    .operators()
                    .zip(feeds)
                    .map(|(op, feeds)| OperatorDescription {
                        text: op.describe(),
                        inputs: feeds.iter().map(|f| input(f, stage, &topics)).collect(),
                        stores: op.stores(),
                    })
                    .collect()
            }),
        })
        .collect())
}

fn input(feed: &Feed, stage: usize, topics: &[String]) -> Input {
    match feed {
        Feed::Operator(i) => Input::Operator(*i),
        Feed::Input(i) if stage == 0 => Input::Source {
            topic: topics.get(*i).cloned().unwrap_or_default(),
        },
        Feed::Input(_) => Input::Exchange,
    }
}

/// The text EXPLAIN shows as the query's processing topology: the logical tree, then each
/// stage's operators with their inputs, stores and the stores' changelog topics
/// (`<changelog_prefix>-<store>-changelog`; a query without a prefix keeps its state in a
/// temporary directory with no changelog).
pub fn topology(
    root: &LogicalPlan,
    changelog_prefix: Option<&str>,
    facts: &LogFacts<'_>,
) -> String {
    let mut out = String::from("Logical plan (each node above its inputs):\n");
    out.push_str(&root.tree_text());
    let stages = match stages(root, changelog_prefix, facts) {
        Ok(stages) => stages,
        Err(e) => {
            out.push_str(&format!("\nOperators: cannot be planned: {e}\n"));
            return out;
        }
    };
    out.push_str("\nOperators, stage by stage, in the order they run (inputs after <-):\n");
    for (s, stage) in stages.iter().enumerate() {
        let tasks = match stage.tasks {
            1 => "1 task".to_string(),
            n => format!("{n} tasks"),
        };
        out.push_str(&format!("Stage {s} ({tasks}):\n"));
        for (i, op) in stage.operators.iter().enumerate() {
            let inputs: Vec<String> = op.inputs.iter().map(input_text).collect();
            out.push_str(&format!(
                "[{}] {} <- {}\n",
                i + 1,
                op.text,
                inputs.join(", ")
            ));
            for store in &op.stores {
                let changelog = match changelog_prefix {
                    Some(prefix) => {
                        format!("changelog topic {}", changelog_topic(prefix, &store.name))
                    }
                    None => "no changelog (temporary state)".to_string(),
                };
                out.push_str(&format!(
                    "      store {} ({}), {changelog}\n",
                    store.name, store.layout
                ));
            }
        }
    }
    out
}

fn input_text(input: &Input) -> String {
    match input {
        Input::Source { topic } => format!("topic {topic}"),
        Input::Exchange => "exchange from the previous stage".to_string(),
        Input::Operator(i) => format!("[{}]", i + 1),
    }
}

/// A stateful operator's stand-in when a tree is only described: its description and stores,
/// and nothing else (it never runs).
pub(super) struct Described {
    text: String,
    stores: Vec<StoreDecl>,
}

impl Described {
    /// The stand-in of an operator described as `text` with `stores`.
    pub(super) fn new(text: String, stores: Vec<StoreDecl>) -> Described {
        Described { text, stores }
    }

    /// The stand-in of a stateful node (`None` for a stateless one).
    pub(super) fn of(node: &LogicalPlan) -> Option<Described> {
        let (text, stores) = match node {
            LogicalPlan::Aggregate(n) => (Aggregator::describe_node(n), Aggregator::stores_of(n)),
            LogicalPlan::Materialize(_) => (
                MaterializeOp::DESCRIPTION.to_string(),
                MaterializeOp::store_decls(),
            ),
            LogicalPlan::Join(n) => super::join::describe_node(n),
            _ => return None,
        };
        Some(Described { text, stores })
    }
}

impl Operator for Described {
    fn describe(&self) -> String {
        self.text.clone()
    }

    fn stores(&self) -> Vec<StoreDecl> {
        self.stores.clone()
    }

    fn process(
        &mut self,
        _input: usize,
        _batch: ChangeBatch,
        _ctx: &mut Ctx<'_>,
    ) -> Result<(), OperatorError> {
        Err(OperatorError::Internal(format!(
            "{} was planned only to be described",
            self.text
        )))
    }
}
