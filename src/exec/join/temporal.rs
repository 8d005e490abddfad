//! The temporal stream-table join (Brook's `FOR SYSTEM_TIME AS OF s.ROWTIME`; Flink's
//! event-time temporal join, Kafka Streams' join against a versioned store, KIP-914): each
//! stream row (input 0) joins the table row (input 1) that was valid at the stream row's
//! ROWTIME, not the table's current row. Out-of-order and replayed input give the same answer:
//! a stream row at `t` joins the table version with the largest timestamp `<= t`, whenever
//! either arrived.
//!
//! Store `<context>-Right-Versions`: the escaped encoded key, then its version's timestamp
//! inverted (`!ts`, so the newest version sorts first) → `Option<StoredRow>` (`None`: the key
//! was deleted at that time). A lookup at `t` is one seek from `key ++ !t`. A table change adds
//! or replaces its version (same key and timestamp: the later change wins, as Kafka's versioned
//! store does); `U-` rows change nothing.
//!
//! History: versions are kept while a stream row could still need them. With `newest` the
//! largest table timestamp seen by this task since it opened, the versions of a changed key
//! older than its newest version at or before `newest - history` are deleted (that one stays:
//! it is valid at the cutoff). A stream row older than the cutoff may find its version gone; it
//! joins what is left (the oldest kept version if that is old enough, else nothing) and is
//! reported in the processing log. `newest` is not persisted: after a restart the history
//! grows back to `history` before anything more is deleted.
//!
//! Output as the stream-table join's (`stream_table.rs`, the same loop over the stream rows:
//! `join_stream_rows`): `+` joined, or with NULL table columns for LEFT when no version is
//! valid; the stream row's key, ROWTIME and position.
//!
//! May import what `exec` does.

use super::{JoinSpec, Side, SideReader, StoredRow, TableChange, join_stream_rows, no_input};
use crate::common::change::ChangeBatch;
use crate::common::{Value, codec};
use crate::exec::operator::{Ctx, Operator, OperatorError, StoreDecl};
use crate::exec::query_state::{QueryState, QueryStateError, TaskSlot};
use crate::state::keys::{key_prefix, prefix_end, window_key};
use crate::state::{ChangelogLayout, Store};

const STREAM: usize = 0;
const TABLE: usize = 1;
const VERSIONS: &str = "Right-Versions";

pub struct TemporalJoinOp {
    spec: JoinSpec,
    history_ms: i64,
    versions: Store,
    /// The largest table ROWTIME seen since the operator opened.
    newest: i64,
}

impl TemporalJoinOp {
    /// Task `slot`'s operator keeping `history_ms` of table history, over its store in `state`.
    pub fn new(
        spec: JoinSpec,
        history_ms: i64,
        state: &mut QueryState,
        slot: TaskSlot,
    ) -> Result<TemporalJoinOp, QueryStateError> {
        let name = spec.store_name(VERSIONS);
        let versions = state.task_store(&name, slot, ChangelogLayout::PLAIN)?;
        Ok(TemporalJoinOp {
            spec,
            history_ms,
            versions,
            newest: i64::MIN,
        })
    }

    /// What the operator of `spec` is, for EXPLAIN (its [`Operator::describe`]).
    pub fn describe_for(spec: &JoinSpec, history_ms: i64) -> String {
        format!(
            "Join temporal stream-table {} (stream rows look up the table row valid at their ROWTIME; history {history_ms} ms)",
            spec.kind_sql()
        )
    }

    /// The stores the operator of `spec` opens (its [`Operator::stores`]).
    pub fn store_decls(spec: &JoinSpec) -> Vec<StoreDecl> {
        vec![StoreDecl::new(spec.store_name(VERSIONS), "versioned")]
    }

    /// The oldest ROWTIME whose table version is surely kept.
    fn cutoff(&self) -> i64 {
        self.newest.saturating_sub(self.history_ms)
    }

    /// Records the table's changes as versions, and forgets versions past the history.
    fn apply_table(&mut self, batch: &ChangeBatch, ctx: &mut Ctx<'_>) -> Result<(), OperatorError> {
        let table = SideReader::new(&self.spec, Side::Right, batch);
        for row in 0..batch.num_rows() {
            let Some((key, change)) = TableChange::keyed(batch, &table, row, ctx) else {
                continue;
            };
            let ts = table.rowtime(row);
            self.newest = self.newest.max(ts);
            let encoded = codec::encode_values(&key);
            let version: Option<&StoredRow> = change.row();
            self.versions
                .put(&window_key(&encoded, !ts), &codec::encode(&version));
            let cutoff = self.cutoff();
            forget_old_versions(&mut self.versions, &encoded, cutoff)?;
        }
        Ok(())
    }

    /// The table row of `key` valid at `ts`, if one is.
    fn valid_at(&self, key: &[u8], ts: i64) -> Result<Option<StoredRow>, OperatorError> {
        let from = window_key(key, !ts);
        let end = prefix_end(&key_prefix(key));
        let Some((_, bytes)) = self.versions.first(&from, end.as_deref())? else {
            return Ok(None);
        };
        codec::decode::<Option<StoredRow>>(&bytes).map_err(|e| {
            OperatorError::Internal(format!("a stored table version is unreadable: {e}"))
        })
    }

    /// What the processing log hears of a stream row at `ts` older than the history kept.
    fn history_note(&self, ts: i64) -> Option<String> {
        (ts < self.cutoff()).then(|| {
            format!(
                "A stream row at {ts} is older than the temporal join's table history (kept from {}): it joins the oldest version kept, or none",
                self.cutoff()
            )
        })
    }

    /// The joined rows of the stream's rows, in their order (module docs).
    fn join_stream(
        &self,
        batch: &ChangeBatch,
        ctx: &mut Ctx<'_>,
    ) -> Result<ChangeBatch, OperatorError> {
        let valid_version = |key: &[Value], stream: &StoredRow| {
            self.valid_at(&codec::encode_values(key), stream.ts)
        };
        let too_old = |stream: &StoredRow| self.history_note(stream.ts);
        join_stream_rows(&self.spec, batch, ctx, valid_version, too_old)
    }
}

/// Deletes the versions of `key` older than its newest one at or before `cutoff`.
fn forget_old_versions(versions: &mut Store, key: &[u8], cutoff: i64) -> Result<(), OperatorError> {
    let from = window_key(key, !cutoff);
    let end = prefix_end(&key_prefix(key));
    let older = versions.scan(&from, end.as_deref())?;
    // The first is valid at the cutoff: kept.
    for (stale, _) in older.into_iter().skip(1) {
        versions.delete(&stale);
    }
    Ok(())
}

impl Operator for TemporalJoinOp {
    fn describe(&self) -> String {
        TemporalJoinOp::describe_for(&self.spec, self.history_ms)
    }

    fn stores(&self) -> Vec<StoreDecl> {
        TemporalJoinOp::store_decls(&self.spec)
    }

    fn process(
        &mut self,
        input: usize,
        batch: ChangeBatch,
        ctx: &mut Ctx<'_>,
    ) -> Result<(), OperatorError> {
        match input {
            STREAM => {
                let joined = self.join_stream(&batch, ctx)?;
                ctx.emit(joined);
            }
            TABLE => self.apply_table(&batch, ctx)?,
            other => return Err(no_input("a temporal join", other)),
        }
        Ok(())
    }
}
