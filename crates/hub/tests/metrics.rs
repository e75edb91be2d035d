//! `GET /metrics` scraped from a running hub after a real office synced, and parsed as
//! Prometheus text; refused to anyone but this machine.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::sync::Arc;

use ledger_domain::Role;
use ledger_hub::store::OfficeRecord;
use ledger_hub::{HubState, HubStore, SqliteHubStore};
use tower::ServiceExt;

#[path = "support/office.rs"]
mod office;

use office::{enroll, new_case, sync};

/// Every sample of a Prometheus text body, by its name with labels; a line that is neither a
/// comment nor `name value` fails the test.
fn parse(text: &str) -> BTreeMap<String, f64> {
    let mut samples = BTreeMap::new();
    for line in text.lines().filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let (name, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("not a sample: {line}"));
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("not a number: {line}"));
        assert!(samples.insert(name.to_owned(), value).is_none(), "sample twice: {line}");
    }
    samples
}

fn scrape(addr: &str) -> (String, String) {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    (head.to_owned(), body.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_what_an_office_did() {
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
    let token = ledger_hub::auth::new_token().unwrap();
    store
        .add_token("hq", &ledger_hub::auth::hash_secret(&token), ledger_hub::now_ms() + 600_000)
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(ledger_hub::serve(listener, HubState::new(store), async move {
        let _ = stopped.await;
    }));

    let (_office_dir, hq) = enroll(&format!("http://{addr}"), token, "李娟").await;
    hq.register(&new_case("黄桥镇", "钱七"), None).unwrap();
    let report = sync(&hq).await;
    assert!(report.uploaded > 0);

    let (head, body) = tokio::task::spawn_blocking({
        let addr = addr.clone();
        move || scrape(&addr)
    })
    .await
    .unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.to_ascii_lowercase().contains("content-type: text/plain; version=0.0.4"),
        "{head}"
    );
    let m = parse(&body);
    assert!(m["ledger_hub_requests_total{route=\"/v1/sync\",status=\"200\"}"] >= 1.0, "{body}");
    assert!(m["ledger_hub_requests_total{route=\"/v1/enroll\",status=\"200\"}"] >= 1.0, "{body}");
    assert!(m["ledger_hub_http_bytes_total{route=\"/v1/sync\",direction=\"in\"}"] > 0.0, "{body}");
    assert!(m["ledger_hub_http_bytes_total{route=\"/v1/sync\",direction=\"out\"}"] > 0.0, "{body}");
    assert_eq!(m["ledger_hub_changes_accepted_total"], report.uploaded as f64, "{body}");
    assert_eq!(m["ledger_hub_pending_changes{office=\"hq\"}"], 0.0, "{body}");
    let syncs = m["ledger_hub_sync_seconds_count"];
    assert!(syncs >= 1.0 && m["ledger_hub_sync_seconds_bucket{le=\"+Inf\"}"] == syncs, "{body}");
    assert!(m["ledger_hub_sync_seconds_sum"] > 0.0, "{body}");
    // The SQLite store keeps no pool.
    assert!(!body.contains("ledger_hub_db_connections"), "{body}");

    let _ = stop.send(());
    server.await.unwrap().unwrap();
}

/// Without the caller's address (or from another machine) the metrics are refused: they name
/// offices and how much work waits on them.
#[tokio::test]
async fn metrics_are_refused_to_another_machine() {
    let state = HubState::new(Arc::new(ledger_hub::MemoryHubStore::new()));
    let request =
        axum::http::Request::builder().uri("/metrics").body(axum::body::Body::empty()).unwrap();
    let response = ledger_hub::router(state).oneshot(request).await.unwrap();
    assert_eq!(response.status(), axum::http::StatusCode::FORBIDDEN);
}
