//! The iteration order of a `java.util.HashMap<String, _>`, such as those built by ksqlDB's
//! JSON deserializer (`new HashMap<>(size)`, then one `put` per object field in order) and by
//! functions like SPLIT_TO_MAP (`new HashMap<>()`).
//!
//! ksqlDB's map values are such HashMaps, so anything that depends on entry order (REDUCE over
//! a map, MAP_KEYS, and the order in which a map is written back out) follows this order, not
//! the field order of the JSON text. Brook reorders decoded map entries the same way.
//!
//! A HashMap iterates its buckets in index order (`hash & (capacity - 1)`), and each bucket in
//! insertion order (resizes split buckets without reordering them). Not reproduced: buckets
//! that turn into trees (8 or more colliding keys in a table of 64 or more), whose order
//! differs.

/// `String.hashCode()`: over UTF-16 code units, wrapping.
fn string_hash_code(s: &str) -> i32 {
    s.encode_utf16().fold(0i32, |h, unit| {
        h.wrapping_mul(31).wrapping_add(i32::from(unit))
    })
}

/// `HashMap.hash(key)`: the hash code with its high bits folded into the low ones.
fn spread(h: i32) -> u32 {
    let h = h as u32;
    h ^ (h >> 16)
}

/// The table size of `new HashMap<>(expected)` after `entries` puts.
fn capacity(expected: usize, entries: usize) -> usize {
    let mut capacity = expected.max(1).next_power_of_two();
    // The resize threshold is (int) (capacity * 0.75).
    while entries > capacity * 3 / 4 {
        capacity *= 2;
    }
    capacity
}

/// The initial capacity of `new HashMap<>()`.
pub const DEFAULT_CAPACITY: usize = 16;

/// Reorders `(key, value)` entries (distinct keys, in insertion order) into the order a
/// `new HashMap<>(initial_capacity)` filled with them iterates them.
pub fn hash_map_order<V>(entries: &mut [(String, V)], initial_capacity: usize) {
    let mask = capacity(initial_capacity, entries.len()) - 1;
    // A stable sort keeps insertion order within a bucket.
    entries.sort_by_key(|(k, _)| spread(string_hash_code(k)) as usize & mask);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_codes_match_java() {
        // Values printed by Java's "...".hashCode().
        assert_eq!(string_hash_code(""), 0);
        assert_eq!(string_hash_code("a"), 97);
        assert_eq!(string_hash_code("hello"), 99_162_322);
        assert_eq!(string_hash_code("yes, thanks"), -1_624_993_500);
        assert_eq!(string_hash_code("é😀"), 1_996_812);
    }

    #[test]
    fn capacity_follows_table_size_for_and_the_load_factor() {
        assert_eq!(capacity(3, 3), 4);
        assert_eq!(capacity(4, 4), 8);
        assert_eq!(capacity(13, 13), 32);
        assert_eq!(capacity(0, 1), 2);
    }

    fn ordered(keys: &[String]) -> Vec<String> {
        let mut entries: Vec<(String, ())> = keys.iter().map(|k| (k.clone(), ())).collect();
        let n = entries.len();
        hash_map_order(&mut entries, n);
        entries.into_iter().map(|(k, _)| k).collect()
    }

    fn strings(keys: &[&str]) -> Vec<String> {
        keys.iter().map(|k| k.to_string()).collect()
    }

    /// Expected orders are what Java 17 printed for `new HashMap<>(n)` filled in this order.
    #[test]
    fn entries_follow_bucket_order() {
        // The order ksqlDB's REDUCE visits this map in (reduce-map.json, "reduce map with double").
        let keys = strings(&["yes, thanks", "nope", "sure, yeah"]);
        assert_eq!(
            ordered(&keys),
            strings(&["yes, thanks", "sure, yeah", "nope"])
        );
        let keys = strings(&["a", "bb", "Aa", "BB", "zz"]);
        assert_eq!(ordered(&keys), strings(&["bb", "Aa", "BB", "zz", "a"]));
        let keys: Vec<String> = (0..13).map(|i| format!("key{}", i * 7)).collect();
        let java = "key0 key84 key7 key70 key77 key21 key42 key63 key14 key35 key56 key28 key49";
        assert_eq!(
            ordered(&keys),
            strings(&java.split(' ').collect::<Vec<_>>())
        );
    }

    #[test]
    fn a_default_hash_map_has_sixteen_buckets() {
        // new HashMap<>() (SPLIT_TO_MAP's): buckets 0, 5 and 12 of 16.
        let mut entries: Vec<(String, ())> = ["yes, thanks", "nope", "sure, yeah"]
            .iter()
            .map(|k| (k.to_string(), ()))
            .collect();
        hash_map_order(&mut entries, DEFAULT_CAPACITY);
        let keys: Vec<&str> = entries.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["yes, thanks", "nope", "sure, yeah"]);
        assert_eq!(string_hash_code("nope"), 3_387_254);
    }
}
