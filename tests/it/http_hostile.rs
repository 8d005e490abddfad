//! Clients that would hold the server's places without doing anything: a request body withheld
//! or trickled (over HTTP/1.1 and HTTP/2) gets a 408 and loses its connection, a push query
//! whose client went away ends at once, with no row to notice it by, and a long `/ksql`
//! request does not hold a stopping server. Each runs against a server in process over raw
//! sockets (see `http_api.rs`).

use super::http_api::{addr, get, json, post, start_server};
use brook::http::{ConnectionLimits, HttpConfig};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Long enough for any machine; the limits under test are a second.
const GENEROUS: Duration = Duration::from_secs(30);

fn open(port: u16) -> TcpStream {
    let socket = TcpStream::connect(addr(port)).expect("connect");
    socket.set_read_timeout(Some(GENEROUS)).expect("timeout");
    socket
}

/// Reads until the server closes the connection (an error if it does not within GENEROUS).
fn read_until_closed(socket: &mut TcpStream) -> std::io::Result<String> {
    let mut answer = Vec::new();
    socket.read_to_end(&mut answer)?;
    Ok(String::from_utf8_lossy(&answer).into_owned())
}

#[test]
fn a_withheld_or_trickled_body_gets_408_and_frees_its_connection() {
    let (server, _dir) = start_server(HttpConfig {
        connections: ConnectionLimits {
            max_connections: 1,
            body_read: Duration::from_secs(1),
            ..Default::default()
        },
        ..HttpConfig::default()
    });
    server.set_ready();
    let port = server.local_addr.port();
    let head = "POST /ksql HTTP/1.1\r\nHost: brook\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n";

    // Headers and part of the body, then nothing: it holds the only connection until the
    // body-read limit, then is answered and closed.
    let mut withheld = open(port);
    withheld
        .write_all(format!("{head}{{\"ksql\": ").as_bytes())
        .expect("write");
    let waiting = std::thread::spawn(move || get(port, "/healthcheck"));
    let answer = read_until_closed(&mut withheld).expect("the withheld body kept its connection");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"error_code\":40800"), "{answer}");
    assert!(
        waiting.join().expect("join").is_some(),
        "the client waiting behind it was not served"
    );

    // A byte at a time, never finishing within the limit.
    let mut trickle = open(port);
    trickle.write_all(head.as_bytes()).expect("write");
    let reader = trickle.try_clone().expect("clone");
    let dripping = std::thread::spawn(move || {
        let mut trickle = trickle;
        for _ in 0..300 {
            if trickle.write_all(b" ").is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    let mut reader = reader;
    let answer = read_until_closed(&mut reader).expect("the trickled body kept its connection");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    let _ = reader.shutdown(std::net::Shutdown::Both);
    dripping.join().expect("join");

    // An insert stream that never names its target is ended the same way.
    let mut silent_inserts = open(port);
    silent_inserts
        .write_all(
            b"POST /inserts-stream HTTP/1.1\r\nHost: brook\r\nTransfer-Encoding: chunked\r\n\r\n",
        )
        .expect("write");
    let answer =
        read_until_closed(&mut silent_inserts).expect("the insert stream kept its connection");
    assert!(answer.contains("\"error_code\":40800"), "{answer}");
    server.stop();
}

/// An HTTP/2 frame: length, type, flags, stream id, payload.
fn h2_frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = u32::try_from(payload.len())
        .expect("small frame")
        .to_be_bytes();
    let mut frame = vec![len[1], len[2], len[3], kind, flags];
    frame.extend_from_slice(&stream.to_be_bytes());
    frame.extend_from_slice(payload);
    frame
}

#[test]
fn a_withheld_http2_body_gets_408() {
    const DATA: u8 = 0;
    const HEADERS: u8 = 1;
    const RST_STREAM: u8 = 3;
    const GOAWAY: u8 = 7;
    const END_STREAM: u8 = 1;
    const END_HEADERS: u8 = 4;
    let (server, _dir) = start_server(HttpConfig {
        connections: ConnectionLimits {
            body_read: Duration::from_secs(1),
            ..Default::default()
        },
        ..HttpConfig::default()
    });
    server.set_ready();
    let mut socket = open(server.local_addr.port());
    // HPACK: :method POST, :scheme http (static entries), then :path and :authority literals.
    let mut block = vec![0x83, 0x86, 0x44, 5];
    block.extend_from_slice(b"/ksql");
    block.extend_from_slice(&[0x41, 5]);
    block.extend_from_slice(b"brook");
    let mut opening = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    opening.extend(h2_frame(4, 0, 0, &[]));
    // The request's headers without END_STREAM: a body is coming, and never does.
    opening.extend(h2_frame(HEADERS, END_HEADERS, 1, &block));
    socket.write_all(&opening).expect("write");
    let mut body = Vec::new();
    loop {
        let mut header = [0u8; 9];
        socket
            .read_exact(&mut header)
            .expect("the stream was never answered");
        let len = u32::from_be_bytes([0, header[0], header[1], header[2]]) as usize;
        let (kind, flags) = (header[3], header[4]);
        let stream = u32::from_be_bytes([header[5], header[6], header[7], header[8]]) & 0x7fff_ffff;
        let mut payload = vec![0u8; len];
        socket.read_exact(&mut payload).expect("frame payload");
        assert!(kind != GOAWAY, "the connection went away unanswered");
        if stream != 1 {
            continue;
        }
        if kind == DATA {
            body.extend_from_slice(&payload);
        }
        if kind == RST_STREAM || (kind == DATA && flags & END_STREAM != 0) {
            break;
        }
    }
    let body = String::from_utf8_lossy(&body);
    assert_eq!(json(&body)["error_code"], 40800, "{body}");
    server.stop();
}

#[test]
fn an_abandoned_push_query_ends_without_a_row() {
    let (server, _dir) = start_server(HttpConfig {
        max_push_queries: 2,
        ..HttpConfig::default()
    });
    server.set_ready();
    let port = server.local_addr.port();
    let created = post(
        port,
        "/ksql",
        r#"{"ksql": "CREATE STREAM s (k INT KEY, v STRING) WITH (kafka_topic='s', value_format='JSON', partitions=1);"}"#,
    );
    assert_eq!(created.status, 200, "{}", created.body);
    let push_queries = |n: usize| {
        get(port, "/metrics").is_some_and(|m| m.contains(&format!("brook_push_queries {n}\n")))
    };
    let wait_for = |n: usize, what: &str| {
        let deadline = Instant::now() + GENEROUS;
        while !push_queries(n) {
            assert!(Instant::now() < deadline, "{what}");
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    // Both places taken: one query on each endpoint, each client reads its header and goes.
    let open_query = |path: &str, body: &str| {
        let mut q = brook::http::client::LineStream::open(addr(port), path, body).expect(path);
        let header = q.next_line().expect("read").expect("header");
        assert!(header.contains("queryId"), "{header}");
        q
    };
    let stream = open_query(
        "/query-stream",
        r#"{"sql": "SELECT * FROM s EMIT CHANGES;"}"#,
    );
    let old = open_query("/query", r#"{"ksql": "SELECT * FROM s EMIT CHANGES;"}"#);
    wait_for(2, "the push queries did not start");
    for q in [stream, old] {
        q.socket
            .shutdown(std::net::Shutdown::Both)
            .expect("shutdown");
    }
    // No row ever comes; the queries end anyway, and a new client gets a place.
    wait_for(0, "the abandoned push queries kept running");
    let mut again = open_query(
        "/query-stream",
        r#"{"sql": "SELECT * FROM s EMIT CHANGES;"}"#,
    );
    post(
        port,
        "/ksql",
        r#"{"ksql": "INSERT INTO s (k, v) VALUES (1, 'one');"}"#,
    );
    assert_eq!(
        again.next_line().expect("read").as_deref(),
        Some(r#"[1,"one"]"#)
    );
    server.stop();
}

#[test]
fn a_stopping_server_runs_no_further_statement_of_a_request() {
    use brook::engine::{Engine, RunMode};
    use brook::log::{EmbeddedLog, LogConfig};
    use brook::transport::{TopicConfig, Transport};
    use std::sync::{Arc, Mutex};
    let dir = tempfile::tempdir().expect("tempdir");
    let log = EmbeddedLog::open(dir.path(), LogConfig::default()).expect("log");
    log.create_topic("gate", &TopicConfig::default())
        .expect("topic");
    let engine = Arc::new(Mutex::new(Engine::new(
        Arc::new(log.clone()),
        RunMode::Threads,
    )));
    let config = HttpConfig {
        listen: "127.0.0.1:0".parse().expect("addr"),
        ..HttpConfig::default()
    };
    let server = brook::http::start(engine.clone(), config).expect("start");
    server.set_ready();
    let port = server.local_addr.port();
    // The first statement waits (holding the engine) until the gate topic is gone.
    let request = std::thread::spawn(move || {
        brook::http::client::post_json(
            addr(port),
            "/ksql",
            r#"{"ksql": "ASSERT NOT EXISTS TOPIC gate TIMEOUT 10 MINUTES; CREATE STREAM x (k INT KEY, v STRING) WITH (kafka_topic='x', value_format='JSON', partitions=1);"}"#,
            GENEROUS,
        )
    });
    let deadline = Instant::now() + GENEROUS;
    while engine.try_lock().is_ok() {
        assert!(Instant::now() < deadline, "the request never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    // Stopping while it waits; once the server refuses connections it has been told.
    let stopping = std::thread::spawn(move || server.stop());
    while TcpStream::connect(addr(port)).is_ok() {
        assert!(Instant::now() < deadline, "the server kept accepting");
        std::thread::sleep(Duration::from_millis(20));
    }
    log.delete_topic("gate").expect("delete the gate");
    stopping.join().expect("stop");
    let engine = engine.lock().expect("engine");
    assert!(
        !engine.catalog().sources.contains_key("X"),
        "a statement ran after the server was told to stop"
    );
    if let Ok(Ok(reply)) = request.join() {
        assert_eq!(json(&reply.body)["error_code"], 50300, "{}", reply.body);
    }
}
