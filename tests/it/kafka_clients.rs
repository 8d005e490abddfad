//! Kafka clients (confluent-kafka over librdkafka, and kafka-python; from PyPI, installed by
//! `.ci/install-deps`) against `brook server`'s Kafka listener, each script in
//! `tests/clients/`:
//! - `kafka_produce_consume.py`: topics created and deleted, records produced in every codec
//!   and fetched back, Brook's persistent and push queries reading what clients produced, a
//!   client reading a query's output, long polls, offsets by timestamp; after a restart,
//!   `kafka_after_restart.py`: the records are there and offsets continue;
//! - `kafka_groups.py`: a consumer group of two splitting four partitions, rebalancing when
//!   one leaves, committed offsets seen by kafka-python's group consumer, the group listed and
//!   described; after a restart, `kafka_groups_after_restart.py`: the offsets survived;
//! - `kafka_seed_pipeline.py`: the demo's queries fed by a keyed producer, `enriched_orders`
//!   read by a consumer group.

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
