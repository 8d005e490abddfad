//! Kafka clients (confluent-kafka over librdkafka, kafka-python and aiokafka from PyPI; kafkajs
//! from npm; all installed by `.ci/install-deps`) against `brook server`'s Kafka listener, each
//! script in `tests/clients/`:
//! - `kafka_produce_consume.py`: topics created and deleted, records produced in every codec
//!   and fetched back, Brook's persistent and push queries reading what clients produced, a
//!   client reading a query's output, long polls, offsets by timestamp; after a restart,
//!   `kafka_after_restart.py`: the records are there and offsets continue;
//! - `kafka_groups.py`: a consumer group of two splitting four partitions, rebalancing when
//!   one leaves, committed offsets seen by kafka-python's group consumer, the group listed and
//!   described; after a restart, `kafka_groups_after_restart.py`: the offsets survived;
//! - `kafka_seed_pipeline.py`: the demo's queries fed by a keyed producer, `enriched_orders`
//!   read by a consumer group;
//! - `kafka_aiokafka.py` and `node/kafka_kafkajs.js`: each client on its own: topics created
//!   by its admin client, keyed records (with headers, plain and gzip) produced by idempotent
//!   producers and read back once each where they were acknowledged, a group of two splitting
//!   four partitions and the member left behind given all four, its committed offsets read
//!   back; a consume-transform-produce loop (a read_committed group consumer, a transactional
//!   producer sending each batch's input offsets to the transaction, one transaction aborted
//!   after its records reached the broker and its input redone), then read_committed
//!   consumers seeing every output once, read_uncommitted ones the aborted records too, and the
//!   group's committed offsets at the input's end;
//! - `kafka_kcat.sh`: kcat (Debian's, over librdkafka 2.x): metadata, keyed records with
//!   headers in every codec, idempotent, transactional and tombstones read back exactly,
//!   offsets by timestamp, a consumer group resuming from its committed offsets, a query's
//!   output.

use std::process::Command;

use super::server::BrookServer;

#[test]
fn confluent_kafka_and_kafka_python_produce_and_consume() {
    let mut server = BrookServer::start();
    server.run_python("kafka_produce_consume.py");
    server.restart();
    server.run_python("kafka_after_restart.py");
}

#[test]
fn a_consumer_group_splits_partitions_rebalances_and_keeps_its_offsets() {
    let mut server = BrookServer::start();
    server.run_python("kafka_groups.py");
    server.restart();
    server.run_python("kafka_groups_after_restart.py");
}

#[test]
fn the_seed_pipeline_fed_and_read_by_kafka_clients() {
    BrookServer::start().run_python("kafka_seed_pipeline.py");
}

#[test]
fn aiokafka_produces_consumes_and_splits_a_group() {
    BrookServer::start().run_python("kafka_aiokafka.py");
}

#[test]
fn kafkajs_produces_consumes_and_splits_a_group() {
    BrookServer::start().run_node("kafka_kafkajs.js");
}

/// `kafka_transactions.py`: a consume-transform-produce loop with send_offsets_to_transaction
/// and an aborted batch, read_committed and read_uncommitted consumers, a fenced zombie, a
/// transaction aborted by its timeout, and kafka-python's transactions.
#[test]
fn transactions_of_confluent_kafka_and_kafka_python() {
    BrookServer::start().run_python("kafka_transactions.py");
}

#[test]
fn kcat_lists_produces_consumes_and_queries_offsets() {
    let kcat = Command::new("kcat").arg("-V").output();
    assert!(
        kcat.as_ref().is_ok_and(|o| o.status.success()),
        "kcat is not installed ({kcat:?}): run .ci/install-deps (it installs Debian's kcat)"
    );
    BrookServer::start().run_shell("kafka_kcat.sh");
}
