//! The key-value state an operator keeps between records (aggregation groups). Operators use
//! the `StateStore` trait; `MemoryStore` holds state in memory for a query's lifetime.
//! (RocksDB-backed stores with changelog recovery implement the same trait: see docs/state.md.)

use std::collections::BTreeMap;

/// Entries in key order.
pub type Entries = Vec<(Vec<u8>, Vec<u8>)>;

/// Byte keys to byte values. Errors say what failed (a store that cannot be read).
pub trait StateStore: Send {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, String>;
    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<(), String>;
    fn delete(&mut self, key: &[u8]) -> Result<(), String>;
    /// Every entry whose key starts with `prefix`, in key order.
    fn prefix(&self, prefix: &[u8]) -> Result<Entries, String>;
}

/// State in memory (ordered, so ranges scan in key order).
#[derive(Default)]
pub struct MemoryStore {
    entries: BTreeMap<Vec<u8>, Vec<u8>>,
}

impl StateStore for MemoryStore {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, String> {
        Ok(self.entries.get(key).cloned())
    }

    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<(), String> {
        self.entries.insert(key.to_vec(), value.to_vec());
        Ok(())
    }

    fn delete(&mut self, key: &[u8]) -> Result<(), String> {
        self.entries.remove(key);
        Ok(())
    }

    fn prefix(&self, prefix: &[u8]) -> Result<Entries, String> {
        Ok(self
            .entries
            .range(prefix.to_vec()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_get_delete() {
        let mut s = MemoryStore::default();
        assert_eq!(s.get(b"k"), Ok(None));
        s.put(b"k", b"v").expect("put");
        assert_eq!(s.get(b"k"), Ok(Some(b"v".to_vec())));
        s.put(b"ka", b"1").expect("put");
        s.put(b"l", b"2").expect("put");
        let keys: Vec<Vec<u8>> = s
            .prefix(b"k")
            .expect("prefix")
            .into_iter()
            .map(|e| e.0)
            .collect();
        assert_eq!(keys, [b"k".to_vec(), b"ka".to_vec()]);
        s.delete(b"k").expect("delete");
        assert_eq!(s.get(b"k"), Ok(None));
    }
}
