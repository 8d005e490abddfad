//! The end-to-end tests that run on both backends: the embedded log, and Kafka through rdkafka,
//! with two clusters: Brook's own Kafka listener (on a log of its own) and the test broker
//! (Tansu, `../shared/tools/kafka-broker`). `on_both_backends!` turns a test function taking a
//! `Backend` into a module with one test per backend and cluster.

use crate::kafka_support::{Fixture, TestBroker};
use brook::engine::{Engine, InternalNames, RunMode};
use brook::kafka::KafkaTransport;
use brook::log::EmbeddedLog;
use brook::transport::Transport;
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Embedded,
    /// Kafka, Brook's listener as the cluster.
    Kafka,
    /// Kafka, the test broker as the cluster.
    TestBroker,
}

/// A log to test on, and what keeps it alive.
pub struct TestLog {
    pub transport: Arc<dyn Transport>,
    embedded: Option<EmbeddedLog>,
    dir: tempfile::TempDir,
    _cluster: Option<Fixture>,
    _broker: Option<TestBroker>,
}

impl TestLog {
    pub fn new(backend: Backend) -> TestLog {
        let dir = tempfile::tempdir().expect("tempdir");
        match backend {
            Backend::Embedded => {
                let log = crate::support::open(dir.path());
                TestLog {
                    transport: Arc::new(log.clone()),
                    embedded: Some(log),
                    dir,
                    _cluster: None,
                    _broker: None,
                }
            }
            Backend::Kafka => {
                let cluster = Fixture::cluster();
                let kafka = KafkaTransport::connect(&cluster.bootstrap()).expect("connect");
                TestLog {
                    transport: Arc::new(kafka),
                    embedded: None,
                    dir,
                    _cluster: Some(cluster),
                    _broker: None,
                }
            }
            Backend::TestBroker => {
                let broker = TestBroker::start();
                let kafka = KafkaTransport::connect(&broker.bootstrap()).expect("connect");
                TestLog {
                    transport: Arc::new(kafka),
                    embedded: None,
                    dir,
                    _cluster: None,
                    _broker: Some(broker),
                }
            }
        }
    }

    /// As after a restart of Brook: the embedded log closed and opened again (a Kafka
    /// cluster stays up; a new engine connects to it).
    pub fn reopen(&mut self) {
        if let Some(log) = self.embedded.take() {
            log.close().expect("close");
            let reopened = crate::support::open(self.dir.path());
            self.transport = Arc::new(reopened.clone());
            self.embedded = Some(reopened);
        }
    }

    /// An engine stepped by the test, reading from the earliest offsets (on Kafka with
    /// ksqlDB's names, as `brook --bootstrap-servers` has: a Brook listener keeps `_brook*`
    /// topics to itself).
    pub fn engine(&self) -> Engine {
        let mut engine = self.bare_engine();
        engine.set_property("auto.offset.reset", "earliest");
        engine
    }

    /// An engine that keeps its catalog in the command log, replayed now.
    pub fn recovered_engine(&self) -> Engine {
        self.bare_engine().recovered().expect("recover")
    }

    fn bare_engine(&self) -> Engine {
        let engine = Engine::new(self.transport.clone(), RunMode::Manual);
        match self.embedded {
            Some(_) => engine,
            None => engine.with_names(InternalNames::for_service("test_")),
        }
    }
}

/// Runs the engine's queries until they have consumed their input (waiting for records that
/// travel over the network on Kafka), a record per step as the conformance runner steps them.
pub fn run(engine: &mut Engine) -> usize {
    engine
        .run_until_caught_up(1, Duration::from_secs(60))
        .expect("queries consume their input")
}

/// A module `$name` with tests `embedded` and `kafka`, each calling `$name(backend)`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[test]
                fn embedded() {
                    super::$name($crate::backends::Backend::Embedded);
                }

                #[test]
                fn kafka() {
                    super::$name($crate::backends::Backend::Kafka);
                }

                #[test]
                fn test_broker() {
                    super::$name($crate::backends::Backend::TestBroker);
                }
            }
        )*
    };
}
