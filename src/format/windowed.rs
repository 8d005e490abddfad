//! Windowed keys, as Kafka Streams writes them to topics (and so ksqlDB): the inner key's
//! bytes in the key format, followed by the window in big-endian 8-byte integers.
//!
//! - Time windows (TUMBLING, HOPPING): `inner ++ start`. The end is not stored; readers add the
//!   window size (`TimeWindowedDeserializer`), saturating at `i64::MAX`.
//! - Session windows: `inner ++ end ++ start` (`SessionKeySchema.toBinary`).

use std::fmt;

/// The kind of window a key belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WindowKind {
    Tumbling,
    Hopping,
    Session,
}

impl WindowKind {
    /// Parses `WINDOW_TYPE` (case-insensitive).
    pub fn parse(text: &str) -> Option<WindowKind> {
        match text.to_ascii_uppercase().as_str() {
            "TUMBLING" => Some(WindowKind::Tumbling),
            "HOPPING" => Some(WindowKind::Hopping),
            "SESSION" => Some(WindowKind::Session),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            WindowKind::Tumbling => "TUMBLING",
            WindowKind::Hopping => "HOPPING",
            WindowKind::Session => "SESSION",
        }
    }
}

/// How a source's keys are windowed: ksqlDB's `WindowInfo`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WindowInfo {
    pub kind: WindowKind,
    /// Time windows only: the window size in milliseconds.
    pub size_ms: Option<i64>,
}

impl fmt::Display for WindowInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.size_ms {
            Some(ms) => write!(f, "{} ({ms} ms)", self.kind.name()),
            None => f.write_str(self.kind.name()),
        }
    }
}

/// A window's bounds in epoch milliseconds (start inclusive, end exclusive).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WindowBounds {
    pub start: i64,
    pub end: i64,
}

const LONG: usize = 8;

impl WindowInfo {
    /// The bytes a window adds after the inner key.
    fn suffix_len(&self) -> usize {
        match self.kind {
            WindowKind::Session => 2 * LONG,
            WindowKind::Tumbling | WindowKind::Hopping => LONG,
        }
    }

    /// Splits a windowed key into its inner key bytes and its window.
    pub fn split<'a>(&self, key: &'a [u8]) -> Result<(&'a [u8], WindowBounds), String> {
        let suffix = self.suffix_len();
        let Some(inner_len) = key.len().checked_sub(suffix) else {
            return Err(format!(
                "a {} windowed key needs at least {suffix} bytes for its window, got {}",
                self.kind.name(),
                key.len()
            ));
        };
        let (inner, window) = key.split_at(inner_len);
        let long_at = |i: usize| {
            let mut b = [0u8; LONG];
            b.copy_from_slice(&window[i * LONG..(i + 1) * LONG]);
            i64::from_be_bytes(b)
        };
        let bounds = match self.kind {
            WindowKind::Session => WindowBounds {
                end: long_at(0),
                start: long_at(1),
            },
            WindowKind::Tumbling | WindowKind::Hopping => {
                let start = long_at(0);
                let size = self.size_ms.unwrap_or(i64::MAX);
                WindowBounds {
                    start,
                    end: start.checked_add(size).unwrap_or(i64::MAX),
                }
            }
        };
        Ok((inner, bounds))
    }

    /// Appends the window after an inner key already in `out`.
    pub fn append(&self, bounds: WindowBounds, out: &mut Vec<u8>) {
        if self.kind == WindowKind::Session {
            out.extend_from_slice(&bounds.end.to_be_bytes());
        }
        out.extend_from_slice(&bounds.start.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TUMBLING: WindowInfo = WindowInfo {
        kind: WindowKind::Tumbling,
        size_ms: Some(30_000),
    };
    const SESSION: WindowInfo = WindowInfo {
        kind: WindowKind::Session,
        size_ms: None,
    };

    #[test]
    fn time_window_is_inner_key_then_start() {
        let mut key = b"\"k\"".to_vec();
        TUMBLING.append(
            WindowBounds {
                start: 10_000,
                end: 40_000,
            },
            &mut key,
        );
        assert_eq!(&key[3..], &10_000i64.to_be_bytes());
        let (inner, bounds) = TUMBLING.split(&key).expect("split");
        assert_eq!(inner, b"\"k\"");
        assert_eq!(
            bounds,
            WindowBounds {
                start: 10_000,
                end: 40_000
            }
        );
    }

    #[test]
    fn session_window_is_inner_key_then_end_then_start() {
        let mut key = vec![0, 0, 0, 7];
        let bounds = WindowBounds {
            start: 12,
            end: 465,
        };
        SESSION.append(bounds, &mut key);
        assert_eq!(&key[4..12], &465i64.to_be_bytes());
        assert_eq!(&key[12..], &12i64.to_be_bytes());
        assert_eq!(SESSION.split(&key), Ok((&[0u8, 0, 0, 7][..], bounds)));
    }

    #[test]
    fn short_keys_and_huge_ends_are_handled() {
        assert!(SESSION.split(&[0; 15]).is_err());
        let key = i64::MAX.to_be_bytes();
        let (inner, bounds) = TUMBLING.split(&key).expect("split");
        assert!(inner.is_empty());
        assert_eq!(bounds.end, i64::MAX);
    }
}
