//! One consumer group's membership, as Kafka's classic group coordinator keeps it: the states
//! Empty, PreparingRebalance, CompletingRebalance and Stable; generations; the leader; each
//! member's protocols, assignment, session and pending JoinGroup / SyncGroup. Synchronous and
//! driven by explicit `now`s, so every transition is tested without waiting; a waiting request
//! is a oneshot sender the transition answers.
//!
//! May import what `kafka_wire` does.

use bytes::Bytes;
use kafka_protocol::ResponseError;
use kafka_protocol::messages::join_group_response::JoinGroupResponseMember;
use kafka_protocol::messages::{JoinGroupResponse, SyncGroupResponse};
use kafka_protocol::protocol::StrBytes;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Empty,
    /// Waiting, until `deadline`, for every member to (re)join.
    PreparingRebalance {
        deadline: Instant,
    },
    /// Joined; waiting, until `deadline`, for the leader's assignment.
    CompletingRebalance {
        deadline: Instant,
    },
    Stable,
}

impl State {
    /// The name Kafka's DescribeGroups and ListGroups give the state.
    pub fn name(&self) -> &'static str {
        match self {
            State::Empty => "Empty",
            State::PreparingRebalance { .. } => "PreparingRebalance",
            State::CompletingRebalance { .. } => "CompletingRebalance",
            State::Stable => "Stable",
        }
    }
}

pub struct Member {
    pub id: String,
    pub instance_id: Option<String>,
    pub client_id: String,
    pub client_host: String,
    pub session_timeout: Duration,
    pub rebalance_timeout: Duration,
    /// (protocol name, metadata), in the member's order of preference.
    pub protocols: Vec<(String, Bytes)>,
    pub assignment: Bytes,
    pub last_heartbeat: Instant,
    pub awaiting_join: Option<oneshot::Sender<JoinGroupResponse>>,
    pub awaiting_sync: Option<oneshot::Sender<SyncGroupResponse>>,
}

/// What a JoinGroup brings.
pub struct JoinRequest {
    pub member_id: String,
    pub instance_id: Option<String>,
    pub client_id: String,
    pub client_host: String,
    pub session_timeout: Duration,
    pub rebalance_timeout: Duration,
    pub protocol_type: String,
    pub protocols: Vec<(String, Bytes)>,
    /// JoinGroup v4+: a member without an id is first given one (KIP-394).
    pub requires_known_member_id: bool,
}

pub struct Group {
    pub state: State,
    pub generation: i32,
    pub protocol_type: Option<String>,
    pub protocol: Option<String>,
    pub leader: Option<String>,
    pub members: BTreeMap<String, Member>,
    /// Ids handed out with MEMBER_ID_REQUIRED, not joined yet, and when they lapse.
    pub pending: BTreeMap<String, Instant>,
}

fn join_error(error: ResponseError, member_id: &str) -> JoinGroupResponse {
    JoinGroupResponse::default()
        .with_error_code(error.code())
        .with_generation_id(-1)
        .with_member_id(StrBytes::from_string(member_id.to_string()))
}

fn sync_error(error: ResponseError) -> SyncGroupResponse {
    SyncGroupResponse::default().with_error_code(error.code())
}

impl Group {
    pub fn new() -> Group {
        Group {
            state: State::Empty,
            generation: 0,
            protocol_type: None,
            protocol: None,
            leader: None,
            members: BTreeMap::new(),
            pending: BTreeMap::new(),
        }
    }

    /// A JoinGroup: answered now (an error, or MEMBER_ID_REQUIRED) through `reply`, or kept
    /// until the rebalance completes.
    pub fn join(
        &mut self,
        request: JoinRequest,
        reply: oneshot::Sender<JoinGroupResponse>,
        now: Instant,
    ) {
        if let Err(error) = self.check_protocols(&request) {
            let _ = reply.send(join_error(error, &request.member_id));
            return;
        }
        let member_id = if request.member_id.is_empty() {
            let id = format!("{}-{}", request.client_id, uuid_like());
            if let Some(instance) = &request.instance_id {
                self.fence_instance(instance);
            } else if request.requires_known_member_id {
                self.pending
                    .insert(id.clone(), now + request.session_timeout);
                let _ = reply.send(join_error(ResponseError::MemberIdRequired, &id));
                return;
            }
            id
        } else if self.members.contains_key(&request.member_id)
            || self.pending.remove(&request.member_id).is_some()
        {
            request.member_id.clone()
        } else {
            let _ = reply.send(join_error(
                ResponseError::UnknownMemberId,
                &request.member_id,
            ));
            return;
        };
        self.protocol_type = Some(request.protocol_type.clone());
        let member = self
            .members
            .entry(member_id.clone())
            .or_insert_with(|| Member {
                id: member_id.clone(),
                instance_id: request.instance_id.clone(),
                client_id: request.client_id.clone(),
                client_host: request.client_host.clone(),
                session_timeout: request.session_timeout,
                rebalance_timeout: request.rebalance_timeout,
                protocols: Vec::new(),
                assignment: Bytes::new(),
                last_heartbeat: now,
                awaiting_join: None,
                awaiting_sync: None,
            });
        member.protocols = request.protocols;
        member.session_timeout = request.session_timeout;
        member.rebalance_timeout = request.rebalance_timeout;
        member.last_heartbeat = now;
        if let Some(old) = member.awaiting_join.replace(reply) {
            let _ = old.send(join_error(ResponseError::RebalanceInProgress, &member_id));
        }
        if !matches!(self.state, State::PreparingRebalance { .. }) {
            self.prepare_rebalance(now);
        }
        self.maybe_complete_join(now);
    }

    /// The protocol type must be the group's, and one protocol common to every member.
    fn check_protocols(&self, request: &JoinRequest) -> Result<(), ResponseError> {
        if request.protocol_type.is_empty() || request.protocols.is_empty() {
            return Err(ResponseError::InconsistentGroupProtocol);
        }
        let others: Vec<&Member> = self
            .members
            .values()
            .filter(|m| m.id != request.member_id)
            .collect();
        if others.is_empty() {
            return Ok(());
        }
        if self.protocol_type.as_deref() != Some(request.protocol_type.as_str()) {
            return Err(ResponseError::InconsistentGroupProtocol);
        }
        let common = request.protocols.iter().any(|(name, _)| {
            others
                .iter()
                .all(|m| m.protocols.iter().any(|(n, _)| n == name))
        });
        if common {
            Ok(())
        } else {
            Err(ResponseError::InconsistentGroupProtocol)
        }
    }

    /// A static member rejoining without its id replaces the old one (KIP-345).
    fn fence_instance(&mut self, instance: &str) {
        let old = self
            .members
            .values()
            .find(|m| m.instance_id.as_deref() == Some(instance))
            .map(|m| m.id.clone());
        if let Some(old) = old
            && let Some(member) = self.members.remove(&old)
        {
            if let Some(join) = member.awaiting_join {
                let _ = join.send(join_error(ResponseError::FencedInstanceId, &old));
            }
            if let Some(sync) = member.awaiting_sync {
                let _ = sync.send(sync_error(ResponseError::FencedInstanceId));
            }
            if self.leader.as_deref() == Some(old.as_str()) {
                self.leader = None;
            }
        }
    }

    /// Starts a rebalance: every member must rejoin within the longest rebalance timeout.
    fn prepare_rebalance(&mut self, now: Instant) {
        for member in self.members.values_mut() {
            if let Some(sync) = member.awaiting_sync.take() {
                let _ = sync.send(sync_error(ResponseError::RebalanceInProgress));
            }
        }
        let timeout = self
            .members
            .values()
            .map(|m| m.rebalance_timeout)
            .max()
            .unwrap_or_default();
        self.state = State::PreparingRebalance {
            deadline: now + timeout,
        };
    }

    /// Completes the join once every member has rejoined.
    fn maybe_complete_join(&mut self, now: Instant) {
        if matches!(self.state, State::PreparingRebalance { .. })
            && self.members.values().all(|m| m.awaiting_join.is_some())
        {
            self.complete_join(now);
        }
    }

    /// Ends the join phase: members that did not rejoin are dropped, a new generation starts,
    /// the leader gets every member's metadata and all are answered.
    fn complete_join(&mut self, now: Instant) {
        self.members.retain(|_, m| m.awaiting_join.is_some());
        self.generation += 1;
        if self.members.is_empty() {
            self.state = State::Empty;
            self.protocol = None;
            self.leader = None;
            return;
        }
        if !self
            .leader
            .as_ref()
            .is_some_and(|l| self.members.contains_key(l))
        {
            self.leader = self.members.keys().next().cloned();
        }
        let protocol = self.choose_protocol();
        let leader = self.leader.clone().unwrap_or_default();
        let listed: Vec<JoinGroupResponseMember> = self
            .members
            .values()
            .map(|m| {
                let metadata = m
                    .protocols
                    .iter()
                    .find(|(n, _)| *n == protocol)
                    .map(|(_, meta)| meta.clone())
                    .unwrap_or_default();
                JoinGroupResponseMember::default()
                    .with_member_id(StrBytes::from_string(m.id.clone()))
                    .with_group_instance_id(m.instance_id.clone().map(StrBytes::from_string))
                    .with_metadata(metadata)
            })
            .collect();
        let protocol_type = self.protocol_type.clone().unwrap_or_default();
        for member in self.members.values_mut() {
            member.last_heartbeat = now;
            let Some(reply) = member.awaiting_join.take() else {
                continue;
            };
            let members = if member.id == leader {
                listed.clone()
            } else {
                Vec::new()
            };
            let response = JoinGroupResponse::default()
                .with_generation_id(self.generation)
                .with_protocol_type(Some(StrBytes::from_string(protocol_type.clone())))
                .with_protocol_name(Some(StrBytes::from_string(protocol.clone())))
                .with_leader(StrBytes::from_string(leader.clone()))
                .with_member_id(StrBytes::from_string(member.id.clone()))
                .with_members(members);
            let _ = reply.send(response);
        }
        self.protocol = Some(protocol);
        let timeout = self
            .members
            .values()
            .map(|m| m.rebalance_timeout)
            .max()
            .unwrap_or_default();
        self.state = State::CompletingRebalance {
            deadline: now + timeout,
        };
    }

    /// Kafka's vote: among the protocols every member supports, each member votes for the
    /// first in its own order; the most votes win (ties to the leader's order).
    fn choose_protocol(&self) -> String {
        let Some(leader) = self.leader.as_ref().and_then(|l| self.members.get(l)) else {
            return String::new();
        };
        let candidates: Vec<&String> = leader
            .protocols
            .iter()
            .map(|(n, _)| n)
            .filter(|n| {
                self.members
                    .values()
                    .all(|m| m.protocols.iter().any(|(p, _)| p == *n))
            })
            .collect();
        let votes = |name: &String| {
            self.members
                .values()
                .filter(|m| {
                    m.protocols
                        .iter()
                        .map(|(n, _)| n)
                        .find(|n| candidates.contains(n))
                        == Some(name)
                })
                .count()
        };
        let mut best: Option<(&String, usize)> = None;
        for name in &candidates {
            let count = votes(name);
            if best.is_none_or(|(_, b)| count > b) {
                best = Some((name, count));
            }
        }
        best.map(|(n, _)| n.clone()).unwrap_or_default()
    }

    /// A SyncGroup: the leader's assignments are handed out; others wait for them.
    pub fn sync(
        &mut self,
        member_id: &str,
        generation: i32,
        assignments: Vec<(String, Bytes)>,
        reply: oneshot::Sender<SyncGroupResponse>,
    ) {
        let Some(member) = self.members.get_mut(member_id) else {
            let _ = reply.send(sync_error(ResponseError::UnknownMemberId));
            return;
        };
        if generation != self.generation {
            let _ = reply.send(sync_error(ResponseError::IllegalGeneration));
            return;
        }
        match self.state {
            State::Empty => {
                let _ = reply.send(sync_error(ResponseError::UnknownMemberId));
            }
            State::PreparingRebalance { .. } => {
                let _ = reply.send(sync_error(ResponseError::RebalanceInProgress));
            }
            State::Stable => {
                let _ = reply.send(self.assignment_of(member_id));
            }
            State::CompletingRebalance { .. } => {
                member.awaiting_sync = Some(reply);
                if self.leader.as_deref() == Some(member_id) {
                    let mut assigned: BTreeMap<String, Bytes> = assignments.into_iter().collect();
                    for member in self.members.values_mut() {
                        member.assignment = assigned.remove(&member.id).unwrap_or_default();
                    }
                    self.state = State::Stable;
                    let ids: Vec<String> = self.members.keys().cloned().collect();
                    for id in ids {
                        let response = self.assignment_of(&id);
                        if let Some(reply) = self
                            .members
                            .get_mut(&id)
                            .and_then(|m| m.awaiting_sync.take())
                        {
                            let _ = reply.send(response);
                        }
                    }
                }
            }
        }
    }

    fn assignment_of(&self, member_id: &str) -> SyncGroupResponse {
        SyncGroupResponse::default()
            .with_protocol_type(self.protocol_type.clone().map(StrBytes::from_string))
            .with_protocol_name(self.protocol.clone().map(StrBytes::from_string))
            .with_assignment(
                self.members
                    .get(member_id)
                    .map(|m| m.assignment.clone())
                    .unwrap_or_default(),
            )
    }

    /// A Heartbeat's error code (0 when the member is in the current, stable generation).
    pub fn heartbeat(&mut self, member_id: &str, generation: i32, now: Instant) -> i16 {
        let Some(member) = self.members.get_mut(member_id) else {
            return ResponseError::UnknownMemberId.code();
        };
        member.last_heartbeat = now;
        if generation != self.generation {
            return ResponseError::IllegalGeneration.code();
        }
        match self.state {
            State::Stable => 0,
            State::Empty => ResponseError::UnknownMemberId.code(),
            _ => ResponseError::RebalanceInProgress.code(),
        }
    }

    /// A member checked for an offset commit: its error code, 0 when it may commit.
    pub fn check_commit(&self, member_id: &str, generation: i32) -> i16 {
        if generation < 0 && member_id.is_empty() {
            // A consumer outside the group's membership (assign(), admin tools) commits only
            // to a group that has no members.
            return if self.members.is_empty() {
                0
            } else {
                ResponseError::UnknownMemberId.code()
            };
        }
        if !self.members.contains_key(member_id) {
            return ResponseError::UnknownMemberId.code();
        }
        if generation != self.generation {
            return ResponseError::IllegalGeneration.code();
        }
        match self.state {
            State::CompletingRebalance { .. } => ResponseError::RebalanceInProgress.code(),
            _ => 0,
        }
    }

    /// Members leave: by member id, or by instance id (static members, LeaveGroup v3+).
    /// Returns each one's error code, in order.
    pub fn leave(&mut self, leaving: &[(String, Option<String>)], now: Instant) -> Vec<i16> {
        let mut codes = Vec::new();
        for (member_id, instance) in leaving {
            let id = match instance {
                Some(instance) => self
                    .members
                    .values()
                    .find(|m| m.instance_id.as_deref() == Some(instance.as_str()))
                    .map(|m| m.id.clone()),
                None => Some(member_id.clone()),
            };
            match id.and_then(|id| self.members.remove(&id)) {
                Some(member) => {
                    if let Some(join) = member.awaiting_join {
                        let _ = join.send(join_error(ResponseError::UnknownMemberId, &member.id));
                    }
                    codes.push(0);
                }
                None => codes.push(ResponseError::UnknownMemberId.code()),
            }
        }
        if codes.contains(&0) {
            self.membership_changed(now);
        }
        codes
    }

    /// After members were removed: rebalance the rest (or finish the one in progress).
    fn membership_changed(&mut self, now: Instant) {
        match self.state {
            State::PreparingRebalance { .. } => self.maybe_complete_join(now),
            _ if self.members.is_empty() => {
                self.prepare_rebalance(now);
                self.complete_join(now);
            }
            _ => self.prepare_rebalance(now),
        }
    }

    /// Expires members whose session lapsed, ids handed out but not used, and rebalances that
    /// waited out their timeout.
    pub fn tick(&mut self, now: Instant) {
        self.pending.retain(|_, lapses| *lapses > now);
        let expired: Vec<String> = self
            .members
            .values()
            .filter(|m| m.awaiting_join.is_none() && now > m.last_heartbeat + m.session_timeout)
            .map(|m| m.id.clone())
            .collect();
        if !expired.is_empty() {
            for id in &expired {
                if let Some(member) = self.members.remove(id)
                    && let Some(sync) = member.awaiting_sync
                {
                    let _ = sync.send(sync_error(ResponseError::UnknownMemberId));
                }
            }
            self.membership_changed(now);
        }
        match self.state {
            State::PreparingRebalance { deadline } if now >= deadline => self.complete_join(now),
            State::CompletingRebalance { deadline } if now >= deadline => {
                // The leader never sent the assignment: those who synced try again.
                self.members.retain(|_, m| m.awaiting_sync.is_some());
                self.membership_changed(now);
            }
            _ => {}
        }
    }
}

/// A member id suffix unique enough for one coordinator's lifetime: 32 random hex digits.
fn uuid_like() -> String {
    let a = fastrand::u64(..);
    let b = fastrand::u64(..);
    format!("{a:016x}{b:016x}")
}

#[cfg(test)]
#[path = "group_tests.rs"]
mod tests;
