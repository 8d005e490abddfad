//! The transaction APIs' requests and responses, over the coordinator in `txn/`:
//! InitProducerId (idempotent producers get ids from `producer_ids.rs`), AddPartitionsToTxn
//! (v0-3), AddOffsetsToTxn, TxnOffsetCommit and EndTxn.
//!
//! May import what `kafka_wire` does.

use super::txn::Producer;
use super::{Broker, producer_ids};
use kafka_protocol::messages::add_partitions_to_txn_response::{
    AddPartitionsToTxnPartitionResult, AddPartitionsToTxnTopicResult,
};
use kafka_protocol::messages::txn_offset_commit_response::{
    TxnOffsetCommitResponsePartition, TxnOffsetCommitResponseTopic,
};
use kafka_protocol::messages::{
    AddOffsetsToTxnRequest, AddOffsetsToTxnResponse, AddPartitionsToTxnRequest,
    AddPartitionsToTxnResponse, EndTxnRequest, EndTxnResponse, InitProducerIdRequest,
    InitProducerIdResponse, ProducerId, TxnOffsetCommitRequest, TxnOffsetCommitResponse,
};

pub fn init_producer_id(
    broker: &Broker,
    request: &InitProducerIdRequest,
) -> InitProducerIdResponse {
    let Some(transactional_id) = &request.transactional_id else {
        return producer_ids::init_idempotent(&broker.producer_ids, request);
    };
    let asked = Producer {
        id: request.producer_id.0,
        epoch: request.producer_epoch,
    };
    let granted = broker.transactions.init(
        &broker.log,
        &broker.producer_ids,
        transactional_id.0.as_str(),
        request.transaction_timeout_ms,
        asked,
    );
    match granted {
        Ok(p) => InitProducerIdResponse::default()
            .with_producer_id(ProducerId(p.id))
            .with_producer_epoch(p.epoch),
        Err(code) => InitProducerIdResponse::default()
            .with_error_code(code)
            .with_producer_id(ProducerId(-1))
            .with_producer_epoch(-1),
    }
}

pub fn add_partitions(
    broker: &Broker,
    request: AddPartitionsToTxnRequest,
) -> AddPartitionsToTxnResponse {
    let producer = Producer {
        id: request.v3_and_below_producer_id.0,
        epoch: request.v3_and_below_producer_epoch,
    };
    let wanted: Vec<(String, i32)> = request
        .v3_and_below_topics
        .iter()
        .flat_map(|t| t.partitions.iter().map(|p| (t.name.0.to_string(), *p)))
        .collect();
    let mut codes = broker
        .transactions
        .add_partitions(
            &broker.log,
            request.v3_and_below_transactional_id.0.as_str(),
            producer,
            &wanted,
        )
        .into_iter();
    let results = request
        .v3_and_below_topics
        .into_iter()
        .map(|topic| {
            let partitions = topic
                .partitions
                .iter()
                .map(|p| {
                    AddPartitionsToTxnPartitionResult::default()
                        .with_partition_index(*p)
                        .with_partition_error_code(codes.next().unwrap_or_default())
                })
                .collect();
            AddPartitionsToTxnTopicResult::default()
                .with_name(topic.name)
                .with_results_by_partition(partitions)
        })
        .collect();
    AddPartitionsToTxnResponse::default().with_results_by_topic_v3_and_below(results)
}

pub fn add_offsets(broker: &Broker, request: &AddOffsetsToTxnRequest) -> AddOffsetsToTxnResponse {
    let producer = Producer {
        id: request.producer_id.0,
        epoch: request.producer_epoch,
    };
    let code = broker.transactions.add_offsets(
        request.transactional_id.0.as_str(),
        producer,
        request.group_id.0.as_str(),
    );
    AddOffsetsToTxnResponse::default().with_error_code(code)
}

pub fn commit_offsets(broker: &Broker, request: TxnOffsetCommitRequest) -> TxnOffsetCommitResponse {
    let group = request.group_id.0.as_str();
    // v3+ (KIP-447) names the consumer's generation: a zombie's commit is refused.
    let member_code = match request.generation_id {
        generation if generation >= 0 => {
            broker
                .groups
                .check_commit(group, request.member_id.as_str(), generation)
        }
        _ => 0,
    };
    let offsets: Vec<(String, i32, i64)> = request
        .topics
        .iter()
        .flat_map(|t| {
            t.partitions
                .iter()
                .map(|p| (t.name.0.to_string(), p.partition_index, p.committed_offset))
        })
        .collect();
    let mut codes = if member_code != 0 {
        vec![member_code; offsets.len()]
    } else {
        let producer = Producer {
            id: request.producer_id.0,
            epoch: request.producer_epoch,
        };
        broker.transactions.commit_offsets(
            request.transactional_id.0.as_str(),
            producer,
            group,
            &offsets,
        )
    }
    .into_iter();
    let topics = request
        .topics
        .into_iter()
        .map(|topic| {
            let partitions = topic
                .partitions
                .iter()
                .map(|p| {
                    TxnOffsetCommitResponsePartition::default()
                        .with_partition_index(p.partition_index)
                        .with_error_code(codes.next().unwrap_or_default())
                })
                .collect();
            TxnOffsetCommitResponseTopic::default()
                .with_name(topic.name)
                .with_partitions(partitions)
        })
        .collect();
    TxnOffsetCommitResponse::default().with_topics(topics)
}

pub fn end(broker: &Broker, request: &EndTxnRequest) -> EndTxnResponse {
    let producer = Producer {
        id: request.producer_id.0,
        epoch: request.producer_epoch,
    };
    let code = broker.transactions.end(
        &broker.log,
        request.transactional_id.0.as_str(),
        producer,
        request.committed,
    );
    EndTxnResponse::default().with_error_code(code)
}
