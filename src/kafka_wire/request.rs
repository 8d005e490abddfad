//! A request frame decoded with the `kafka-protocol` crate (generated from Kafka's message
//! schemas): its header (in the header version the API key and version call for) and its body;
//! and a response encoded the same way. An unknown API key, a version the crate does not know
//! and a body that does not decode are told apart, so that the listener can answer ApiVersions
//! with `UNSUPPORTED_VERSION` (KIP-511) and close the connection on the others, as Kafka does.
//!
//! May import what `kafka_wire` does.

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::{ApiKey, RequestHeader, RequestKind, ResponseHeader, ResponseKind};
use kafka_protocol::protocol::{Decodable, Encodable};

/// A decoded request.
#[derive(Debug)]
pub struct Request {
    pub api: ApiKey,
    pub header: RequestHeader,
    pub body: RequestKind,
}

/// Why a request could not be decoded, or a response encoded.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    /// The client's fault: an API key Kafka does not have.
    #[error("unknown API key {0}")]
    UnknownApi(i16),
    /// The client's fault: a version outside the API's known range.
    #[error("{api:?} version {version} is not supported (versions {min} to {max})")]
    UnsupportedVersion {
        api: ApiKey,
        version: i16,
        min: i16,
        max: i16,
    },
    /// The client's fault: bytes that are not the request they claim to be.
    #[error("malformed {api:?} v{version} request: {reason}")]
    Malformed {
        api: ApiKey,
        version: i16,
        reason: String,
    },
    /// Brook's fault: a response that cannot be encoded in the request's version.
    #[error("cannot encode the {api:?} v{version} response: {reason}")]
    Encode {
        api: ApiKey,
        version: i16,
        reason: String,
    },
}

/// The request in `frame` (a frame's bytes, without its size).
pub fn decode_request(mut frame: Bytes) -> Result<Request, WireError> {
    let (key, version) = match frame.get(..4) {
        Some(b) => (
            i16::from_be_bytes([b[0], b[1]]),
            i16::from_be_bytes([b[2], b[3]]),
        ),
        None => return Err(WireError::UnknownApi(-1)),
    };
    let api = ApiKey::try_from(key).map_err(|_| WireError::UnknownApi(key))?;
    let range = api.valid_versions();
    if !(range.min..=range.max).contains(&version) {
        return Err(WireError::UnsupportedVersion {
            api,
            version,
            min: range.min,
            max: range.max,
        });
    }
    let malformed = |e: anyhow::Error| WireError::Malformed {
        api,
        version,
        reason: e.to_string(),
    };
    let header = RequestHeader::decode(&mut frame, api.request_header_version(version))
        .map_err(malformed)?;
    let body = RequestKind::decode(api, &mut frame, version).map_err(malformed)?;
    // Kafka ignores bytes after a request's fields, and clients rely on it (librdkafka sends
    // Metadata v12 with fields of other versions).
    if !frame.is_empty() {
        tracing::trace!("{} bytes after a {api:?} v{version} request", frame.len());
    }
    Ok(Request { api, header, body })
}

/// The frame body of `response` to the request with header `request`: a response header with its correlation id, in
/// the header version of the request's API and version, then the response.
pub fn encode_response(
    api: ApiKey,
    request: &RequestHeader,
    response: &ResponseKind,
) -> Result<Bytes, WireError> {
    let version = request.request_api_version;
    let failed = |e: anyhow::Error| WireError::Encode {
        api,
        version,
        reason: e.to_string(),
    };
    let mut out = BytesMut::new();
    ResponseHeader::default()
        .with_correlation_id(request.correlation_id)
        .encode(&mut out, api.response_header_version(version))
        .map_err(failed)?;
    response.encode(&mut out, version).map_err(failed)?;
    Ok(out.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::{ApiVersionsRequest, ApiVersionsResponse};
    use kafka_protocol::protocol::StrBytes;

    /// A request as a client encodes it.
    fn encoded(api: ApiKey, version: i16, body: &RequestKind) -> Bytes {
        let header = RequestHeader::default()
            .with_request_api_key(api as i16)
            .with_request_api_version(version)
            .with_correlation_id(42)
            .with_client_id(Some(StrBytes::from_static_str("test")));
        let mut out = BytesMut::new();
        header
            .encode(&mut out, api.request_header_version(version))
            .expect("header");
        body.encode(&mut out, version).expect("body");
        out.freeze()
    }

    fn api_versions() -> RequestKind {
        RequestKind::ApiVersions(
            ApiVersionsRequest::default()
                .with_client_software_name(StrBytes::from_static_str("brook-test"))
                .with_client_software_version(StrBytes::from_static_str("1")),
        )
    }

    #[test]
    fn requests_decode_in_every_header_version_and_responses_carry_the_correlation_id() {
        for version in [0, 3] {
            let frame = encoded(ApiKey::ApiVersions, version, &api_versions());
            let request = decode_request(frame).expect("decodes");
            assert_eq!(request.api, ApiKey::ApiVersions);
            assert_eq!(request.header.correlation_id, 42);
            let response = ResponseKind::ApiVersions(ApiVersionsResponse::default());
            let mut bytes =
                encode_response(request.api, &request.header, &response).expect("encodes");
            let header = ResponseHeader::decode(
                &mut bytes,
                ApiKey::ApiVersions.response_header_version(version),
            )
            .expect("response header");
            assert_eq!(header.correlation_id, 42);
            ApiVersionsResponse::decode(&mut bytes, version).expect("response body");
            assert!(bytes.is_empty(), "v{version}: nothing after the response");
        }
    }

    #[test]
    fn unknown_apis_versions_and_bodies_are_told_apart() {
        let mut frame = encoded(ApiKey::ApiVersions, 3, &api_versions()).to_vec();
        frame[0..2].copy_from_slice(&999i16.to_be_bytes());
        let err = decode_request(Bytes::from(frame)).expect_err("unknown");
        assert!(matches!(err, WireError::UnknownApi(999)), "{err}");
        let mut frame = encoded(ApiKey::ApiVersions, 3, &api_versions()).to_vec();
        frame[2..4].copy_from_slice(&99i16.to_be_bytes());
        let err = decode_request(Bytes::from(frame)).expect_err("version");
        assert!(
            matches!(err, WireError::UnsupportedVersion { version: 99, .. }),
            "{err}"
        );
        let frame = encoded(ApiKey::ApiVersions, 3, &api_versions());
        let cut = frame.slice(..frame.len() - 3);
        let err = decode_request(cut).expect_err("truncated body");
        assert!(matches!(err, WireError::Malformed { .. }), "{err}");
        let err = decode_request(Bytes::from_static(b"\x00")).expect_err("no header");
        assert!(matches!(err, WireError::UnknownApi(-1)), "{err}");
    }
}
