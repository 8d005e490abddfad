//! What of a store its changelog holds. Window and session stores keep each entry twice: by
//! key (the value) and by time (an empty index entry for expiry). The index can be rebuilt from
//! the by-key entries, so their changelogs hold only those, and a restore derives the index
//! entry of each one it replays. That halves the changelog records of windowed aggregations.

/// How a store's entries map to its changelog records.
#[derive(Clone, Copy)]
pub struct ChangelogLayout {
    /// Whether an entry (by its store key) goes to the changelog.
    pub logged: fn(&[u8]) -> bool,
    /// The store key of the index entry (empty value) that a logged entry implies, if any:
    /// put when the entry is restored, deleted when its deletion is.
    pub index_of: fn(&[u8]) -> Option<Vec<u8>>,
}

impl ChangelogLayout {
    /// Every entry is logged and none is derived (a plain key-value store).
    pub const PLAIN: ChangelogLayout = ChangelogLayout {
        logged: |_| true,
        index_of: |_| None,
    };
}
