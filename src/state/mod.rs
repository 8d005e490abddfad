//! State stores for stateful queries (aggregations, windows, tables): one RocksDB database per
//! query directory ([`StateDir`]), a column family per named [`Store`] of byte keys and values,
//! an in-memory write cache per store that reaches RocksDB only at [`StateDir::flush`] (all
//! stores plus a [`Checkpoint`] of changelog offsets in one atomic batch), order-preserving key
//! encodings ([`keys`]) and windowed / session stores and stream-stream join buffers built on
//! them. The changelog topics are the caller's: see `docs/state.md` for the protocol.
//!
//! May import: `common` and `transport` only.

mod cache;
mod checkpoint;
mod dir;
#[cfg(test)]
mod dir_tests;
mod error;
mod join_buffer;
pub mod keys;
mod layout;
mod session;
#[cfg(test)]
mod session_tests;
mod store;
mod window;
#[cfg(test)]
mod window_tests;

pub use cache::Entry;
pub use checkpoint::Checkpoint;
pub use dir::{FORMAT, StateDir};
pub use error::{Result, StateError};
pub use join_buffer::{BufferedRow, JoinBuffer};
pub use layout::ChangelogLayout;
pub use session::{Session, SessionStore};
pub use store::Store;
pub use window::{WindowEntry, WindowStore};
