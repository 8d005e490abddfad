//! Persistent query ids. An id is decided once, when its query is created, and stored with the
//! statement in the command log (`commands.rs`); a restart gives the query the same id, hence
//! the same consumer group (its committed input offsets), state directory and changelog topics.
//!
//! A new id takes the next number that no query, consumer group, state directory or changelog
//! topic uses, so a query never inherits what an older query with the same name left behind.
//! Transient (push) queries are numbered apart and never move this counter.
//!
//! Command logs written before ids were stored hold bare statements; their queries are numbered
//! by replay order as before, and where that number finds nothing of the query's but exactly
//! one unclaimed id of the same name does, that id is adopted (see [`Engine::legacy_query_id`]).

use super::Engine;
use super::queries::PersistentStart;
use std::collections::{BTreeMap, BTreeSet};

/// What a query owns outside the catalog, found by name.
struct Artifacts {
    groups: BTreeSet<String>,
    topics: Vec<String>,
}

impl Engine {
    /// The id of a persistent query being created, reading `source_topic`: the one its
    /// command-log record names while replaying, else a fresh one (`<base>_<n>`).
    pub(super) fn new_query_id(&mut self, base: &str, source_topic: &str) -> String {
        if let Some(id) = self.replay.query_id.take() {
            self.count_past(&id);
            return id;
        }
        if let Some(offset) = self.replay.command_offset {
            return format!("{base}_{offset}");
        }
        if self.replay.legacy {
            return self.legacy_query_id(base, source_topic);
        }
        self.fresh_query_id(base)
    }

    /// The next id that no query, consumer group, state directory or changelog uses.
    fn fresh_query_id(&mut self, base: &str) -> String {
        let artifacts = self.artifacts();
        loop {
            let id = format!("{base}_{}", self.next_query_number);
            self.next_query_number += 1;
            if !self.catalog.queries.contains_key(&id) && !self.owns_anything(&id, &artifacts) {
                return id;
            }
        }
    }

    /// The id [`Engine::new_query_id`] would give a query created now (for EXPLAIN).
    pub(super) fn next_query_id(&self, base: &str) -> String {
        let artifacts = self.artifacts();
        (self.next_query_number..)
            .map(|n| format!("{base}_{n}"))
            .find(|id| {
                !self.catalog.queries.contains_key(id) && !self.owns_anything(id, &artifacts)
            })
            .unwrap_or_else(|| format!("{base}_{}", self.next_query_number))
    }

    /// Makes later ids number past `id`'s.
    pub(super) fn count_past(&mut self, id: &str) {
        if let Some(n) = query_number(id) {
            self.next_query_number = self.next_query_number.max(n + 1);
        }
    }

    /// A query replayed from a bare statement (a command log from before ids were stored):
    /// numbered by replay order when what that id owns can be this query's (its group
    /// committed offsets of `topic`); else, when exactly one unclaimed id of the same name owns
    /// what can be this query's, the query was renumbered by an earlier version's restart and
    /// gets its own id back; else it starts afresh under an id that owns nothing. The caller
    /// records the choice, so later starts repeat it whatever the artifacts become.
    fn legacy_query_id(&mut self, base: &str, topic: &str) -> String {
        let mut counted = format!("{base}_{}", self.next_query_number);
        self.next_query_number += 1;
        while self.catalog.queries.contains_key(&counted) {
            counted = format!("{base}_{}", self.next_query_number);
            self.next_query_number += 1;
        }
        let artifacts = self.artifacts();
        if self.could_be_its(&counted, topic, &artifacts) {
            return counted;
        }
        let candidates: Vec<String> = self
            .ids_with_base(base, &artifacts)
            .into_iter()
            .filter(|id| !self.catalog.queries.contains_key(id))
            .filter(|id| self.could_be_its(id, topic, &artifacts))
            .collect();
        let afresh = match self.owns_anything(&counted, &artifacts) {
            true => self.fresh_query_id(base),
            false => counted.clone(),
        };
        match candidates.as_slice() {
            [] => afresh,
            [only] => {
                let only = only.clone();
                self.count_past(&only);
                self.warn_on_recovery(format!(
                    "query {counted} restored from an older command log resumes under its original id {only} (its offsets and state)"
                ));
                only
            }
            several => {
                self.warn_on_recovery(format!(
                    "query {counted} restored from an older command log: its original id is one of {}, which cannot be told apart; it starts afresh under {afresh}",
                    several.join(", ")
                ));
                afresh
            }
        }
    }

    /// Whether what `id` owns can be a query's that reads `topic`: its consumer group has
    /// committed offsets of that topic, or it has no group but state or changelogs.
    fn could_be_its(&self, id: &str, topic: &str, artifacts: &Artifacts) -> bool {
        let group = self.names.query_group(id);
        if artifacts.groups.contains(&group) {
            return self
                .transport
                .committed_offsets(&group, topic)
                .is_ok_and(|offsets| !offsets.is_empty());
        }
        self.has_state(id, artifacts)
    }

    /// Checks, before a restored query starts, that its committed input offsets and (for a
    /// stateful query) its state can be found; says by name what cannot.
    pub(super) fn check_restored_query(&mut self, start: &PersistentStart) {
        let (id, plan) = (start.id.as_str(), &start.plan);
        let group = self.names.query_group(id);
        let topic = &plan.source.topic;
        let partitions = self.transport.partition_count(topic).unwrap_or(0);
        let committed = self
            .transport
            .committed_offsets(&group, topic)
            .map(|c| c.len())
            .unwrap_or(0);
        if committed < partitions as usize {
            let from = match start.reset {
                crate::transport::AutoOffsetReset::Earliest => "earliest",
                crate::transport::AutoOffsetReset::Latest => "latest",
            };
            self.warn_on_recovery(format!(
                "query {id}: committed input offsets found for {committed} of the {partitions} partitions of '{topic}' (consumer group {group}); the others start from the {from} offset"
            ));
            return;
        }
        let stateful = plan.aggregation.is_some() || plan.source.is_table();
        let artifacts = self.artifacts();
        if stateful && !self.has_state(id, &artifacts) {
            self.warn_on_recovery(format!(
                "query {id}: it has committed offsets but neither its state directory nor a changelog topic was found; its state starts empty"
            ));
        }
    }

    /// Records a problem found while restoring (see [`Engine::recovery_warnings`]).
    fn warn_on_recovery(&mut self, message: String) {
        tracing::warn!("{message}");
        self.recovery_warnings.push(message);
    }

    fn artifacts(&self) -> Artifacts {
        Artifacts {
            groups: self
                .transport
                .list_groups()
                .unwrap_or_default()
                .into_iter()
                .collect(),
            topics: self.transport.list_topics().unwrap_or_default(),
        }
    }

    /// Whether `id` has committed offsets, a state directory or a changelog topic.
    fn owns_anything(&self, id: &str, artifacts: &Artifacts) -> bool {
        artifacts.groups.contains(&self.names.query_group(id)) || self.has_state(id, artifacts)
    }

    fn has_state(&self, id: &str, artifacts: &Artifacts) -> bool {
        let prefix = format!("{}-", self.names.query_group(id));
        let dir = self
            .state_root
            .as_ref()
            .is_some_and(|root| root.join(super::queries::path_safe(id)).exists());
        dir || artifacts.topics.iter().any(|t| t.starts_with(&prefix))
    }

    /// The ids `<base>_<n>` that own offsets or state.
    fn ids_with_base(&self, base: &str, artifacts: &Artifacts) -> Vec<String> {
        let group_prefix = self.names.query_group("");
        let mut ids = BTreeSet::new();
        for group in &artifacts.groups {
            if let Some(id) = group.strip_prefix(&group_prefix) {
                ids.insert(id.to_string());
            }
        }
        for topic in &artifacts.topics {
            if let Some(rest) = topic.strip_prefix(&group_prefix)
                && let Some((id, _)) = rest.split_once('-')
            {
                ids.insert(id.to_string());
            }
        }
        if let Some(Ok(entries)) = self.state_root.as_ref().map(std::fs::read_dir) {
            ids.extend(
                entries
                    .flatten()
                    .filter_map(|e| e.file_name().into_string().ok()),
            );
        }
        ids.into_iter()
            .filter(|id| {
                id.strip_prefix(base)
                    .and_then(|rest| rest.strip_prefix('_'))
                    .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            })
            .collect()
    }
}

/// The number that ends a query id (`CTAS_T_12` → 12).
fn query_number(id: &str) -> Option<u64> {
    id.rsplit_once('_').and_then(|(_, n)| n.parse().ok())
}

/// What the engine is replaying from the command log, if anything.
#[derive(Default)]
pub(super) struct Replay {
    /// The command log is being replayed.
    pub active: bool,
    /// The record being replayed is a bare statement (from before ids were stored).
    pub legacy: bool,
    /// The id its record gave the query the statement being replayed creates.
    pub query_id: Option<String>,
    /// In a shared catalog, the offset of the record being applied, which numbers the query
    /// it creates (as ksqlDB numbers queries by their command's offset): every server gives it
    /// the same id.
    pub command_offset: Option<i64>,
    /// The persistent queries replayed so far, by id, started once the log is replayed (a
    /// query a later TERMINATE removes never starts, so it never re-reads its input).
    pub deferred: BTreeMap<String, PersistentStart>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_number_is_what_follows_the_last_underscore() {
        assert_eq!(query_number("CTAS_PER_USER_12"), Some(12));
        assert_eq!(query_number("INSERTQUERY_3"), Some(3));
        assert_eq!(query_number("CSAS_X_"), None);
        assert_eq!(query_number("nothing"), None);
    }
}
