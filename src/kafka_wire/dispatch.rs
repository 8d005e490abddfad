//! Routes a decoded request to its API's handler, and answers ApiVersions with `SERVED`: the
//! APIs and versions this listener implements. Anything not in `SERVED` is not advertised, and
//! a request for it closes the connection, as Kafka does for an API it does not know.
//!
//! May import what `kafka_wire` does.

use super::request::Request;
use super::{Broker, configs, fetch, groups, metadata, produce, transactions};
use kafka_protocol::ResponseError;
use kafka_protocol::messages::api_versions_response::ApiVersion;
use kafka_protocol::messages::{ApiKey, ApiVersionsResponse, RequestKind, ResponseKind};

/// Each API served with the versions served: within what `kafka-protocol` decodes, and no
/// newer than the versions whose fields the handlers fill (Fetch and Metadata stop before the
/// versions that address topics by id only; see docs/kafka-protocol.md).
pub const SERVED: &[(ApiKey, i16, i16)] = &[
    (ApiKey::Produce, 3, 9),
    (ApiKey::Fetch, 4, 12),
    (ApiKey::ListOffsets, 1, 7),
    (ApiKey::Metadata, 0, 12),
    (ApiKey::ApiVersions, 0, 4),
    (ApiKey::CreateTopics, 2, 7),
    (ApiKey::DeleteTopics, 1, 6),
    (ApiKey::FindCoordinator, 0, 4),
    (ApiKey::JoinGroup, 0, 9),
    (ApiKey::SyncGroup, 0, 5),
    (ApiKey::Heartbeat, 0, 4),
    (ApiKey::LeaveGroup, 0, 5),
    (ApiKey::OffsetCommit, 2, 8),
    (ApiKey::OffsetFetch, 1, 8),
    (ApiKey::ListGroups, 0, 5),
    (ApiKey::DescribeGroups, 0, 5),
    (ApiKey::DeleteGroups, 0, 2),
    (ApiKey::InitProducerId, 0, 4),
    (ApiKey::AddPartitionsToTxn, 0, 3),
    (ApiKey::AddOffsetsToTxn, 0, 3),
    (ApiKey::TxnOffsetCommit, 0, 3),
    (ApiKey::EndTxn, 0, 3),
    (ApiKey::DescribeConfigs, 1, 4),
    (ApiKey::DescribeCluster, 0, 1),
];

/// The served version range of `api`, if it is served.
pub fn served(api: ApiKey) -> Option<(i16, i16)> {
    SERVED
        .iter()
        .find(|(key, _, _)| *key == api)
        .map(|&(_, min, max)| (min, max))
}

/// What the connection does with a request.
pub enum Outcome {
    Respond(Box<ResponseKind>),
    /// Produce with `acks=0`: no response is sent.
    Silent,
    /// The request cannot be answered: the connection is closed (Kafka's answer to an
    /// unsupported API, and to a failed `acks=0` produce).
    Close(String),
}

impl Outcome {
    pub fn respond(response: ResponseKind) -> Outcome {
        Outcome::Respond(Box::new(response))
    }
}

/// The connection the request came on, and the client's id in the request.
pub struct Connection {
    /// The local address the client connected to (advertised when no address is configured).
    pub local: std::net::SocketAddr,
    pub peer: std::net::SocketAddr,
    pub client_id: String,
}

/// Handles one request; blocking log work runs in `block_in_place`.
pub async fn handle(broker: &Broker, connection: &Connection, request: Request) -> Outcome {
    let version = request.header.request_api_version;
    if let Some((min, max)) = served(request.api)
        && !(min..=max).contains(&version)
    {
        return Outcome::Close(format!(
            "{:?} v{version} is not served (versions {min} to {max})",
            request.api
        ));
    }
    match request.body {
        RequestKind::ApiVersions(_) => Outcome::respond(ResponseKind::ApiVersions(api_versions(0))),
        RequestKind::Metadata(body) => {
            let response = tokio::task::block_in_place(|| {
                metadata::metadata(broker, connection, body, version)
            });
            Outcome::respond(ResponseKind::Metadata(response))
        }
        RequestKind::CreateTopics(body) => {
            let response = tokio::task::block_in_place(|| metadata::create_topics(broker, body));
            Outcome::respond(ResponseKind::CreateTopics(response))
        }
        RequestKind::DeleteTopics(body) => {
            let response = tokio::task::block_in_place(|| metadata::delete_topics(broker, body));
            Outcome::respond(ResponseKind::DeleteTopics(response))
        }
        RequestKind::Produce(body) => produce::produce(broker, body),
        RequestKind::Fetch(body) => {
            Outcome::respond(ResponseKind::Fetch(fetch::fetch(broker, body).await))
        }
        RequestKind::ListOffsets(body) => {
            let response =
                tokio::task::block_in_place(|| fetch::list_offsets(broker, body, version));
            Outcome::respond(ResponseKind::ListOffsets(response))
        }
        RequestKind::FindCoordinator(body) => Outcome::respond(ResponseKind::FindCoordinator(
            groups::find_coordinator(broker, connection, body, version),
        )),
        RequestKind::JoinGroup(body) => Outcome::respond(ResponseKind::JoinGroup(
            broker.groups.join(connection, body, version).await,
        )),
        RequestKind::SyncGroup(body) => {
            Outcome::respond(ResponseKind::SyncGroup(broker.groups.sync(body).await))
        }
        RequestKind::Heartbeat(body) => {
            Outcome::respond(ResponseKind::Heartbeat(broker.groups.heartbeat(body)))
        }
        RequestKind::LeaveGroup(body) => {
            Outcome::respond(ResponseKind::LeaveGroup(broker.groups.leave(body)))
        }
        RequestKind::OffsetCommit(body) => {
            let response = tokio::task::block_in_place(|| groups::offsets::commit(broker, body));
            Outcome::respond(ResponseKind::OffsetCommit(response))
        }
        RequestKind::OffsetFetch(body) => {
            let response =
                tokio::task::block_in_place(|| groups::offsets::fetch(broker, body, version));
            Outcome::respond(ResponseKind::OffsetFetch(response))
        }
        RequestKind::ListGroups(body) => {
            let response = tokio::task::block_in_place(|| broker.groups.list(broker, body));
            Outcome::respond(ResponseKind::ListGroups(response))
        }
        RequestKind::DescribeGroups(body) => {
            Outcome::respond(ResponseKind::DescribeGroups(broker.groups.describe(body)))
        }
        RequestKind::InitProducerId(body) => Outcome::respond(ResponseKind::InitProducerId(
            tokio::task::block_in_place(|| transactions::init_producer_id(broker, &body)),
        )),
        RequestKind::AddPartitionsToTxn(body) => {
            Outcome::respond(ResponseKind::AddPartitionsToTxn(
                tokio::task::block_in_place(|| transactions::add_partitions(broker, body)),
            ))
        }
        RequestKind::AddOffsetsToTxn(body) => Outcome::respond(ResponseKind::AddOffsetsToTxn(
            tokio::task::block_in_place(|| transactions::add_offsets(broker, &body)),
        )),
        RequestKind::TxnOffsetCommit(body) => Outcome::respond(ResponseKind::TxnOffsetCommit(
            tokio::task::block_in_place(|| transactions::commit_offsets(broker, body)),
        )),
        RequestKind::EndTxn(body) => {
            Outcome::respond(ResponseKind::EndTxn(tokio::task::block_in_place(|| {
                transactions::end(broker, &body)
            })))
        }
        RequestKind::DeleteGroups(body) => Outcome::respond(ResponseKind::DeleteGroups(
            tokio::task::block_in_place(|| broker.groups.delete(broker, body)),
        )),
        RequestKind::DescribeConfigs(body) => Outcome::respond(ResponseKind::DescribeConfigs(
            tokio::task::block_in_place(|| configs::describe_configs(broker, body)),
        )),
        RequestKind::DescribeCluster(_) => Outcome::respond(ResponseKind::DescribeCluster(
            configs::describe_cluster(broker, connection),
        )),
        _ => Outcome::Close(format!("{:?} is not served", request.api)),
    }
}

/// The ApiVersions response: every served API, with `error_code` (`UNSUPPORTED_VERSION` when
/// the client asked in a version not served, KIP-511).
pub fn api_versions(error_code: i16) -> ApiVersionsResponse {
    let api_keys = SERVED
        .iter()
        .map(|&(key, min, max)| {
            ApiVersion::default()
                .with_api_key(key as i16)
                .with_min_version(min)
                .with_max_version(max)
        })
        .collect();
    ApiVersionsResponse::default()
        .with_error_code(error_code)
        .with_api_keys(api_keys)
}

/// The ApiVersions response to a version not served.
pub fn unsupported_api_versions() -> ApiVersionsResponse {
    api_versions(ResponseError::UnsupportedVersion.code())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_served_version_is_one_kafka_protocol_decodes() {
        for &(api, min, max) in SERVED {
            let known = api.valid_versions();
            assert!(
                known.min <= min && min <= max && max <= known.max,
                "{api:?} {min}..={max} outside {known:?}"
            );
        }
    }
}
