//! Kafka's error codes for what the log says (`TransportError`, `RecordSetError`).
//!
//! May import what `kafka_wire` does.

use crate::log::{RecordSetError, SequenceError};
use crate::transport::TransportError;
use kafka_protocol::ResponseError;

/// The code a client gets for a failed log operation.
pub fn for_transport(e: &TransportError) -> i16 {
    let error = match e {
        TransportError::UnknownTopic(_) | TransportError::UnknownPartition { .. } => {
            ResponseError::UnknownTopicOrPartition
        }
        TransportError::TopicExists(_) => ResponseError::TopicAlreadyExists,
        TransportError::OffsetOutOfRange { .. } => ResponseError::OffsetOutOfRange,
        TransportError::InvalidTopicName { .. } => ResponseError::InvalidTopicException,
        TransportError::InvalidRecord { .. } => ResponseError::InvalidRecord,
        TransportError::InvalidArgument(_) => ResponseError::InvalidRequest,
        TransportError::Corrupt { .. }
        | TransportError::CorruptBatch { .. }
        | TransportError::Io { .. }
        | TransportError::Failed { .. } => ResponseError::KafkaStorageError,
        _ => ResponseError::UnknownServerError,
    };
    error.code()
}

/// The code a producer gets for a refused record set.
pub fn for_record_set(e: &RecordSetError) -> i16 {
    match e {
        RecordSetError::Corrupt(_) => ResponseError::CorruptMessage.code(),
        RecordSetError::Invalid(_) => ResponseError::InvalidRecord.code(),
        RecordSetError::TooLarge { .. } => ResponseError::MessageTooLarge.code(),
        RecordSetError::Sequence(SequenceError::InvalidProducerEpoch { .. }) => {
            ResponseError::InvalidProducerEpoch.code()
        }
        RecordSetError::Sequence(SequenceError::OutOfOrderSequence { .. }) => {
            ResponseError::OutOfOrderSequenceNumber.code()
        }
        RecordSetError::Log(e) => for_transport(e),
    }
}
