//! Kafka's default partitioner for keyed records: `murmur2(key) & 0x7fffffff % partitions`.
//! Using the same function means a keyed record lands in the partition Kafka would choose.

/// Kafka's murmur2 hash (`org.apache.kafka.common.utils.Utils.murmur2`).
pub fn murmur2(data: &[u8]) -> i32 {
    const SEED: u32 = 0x9747_b28c;
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;
    let length = data.len();
    let mut h: u32 = SEED ^ (length as u32);
    let chunks = data.chunks_exact(4);
    let tail = chunks.remainder();
    for chunk in chunks {
        let mut k = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    if tail.len() >= 3 {
        h ^= u32::from(tail[2]) << 16;
    }
    if tail.len() >= 2 {
        h ^= u32::from(tail[1]) << 8;
    }
    if !tail.is_empty() {
        h ^= u32::from(tail[0]);
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h as i32
}

/// The partition Kafka's default partitioner assigns to a non-null key.
pub fn partition_for_key(key: &[u8], partitions: u32) -> u32 {
    let positive = (murmur2(key) & 0x7fff_ffff) as u32;
    positive % partitions.max(1)
}

/// Picks the partition of a record: explicit, by key hash, or round-robin for null keys.
/// `count` is the topic's partition count.
pub fn choose_partition(
    round_robin: &mut std::collections::HashMap<String, u32>,
    topic: &str,
    count: u32,
    partition: Option<u32>,
    key: Option<&[u8]>,
) -> crate::transport::Result<u32> {
    match (partition, key) {
        (Some(p), _) if p >= count => Err(crate::transport::TransportError::UnknownPartition {
            topic: topic.to_string(),
            partition: p,
            count,
        }),
        (Some(p), _) => Ok(p),
        (None, Some(key)) => Ok(partition_for_key(key, count)),
        (None, None) => {
            let next = round_robin.entry(topic.to_string()).or_insert(0);
            let p = *next % count;
            *next = next.wrapping_add(1);
            Ok(p)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Vectors from Kafka's `UtilsTest.testMurmur2`.
    #[test]
    fn murmur2_matches_kafka() {
        let cases: [(&[u8], i32); 6] = [
            (b"21", -973_932_308),
            (b"foobar", -790_332_482),
            (b"a-little-bit-long-string", -985_981_536),
            (b"a-little-bit-longer-string", -1_486_304_829),
            (
                b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8",
                -58_897_971,
            ),
            (b"abc", 479_470_107),
        ];
        for (input, expected) in cases {
            assert_eq!(
                murmur2(input),
                expected,
                "murmur2({:?})",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn partition_is_in_range_and_stable() {
        for key in [&b"a"[..], b"order-17", b"", b"\xff\xfe"] {
            let p = partition_for_key(key, 7);
            assert!(p < 7);
            assert_eq!(p, partition_for_key(key, 7));
        }
    }
}
