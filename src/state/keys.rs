//! Order-preserving key encodings for windowed and session stores.
//!
//! RocksDB orders keys as unsigned bytes. Two building blocks make composite keys sort as their
//! parts do:
//! - a timestamp is 8 bytes big-endian with the sign bit flipped, so `i64::MIN` encodes as
//!   `00..00`, `-1` as `7F..FF`, `0` as `80..00` and `i64::MAX` as `FF..FF`;
//! - a variable-length record key is escaped (each `00` byte becomes `00 FF`) and terminated by
//!   `00 01`. The result sorts like the raw key (a shorter key sorts before its extensions) and no
//!   escaped key is a prefix of another, so the bytes after it (timestamps) never mix two keys.
//!
//! Layouts (see `docs/state.md`):
//! - window, by key: `key* ++ ts(start)` — all windows of one key are one contiguous range, in
//!   start order;
//! - window, by time: `ts(start) ++ key` — a range from the beginning finds what expires;
//! - session, by key: `key* ++ ts(end) ++ ts(start)` — one key's sessions, in end order;
//! - session, by time: `ts(end) ++ ts(start) ++ key`.
//!
//! (`key*` is the escaped, terminated key.) In the time-first layouts the key needs no escaping:
//! it follows fixed-length fields and runs to the end.

/// Bytes of an encoded timestamp.
pub const TS_LEN: usize = 8;

const SIGN: u64 = 1 << 63;
const ESCAPE: u8 = 0x00;
const ESCAPED_ZERO: u8 = 0xFF;
const TERMINATOR: u8 = 0x01;

/// Why a stored key could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct KeyError(pub &'static str);

/// A timestamp as 8 bytes that sort like the signed value.
pub fn encode_ts(ts: i64) -> [u8; TS_LEN] {
    ((ts as u64) ^ SIGN).to_be_bytes()
}

/// The timestamp of [`encode_ts`] bytes.
pub fn decode_ts(bytes: &[u8]) -> Result<i64, KeyError> {
    let array: [u8; TS_LEN] = bytes
        .try_into()
        .map_err(|_| KeyError("a timestamp must be 8 bytes"))?;
    Ok((u64::from_be_bytes(array) ^ SIGN) as i64)
}

/// Appends `key` escaped and terminated, so that what follows cannot blur key boundaries.
pub fn push_escaped(out: &mut Vec<u8>, key: &[u8]) {
    for &byte in key {
        out.push(byte);
        if byte == ESCAPE {
            out.push(ESCAPED_ZERO);
        }
    }
    out.extend_from_slice(&[ESCAPE, TERMINATOR]);
}

/// Reads an escaped key from the start of `bytes`: the key and the rest after its terminator.
pub fn split_escaped(bytes: &[u8]) -> Result<(Vec<u8>, &[u8]), KeyError> {
    let mut key = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let byte = bytes[i];
        if byte != ESCAPE {
            key.push(byte);
            i += 1;
            continue;
        }
        match bytes.get(i + 1) {
            Some(&ESCAPED_ZERO) => key.push(ESCAPE),
            Some(&TERMINATOR) => return Ok((key, &bytes[i + 2..])),
            _ => return Err(KeyError("bad escape sequence in a record key")),
        }
        i += 2;
    }
    Err(KeyError("record key has no terminator"))
}

/// The escaped, terminated `key`: the prefix every by-key entry of that key starts with.
pub fn key_prefix(key: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(key.len() + 2);
    push_escaped(&mut out, key);
    out
}

/// By-key window layout: `key* ++ ts(start)`.
pub fn window_key(key: &[u8], window_start: i64) -> Vec<u8> {
    let mut out = Vec::with_capacity(key.len() + 2 + TS_LEN);
    push_escaped(&mut out, key);
    out.extend_from_slice(&encode_ts(window_start));
    out
}

/// The key and window start of a [`window_key`].
pub fn decode_window_key(bytes: &[u8]) -> Result<(Vec<u8>, i64), KeyError> {
    let (key, rest) = split_escaped(bytes)?;
    Ok((key, decode_ts(rest)?))
}

/// By-time window layout: `ts(start) ++ key`.
pub fn window_time_key(window_start: i64, key: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(TS_LEN + key.len());
    out.extend_from_slice(&encode_ts(window_start));
    out.extend_from_slice(key);
    out
}

/// The window start and key of a [`window_time_key`].
pub fn decode_window_time_key(bytes: &[u8]) -> Result<(i64, Vec<u8>), KeyError> {
    if bytes.len() < TS_LEN {
        return Err(KeyError("window time key shorter than a timestamp"));
    }
    let (ts, key) = bytes.split_at(TS_LEN);
    Ok((decode_ts(ts)?, key.to_vec()))
}

/// By-key session layout: `key* ++ ts(end) ++ ts(start)` (end first, as Kafka Streams does, so
/// a scan from `earliest_end` skips the sessions that ended before it).
pub fn session_key(key: &[u8], start: i64, end: i64) -> Vec<u8> {
    let mut out = Vec::with_capacity(key.len() + 2 + 2 * TS_LEN);
    push_escaped(&mut out, key);
    out.extend_from_slice(&encode_ts(end));
    out.extend_from_slice(&encode_ts(start));
    out
}

/// The key, start and end of a [`session_key`].
pub fn decode_session_key(bytes: &[u8]) -> Result<(Vec<u8>, i64, i64), KeyError> {
    let (key, rest) = split_escaped(bytes)?;
    if rest.len() != 2 * TS_LEN {
        return Err(KeyError("session key must end with two timestamps"));
    }
    let (end, start) = rest.split_at(TS_LEN);
    Ok((key, decode_ts(start)?, decode_ts(end)?))
}

/// By-time session layout: `ts(end) ++ ts(start) ++ key`.
pub fn session_time_key(key: &[u8], start: i64, end: i64) -> Vec<u8> {
    let mut out = Vec::with_capacity(2 * TS_LEN + key.len());
    out.extend_from_slice(&encode_ts(end));
    out.extend_from_slice(&encode_ts(start));
    out.extend_from_slice(key);
    out
}

/// The key, start and end of a [`session_time_key`].
pub fn decode_session_time_key(bytes: &[u8]) -> Result<(Vec<u8>, i64, i64), KeyError> {
    if bytes.len() < 2 * TS_LEN {
        return Err(KeyError("session time key shorter than two timestamps"));
    }
    let (end, rest) = bytes.split_at(TS_LEN);
    let (start, key) = rest.split_at(TS_LEN);
    Ok((key.to_vec(), decode_ts(start)?, decode_ts(end)?))
}

/// The smallest key greater than every key that starts with `prefix`; `None` when no such key
/// exists (the prefix is empty or all `FF`), meaning "to the end".
pub fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let last = prefix.iter().rposition(|&b| b != 0xFF)?;
    let mut end = prefix[..=last].to_vec();
    end[last] += 1;
    Some(end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const TIMES: [i64; 9] = [i64::MIN, -1_000_000, -2, -1, 0, 1, 2, 1_000_000, i64::MAX];

    #[test]
    fn timestamps_sort_as_signed_values() {
        for pair in TIMES.windows(2) {
            assert!(encode_ts(pair[0]) < encode_ts(pair[1]), "{pair:?}");
        }
        for ts in TIMES {
            assert_eq!(decode_ts(&encode_ts(ts)), Ok(ts));
        }
        assert_eq!(encode_ts(0), [0x80, 0, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn window_keys_of_one_key_sort_by_start_across_zero() {
        let keys: Vec<Vec<u8>> = TIMES.iter().map(|&t| window_key(b"k", t)).collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]));
        for (bytes, ts) in keys.iter().zip(TIMES) {
            assert_eq!(decode_window_key(bytes), Ok((b"k".to_vec(), ts)));
        }
    }

    #[test]
    fn a_key_and_its_extensions_never_interleave() {
        // "a" and "a\x00" / "a\xff": every window of "a" sorts before every window of the others.
        for other in [&b"a\x00"[..], b"a\xff", b"a\x00\x01", b"ab"] {
            let last_a = window_key(b"a", i64::MAX);
            let first_other = window_key(other, i64::MIN);
            assert!(last_a < first_other, "{other:?}");
        }
        assert_eq!(
            decode_window_key(&window_key(b"a\x00\x01", 5)),
            Ok((b"a\x00\x01".to_vec(), 5))
        );
    }

    #[test]
    fn time_first_window_keys_sort_by_start_then_key() {
        assert!(window_time_key(-5, b"z") < window_time_key(3, b"a"));
        assert!(window_time_key(3, b"a") < window_time_key(3, b"b"));
        assert_eq!(
            decode_window_time_key(&window_time_key(-7, b"k\x00")),
            Ok((-7, b"k\x00".to_vec()))
        );
    }

    #[test]
    fn session_keys_sort_by_end_then_start_and_decode() {
        assert!(session_key(b"k", 50, -1) < session_key(b"k", -10, 0));
        assert!(session_key(b"k", -10, 0) < session_key(b"k", -5, 0));
        assert_eq!(
            decode_session_key(&session_key(b"k", -10, 20)),
            Ok((b"k".to_vec(), -10, 20))
        );
        assert_eq!(
            decode_session_time_key(&session_time_key(b"k", -10, 20)),
            Ok((b"k".to_vec(), -10, 20))
        );
    }

    #[test]
    fn malformed_keys_are_errors_not_panics() {
        assert!(decode_window_key(b"abc").is_err());
        assert!(decode_window_key(b"a\x00\x02").is_err());
        assert!(decode_window_key(b"a\x00\x01\x80").is_err());
        assert!(decode_session_key(b"a\x00\x01").is_err());
        assert!(decode_window_time_key(b"1234").is_err());
        assert!(decode_session_time_key(b"12345678").is_err());
    }

    #[test]
    fn prefix_end_bounds_every_extension() {
        assert_eq!(prefix_end(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(prefix_end(b"a\xff\xff"), Some(b"b".to_vec()));
        assert_eq!(prefix_end(b"\xff"), None);
        assert_eq!(prefix_end(b""), None);
    }

    proptest! {
        #[test]
        fn window_keys_sort_like_key_then_start(
            a in proptest::collection::vec(any::<u8>(), 0..6), ta in any::<i64>(),
            b in proptest::collection::vec(any::<u8>(), 0..6), tb in any::<i64>(),
        ) {
            let encoded = window_key(&a, ta).cmp(&window_key(&b, tb));
            prop_assert_eq!(encoded, (&a, ta).cmp(&(&b, tb)));
            prop_assert_eq!(decode_window_key(&window_key(&a, ta)), Ok((a, ta)));
        }
    }
}
