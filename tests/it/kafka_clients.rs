//! Kafka clients (confluent-kafka over librdkafka, and kafka-python; from PyPI, installed by
//! `.ci/install-deps`) against `brook server`'s Kafka listener: topics created and deleted,
//! records produced in every codec and fetched back, Brook's persistent and push queries
//! reading what clients produced, a client reading a query's output, long polls, and
//! offsets by timestamp (`tests/clients/kafka_produce_consume.py`); then the same after a
//! restart (`kafka_after_restart.py`).

use super::server::BrookServer;

#[test]
fn confluent_kafka_and_kafka_python_produce_and_consume() {
    let mut server = BrookServer::start();
    server.run_python("kafka_produce_consume.py");
    server.restart();
    server.run_python("kafka_after_restart.py");
}
