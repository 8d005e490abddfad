//! Tests of `group.rs`: every transition of a group, driven with explicit times.

use super::*;
use kafka_protocol::messages::{JoinGroupResponse, SyncGroupResponse};
use tokio::sync::oneshot::{self, Receiver};

const SESSION: Duration = Duration::from_secs(10);
const REBALANCE: Duration = Duration::from_secs(30);

fn request(member_id: &str, client: &str, protocols: &[&str]) -> JoinRequest {
    JoinRequest {
        member_id: member_id.to_string(),
        instance_id: None,
        client_id: client.to_string(),
        client_host: "/127.0.0.1".to_string(),
        session_timeout: SESSION,
        rebalance_timeout: REBALANCE,
        protocol_type: "consumer".to_string(),
        protocols: protocols
            .iter()
            .map(|p| (p.to_string(), Bytes::from(format!("{client}:{p}"))))
            .collect(),
        requires_known_member_id: true,
    }
}

fn join(group: &mut Group, req: JoinRequest, now: Instant) -> Receiver<JoinGroupResponse> {
    let (tx, rx) = oneshot::channel();
    group.join(req, tx, now);
    rx
}

/// Joins as a new member the KIP-394 way (MEMBER_ID_REQUIRED, then again with the id).
fn join_new(
    group: &mut Group,
    client: &str,
    now: Instant,
) -> (String, Receiver<JoinGroupResponse>) {
    let mut first = join(group, request("", client, &["range", "roundrobin"]), now);
    let response = first.try_recv().expect("answered at once");
    assert_eq!(response.error_code, ResponseError::MemberIdRequired.code());
    let id = response.member_id.to_string();
    assert!(id.starts_with(client), "{id}");
    let rx = join(group, request(&id, client, &["range", "roundrobin"]), now);
    (id, rx)
}

fn sync(
    group: &mut Group,
    id: &str,
    generation: i32,
    assign: &[(&str, &str)],
) -> Receiver<SyncGroupResponse> {
    let (tx, rx) = oneshot::channel();
    let assignments = assign
        .iter()
        .map(|(m, a)| (m.to_string(), Bytes::from(a.to_string())))
        .collect();
    group.sync(id, generation, assignments, tx);
    rx
}

#[test]
fn a_first_member_forms_a_generation_alone_and_gets_its_assignment() {
    let now = Instant::now();
    let mut group = Group::new();
    let (a, mut joined) = join_new(&mut group, "a", now);
    let response = joined.try_recv().expect("joined");
    assert_eq!((response.error_code, response.generation_id), (0, 1));
    assert_eq!(response.leader.as_str(), a);
    assert_eq!(
        response.protocol_name.as_ref().map(|p| p.to_string()),
        Some("range".into())
    );
    assert_eq!(response.members.len(), 1);
    assert_eq!(response.members[0].metadata, Bytes::from("a:range"));
    let mut synced = sync(&mut group, &a, 1, &[(&a, "p0,p1")]);
    assert_eq!(
        synced.try_recv().expect("synced").assignment,
        Bytes::from("p0,p1")
    );
    assert_eq!(group.state, State::Stable);
    assert_eq!(group.heartbeat(&a, 1, now), 0);
}

#[test]
fn a_second_member_rebalances_the_group_and_both_get_their_share() {
    let now = Instant::now();
    let mut group = Group::new();
    let (a, _joined) = join_new(&mut group, "a", now);
    drop(sync(&mut group, &a, 1, &[(&a, "all")]));
    let (b, mut b_joined) = join_new(&mut group, "b", now);
    assert!(b_joined.try_recv().is_err(), "b waits for a to rejoin");
    assert_eq!(
        group.heartbeat(&a, 1, now),
        ResponseError::RebalanceInProgress.code()
    );
    let mut a_joined = join(&mut group, request(&a, "a", &["range"]), now);
    let a_response = a_joined.try_recv().expect("a joined");
    let b_response = b_joined.try_recv().expect("b joined");
    assert_eq!((a_response.generation_id, b_response.generation_id), (2, 2));
    assert_eq!(a_response.leader.as_str(), a, "the leader stays");
    assert_eq!(a_response.members.len(), 2);
    assert!(
        b_response.members.is_empty(),
        "only the leader gets the members"
    );
    let mut b_synced = sync(&mut group, &b, 2, &[]);
    assert!(
        b_synced.try_recv().is_err(),
        "b waits for the leader's assignment"
    );
    let mut a_synced = sync(&mut group, &a, 2, &[(&a, "p0"), (&b, "p1")]);
    assert_eq!(
        a_synced.try_recv().expect("a").assignment,
        Bytes::from("p0")
    );
    assert_eq!(
        b_synced.try_recv().expect("b").assignment,
        Bytes::from("p1")
    );
    // b leaves: a is told to rejoin, and forms generation 3 alone.
    assert_eq!(group.leave(&[(b.clone(), None)], now), vec![0]);
    assert_eq!(
        group.heartbeat(&a, 2, now),
        ResponseError::RebalanceInProgress.code()
    );
    let mut again = join(&mut group, request(&a, "a", &["range"]), now);
    let response = again.try_recv().expect("rejoined");
    assert_eq!((response.generation_id, response.members.len()), (3, 1));
}

#[test]
fn a_member_whose_session_lapses_is_removed_and_the_rest_rebalance() {
    let now = Instant::now();
    let mut group = Group::new();
    let (a, _joined) = join_new(&mut group, "a", now);
    let (b, _) = join_new(&mut group, "b", now);
    drop(join(&mut group, request(&a, "a", &["range"]), now));
    drop(sync(&mut group, &a, 2, &[(&a, "p0"), (&b, "p1")]));
    assert_eq!(group.state, State::Stable);
    let later = now + SESSION - Duration::from_secs(1);
    assert_eq!(group.heartbeat(&a, 2, later), 0);
    group.tick(now + SESSION + Duration::from_secs(1));
    assert!(!group.members.contains_key(&b), "b's session lapsed");
    assert!(group.members.contains_key(&a), "a heartbeated");
    assert!(matches!(group.state, State::PreparingRebalance { .. }));
}

#[test]
fn members_that_do_not_rejoin_in_time_are_dropped_from_the_generation() {
    let now = Instant::now();
    let mut group = Group::new();
    let (a, _joined) = join_new(&mut group, "a", now);
    drop(sync(&mut group, &a, 1, &[]));
    let (_b, mut b_joined) = join_new(&mut group, "b", now);
    group.tick(now + REBALANCE + Duration::from_secs(1));
    let response = b_joined.try_recv().expect("completed by the timeout");
    assert_eq!(response.generation_id, 2);
    assert!(!group.members.contains_key(&a), "a never rejoined");
    assert_eq!(response.leader, response.member_id, "b leads");
}

#[test]
fn strangers_old_generations_and_foreign_protocols_are_refused() {
    let now = Instant::now();
    let mut group = Group::new();
    let (a, _joined) = join_new(&mut group, "a", now);
    drop(sync(&mut group, &a, 1, &[]));
    let mut stranger = join(&mut group, request("nobody", "x", &["range"]), now);
    assert_eq!(
        stranger.try_recv().expect("answered").error_code,
        ResponseError::UnknownMemberId.code()
    );
    assert_eq!(
        group.heartbeat("nobody", 1, now),
        ResponseError::UnknownMemberId.code()
    );
    assert_eq!(
        group.heartbeat(&a, 0, now),
        ResponseError::IllegalGeneration.code()
    );
    assert_eq!(
        group.check_commit(&a, 0),
        ResponseError::IllegalGeneration.code()
    );
    assert_eq!(
        group.check_commit("", -1),
        ResponseError::UnknownMemberId.code()
    );
    let mut foreign = join(&mut group, request("", "y", &["sticky-only"]), now);
    assert_eq!(
        foreign.try_recv().expect("answered").error_code,
        ResponseError::InconsistentGroupProtocol.code()
    );
    let mut old = sync(&mut group, &a, 0, &[]);
    assert_eq!(
        old.try_recv().expect("answered").error_code,
        ResponseError::IllegalGeneration.code()
    );
}

#[test]
fn an_empty_group_takes_commits_from_outside_and_the_last_leave_empties_it() {
    let now = Instant::now();
    let mut group = Group::new();
    assert_eq!(group.check_commit("", -1), 0);
    let (a, _joined) = join_new(&mut group, "a", now);
    assert_eq!(group.leave(&[(a, None)], now), vec![0]);
    assert_eq!(group.state, State::Empty);
    assert_eq!(group.check_commit("", -1), 0);
    assert_eq!(
        group.leave(&[("gone".into(), None)], now),
        vec![ResponseError::UnknownMemberId.code()]
    );
}
