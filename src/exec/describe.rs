//! What a query's operator graph is, for EXPLAIN, without building it: the operators
//! `exec::physical` makes of a logical tree, in the order the driver runs them (each after its
//! inputs), with their inputs, the state stores they open and those stores' changelog topics.
//! Nothing is opened, created or run. Each operator's line and stores come from its type's
//! description of a node (`describe_node`, `stores_of`, ...), the functions its
//! `Operator::describe` and `Operator::stores` use too, so what EXPLAIN shows is what runs.
//!
//! May import what `exec` does.

use super::aggregate::Aggregator;
use super::operator::StoreDecl;
use super::ops::{
    FilterOp, MaterializeOp, ProjectOp, RekeyOp, Shown, SubscriberSinkOp, TableFunctionOp,
    TopicSinkOp,
};
use super::query_state::changelog_topic;
use crate::plan::logical::{LogicalPlan, SinkNode, SinkTarget};

/// Where an operator's batches come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// A source's records (the source's name and topic).
    Source { name: String, topic: String },
    /// The operator at this position of the run order.
    Operator(usize),
}

/// One operator of the graph.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OperatorDescription {
    /// Its `Operator::describe`.
    pub text: String,
    pub inputs: Vec<Input>,
    /// Its `Operator::stores`.
    pub stores: Vec<StoreDecl>,
}

/// The operators of `root`'s graph, in the order `exec::physical` adds them and the driver
/// runs them: each after its inputs, from the source to the sink.
pub fn operators(root: &LogicalPlan) -> Vec<OperatorDescription> {
    let mut out = Vec::new();
    walk(root, &mut out);
    out
}

/// The text EXPLAIN shows as the query's processing topology: the logical tree, then the
/// operators with their inputs, stores and the stores' changelog topics
/// (`<changelog_prefix>-<store>-changelog`; a query without a prefix keeps its state in a
/// temporary directory with no changelog).
pub fn topology(root: &LogicalPlan, changelog_prefix: Option<&str>) -> String {
    let mut out = String::from("Logical plan (each node above its inputs):\n");
    out.push_str(&root.tree_text());
    out.push_str("\nOperators, in the order they run (inputs after <-):\n");
    for (i, op) in operators(root).iter().enumerate() {
        let inputs: Vec<String> = op.inputs.iter().map(input_text).collect();
        out.push_str(&format!(
            "[{}] {} <- {}\n",
            i + 1,
            op.text,
            inputs.join(", ")
        ));
        for store in &op.stores {
            let changelog = match changelog_prefix {
                Some(prefix) => format!("changelog topic {}", changelog_topic(prefix, store.name)),
                None => "no changelog (temporary state)".to_string(),
            };
            out.push_str(&format!(
                "      store {} ({}), {changelog}\n",
                store.name, store.layout
            ));
        }
    }
    out
}

fn input_text(input: &Input) -> String {
    match input {
        Input::Source { name, topic } => format!("source {name} (topic {topic})"),
        Input::Operator(i) => format!("[{}]", i + 1),
    }
}

/// Describes `node`'s operator after those of its inputs (as `exec::physical` builds them);
/// where its output goes.
fn walk(node: &LogicalPlan, out: &mut Vec<OperatorDescription>) -> Input {
    let (text, stores) = match node {
        LogicalPlan::Source(n) => {
            return Input::Source {
                name: n.source.name.clone(),
                topic: n.source.topic.clone(),
            };
        }
        LogicalPlan::Filter(n) => (FilterOp::describe_node(n), Vec::new()),
        LogicalPlan::Project(n) => (ProjectOp::describe_node(n), Vec::new()),
        LogicalPlan::TableFunction(n) => (TableFunctionOp::describe_node(n), Vec::new()),
        LogicalPlan::Rekey(n) => (RekeyOp::describe_node(n), Vec::new()),
        LogicalPlan::Aggregate(n) => (Aggregator::describe_node(n), Aggregator::stores_of(n)),
        LogicalPlan::Materialize(_) => (
            MaterializeOp::DESCRIPTION.to_string(),
            MaterializeOp::store_decls(),
        ),
        LogicalPlan::Sink(n) => (sink_text(n), Vec::new()),
        LogicalPlan::Join(_) => (
            format!("{} (joins cannot run yet)", node.describe()),
            Vec::new(),
        ),
    };
    let inputs = node.inputs().into_iter().map(|i| walk(i, out)).collect();
    out.push(OperatorDescription {
        text,
        inputs,
        stores,
    });
    Input::Operator(out.len() - 1)
}

fn sink_text(node: &SinkNode) -> String {
    match &node.target {
        SinkTarget::Topic(sink) => TopicSinkOp::describe_topic(&sink.topic),
        SinkTarget::Subscriber => SubscriberSinkOp::describe_shown(Shown::of(&node.input)),
    }
}
