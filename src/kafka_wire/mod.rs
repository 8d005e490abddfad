//! The embedded log served over Kafka's wire protocol (ADR 0007, issue 16): Kafka clients
//! produce to and fetch from the topics SQL statements create and read. Built step by step
//! (ADR 0007, "Migration"); so far the framing of requests and responses (`frame.rs`) and
//! their decoding with the `kafka-protocol` crate (`request.rs`). No listener serves them yet.
//!
//! May import: `log`, `transport`, `common`; never `exec`, `engine`, `plan` or `http`.

pub mod frame;
pub mod request;

pub use frame::{FrameError, MAX_REQUEST_BYTES, read_frame, write_frame};
pub use request::{Request, WireError, decode_request, encode_response};
