//! Producer ids (InitProducerId): unique for the life of the data directory, handed out from
//! blocks whose end is persisted in `<data-dir>/kafka/producer-ids` before any id of the block
//! is used, so a restart never hands out an id twice.
//!
//! May import what `kafka_wire` does.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::{InitProducerIdRequest, InitProducerIdResponse, ProducerId};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Ids reserved per write of the file.
const BLOCK: i64 = 1000;

pub struct ProducerIds {
    path: PathBuf,
    /// (next id to hand out, end of the reserved block).
    next: Mutex<(i64, i64)>,
}

impl ProducerIds {
    pub fn open(kafka_dir: &Path) -> std::io::Result<ProducerIds> {
        let path = kafka_dir.join("producer-ids");
        let reserved = match std::fs::read_to_string(&path) {
            Ok(text) => text.trim().parse::<i64>().map_err(|e| {
                std::io::Error::other(format!("{}: not a producer id ({e})", path.display()))
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
            Err(e) => return Err(e),
        };
        Ok(ProducerIds {
            path,
            next: Mutex::new((reserved, reserved)),
        })
    }

    /// A producer id never handed out before.
    pub fn allocate(&self) -> std::io::Result<i64> {
        let mut next = self.next.lock().unwrap_or_else(|p| p.into_inner());
        if next.0 == next.1 {
            let end = next.1 + BLOCK;
            let temp = self.path.with_extension("tmp");
            std::fs::write(&temp, end.to_string())?;
            std::fs::File::open(&temp)?.sync_all()?;
            std::fs::rename(&temp, &self.path)?;
            next.1 = end;
        }
        let id = next.0;
        next.0 += 1;
        Ok(id)
    }
}

/// InitProducerId for an idempotent producer: a new id at epoch 0, or (v3+, KIP-360) the same
/// id at the next epoch when the producer asks to bump it.
pub fn init_idempotent(
    ids: &ProducerIds,
    request: &InitProducerIdRequest,
) -> InitProducerIdResponse {
    let response = InitProducerIdResponse::default();
    if request.producer_id.0 >= 0 && (0..i16::MAX - 1).contains(&request.producer_epoch) {
        return response
            .with_producer_id(request.producer_id)
            .with_producer_epoch(request.producer_epoch + 1);
    }
    match ids.allocate() {
        Ok(id) => response
            .with_producer_id(ProducerId(id))
            .with_producer_epoch(0),
        Err(e) => {
            tracing::error!("allocating a producer id: {e}");
            response
                .with_error_code(ResponseError::KafkaStorageError.code())
                .with_producer_id(ProducerId(-1))
                .with_producer_epoch(-1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_never_handed_out_twice_across_reopens() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ids = ProducerIds::open(dir.path()).expect("open");
        let first: Vec<i64> = (0..3).map(|_| ids.allocate().expect("id")).collect();
        assert_eq!(first, vec![0, 1, 2]);
        let reopened = ProducerIds::open(dir.path()).expect("reopen");
        assert_eq!(reopened.allocate().expect("id"), BLOCK);
        let bump = InitProducerIdRequest::default()
            .with_producer_id(ProducerId(5))
            .with_producer_epoch(3);
        let response = init_idempotent(&reopened, &bump);
        assert_eq!((response.producer_id.0, response.producer_epoch), (5, 4));
        let fresh = init_idempotent(
            &reopened,
            &InitProducerIdRequest::default()
                .with_producer_id(ProducerId(-1))
                .with_producer_epoch(-1),
        );
        assert_eq!(
            (
                response.error_code,
                fresh.producer_id.0,
                fresh.producer_epoch
            ),
            (0, BLOCK + 1, 0)
        );
    }
}
