//! `StreamStreamJoinOp` (ADR 0006, §3.1): Kafka Streams' `KStreamKStreamJoin` for both sides
//! of a windowed join of two streams, with its `TimeTracker` kept in a store.
//!
//! Each side's rows wait in a buffer (`state::JoinBuffer`, `<ctx>-Left-Buffer` and
//! `<ctx>-Right-Buffer`) for `before + after + grace` of that buffer's observed time. Per
//! arriving row of side *S* at `t`, in order: (1) when `t` moves the join's time, emit the
//! unmatched rows whose window has closed (GRACE PERIOD only); (2) buffer the row; (3) join it
//! with the other buffer's rows of its key in the window, in (ts, seq) order, ROWTIME the later
//! of the two; (4) an unmatched row of a preserved side is emitted (its own ROWTIME), at once
//! without GRACE PERIOD or when its window is already closed, else kept in `<ctx>-Unmatched`;
//! (5) a NULL key joins nothing: a preserved side emits it alone, otherwise it is reported.
//! Joined and unmatched rows carry the arriving row's ROWPARTITION and ROWOFFSET. The times
//! live in `<ctx>-Time`, so a reopened operator emits what an uninterrupted one would;
//! `on_stream_time` only drops buffered rows no probe can see any more.
//!
//! May import what `exec` does.

mod stores;
#[cfg(test)]
mod tests;
mod window;

use super::{JoinOutput, JoinSpec, Joined, Side, SideReader, StoredRow};
use crate::common::Value;
use crate::common::change::{ChangeBatch, Op};
use crate::exec::operator::{Ctx, Operator, OperatorError, StoreDecl};
use crate::exec::query_state::{QueryState, QueryStateError, TaskSlot};
use crate::state::{ChangelogLayout, JoinBuffer, Store};
use stores::{Times, Unmatched};
pub use window::JoinWindow;

/// Store names, after the join's context (`Join-Left-Buffer`).
const LEFT_BUFFER: &str = "Left-Buffer";
const RIGHT_BUFFER: &str = "Right-Buffer";
const UNMATCHED: &str = "Unmatched";
const TIME: &str = "Time";

pub struct StreamStreamJoinOp {
    spec: JoinSpec,
    window: JoinWindow,
    left: JoinBuffer,
    right: JoinBuffer,
    /// Only for LEFT, RIGHT and FULL joins with a GRACE PERIOD.
    unmatched: Option<Unmatched>,
    time_store: Store,
    times: Times,
    /// The expiry cutoffs last applied to the left and right buffers (memory only: after a
    /// reopen the first expiry reads from the start again).
    expired: [i64; 2],
}

impl StreamStreamJoinOp {
    /// Task `slot`'s join of `spec` within `window` = (before ms, after ms, GRACE PERIOD ms),
    /// over its stores in `state`.
    pub fn new(
        spec: JoinSpec,
        window: (i64, i64, Option<i64>),
        state: &mut QueryState,
        slot: TaskSlot,
    ) -> Result<StreamStreamJoinOp, QueryStateError> {
        let window = JoinWindow::new(spec.kind, window);
        let buffer = |state: &mut QueryState, name: &str| {
            let store = state.task_store(&spec.store_name(name), slot, JoinBuffer::CHANGELOG)?;
            Ok::<_, QueryStateError>(JoinBuffer::new(store))
        };
        let left = buffer(state, LEFT_BUFFER)?;
        let right = buffer(state, RIGHT_BUFFER)?;
        let plain = ChangelogLayout::PLAIN;
        let unmatched = match has_unmatched(&spec, &window) {
            true => {
                let store = state.task_store(&spec.store_name(UNMATCHED), slot, plain)?;
                Some(Unmatched::new(store))
            }
            false => None,
        };
        let time_store = state.task_store(&spec.store_name(TIME), slot, plain)?;
        let times = Times::load(&time_store)?;
        Ok(StreamStreamJoinOp {
            spec,
            window,
            left,
            right,
            unmatched,
            time_store,
            times,
            expired: [i64::MIN; 2],
        })
    }

    /// The stores the join of `spec` with GRACE PERIOD `grace_ms` opens (its
    /// [`Operator::stores`]).
    pub fn store_decls(spec: &JoinSpec, grace_ms: Option<i64>) -> Vec<StoreDecl> {
        let mut stores = vec![
            StoreDecl::new(spec.store_name(LEFT_BUFFER), "window"),
            StoreDecl::new(spec.store_name(RIGHT_BUFFER), "window"),
        ];
        if (spec.keeps_left() || spec.keeps_right()) && grace_ms.is_some() {
            stores.push(StoreDecl::new(spec.store_name(UNMATCHED), "key-value"));
        }
        stores.push(StoreDecl::new(spec.store_name(TIME), "key-value"));
        stores
    }

    /// What the join of `spec` within `window` is, for EXPLAIN (its [`Operator::describe`]):
    /// `Join LEFT stream-stream WITHIN (before 60000 ms, after 60000 ms) GRACE 60000 ms`.
    pub fn description(spec: &JoinSpec, (before, after, grace): (i64, i64, Option<i64>)) -> String {
        let kind = match spec.kind {
            crate::plan::logical::JoinKind::Inner => "INNER",
            crate::plan::logical::JoinKind::Left => "LEFT",
            crate::plan::logical::JoinKind::Right => "RIGHT",
            crate::plan::logical::JoinKind::Outer => "FULL",
        };
        let grace = match grace {
            Some(g) => format!("GRACE {g} ms"),
            None => "no GRACE (unmatched rows at once)".to_string(),
        };
        format!("Join {kind} stream-stream WITHIN (before {before} ms, after {after} ms) {grace}")
    }

    fn window_tuple(&self) -> (i64, i64, Option<i64>) {
        let w = &self.window;
        (w.before, w.after, w.deferred.then_some(w.grace))
    }

    fn buffer(&self, side: Side) -> &JoinBuffer {
        match side {
            Side::Left => &self.left,
            Side::Right => &self.right,
        }
    }

    fn buffer_mut(&mut self, side: Side) -> &mut JoinBuffer {
        match side {
            Side::Left => &mut self.left,
            Side::Right => &mut self.right,
        }
    }

    /// Steps 1 to 5 for row `row` of side `side`.
    fn process_row(
        &mut self,
        side: Side,
        reader: &SideReader<'_>,
        row: usize,
        out: &mut JoinOutput<'_>,
    ) -> Result<Option<String>, OperatorError> {
        let t = reader.rowtime(row);
        let position = reader.position(row);
        self.times.join = self.times.join.max(t);
        let stored = reader.stored(row);
        let (Some(key), Some(encoded)) = (reader.key(row), reader.encoded_key(row)) else {
            return Ok(self.null_key(side, &stored, position, out));
        };
        if t == self.times.join {
            self.emit_closed(side, position, out)?;
        }
        let seq = self.times.take_seq();
        self.times.observe(side, t);
        if t >= self.window.visible_from(self.times.buffer(side)) {
            self.buffer_mut(side)
                .put(&encoded, t, seq, &stored.encode());
        }
        let other = side.other();
        let (from, to) = self.window.probe(side, t);
        let from = from.max(self.window.visible_from(self.times.buffer(other)));
        let matches = self.buffer(other).fetch(&encoded, from, to)?;
        for found in &matches {
            let theirs = StoredRow::decode(&found.row)?;
            let (left, right) = arrange(side, &stored.values, &theirs.values);
            let ts = t.max(found.ts);
            let joined = Joined {
                key: &key,
                left: Some(left),
                right: Some(right),
                ts,
                position,
            };
            out.push(Op::Insert, joined);
            if let Some(unmatched) = &mut self.unmatched {
                unmatched.delete_matched(found.ts, self.window.side_byte(other), &encoded)?;
            }
        }
        if matches.is_empty() && self.keeps(side) {
            match &mut self.unmatched {
                Some(unmatched) if !self.window.closed(side, t, self.times.join) => {
                    unmatched.put(self.window.side_byte(side), &encoded, seq, &stored)
                }
                _ => out.push(Op::Insert, alone(side, &key, &stored, position)),
            }
        }
        Ok(None)
    }

    /// Step 1: the unmatched rows whose window has closed, emitted and deleted.
    fn emit_closed(
        &mut self,
        side: Side,
        position: (i32, i64),
        out: &mut JoinOutput<'_>,
    ) -> Result<(), OperatorError> {
        let Some(unmatched) = &mut self.unmatched else {
            return Ok(());
        };
        let time = self.times.join;
        match unmatched.earliest()? {
            Some(earliest) if earliest < self.window.scan_below(side, time) => {}
            _ => return Ok(()),
        }
        let cutoff = self.window.emit_before(side, time);
        for closed in unmatched.take_before(cutoff, &self.window)? {
            out.push(
                Op::Insert,
                alone(closed.side, &closed.key, &closed.row, position),
            );
        }
        Ok(())
    }

    /// Step 5: a preserved side's row is emitted alone, another is reported (its message).
    fn null_key(
        &self,
        side: Side,
        stored: &StoredRow,
        position: (i32, i64),
        out: &mut JoinOutput<'_>,
    ) -> Option<String> {
        if !self.keeps(side) {
            return Some(format!(
                "a {} row with a NULL join key joins nothing: dropped",
                side_name(side)
            ));
        }
        let key = vec![Value::Null; self.spec.left_keys.len()];
        out.push(Op::Insert, alone(side, &key, stored, position));
        None
    }

    fn keeps(&self, side: Side) -> bool {
        match side {
            Side::Left => self.spec.keeps_left(),
            Side::Right => self.spec.keeps_right(),
        }
    }

    fn reload(&mut self) -> Result<(), OperatorError> {
        self.times = Times::load(&self.time_store)?;
        self.expired = [i64::MIN; 2];
        if let Some(unmatched) = &mut self.unmatched {
            unmatched.reset();
        }
        Ok(())
    }
}

impl Operator for StreamStreamJoinOp {
    fn describe(&self) -> String {
        StreamStreamJoinOp::description(&self.spec, self.window_tuple())
    }

    fn stores(&self) -> Vec<StoreDecl> {
        StreamStreamJoinOp::store_decls(&self.spec, self.window_tuple().2)
    }

    fn open(&mut self) -> Result<(), OperatorError> {
        self.reload()
    }

    fn process(
        &mut self,
        input: usize,
        batch: ChangeBatch,
        ctx: &mut Ctx<'_>,
    ) -> Result<(), OperatorError> {
        let side = Side::of_input(input);
        let spec = self.spec.clone();
        let reader = SideReader::new(&spec, side, &batch);
        let mut out = JoinOutput::new(&spec);
        for row in 0..batch.num_rows() {
            if let Some(message) = self.process_row(side, &reader, row, &mut out)? {
                ctx.report(&batch, row, message);
            }
        }
        self.times.save(&mut self.time_store);
        ctx.emit(out.finish()?);
        Ok(())
    }

    fn on_stream_time(&mut self, _time: i64, _ctx: &mut Ctx<'_>) -> Result<(), OperatorError> {
        for (i, side) in [Side::Left, Side::Right].into_iter().enumerate() {
            let cutoff = self.window.visible_from(self.times.buffer(side));
            if cutoff > self.expired[i] {
                // Rows older than the last cutoff are gone (none older is put): start there.
                let from = self.expired[i];
                self.buffer_mut(side).expire_before(from, cutoff)?;
                self.expired[i] = cutoff;
            }
        }
        Ok(())
    }
}

/// Whether the join keeps an `Unmatched` store: a preserved side and a GRACE PERIOD.
fn has_unmatched(spec: &JoinSpec, window: &JoinWindow) -> bool {
    window.deferred && (spec.keeps_left() || spec.keeps_right())
}

/// (left values, right values) of a row of `side` and a row of the other side.
fn arrange<'r>(side: Side, mine: &'r [Value], theirs: &'r [Value]) -> (&'r [Value], &'r [Value]) {
    match side {
        Side::Left => (mine, theirs),
        Side::Right => (theirs, mine),
    }
}

/// A row of `side` without a match: the other side's columns NULL, its own ROWTIME.
fn alone<'r>(side: Side, key: &'r [Value], row: &'r StoredRow, position: (i32, i64)) -> Joined<'r> {
    let (left, right) = match side {
        Side::Left => (Some(row.values.as_slice()), None),
        Side::Right => (None, Some(row.values.as_slice())),
    };
    Joined {
        key,
        left,
        right,
        ts: row.ts,
        position,
    }
}

fn side_name(side: Side) -> &'static str {
    match side {
        Side::Left => "left",
        Side::Right => "right",
    }
}
