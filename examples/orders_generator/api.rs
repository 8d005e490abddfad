//! Brook's HTTP API as the generator uses it: wait for `/healthcheck` to say the server is
//! ready (its startup query files ran), and insert rows with `POST /inserts-stream`, each
//! row of which must be acknowledged `ok`.

use brook::http::client;
use serde_json::Value as Json;
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::{Duration, Instant};

/// What stops the generator.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("--server {0}: not a URL such as http://127.0.0.1:8088")]
    BadUrl(String),
    #[error(
        "{url} was not ready within {waited:?} (is Brook running? `scripts/start` starts both)"
    )]
    NotReady { url: String, waited: Duration },
    #[error("{url}: {source}")]
    Unreachable { url: String, source: std::io::Error },
    #[error("{url}/inserts-stream answered {status}: {body}")]
    Refused {
        url: String,
        status: u16,
        body: String,
    },
    #[error(
        "inserting into {target}: {message} (the seed pipeline's sources come from queries/01-orders.sql)"
    )]
    Rejected { target: String, message: String },
    #[error("inserting into {target}: {acked} of {sent} rows acknowledged")]
    Unacknowledged {
        target: String,
        sent: usize,
        acked: usize,
    },
}

/// Whether a `/healthcheck` body says the server is healthy (its top-level `isHealthy`; the
/// details have their own, and `kafka`'s is true while the startup files still run).
pub fn is_healthy(body: &str) -> bool {
    serde_json::from_str::<Json>(body).is_ok_and(|b| b["isHealthy"] == true)
}

/// A Brook server's HTTP API.
pub struct Api {
    pub url: String,
    addr: SocketAddr,
}

const TIMEOUT: Duration = Duration::from_secs(30);

impl Api {
    /// The API at `url` (`http://host:port`; only plain HTTP).
    pub fn new(url: &str) -> Result<Api, ApiError> {
        let bad = || ApiError::BadUrl(url.to_string());
        let authority = url.strip_prefix("http://").ok_or_else(bad)?;
        let authority = authority.trim_end_matches('/');
        if authority.is_empty() || authority.contains('/') {
            return Err(bad());
        }
        let addr = authority
            .to_socket_addrs()
            .map_err(|_| bad())?
            .next()
            .ok_or_else(bad)?;
        Ok(Api {
            url: url.trim_end_matches('/').to_string(),
            addr,
        })
    }

    /// Waits until `/healthcheck` says the server is healthy, asking every 200 ms; stops
    /// early (`Ok(false)`) when `stopped` says so.
    pub fn wait_ready(&self, wait: Duration, stopped: &dyn Fn() -> bool) -> Result<bool, ApiError> {
        let deadline = Instant::now() + wait;
        loop {
            let reply = client::request(self.addr, "GET", "/healthcheck", "", "", TIMEOUT);
            if reply.is_ok_and(|r| r.status == 200 && is_healthy(&r.body)) {
                return Ok(true);
            }
            if stopped() {
                return Ok(false);
            }
            if Instant::now() > deadline {
                return Err(ApiError::NotReady {
                    url: self.url.clone(),
                    waited: wait,
                });
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Inserts `rows` into stream or table `target` in one request.
    pub fn insert(&self, target: &str, rows: &[Json]) -> Result<(), ApiError> {
        let mut body = serde_json::json!({ "target": target }).to_string();
        for row in rows {
            body.push('\n');
            body.push_str(&row.to_string());
        }
        let reply =
            client::post_json(self.addr, "/inserts-stream", &body, TIMEOUT).map_err(|source| {
                ApiError::Unreachable {
                    url: self.url.clone(),
                    source,
                }
            })?;
        if reply.status != 200 {
            return Err(ApiError::Refused {
                url: self.url.clone(),
                status: reply.status,
                body: reply.body,
            });
        }
        let mut acked = 0;
        for line in reply.body.lines().filter(|l| !l.trim().is_empty()) {
            let ack: Json = serde_json::from_str(line).unwrap_or(Json::Null);
            if ack["status"] == "ok" {
                acked += 1;
                continue;
            }
            let message = ack["message"].as_str().unwrap_or(line);
            return Err(ApiError::Rejected {
                target: target.to_string(),
                message: message.to_string(),
            });
        }
        if acked != rows.len() {
            return Err(ApiError::Unacknowledged {
                target: target.to_string(),
                sent: rows.len(),
                acked,
            });
        }
        Ok(())
    }
}
