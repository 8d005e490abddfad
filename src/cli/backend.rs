//! Which log the engine runs on: the embedded log in `--data-dir` (the default), or a Kafka
//! cluster (`--bootstrap-servers`), where the catalog, offsets and changelogs live in Kafka
//! under the names of `--service-id` and `--data-dir` keeps only the state stores' local copies.

use super::Cli;
use anyhow::Context;
use brook::engine::{Engine, InternalNames, RunMode, member_client_id};
use brook::kafka::KafkaTransport;
use brook::log::EmbeddedLog;
use brook::transport::Transport;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub enum Backend {
    Embedded(EmbeddedLog),
    Kafka {
        transport: Arc<KafkaTransport>,
        data_dir: PathBuf,
        service_id: String,
        server_id: String,
    },
}

impl Backend {
    /// The cluster of `--bootstrap-servers`, or else the embedded log of `--data-dir`.
    pub fn open(cli: &Cli) -> anyhow::Result<Backend> {
        let Some(bootstrap) = &cli.bootstrap_servers else {
            return Ok(Backend::Embedded(super::open_log(cli)?));
        };
        std::fs::create_dir_all(&cli.data_dir)
            .with_context(|| format!("creating the data directory {}", cli.data_dir.display()))?;
        let server_id = server_id(&cli.data_dir)?;
        let mut settings = vec![("client.id".to_string(), member_client_id(&server_id))];
        for setting in &cli.kafka_config {
            let (key, value) = setting.split_once('=').ok_or_else(|| {
                anyhow::anyhow!("--kafka-config {setting}: not KEY=VALUE (a librdkafka setting)")
            })?;
            settings.push((key.trim().to_string(), value.trim().to_string()));
        }
        let transport = KafkaTransport::connect_with(bootstrap, &settings)
            .with_context(|| format!("connecting to the Kafka cluster at {bootstrap}"))?;
        Ok(Backend::Kafka {
            transport: Arc::new(transport),
            data_dir: cli.data_dir.clone(),
            service_id: cli.service_id.clone(),
            server_id,
        })
    }

    pub fn transport(&self) -> Arc<dyn Transport> {
        match self {
            Backend::Embedded(log) => Arc::new(log.clone()),
            Backend::Kafka { transport, .. } => transport.clone(),
        }
    }

    /// The embedded log, which the Kafka-protocol listener serves (none on Kafka).
    pub fn embedded(&self) -> Option<&EmbeddedLog> {
        match self {
            Backend::Embedded(log) => Some(log),
            Backend::Kafka { .. } => None,
        }
    }

    pub fn data_dir(&self) -> &Path {
        match self {
            Backend::Embedded(log) => log.data_dir(),
            Backend::Kafka { data_dir, .. } => data_dir,
        }
    }

    /// An engine on this log, its queries' state under `<data dir>/state`; on Kafka named as
    /// ksqlDB names things for the service id, its catalog shared with the service's servers.
    pub fn engine(&self) -> Engine {
        let engine = Engine::new(self.transport(), RunMode::Threads)
            .with_state_dir(self.data_dir().join("state"));
        match self {
            Backend::Embedded(_) => engine,
            Backend::Kafka {
                service_id,
                server_id,
                ..
            } => engine
                .with_names(InternalNames::for_service(service_id))
                .with_shared_catalog(server_id),
        }
    }

    pub fn close(self) -> anyhow::Result<()> {
        match self {
            Backend::Embedded(log) => log.close().context("closing the log"),
            Backend::Kafka { .. } => Ok(()),
        }
    }
}

/// This server's id among those of its service: made once, kept in `<data dir>/server-id`, so
/// a restarted server is the same server (its transactional producers fence those of its
/// previous run).
fn server_id(data_dir: &Path) -> anyhow::Result<String> {
    let path = data_dir.join("server-id");
    if let Ok(id) = std::fs::read_to_string(&path) {
        let id = id.trim();
        if !id.is_empty() {
            return Ok(id.to_string());
        }
    }
    let id = format!("{:016x}", fastrand::u64(..));
    std::fs::write(&path, &id).with_context(|| format!("writing {}", path.display()))?;
    Ok(id)
}
