//! Produce: each partition's record set checked by Kafka's rules and appended as sent
//! (`EmbeddedLog::append_record_set`). `acks=1` and `acks=all` are answered after the append
//! (one node: every appended record is in sync; durability follows `--flush`). A transactional
//! batch is appended only within its producer's ongoing transaction (`txn/`). `acks=0` gets
//! no response, and a refused record set then closes the connection, as Kafka does, so that
//! the producer notices.
//!
//! May import what `kafka_wire` does.

use super::dispatch::Outcome;
use super::txn::{AppendRefused, Producer};
use super::{Broker, codes};
use crate::transport::TopicPartition;
use kafka_protocol::ResponseError;
use kafka_protocol::messages::produce_response::{PartitionProduceResponse, TopicProduceResponse};
use kafka_protocol::messages::{ProduceRequest, ProduceResponse, ResponseKind};
use kafka_protocol::protocol::StrBytes;

pub fn produce(broker: &Broker, request: ProduceRequest) -> Outcome {
    let acks = request.acks;
    let responses: Vec<TopicProduceResponse> = tokio::task::block_in_place(|| {
        request
            .topic_data
            .into_iter()
            .map(|topic| {
                let partitions = topic
                    .partition_data
                    .into_iter()
                    .map(|data| {
                        let response = PartitionProduceResponse::default().with_index(data.index);
                        if !matches!(acks, -1..=1) {
                            return response
                                .with_error_code(ResponseError::InvalidRequiredAcks.code());
                        }
                        let records = data.records.unwrap_or_default();
                        append(
                            broker,
                            topic.name.0.as_str(),
                            data.index,
                            &records,
                            response,
                        )
                    })
                    .collect();
                TopicProduceResponse::default()
                    .with_name(topic.name)
                    .with_partition_responses(partitions)
            })
            .collect()
    });
    if acks == 0 {
        let failed = responses
            .iter()
            .flat_map(|t| t.partition_responses.iter().map(move |p| (t, p)))
            .find(|(_, p)| p.error_code != 0);
        return match failed {
            Some((topic, p)) => Outcome::Close(format!(
                "an acks=0 produce to {}-{} failed (error {})",
                topic.name.0.as_str(),
                p.index,
                p.error_code
            )),
            None => Outcome::Silent,
        };
    }
    Outcome::respond(ResponseKind::Produce(
        ProduceResponse::default().with_responses(responses),
    ))
}

fn append(
    broker: &Broker,
    topic: &str,
    index: i32,
    records: &[u8],
    response: PartitionProduceResponse,
) -> PartitionProduceResponse {
    let Ok(partition) = u32::try_from(index) else {
        return response.with_error_code(ResponseError::UnknownTopicOrPartition.code());
    };
    if super::is_internal(topic) {
        return response
            .with_error_code(ResponseError::InvalidTopicException.code())
            .with_error_message(Some(StrBytes::from_string(format!(
                "{topic} is Brook's own topic: clients may read it, not write to it"
            ))));
    }
    let max = broker.config.max_batch_bytes;
    let appended = match crate::log::batch_producer(records) {
        Some((id, epoch, true)) => {
            let tp = TopicPartition::new(topic, partition);
            let producer = Producer { id, epoch };
            match broker
                .transactions
                .append(&broker.log, &tp, producer, records, max)
            {
                Ok(outcome) => Ok(outcome),
                Err(AppendRefused::Log(e)) => Err(e),
                Err(AppendRefused::Code(code)) => {
                    tracing::debug!(
                        topic,
                        partition,
                        "transactional produce refused (error {code})"
                    );
                    return response.with_error_code(code);
                }
            }
        }
        _ => broker.log.append_record_set(topic, partition, records, max),
    };
    match appended {
        Ok(outcome) => {
            let start = broker
                .log
                .partition_offsets(topic, partition)
                .map_or(-1, |o| o.log_start);
            response
                .with_base_offset(outcome.base_offset)
                .with_log_append_time_ms(-1)
                .with_log_start_offset(start)
        }
        Err(e) => {
            tracing::debug!(topic, partition, "produce refused: {e}");
            response
                .with_error_code(codes::for_record_set(&e))
                .with_error_message(Some(StrBytes::from_string(e.to_string())))
        }
    }
}
