//! Failed authentications and enrollments are logged with the peer's address, one line each
//! until the address is over the limit, then one line saying so (a flood cannot fill the log).
//! The hub runs on `127.0.0.1:0`; its log is captured by the one subscriber of this test binary.

#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ledger_domain::Role;
use ledger_hub::store::OfficeRecord;
use ledger_hub::{AuthLimiter, HubState, HubStore, SqliteHubStore, auth};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

static LOG: Mutex<Vec<u8>> = Mutex::new(Vec::new());

struct Capture;

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        LOG.lock().unwrap_or_else(|p| p.into_inner()).extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn log_lines() -> Vec<String> {
    let log = LOG.lock().unwrap_or_else(|p| p.into_inner());
    String::from_utf8_lossy(&log).lines().map(str::to_owned).collect()
}

/// One HTTP/1.1 request on its own connection; returns the status.
async fn request(addr: std::net::SocketAddr, path: &str, headers: &str, body: &str) -> u16 {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{headers}Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut answer))
        .await
        .expect("the hub answered")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer).to_string();
    answer.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_authentications_are_logged_with_the_peer_address_until_the_limit() {
    tracing_subscriber::fmt()
        .with_writer(|| Capture)
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .init();
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn HubStore> = Arc::new(SqliteHubStore::open(dir.path()).unwrap());
    store
        .add_office(&OfficeRecord {
            code: "hq".into(),
            name: "黄桥镇国土所".into(),
            role: Role::Township,
            townships: vec!["黄桥镇".into()],
            created_at: 0,
        })
        .unwrap();
    let token = auth::new_token().unwrap();
    store.add_token("hq", &auth::hash_secret(&token), ledger_hub::now_ms() + 86_400_000).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(ledger_hub::serve(listener, HubState::new(store), async move {
        let _ = stopped.await;
    }));

    let guess = |i: u32| format!("Authorization: Bearer GUESS-{i:04}\r\n");
    // A wrong credential, then a wrong enrollment token: one line each, naming the address.
    assert_eq!(request(addr, "/v1/sync", &guess(0), "").await, 401);
    let auth_lines = |lines: &[String]| {
        lines.iter().filter(|l| l.contains("authentication failed")).cloned().collect::<Vec<_>>()
    };
    let lines = log_lines();
    let failed = auth_lines(&lines);
    assert_eq!(failed.len(), 1, "{lines:#?}");
    assert!(failed[0].contains("WARN") && failed[0].contains("127.0.0.1"), "{}", failed[0]);
    let body = r#"{"token":"NOT-A-TOKEN","actor":"ab","device_name":"x"}"#;
    let json = "Content-Type: application/json\r\n";
    assert_eq!(request(addr, "/v1/enroll", json, body).await, 401);
    let lines = log_lines();
    let enroll: Vec<_> = lines.iter().filter(|l| l.contains("enrollment failed")).collect();
    assert_eq!(enroll.len(), 1, "{lines:#?}");
    assert!(enroll[0].contains("127.0.0.1"), "{}", enroll[0]);

    // A flood: every failure up to the limit is logged, then one line says the address is over
    // it, and nothing more.
    let mut statuses = Vec::new();
    for i in 1..=30 {
        statuses.push(request(addr, "/v1/sync", &guess(i), "").await);
    }
    let limit = AuthLimiter::LIMIT as usize;
    // Two failures came before the flood; the limit-th failure is answered 429.
    assert!(statuses[..limit - 3].iter().all(|s| *s == 401), "{statuses:?}");
    assert!(statuses[limit - 3..].iter().all(|s| *s == 429), "{statuses:?}");
    let lines = log_lines();
    assert_eq!(auth_lines(&lines).len(), limit - 1, "{lines:#?}");
    let over: Vec<_> = lines.iter().filter(|l| l.contains("too many failed")).collect();
    assert_eq!(over.len(), 1, "{lines:#?}");
    assert!(over[0].contains("peer=127.0.0.1"), "{}", over[0]);
    // What was guessed is not written down.
    assert!(lines.iter().all(|l| !l.contains("GUESS-") && !l.contains("NOT-A-TOKEN")));

    let _ = stop.send(());
    server.await.unwrap().unwrap();
}
