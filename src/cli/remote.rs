//! Where `brook topic`, `produce` and `consume` act: the Kafka cluster of
//! `--bootstrap-servers`; else the data directory's log when no process holds it, else the
//! running server's Kafka listener (its address is in
//! `<data-dir>/kafka-listener`), through rdkafka.

use super::Cli;
use anyhow::Context;
use brook::kafka::KafkaTransport;
use brook::log::{EmbeddedLog, LogConfig};
use brook::transport::{Transport, TransportError};

pub enum Target {
    Local(EmbeddedLog),
    /// A running server, through its Kafka listener.
    Server(Box<KafkaTransport>),
}

impl Target {
    pub fn transport(&self) -> &dyn Transport {
        match self {
            Target::Local(log) => log,
            Target::Server(kafka) => kafka.as_ref(),
        }
    }

    pub fn close(self) -> anyhow::Result<()> {
        match self {
            Target::Local(log) => log.close().context("closing the log"),
            Target::Server(_) => Ok(()),
        }
    }
}

/// The Kafka cluster of `--bootstrap-servers`, else the log, or the server that owns it.
pub fn open(cli: &Cli) -> anyhow::Result<Target> {
    if let Some(bootstrap) = &cli.bootstrap_servers {
        let kafka = KafkaTransport::connect(bootstrap)
            .with_context(|| format!("connecting to the Kafka cluster at {bootstrap}"))?;
        return Ok(Target::Server(Box::new(kafka)));
    }
    let config = LogConfig {
        flush: cli.flush,
        ..LogConfig::default()
    };
    let error = match EmbeddedLog::open(&cli.data_dir, config) {
        Ok(log) => return Ok(Target::Local(log)),
        Err(e @ TransportError::Locked { .. }) => e,
        Err(e) => {
            return Err(anyhow::Error::new(e))
                .with_context(|| format!("opening the log in {}", cli.data_dir.display()));
        }
    };
    let file = brook::kafka_wire::address_file(&cli.data_dir);
    let address = std::fs::read_to_string(&file).map_err(|_| {
        anyhow::anyhow!(
            "{error}, and it serves no Kafka listener to go through ({} is missing: the \
             server runs with --kafka-listen off); stop it, or start it with a listener",
            file.display()
        )
    })?;
    let address = address.trim().to_string();
    let kafka = KafkaTransport::connect(&address)
        .with_context(|| format!("{error}; its Kafka listener at {address} does not answer"))?;
    Ok(Target::Server(Box::new(kafka)))
}
