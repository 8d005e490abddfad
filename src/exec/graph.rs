//! One task's operator graph: operator slots in topological order (every operator after its
//! inputs), each with the edges to its consumers, and the graph's inputs (a source's records,
//! or rows exchanged from the previous stage) with the operators they feed. Routing
//! is depth-first and synchronous: a batch an operator emits is delivered at once to each
//! consumer in edge order, before the operator's next emission — the order in which Kafka
//! Streams' record-at-a-time topology (and so ksqlDB's conformance tests) sees records. The
//! graph knows no particular operator.

use super::operator::{Ctx, Operator, OperatorError, StoreDecl};
use crate::common::change::ChangeBatch;

/// Where a batch goes: an operator slot and which of its inputs it arrives on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Edge {
    pub to: usize,
    pub input: usize,
}

/// What feeds an operator's input: a graph input, or another operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Feed {
    Input(usize),
    Operator(usize),
}

struct Slot {
    op: Box<dyn Operator>,
    outputs: Vec<Edge>,
}

#[derive(Default)]
pub struct Graph {
    slots: Vec<Slot>,
    /// Per input, the operators its batches enter.
    inputs: Vec<Vec<Edge>>,
}

impl Graph {
    /// Adds an operator; its index (it must be added after the operators feeding it).
    pub fn add(&mut self, op: Box<dyn Operator>) -> usize {
        self.slots.push(Slot {
            op,
            outputs: Vec::new(),
        });
        self.slots.len() - 1
    }

    /// Adds an input; its index.
    pub fn add_input(&mut self) -> usize {
        self.inputs.push(Vec::new());
        self.inputs.len() - 1
    }

    /// Connects operator `from`'s output to `edge`.
    pub fn connect(&mut self, from: usize, edge: Edge) {
        if let Some(slot) = self.slots.get_mut(from) {
            slot.outputs.push(edge);
        }
    }

    /// Connects input `input` to `edge`.
    pub fn connect_input(&mut self, input: usize, edge: Edge) {
        if let Some(edges) = self.inputs.get_mut(input) {
            edges.push(edge);
        }
    }

    /// Delivers a batch arriving on input `input` to the operators it feeds, and everything
    /// they emit on.
    pub fn push_input(
        &mut self,
        input: usize,
        batch: ChangeBatch,
        ctx: &mut Ctx<'_>,
    ) -> Result<(), OperatorError> {
        let Some(edges) = self.inputs.get(input).cloned() else {
            return Err(OperatorError::Internal(format!(
                "a batch for input {input} of a graph of {} inputs",
                self.inputs.len()
            )));
        };
        self.deliver(&edges, batch, ctx)
    }

    /// Tells every operator, in topological order, that stream time moved to `time`.
    pub fn stream_time(&mut self, time: i64, ctx: &mut Ctx<'_>) -> Result<(), OperatorError> {
        for i in 0..self.slots.len() {
            self.slots[i].op.on_stream_time(time, ctx)?;
            self.route_emitted(i, ctx)?;
        }
        Ok(())
    }

    /// Lets every operator, in topological order, flush what it buffers before a commit.
    pub fn commit(&mut self, ctx: &mut Ctx<'_>) -> Result<(), OperatorError> {
        for i in 0..self.slots.len() {
            self.slots[i].op.on_commit(ctx)?;
            self.route_emitted(i, ctx)?;
        }
        Ok(())
    }

    /// Re-reads every operator's memory from its stores.
    pub fn open(&mut self) -> Result<(), OperatorError> {
        self.slots.iter_mut().try_for_each(|s| s.op.open())
    }

    /// The operators, in topological order.
    pub fn operators(&self) -> impl Iterator<Item = &dyn Operator> {
        self.slots.iter().map(|s| s.op.as_ref())
    }

    /// For each operator (in topological order), what feeds each of its inputs, in input
    /// order.
    pub fn feeds(&self) -> Vec<Vec<Feed>> {
        let mut feeds: Vec<Vec<(usize, Feed)>> = vec![Vec::new(); self.slots.len()];
        let edges = self
            .inputs
            .iter()
            .enumerate()
            .flat_map(|(i, edges)| edges.iter().map(move |e| (Feed::Input(i), *e)));
        let slots =
            self.slots.iter().enumerate().flat_map(|(from, slot)| {
                slot.outputs.iter().map(move |e| (Feed::Operator(from), *e))
            });
        for (feed, edge) in edges.chain(slots) {
            if let Some(list) = feeds.get_mut(edge.to) {
                list.push((edge.input, feed));
            }
        }
        feeds
            .into_iter()
            .map(|mut list| {
                list.sort_by_key(|(input, _)| *input);
                list.into_iter().map(|(_, feed)| feed).collect()
            })
            .collect()
    }

    /// Every store the operators own.
    pub fn stores(&self) -> Vec<StoreDecl> {
        self.operators().flat_map(|op| op.stores()).collect()
    }

    fn deliver(
        &mut self,
        edges: &[Edge],
        batch: ChangeBatch,
        ctx: &mut Ctx<'_>,
    ) -> Result<(), OperatorError> {
        let Some((last, rest)) = edges.split_last() else {
            return Ok(());
        };
        for edge in rest {
            self.process(*edge, batch.clone(), ctx)?;
        }
        self.process(*last, batch, ctx)
    }

    fn process(
        &mut self,
        edge: Edge,
        batch: ChangeBatch,
        ctx: &mut Ctx<'_>,
    ) -> Result<(), OperatorError> {
        let Some(slot) = self.slots.get_mut(edge.to) else {
            return Err(OperatorError::Internal(format!(
                "an edge to operator {} of a graph of {}",
                edge.to,
                self.slots.len()
            )));
        };
        slot.op.process(edge.input, batch, ctx)?;
        self.route_emitted(edge.to, ctx)
    }

    /// Delivers what operator `from` emitted to its consumers.
    fn route_emitted(&mut self, from: usize, ctx: &mut Ctx<'_>) -> Result<(), OperatorError> {
        let emitted = ctx.take_emitted();
        if emitted.is_empty() {
            return Ok(());
        }
        let edges = self.slots[from].outputs.clone();
        for batch in emitted {
            self.deliver(&edges, batch, ctx)?;
        }
        Ok(())
    }
}
