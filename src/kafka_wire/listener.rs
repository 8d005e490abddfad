//! The listener: an accept loop on its own thread and async runtime, connections limited in
//! number (more wait in the backlog) and in idle time (a frame must arrive within it, so a
//! client that sends half a request is dropped too), and each connection's requests answered
//! one at a time in order, as Kafka does (clients rely on it).
//!
//! May import what `kafka_wire` does.

use super::dispatch::{self, Connection, Outcome};
use super::frame::{read_frame_body, read_frame_size, write_frame};
use super::producer_ids::ProducerIds;
use super::request::{WireError, decode_request};
use super::txn::Transactions;
use super::{Broker, KafkaConfig};
use crate::log::EmbeddedLog;
use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::{ApiKey, ResponseHeader};
use kafka_protocol::protocol::Encodable;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncWriteExt, BufReader, BufWriter};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

/// How long a stopping listener lets connections finish the request they are answering.
const DRAIN_LIMIT: Duration = Duration::from_secs(5);

/// A running listener; `stop` (or dropping it) closes it.
pub struct KafkaServer {
    pub local_addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// `<data-dir>/kafka-listener`: this address, for `brook` commands run while the server
    /// owns the data directory; removed when the listener stops.
    address_file: PathBuf,
}

impl KafkaServer {
    /// Stops accepting, closes the connections and waits for the listener's thread.
    pub fn stop(mut self) {
        self.stop_now();
    }

    fn stop_now(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
            let _ = std::fs::remove_file(&self.address_file);
        }
    }
}

/// The file a running server's Kafka listener address is in.
pub fn address_file(data_dir: &Path) -> PathBuf {
    data_dir.join("kafka-listener")
}

impl Drop for KafkaServer {
    fn drop(&mut self) {
        self.stop_now();
    }
}

/// Binds `config.listen` and serves `log` on a thread of its own.
pub fn start(log: EmbeddedLog, config: KafkaConfig) -> std::io::Result<KafkaServer> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("brook-kafka")
        .thread_stack_size(crate::common::limits::THREAD_STACK_BYTES)
        .enable_all()
        .build()?;
    let listener = runtime.block_on(TcpListener::bind(config.listen))?;
    let local_addr = listener.local_addr()?;
    let data_dir = log.data_dir().to_path_buf();
    let cluster_id = cluster_id(&data_dir)?;
    let producer_ids = ProducerIds::open(&log.data_dir().join("kafka"))?;
    let transactions = Transactions::open(&log.data_dir().join("kafka"))?;
    transactions.recover(&log).map_err(std::io::Error::other)?;
    let in_flight = tokio::sync::Semaphore::new(config.max_in_flight_bytes.max(1));
    let broker = Arc::new(Broker {
        log,
        config,
        cluster_id,
        groups: Default::default(),
        producer_ids,
        transactions,
        in_flight,
    });
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("brook-kafka".into())
        .spawn(move || {
            runtime.block_on(serve(listener, broker, async move {
                let _ = rx.await;
            }));
        })?;
    let address_file = address_file(&data_dir);
    std::fs::write(&address_file, local_addr.to_string())?;
    Ok(KafkaServer {
        local_addr,
        shutdown: Some(tx),
        thread: Some(thread),
        address_file,
    })
}

/// The cluster id Metadata reports: made once per data directory and kept in
/// `<data-dir>/kafka/cluster-id` (22 characters of URL-safe base64, as Kafka's).
fn cluster_id(data_dir: &Path) -> std::io::Result<String> {
    use base64::Engine;
    let dir = data_dir.join("kafka");
    let path = dir.join("cluster-id");
    if let Ok(id) = std::fs::read_to_string(&path) {
        let id = id.trim();
        if !id.is_empty() {
            return Ok(id.to_string());
        }
    }
    std::fs::create_dir_all(&dir)?;
    let bytes: [u8; 16] = std::array::from_fn(|_| fastrand::u8(..));
    let id = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let temp = dir.join("cluster-id.tmp");
    std::fs::write(&temp, &id)?;
    std::fs::rename(&temp, &path)?;
    Ok(id)
}

async fn serve(
    listener: TcpListener,
    broker: Arc<Broker>,
    stop: impl std::future::Future<Output = ()>,
) {
    let (stopping_tx, stopping_rx) = watch::channel(false);
    let mut connections = JoinSet::new();
    let max = broker.config.max_connections;
    let mut ticker = tokio::time::interval(super::groups::TICK);
    tokio::pin!(stop);
    loop {
        tokio::select! {
            accepted = listener.accept(), if connections.len() < max => match accepted {
                Ok((stream, _peer)) => {
                    connections.spawn(serve_connection(stream, broker.clone(), stopping_rx.clone()));
                }
                Err(e) => {
                    tracing::warn!("accepting a Kafka connection failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            _ = ticker.tick() => {
                broker.groups.tick(std::time::Instant::now());
                tokio::task::block_in_place(|| {
                    broker.transactions.abort_expired(&broker.log, crate::log::now_ms())
                });
            }
            () = &mut stop => break,
        }
    }
    drop(listener);
    let _ = stopping_tx.send(true);
    let drained = tokio::time::timeout(DRAIN_LIMIT, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        connections.abort_all();
    }
}

/// Answers one connection's requests in order until it closes, idles, errs or the server stops.
async fn serve_connection(
    stream: TcpStream,
    broker: Arc<Broker>,
    mut stopping: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let Ok(local) = stream.local_addr() else {
        return;
    };
    let peer = stream
        .peer_addr()
        .map_or_else(|_| "?".to_string(), |a| a.to_string());
    let Ok(peer_addr) = stream.peer_addr() else {
        return;
    };
    let (reader, writer) = stream.into_split();
    let mut reader = BufReader::new(reader);
    let mut writer = BufWriter::new(writer);
    let config = &broker.config;
    loop {
        let request = async {
            let Some(size) = read_frame_size(&mut reader, config.max_request_bytes).await? else {
                return Ok(None);
            };
            // Held until the request is answered: all connections' requests stay within
            // `max_in_flight_bytes` (a request larger than it takes the whole budget).
            let permits = size.min(config.max_in_flight_bytes).max(1) as u32;
            let Ok(held) = broker.in_flight.acquire_many(permits).await else {
                return Ok(None);
            };
            let body = read_frame_body(&mut reader, size).await?;
            Ok::<_, super::FrameError>(Some((body, held)))
        };
        let frame = tokio::select! {
            frame = tokio::time::timeout(config.idle, request) => frame,
            _ = stopping.changed() => return,
        };
        let (frame, _held) = match frame {
            Ok(Ok(Some(frame))) => frame,
            Ok(Ok(None)) => return,
            Ok(Err(e)) => return tracing::debug!(%peer, "Kafka connection closed: {e}"),
            Err(_) => {
                return tracing::debug!(%peer, "Kafka connection idle for {:?}: closed", config.idle);
            }
        };
        let response = match answer(&broker, local, peer_addr, frame).await {
            Ok(Some(response)) => response,
            Ok(None) => continue,
            Err(reason) => return tracing::info!(%peer, "Kafka connection closed: {reason}"),
        };
        let written = async {
            write_frame(&mut writer, &response).await?;
            writer.flush().await?;
            Ok::<_, super::FrameError>(())
        };
        if let Err(e) = written.await {
            return tracing::debug!(%peer, "writing a Kafka response failed: {e}");
        }
    }
}

/// The response frame to `frame`; `None` for no response; an error closes the connection.
async fn answer(
    broker: &Broker,
    local: SocketAddr,
    peer: SocketAddr,
    frame: Bytes,
) -> Result<Option<Bytes>, String> {
    let request = match decode_request(frame.clone()) {
        Ok(request) => request,
        Err(WireError::UnsupportedVersion {
            api: ApiKey::ApiVersions,
            ..
        }) => return unsupported_api_versions(&frame).map(Some),
        Err(e) => return Err(e.to_string()),
    };
    let (api, version) = (request.api, request.header.request_api_version);
    let header = request.header.clone();
    let connection = Connection {
        local,
        peer,
        client_id: header
            .client_id
            .as_ref()
            .map(|c| c.to_string())
            .unwrap_or_default(),
    };
    match dispatch::handle(broker, &connection, request).await {
        Outcome::Respond(response) => super::request::encode_response(api, &header, &response)
            .map(Some)
            .map_err(|e| {
                tracing::error!("{e}");
                format!("cannot answer {api:?} v{version}")
            }),
        Outcome::Silent => Ok(None),
        Outcome::Close(reason) => Err(reason),
    }
}

/// KIP-511: an ApiVersions request in a version not served is answered in version 0, with
/// `UNSUPPORTED_VERSION` and the versions served, so that the client retries with one of them.
fn unsupported_api_versions(frame: &[u8]) -> Result<Bytes, String> {
    let correlation_id = frame
        .get(4..8)
        .map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        .ok_or("an ApiVersions request without a correlation id")?;
    let mut out = BytesMut::new();
    let encoded = ResponseHeader::default()
        .with_correlation_id(correlation_id)
        .encode(&mut out, 0)
        .and_then(|()| dispatch::unsupported_api_versions().encode(&mut out, 0));
    encoded.map_err(|e| format!("cannot encode the ApiVersions v0 response: {e}"))?;
    Ok(out.freeze())
}
