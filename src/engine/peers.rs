//! Pull queries over a table whose query's work is split among the servers of a service (a
//! shared catalog on Kafka): each server holds the rows of the partitions its tasks run, so
//! the server a pull query reaches asks the others that are members of the query's consumer
//! group now for theirs (over their HTTP API, `PeerRows`), as ksqlDB forwards a pull query to
//! the host of a key's partition, and runs the query's WHERE, projection and LIMIT over all of
//! them. A member that does not answer fails the query: a partial answer is never given as
//! whole.
//!
//! Servers find each other's addresses in the command log: each records `{"server": {"id",
//! "url"}}` when its HTTP API starts (`Engine::announce`); a query's members are known by their
//! consumers' client ids, `brook-<server id>` (`member_client_id`).
//!
//! The table handles (`Tables`) are shared with the HTTP layer, which answers other servers
//! without the engine's lock (two servers asking each other at once cannot deadlock).

use super::Engine;
use super::error::{EngineError, EngineResult};
use crate::common::Value;
use crate::exec::Materialization;
use crate::plan::SourceDef;
use crate::plan::schema::ROWPARTITION;
use arrow::array::{Array, Int32Array, UInt32Array};
use arrow::record_batch::RecordBatch;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

/// Asks another server for the committed rows it holds of a table.
pub trait PeerRows: Send + Sync {
    /// The rows of `table` server `url` holds: all, or those of `keys`.
    fn table_rows(
        &self,
        url: &str,
        table: &str,
        keys: Option<&[Vec<Value>]>,
    ) -> Result<Option<RecordBatch>, String>;
}

/// The materialized tables pull queries read, by name (shared with the HTTP layer).
pub type Tables = Arc<RwLock<BTreeMap<String, Arc<Materialization>>>>;

/// The client id of server `server_id`'s Kafka clients, by which the members of a query's
/// group are known.
pub fn member_client_id(server_id: &str) -> String {
    format!("{CLIENT_ID_PREFIX}{server_id}")
}

const CLIENT_ID_PREFIX: &str = "brook-";

/// The server whose clients have client id `client_id` (`None`: not a Brook server's).
fn server_of(client_id: &str) -> Option<&str> {
    client_id.strip_prefix(CLIENT_ID_PREFIX)
}

/// A server's record in the command log.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub(super) struct Announcement {
    pub server: ServerAddress,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(super) struct ServerAddress {
    pub id: String,
    pub url: String,
}

/// The other servers and how to ask them.
#[derive(Default)]
pub(super) struct Peers {
    pub asker: Option<Arc<dyn PeerRows>>,
    /// Each server's HTTP API, by server id, as announced.
    pub urls: BTreeMap<String, String>,
}

impl Engine {
    /// How this server asks others for their rows (the HTTP layer's client).
    pub fn set_peer_rows(&mut self, asker: Arc<dyn PeerRows>) {
        self.peers.asker = Some(asker);
    }

    /// Records this server's HTTP API in a shared catalog's command log, for other servers'
    /// pull queries (nothing to do otherwise).
    pub fn announce(&mut self, url: &str) -> EngineResult<()> {
        let Some(shared) = &self.shared else {
            return Ok(());
        };
        let record = Announcement {
            server: ServerAddress {
                id: shared.server_id.clone(),
                url: url.to_string(),
            },
        };
        self.append_command_record(&record)?;
        self.catch_up()
    }

    /// The handles on the materialized tables (shared with the HTTP layer).
    pub fn tables(&self) -> Tables {
        self.materializations.clone()
    }

    /// Notes a server's address read from the command log.
    pub(super) fn note_server(&mut self, address: ServerAddress) {
        self.peers.urls.insert(address.id, address.url);
    }

    /// Adds to `local` the rows of `table` (written by query `query_id`) that the query's
    /// other members hold.
    pub(super) fn with_peer_rows(
        &self,
        table: &SourceDef,
        query_id: &str,
        keys: Option<&[Vec<Value>]>,
        local: Option<RecordBatch>,
    ) -> EngineResult<Option<RecordBatch>> {
        let (Some(shared), Some(asker)) = (&self.shared, &self.peers.asker) else {
            return Ok(local);
        };
        if self.properties.get(LOCAL_ONLY).is_some_and(|v| v == "true") {
            return Ok(local);
        }
        let group = self.names.query_group(query_id);
        let mine = member_client_id(&shared.server_id);
        let mut batches: Vec<RecordBatch> = local.into_iter().collect();
        let mut asked = Vec::new();
        for member in self.transport.group_members(&group)? {
            let Some(server) = server_of(&member) else {
                continue;
            };
            if member == mine || asked.iter().any(|s| s == server) {
                continue;
            }
            asked.push(server.to_string());
            let Some(url) = self.peers.urls.get(server) else {
                return Err(EngineError::Statement(format!(
                    "Unable to execute pull query: server {server} runs part of query {query_id} but has not recorded its address"
                )));
            };
            let rows = asker.table_rows(url, &table.name, keys).map_err(|e| {
                EngineError::Statement(format!(
                    "Unable to execute pull query: server {server} ({url}), which holds part of `{}`, did not answer: {e}",
                    table.name
                ))
            })?;
            batches.extend(rows);
        }
        merge_in_partition_order(batches)
    }
}

/// The property a forwarded pull query carries, so the server it reaches answers from its
/// own tasks only.
pub const LOCAL_ONLY: &str = "brook.internal.pull.local";

/// Several servers' rows of one table as one batch, ordered by partition (each server's rows
/// of a partition are in scan order already).
fn merge_in_partition_order(batches: Vec<RecordBatch>) -> EngineResult<Option<RecordBatch>> {
    let Some(first) = batches.first() else {
        return Ok(None);
    };
    let schema = first.schema();
    let all = arrow::compute::concat_batches(&schema, &batches)
        .map_err(|e| EngineError::Internal(format!("merging servers' rows: {e}")))?;
    let Some(partitions) = schema
        .index_of(ROWPARTITION)
        .ok()
        .and_then(|i| all.column(i).as_any().downcast_ref::<Int32Array>().cloned())
    else {
        return Ok(Some(all));
    };
    let mut order: Vec<u32> = (0..all.num_rows() as u32).collect();
    order.sort_by_key(|&row| partitions.value(row as usize));
    let indices = UInt32Array::from(order);
    let columns = all
        .columns()
        .iter()
        .map(|c| arrow::compute::take(c.as_ref(), &indices, None))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| EngineError::Internal(format!("ordering servers' rows: {e}")))?;
    RecordBatch::try_new(schema, columns)
        .map(Some)
        .map_err(|e| EngineError::Internal(format!("ordering servers' rows: {e}")))
}
