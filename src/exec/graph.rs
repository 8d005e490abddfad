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

/// What edges leave: a graph input, or an operator.
#[derive(Clone, Copy)]
enum Leaving {
    Input(usize),
    Operator(usize),
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
        if input >= self.inputs.len() {
            return Err(OperatorError::Internal(format!(
                "a batch for input {input} of a graph of {} inputs",
                self.inputs.len()
            )));
        }
        self.deliver(Leaving::Input(input), batch, ctx)
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

    /// The edges leaving a graph input or an operator.
    fn edges(&self, from: Leaving) -> &[Edge] {
        let edges = match from {
            Leaving::Input(i) => self.inputs.get(i),
            Leaving::Operator(o) => self.slots.get(o).map(|s| &s.outputs),
        };
        edges.map_or(&[], Vec::as_slice)
    }

    /// Delivers a batch along every edge leaving `from` (a clone shares its columns).
    fn deliver(
        &mut self,
        from: Leaving,
        batch: ChangeBatch,
        ctx: &mut Ctx<'_>,
    ) -> Result<(), OperatorError> {
        let count = self.edges(from).len();
        for k in 0..count {
            let edge = self.edges(from)[k];
            self.process(edge, batch.clone(), ctx)?;
        }
        Ok(())
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
        for batch in emitted {
            self.deliver(Leaving::Operator(from), batch, ctx)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::change_pretty::{from_pretty, to_pretty};
    use crate::exec::operator::{Origin, Outputs};
    use crate::exec::processing_log::MemoryProcessingLog;
    use arrow::array::Int64Array;
    use arrow::datatypes::{DataType, Field, Schema};
    use arrow::record_batch::RecordBatch;
    use std::sync::{Arc, Mutex};

    /// A two-input test operator: each batch it gets comes out as one row `(input, rows)`.
    struct Tags;

    impl Operator for Tags {
        fn describe(&self) -> String {
            "Tags".into()
        }

        fn process(
            &mut self,
            input: usize,
            batch: ChangeBatch,
            ctx: &mut Ctx<'_>,
        ) -> Result<(), OperatorError> {
            let schema = Arc::new(Schema::new(vec![
                Field::new("INPUT", DataType::Int64, false),
                Field::new("ROWS", DataType::Int64, false),
            ]));
            let columns: Vec<arrow::array::ArrayRef> = vec![
                Arc::new(Int64Array::from(vec![input as i64])),
                Arc::new(Int64Array::from(vec![batch.num_rows() as i64])),
            ];
            ctx.emit(ChangeBatch::inserts(RecordBatch::try_new(schema, columns)?));
            Ok(())
        }
    }

    /// A sink that keeps what reaches it, in order.
    struct Keep(Arc<Mutex<Vec<String>>>);

    impl Operator for Keep {
        fn describe(&self) -> String {
            "Keep".into()
        }

        fn process(
            &mut self,
            input: usize,
            batch: ChangeBatch,
            _ctx: &mut Ctx<'_>,
        ) -> Result<(), OperatorError> {
            if let Ok(mut kept) = self.0.lock() {
                kept.push(format!("input {input}:\n{}", to_pretty(&batch).trim_end()));
            }
            Ok(())
        }
    }

    #[test]
    fn a_two_input_operator_gets_each_input_on_its_index_and_its_output_goes_on_at_once() {
        let kept = Arc::new(Mutex::new(Vec::new()));
        let mut graph = Graph::default();
        let (left, right) = (graph.add_input(), graph.add_input());
        let tags = graph.add(Box::new(Tags));
        let keep = graph.add(Box::new(Keep(kept.clone())));
        graph.connect_input(left, Edge { to: tags, input: 0 });
        graph.connect_input(right, Edge { to: tags, input: 1 });
        graph.connect(tags, Edge { to: keep, input: 0 });
        assert_eq!(
            graph.feeds(),
            vec![
                vec![Feed::Input(left), Feed::Input(right)],
                vec![Feed::Operator(tags)]
            ]
        );
        let (mut log, mut outputs) = (MemoryProcessingLog::default(), Outputs::default());
        let origin = Origin::default();
        let mut ctx = Ctx::new("q", &origin, &mut log, &mut outputs);
        let batch = |text: &str| from_pretty(text).expect("batch");
        graph
            .push_input(right, batch("| V:BIGINT |\n| 1 |\n| 2 |"), &mut ctx)
            .expect("right");
        graph
            .push_input(left, batch("| V:BIGINT |\n| 3 |"), &mut ctx)
            .expect("left");
        assert!(
            graph
                .push_input(2, batch("| V:BIGINT |"), &mut ctx)
                .is_err()
        );
        let kept = kept.lock().expect("kept").join("\n");
        insta::assert_snapshot!(kept, @r"
        input 0:
        | op | INPUT:BIGINT | ROWS:BIGINT |
        | +  | 1            | 2           |
        input 0:
        | op | INPUT:BIGINT | ROWS:BIGINT |
        | +  | 0            | 1           |
        ");
    }
}
