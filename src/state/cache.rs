//! The write cache of one store and the merge of its entries over RocksDB's in a range read.

use super::error::Result;
use std::collections::BTreeMap;

/// Uncommitted writes of one store: `Some(value)` is a put, `None` a delete (a tombstone that
/// hides the value RocksDB still holds until the next flush).
pub type Cache = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

/// One key and its value.
pub type Entry = (Vec<u8>, Vec<u8>);

/// Merges ordered durable entries with the ordered cache entries of the same range: a cached put
/// replaces or adds to what RocksDB holds, a cached delete hides it. Stops after `limit` entries
/// (reading no further).
pub fn merge<'a>(
    mut durable: impl Iterator<Item = Result<Entry>>,
    cached: impl Iterator<Item = (&'a Vec<u8>, &'a Option<Vec<u8>>)>,
    limit: usize,
) -> Result<Vec<Entry>> {
    let mut out = Vec::new();
    let mut next_durable = durable.next().transpose()?;
    for (key, value) in cached {
        while let Some(entry) = next_durable.take_if(|entry| entry.0 < *key) {
            if out.len() >= limit {
                return Ok(out);
            }
            out.push(entry);
            next_durable = durable.next().transpose()?;
        }
        if out.len() >= limit {
            return Ok(out);
        }
        if next_durable.as_ref().is_some_and(|(k, _)| k == key) {
            next_durable = durable.next().transpose()?;
        }
        if let Some(value) = value {
            out.push((key.clone(), value.clone()));
        }
    }
    for entry in next_durable.into_iter().map(Ok).chain(durable) {
        if out.len() >= limit {
            break;
        }
        out.push(entry?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(k: &str, v: &str) -> Result<Entry> {
        Ok((k.as_bytes().to_vec(), v.as_bytes().to_vec()))
    }

    fn cache(items: &[(&str, Option<&str>)]) -> Cache {
        items
            .iter()
            .map(|(k, v)| (k.as_bytes().to_vec(), v.map(|v| v.as_bytes().to_vec())))
            .collect()
    }

    fn strings(entries: Vec<Entry>) -> Vec<(String, String)> {
        entries
            .into_iter()
            .map(|(k, v)| {
                let k = String::from_utf8(k).expect("utf8");
                (k, String::from_utf8(v).expect("utf8"))
            })
            .collect()
    }

    #[test]
    fn a_limited_merge_stops_at_the_limit_skipping_hidden_entries() {
        let durable = || vec![entry("a", "1"), entry("b", "2"), entry("d", "4")].into_iter();
        let cached = cache(&[("a", None), ("b", None), ("c", Some("3"))]);
        let first = merge(durable(), cached.iter(), 1).expect("merge");
        assert_eq!(strings(first), [("c".to_string(), "3".to_string())]);
        let two = merge(durable(), cached.iter(), 2).expect("merge");
        assert_eq!(strings(two).len(), 2);
        let none = merge(durable(), cache(&[]).iter(), 0).expect("merge");
        assert!(none.is_empty());
        let durable_only = merge(durable(), cache(&[]).iter(), 2).expect("merge");
        assert_eq!(strings(durable_only)[1], ("b".to_string(), "2".to_string()));
    }

    #[test]
    fn cache_overrides_adds_and_hides() {
        let durable = vec![entry("a", "1"), entry("b", "2"), entry("d", "4")];
        let cached = cache(&[
            ("b", Some("20")),
            ("c", Some("3")),
            ("d", None),
            ("e", Some("5")),
        ]);
        let merged = merge(durable.into_iter(), cached.iter(), usize::MAX).expect("merge");
        let expected = [("a", "1"), ("b", "20"), ("c", "3"), ("e", "5")];
        let expected: Vec<_> = expected
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(strings(merged), expected);
    }

    #[test]
    fn either_side_alone() {
        let merged = merge(
            vec![entry("a", "1")].into_iter(),
            cache(&[]).iter(),
            usize::MAX,
        )
        .expect("merge");
        assert_eq!(strings(merged), vec![("a".into(), "1".into())]);
        let cached = cache(&[("a", None), ("b", Some("2"))]);
        let merged = merge(std::iter::empty(), cached.iter(), usize::MAX).expect("merge");
        assert_eq!(strings(merged), vec![("b".into(), "2".into())]);
    }

    #[test]
    fn durable_errors_surface() {
        let durable = vec![
            entry("a", "1"),
            Err(super::super::StateError::Locked { path: "/x".into() }),
        ];
        assert!(merge(durable.into_iter(), cache(&[]).iter(), usize::MAX).is_err());
    }
}
