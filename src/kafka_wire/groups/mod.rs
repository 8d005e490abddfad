//! The group coordinator: this node coordinates every group (FindCoordinator names itself).
//! Each group's membership is a `group::Group` state machine behind one mutex; JoinGroup and
//! SyncGroup wait on a oneshot its transitions answer; a ticker expires sessions and rebalance
//! timeouts every `TICK`. Offsets (`offsets.rs`) are the log's group offsets, so they survive
//! restarts; memberships do not (clients rejoin, as after a Kafka coordinator moves).
//!
//! May import what `kafka_wire` does.

mod group;
pub mod offsets;

use super::dispatch::Connection;
use super::{Broker, NODE_ID};
use crate::transport::Transport;
use bytes::Bytes;
use group::{Group, JoinRequest};
use kafka_protocol::ResponseError;
use kafka_protocol::messages::delete_groups_response::DeletableGroupResult;
use kafka_protocol::messages::describe_groups_response::{DescribedGroup, DescribedGroupMember};
use kafka_protocol::messages::find_coordinator_response::Coordinator as CoordinatorEntry;
use kafka_protocol::messages::leave_group_response::MemberResponse;
use kafka_protocol::messages::list_groups_response::ListedGroup;
use kafka_protocol::messages::{
    DeleteGroupsRequest, DeleteGroupsResponse, DescribeGroupsRequest, DescribeGroupsResponse,
    FindCoordinatorRequest, FindCoordinatorResponse, GroupId, HeartbeatRequest, HeartbeatResponse,
    JoinGroupRequest, JoinGroupResponse, LeaveGroupRequest, LeaveGroupResponse, ListGroupsRequest,
    ListGroupsResponse, SyncGroupRequest, SyncGroupResponse,
};
use kafka_protocol::protocol::StrBytes;
use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// How often sessions and rebalance timeouts are checked.
pub const TICK: Duration = Duration::from_millis(200);

/// Kafka's `group.min.session.timeout.ms` and `group.max.session.timeout.ms`.
const MIN_SESSION: Duration = Duration::from_secs(6);
const MAX_SESSION: Duration = Duration::from_secs(30 * 60);

#[derive(Default)]
pub struct Coordinator {
    groups: Mutex<BTreeMap<String, Group>>,
}

impl Coordinator {
    fn groups(&self) -> MutexGuard<'_, BTreeMap<String, Group>> {
        // A panic while holding the lock leaves groups a client can rejoin; keep serving.
        self.groups.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Expires sessions and rebalances that timed out; run every `TICK`.
    pub fn tick(&self, now: Instant) {
        for group in self.groups().values_mut() {
            group.tick(now);
        }
    }

    pub async fn join(
        &self,
        connection: &Connection,
        request: JoinGroupRequest,
        version: i16,
    ) -> JoinGroupResponse {
        let session = Duration::from_millis(request.session_timeout_ms.max(0) as u64);
        if !(MIN_SESSION..=MAX_SESSION).contains(&session) {
            return JoinGroupResponse::default()
                .with_error_code(ResponseError::InvalidSessionTimeout.code())
                .with_member_id(request.member_id);
        }
        let group_id = request.group_id.0.to_string();
        if group_id.is_empty() {
            return JoinGroupResponse::default()
                .with_error_code(ResponseError::InvalidGroupId.code())
                .with_member_id(request.member_id);
        }
        // v0 has no rebalance timeout: the session timeout serves.
        let rebalance = match request.rebalance_timeout_ms {
            ms if ms > 0 => Duration::from_millis(ms as u64),
            _ => session,
        };
        let join = JoinRequest {
            member_id: request.member_id.to_string(),
            instance_id: request.group_instance_id.map(|i| i.to_string()),
            client_id: connection.client_id.clone(),
            client_host: format!("/{}", connection.peer.ip()),
            session_timeout: session,
            rebalance_timeout: rebalance,
            protocol_type: request.protocol_type.to_string(),
            protocols: request
                .protocols
                .into_iter()
                .map(|p| (p.name.to_string(), p.metadata))
                .collect(),
            requires_known_member_id: version >= 4,
        };
        let (tx, rx) = oneshot::channel();
        self.groups()
            .entry(group_id)
            .or_insert_with(Group::new)
            .join(join, tx, Instant::now());
        rx.await.unwrap_or_else(|_| {
            JoinGroupResponse::default().with_error_code(ResponseError::UnknownServerError.code())
        })
    }

    pub async fn sync(&self, request: SyncGroupRequest) -> SyncGroupResponse {
        let (tx, rx) = oneshot::channel();
        let assignments: Vec<(String, Bytes)> = request
            .assignments
            .into_iter()
            .map(|a| (a.member_id.to_string(), a.assignment))
            .collect();
        match self.groups().get_mut(request.group_id.0.as_str()) {
            Some(group) => group.sync(
                request.member_id.as_str(),
                request.generation_id,
                assignments,
                tx,
            ),
            None => {
                let _ = tx.send(
                    SyncGroupResponse::default()
                        .with_error_code(ResponseError::UnknownMemberId.code()),
                );
            }
        }
        rx.await.unwrap_or_else(|_| {
            SyncGroupResponse::default().with_error_code(ResponseError::UnknownServerError.code())
        })
    }

    pub fn heartbeat(&self, request: HeartbeatRequest) -> HeartbeatResponse {
        let code = match self.groups().get_mut(request.group_id.0.as_str()) {
            Some(group) => group.heartbeat(
                request.member_id.as_str(),
                request.generation_id,
                Instant::now(),
            ),
            None => ResponseError::UnknownMemberId.code(),
        };
        HeartbeatResponse::default().with_error_code(code)
    }

    pub fn leave(&self, request: LeaveGroupRequest) -> LeaveGroupResponse {
        // v0-2 name one member; v3+ a list, each by member id or instance id.
        let leaving: Vec<(String, Option<String>)> = if request.members.is_empty() {
            vec![(request.member_id.to_string(), None)]
        } else {
            request
                .members
                .iter()
                .map(|m| {
                    (
                        m.member_id.to_string(),
                        m.group_instance_id.as_ref().map(|i| i.to_string()),
                    )
                })
                .collect()
        };
        let codes = match self.groups().get_mut(request.group_id.0.as_str()) {
            Some(group) => group.leave(&leaving, Instant::now()),
            None => vec![ResponseError::UnknownMemberId.code(); leaving.len()],
        };
        let members = request
            .members
            .into_iter()
            .zip(&codes)
            .map(|(m, code)| {
                MemberResponse::default()
                    .with_member_id(m.member_id)
                    .with_group_instance_id(m.group_instance_id)
                    .with_error_code(*code)
            })
            .collect::<Vec<_>>();
        let error_code = if members.is_empty() {
            codes.first().copied().unwrap_or(0)
        } else {
            0
        };
        LeaveGroupResponse::default()
            .with_error_code(error_code)
            .with_members(members)
    }

    /// The error code for an offset commit by `member_id` of `generation` to `group`.
    pub fn check_commit(&self, group: &str, member_id: &str, generation: i32) -> i16 {
        match self.groups().get(group) {
            Some(g) => g.check_commit(member_id, generation),
            None if generation < 0 => 0,
            None => ResponseError::UnknownMemberId.code(),
        }
    }

    /// (group, protocol type, state) of every group with members or committed offsets.
    fn listed(&self, broker: &Broker) -> Vec<(String, String, &'static str)> {
        let mut listed: BTreeMap<String, (String, &'static str)> = BTreeMap::new();
        for name in broker.log_groups() {
            listed.insert(name, ("consumer".to_string(), "Empty"));
        }
        for (name, group) in self.groups().iter() {
            let kind = group
                .protocol_type
                .clone()
                .unwrap_or_else(|| "consumer".into());
            listed.insert(name.clone(), (kind, group.state.name()));
        }
        listed
            .into_iter()
            .map(|(name, (kind, state))| (name, kind, state))
            .collect()
    }

    pub fn list(&self, broker: &Broker, request: ListGroupsRequest) -> ListGroupsResponse {
        let wanted = |state: &str| {
            request.states_filter.is_empty()
                || request
                    .states_filter
                    .iter()
                    .any(|s| s.as_str().eq_ignore_ascii_case(state))
        };
        let groups = self
            .listed(broker)
            .into_iter()
            .filter(|(_, _, state)| wanted(state))
            .map(|(name, kind, state)| {
                ListedGroup::default()
                    .with_group_id(GroupId(StrBytes::from_string(name)))
                    .with_protocol_type(StrBytes::from_string(kind))
                    .with_group_state(StrBytes::from_static_str(state))
                    .with_group_type(StrBytes::from_static_str("classic"))
            })
            .collect();
        ListGroupsResponse::default().with_groups(groups)
    }

    pub fn describe(&self, request: DescribeGroupsRequest) -> DescribeGroupsResponse {
        let groups = self.groups();
        let described = request
            .groups
            .into_iter()
            .map(|id| {
                let described = DescribedGroup::default().with_group_id(id.clone());
                let Some(group) = groups.get(id.0.as_str()) else {
                    return described.with_group_state(StrBytes::from_static_str("Dead"));
                };
                let members = group
                    .members
                    .values()
                    .map(|m| {
                        let metadata = m
                            .protocols
                            .iter()
                            .find(|(n, _)| group.protocol.as_deref() == Some(n.as_str()))
                            .map(|(_, meta)| meta.clone())
                            .unwrap_or_default();
                        DescribedGroupMember::default()
                            .with_member_id(StrBytes::from_string(m.id.clone()))
                            .with_group_instance_id(
                                m.instance_id.clone().map(StrBytes::from_string),
                            )
                            .with_client_id(StrBytes::from_string(m.client_id.clone()))
                            .with_client_host(StrBytes::from_string(m.client_host.clone()))
                            .with_member_metadata(metadata)
                            .with_member_assignment(m.assignment.clone())
                    })
                    .collect();
                described
                    .with_group_state(StrBytes::from_static_str(group.state.name()))
                    .with_protocol_type(StrBytes::from_string(
                        group.protocol_type.clone().unwrap_or_default(),
                    ))
                    .with_protocol_data(StrBytes::from_string(
                        group.protocol.clone().unwrap_or_default(),
                    ))
                    .with_members(members)
            })
            .collect();
        DescribeGroupsResponse::default().with_groups(described)
    }
}

impl Coordinator {
    /// DeleteGroups: a group with members is not deleted (GROUP_NOT_EMPTY), one unknown here
    /// and in the log is GROUP_ID_NOT_FOUND; otherwise its committed offsets go.
    pub fn delete(&self, broker: &Broker, request: DeleteGroupsRequest) -> DeleteGroupsResponse {
        let known = broker.log_groups();
        let results = request
            .groups_names
            .into_iter()
            .map(|id| {
                let name = id.0.to_string();
                let mut groups = self.groups();
                let code = match groups.get(&name) {
                    Some(g) if !g.members.is_empty() => ResponseError::NonEmptyGroup.code(),
                    None if !known.contains(&name) => ResponseError::GroupIdNotFound.code(),
                    _ => {
                        groups.remove(&name);
                        drop(groups);
                        match broker.log.delete_group(&name) {
                            Ok(()) => 0,
                            Err(e) => super::codes::for_transport(&e),
                        }
                    }
                };
                DeletableGroupResult::default()
                    .with_group_id(id)
                    .with_error_code(code)
            })
            .collect();
        DeleteGroupsResponse::default().with_results(results)
    }
}

/// FindCoordinator: this node, for groups and transactional ids alike.
pub fn find_coordinator(
    broker: &Broker,
    connection: &Connection,
    request: FindCoordinatorRequest,
    version: i16,
) -> FindCoordinatorResponse {
    let (host, port) = broker.advertised(connection);
    let host = StrBytes::from_string(host);
    if version < 4 {
        return FindCoordinatorResponse::default()
            .with_node_id(NODE_ID.into())
            .with_host(host)
            .with_port(port);
    }
    let coordinators = request
        .coordinator_keys
        .into_iter()
        .map(|key| {
            CoordinatorEntry::default()
                .with_key(key)
                .with_node_id(NODE_ID.into())
                .with_host(host.clone())
                .with_port(port)
        })
        .collect();
    FindCoordinatorResponse::default().with_coordinators(coordinators)
}
