//! Unreliable links: every test breaks something real (a connection cut mid-body through the
//! fault proxy, a hub or office process killed with SIGKILL, a black hole, a long outage) and
//! then checks that nothing was lost, nothing was applied twice, the outbox is not stuck, and the
//! next sync completes.

#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use ledger_client::{ClientError, SyncConfig};
use ledger_domain::schema::Draft;
use ledger_domain::{ActionKind, CaseId, Role};
use ledger_hub::store::OfficeRecord;
use ledger_hub::{HubStore, SqliteHubStore, auth};
use ledger_office::ActionInput;
use ledger_store::DocKind;
use ledger_tests::{FaultProxy, LinkProfile, TestHub, TestOffice, case_input};

const TODAY: &str = "2024-03-05";
const FIXTURE: &str = env!("CARGO_BIN_EXE_fixture");

fn assign(township: &str) -> ActionInput {
    ActionInput {
        action: Some(ActionKind::Assign),
        target: Some(township.into()),
        ..Default::default()
    }
}

/// The office and the bureau hold identical cases.
fn assert_same(a: &TestOffice, b: &TestOffice, ids: &[CaseId]) {
    for id in ids {
        assert_eq!(a.office.case(*id).unwrap(), b.office.case(*id).unwrap(), "case {id}");
        assert_eq!(
            a.office.store().heads(*id, DocKind::Case).unwrap(),
            b.office.store().heads(*id, DocKind::Case).unwrap()
        );
    }
}

fn with_timeout(o: &mut TestOffice, secs: u64) {
    o.config = SyncConfig {
        request_timeout: Duration::from_secs(secs),
        backoff_base: Duration::from_millis(20),
        backoff_max: Duration::from_millis(200),
        ..o.config.clone()
    };
}

/// Cuts in the middle of request bodies and of response bodies, at many offsets: each broken
/// exchange is retried (with a smaller batch), and the next clean sync completes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cuts_mid_request_and_mid_response_at_many_offsets() {
    let hub = TestHub::start().await.unwrap();
    let tb = hub.add_office("county", "县局", Role::Bureau, &[]).unwrap();
    let ta = hub.add_office("hq", "黄桥镇国土所", Role::Township, &["黄桥镇"]).unwrap();
    let proxy = FaultProxy::start(hub.addr(), LinkProfile::clean()).await.unwrap();
    let bureau = TestOffice::enroll(&hub.url(), &tb, "刘洪", TODAY).await.unwrap();
    let mut a = TestOffice::enroll(&proxy.url(), &ta, "李娟", TODAY).await.unwrap();
    with_timeout(&mut a, 5);
    let mut ids = Vec::new();
    let offsets = [40u64, 150, 400, 900, 1_600, 3_000, 6_000, 12_000, 25_000];
    for (round, n) in offsets.iter().enumerate() {
        for up in [true, false] {
            // Work both ways: the bureau assigns new cases down, the township writes up.
            for k in 0..3 {
                let id = bureau
                    .office
                    .register(
                        &case_input(
                            "黄桥镇",
                            "本局接收",
                            &format!("村民{round}{k}"),
                            &"反映宅基地纠纷。".repeat(20),
                        ),
                        None,
                    )
                    .unwrap();
                bureau.office.act(id, &assign("黄桥镇")).unwrap();
                ids.push(id);
            }
            bureau.sync().await.unwrap();
            for id in ids.iter().rev().skip(3).take(3) {
                a.office
                    .set_draft(
                        *id,
                        Draft::Investigation,
                        &format!("核查记录 {round}-{up}：{}", "现场照片已存档。".repeat(30)),
                    )
                    .unwrap();
            }
            proxy.set_profile(if up {
                LinkProfile::clean().with_cut_up(*n)
            } else {
                LinkProfile::clean().with_cut_down(*n)
            });
            // A short try on the broken link: it fails or, past the cut size, partly succeeds.
            let deadline = tokio::time::Instant::now() + Duration::from_millis(600);
            let mut budget = a.config.max_batch;
            let _ = ledger_client::sync_until_done(
                a.client(),
                &a.target(),
                &a.config,
                deadline,
                &mut budget,
            )
            .await;
            proxy.set_profile(LinkProfile::clean());
            let report = a.sync().await.unwrap();
            assert!(report.rounds >= 1);
            assert_eq!(
                a.office.store().outbox_len().unwrap(),
                0,
                "outbox not stuck after a cut at {n} (up: {up})"
            );
        }
    }
    bureau.sync().await.unwrap();
    a.sync().await.unwrap();
    assert_same(&a, &bureau, &ids);
    hub.assert_log_exactly_once();
    assert!(proxy.stats().connections_cut > 0, "the proxy did cut");
}

fn spawn_hub(dir: &std::path::Path, listen: &str) -> (Child, SocketAddr) {
    ledger_tests::write_test_pki(dir).unwrap();
    let mut child = Command::new(FIXTURE)
        .args(["hub", "--dir", dir.to_str().unwrap(), "--listen", listen])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap()).read_line(&mut line).unwrap();
    let addr = line.trim().strip_prefix("listening on https://").unwrap().parse().unwrap();
    (child, addr)
}

fn add_office(dir: &std::path::Path, code: &str, role: Role, townships: &[&str]) -> String {
    let store = SqliteHubStore::open(dir).unwrap();
    store
        .add_office(&OfficeRecord {
            code: code.into(),
            name: code.into(),
            role,
            townships: townships.iter().map(|t| (*t).to_owned()).collect(),
            created_at: ledger_hub::now_ms(),
        })
        .unwrap();
    let token = auth::new_token().unwrap();
    store.add_token(code, &auth::hash_secret(&token), ledger_hub::now_ms() + 3_600_000).unwrap();
    token
}

/// The hub process is killed with SIGKILL while an office uploads through a slow link, then
/// restarted on the same database: the office's retries complete and nothing is doubled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hub_killed_and_restarted_mid_sync() {
    let dir = tempfile::tempdir().unwrap();
    let ta = add_office(dir.path(), "hq", Role::Township, &["黄桥镇"]);
    let tb = add_office(dir.path(), "county", Role::Bureau, &[]);
    let (mut hub, addr) = spawn_hub(dir.path(), "127.0.0.1:0");
    let proxy = FaultProxy::start(addr, LinkProfile::clean()).await.unwrap();
    let mut a = TestOffice::enroll(&proxy.url(), &ta, "李娟", TODAY).await.unwrap();
    with_timeout(&mut a, 3);
    let mut ids = Vec::new();
    for i in 0..40 {
        ids.push(
            a.office
                .register(
                    &case_input(
                        "黄桥镇",
                        "本局接收",
                        &format!("村民{i}"),
                        &"反映违法占地。".repeat(40),
                    ),
                    None,
                )
                .unwrap(),
        );
    }
    // Slow enough that the upload is still running when the hub dies.
    proxy.set_profile(LinkProfile::clean().with_rate(200_000));
    a.config.max_batch = 16 * 1024;
    let office = a.office.clone();
    let client = a.client().clone();
    let config = a.config.clone();
    let syncing = tokio::spawn(async move {
        let target: Arc<dyn ledger_client::SyncTarget> = office;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        let mut budget = config.max_batch;
        ledger_client::sync_until_done(&client, &target, &config, deadline, &mut budget).await
    });
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(a.office.store().outbox_len().unwrap() > 0, "still uploading when the hub dies");
    hub.kill().unwrap();
    hub.wait().unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (mut hub, _) = spawn_hub(dir.path(), &addr.to_string());
    proxy.set_profile(LinkProfile::clean());
    let report = syncing.await.unwrap().unwrap();
    assert!(report.retries > 0, "the kill was felt: {report:?}");
    assert_eq!(a.office.store().outbox_len().unwrap(), 0);
    let bureau = TestOffice::enroll(&format!("https://{addr}"), &tb, "刘洪", TODAY).await.unwrap();
    bureau.sync().await.unwrap();
    assert_eq!(bureau.office.case_count().unwrap(), 40, "nothing lost");
    assert_same(&a, &bureau, &ids);
    hub.kill().unwrap();
    hub.wait().unwrap();
    let store = ledger_hub::SqliteHubStore::open(dir.path()).unwrap();
    ledger_tests::assert_log_exactly_once(&store, dir.path());
}

/// The office process is killed with SIGKILL while it applies pages of a first download; the next
/// sync resumes from the durable cursor and ends with every case whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn office_killed_mid_apply_resumes() {
    let hub = TestHub::start().await.unwrap();
    let tb = hub.add_office("county", "县局", Role::Bureau, &[]).unwrap();
    let ta = hub.add_office("hq", "黄桥镇国土所", Role::Township, &["黄桥镇"]).unwrap();
    let bureau = TestOffice::enroll(&hub.url(), &tb, "刘洪", TODAY).await.unwrap();
    let mut ids = Vec::new();
    for i in 0..120 {
        let id = bureau
            .office
            .register(
                &case_input(
                    "黄桥镇",
                    "本局接收",
                    &format!("村民{i}"),
                    &"反映征地补偿问题。".repeat(30),
                ),
                None,
            )
            .unwrap();
        bureau.office.act(id, &assign("黄桥镇")).unwrap();
        ids.push(id);
    }
    bureau.sync().await.unwrap();
    let a = TestOffice::enroll(&hub.url(), &ta, "李娟", TODAY).await.unwrap();
    let dir = a.dir.path().to_path_buf();
    let office_dir = tempfile::tempdir().unwrap();
    drop(a.office);
    // Move the enrolled store aside so only the child process holds it.
    for entry in std::fs::read_dir(&dir).unwrap() {
        let entry = entry.unwrap();
        std::fs::rename(entry.path(), office_dir.path().join(entry.file_name())).unwrap();
    }
    for kill in 0..3 {
        let mut child = Command::new(FIXTURE)
            .args(["sync", "--dir", office_dir.path().to_str().unwrap(), "--budget", "8192"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut reader = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        // Let it apply a page or two, then kill it in the middle of the next.
        for _ in 0..(2 + kill) {
            line.clear();
            if reader.read_line(&mut line).unwrap() == 0 {
                break;
            }
        }
        let _ = child.kill();
        child.wait().unwrap();
    }
    let resumed = TestOffice::open(office_dir, TODAY).unwrap();
    assert_eq!(resumed.office.store().integrity_check().unwrap(), "ok");
    resumed.sync().await.unwrap();
    assert_eq!(resumed.office.case_count().unwrap(), 120);
    assert_same(&resumed, &bureau, &ids);
    hub.assert_log_exactly_once();
}

/// A black hole: the request times out, the status says so, and the next sync after the link
/// returns completes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_black_hole_times_out_and_the_status_says_so() {
    let hub = TestHub::start().await.unwrap();
    let ta = hub.add_office("hq", "黄桥镇国土所", Role::Township, &["黄桥镇"]).unwrap();
    let proxy = FaultProxy::start(hub.addr(), LinkProfile::clean()).await.unwrap();
    let mut a = TestOffice::enroll(&proxy.url(), &ta, "李娟", TODAY).await.unwrap();
    with_timeout(&mut a, 1);
    let id =
        a.office.register(&case_input("黄桥镇", "本局接收", "蒋五", "违法建房"), None).unwrap();
    proxy.set_profile(LinkProfile::black_hole());
    let deadline = tokio::time::Instant::now() + Duration::from_millis(2_500);
    let mut budget = a.config.max_batch;
    let err =
        ledger_client::sync_until_done(a.client(), &a.target(), &a.config, deadline, &mut budget)
            .await
            .unwrap_err();
    assert!(matches!(err, ClientError::Timeout), "{err:?}");
    let status = a.office.sync_status().unwrap();
    assert_eq!(status.last_error.as_deref(), Some("timeout"));
    assert!(!status.online);
    // The case, its identity, and the office's staff joining its roster.
    assert_eq!(status.pending, 3);
    assert!(ledger_office::sync_error_text("timeout").contains("没有响应"));
    proxy.set_profile(LinkProfile::clean());
    a.sync().await.unwrap();
    assert_eq!(a.office.store().outbox_len().unwrap(), 0);
    assert!(hub.store().case_scope(id).unwrap().is_some());
    let status = a.office.sync_status().unwrap();
    assert!(status.online && status.last_error.is_none() && status.last_success.is_some());
    hub.assert_log_exactly_once();
}

/// The link is down for many backoff periods; when it comes back the service syncs within its
/// maximum backoff (plus one exchange), not after ever-growing waits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_long_outage_the_service_waits_no_longer_than_its_maximum_backoff() {
    let hub = TestHub::start().await.unwrap();
    let ta = hub.add_office("hq", "黄桥镇国土所", Role::Township, &["黄桥镇"]).unwrap();
    let proxy = FaultProxy::start(hub.addr(), LinkProfile::clean()).await.unwrap();
    let a = TestOffice::enroll(&proxy.url(), &ta, "李娟", TODAY).await.unwrap();
    let max = Duration::from_millis(300);
    let config = SyncConfig {
        request_timeout: Duration::from_millis(500),
        interval: Duration::from_secs(3600),
        debounce: Duration::from_millis(10),
        backoff_base: Duration::from_millis(10),
        backoff_max: max,
        ..SyncConfig::default()
    };
    proxy.stop();
    let handle = ledger_client::SyncService::spawn(a.client().clone(), a.target(), config);
    a.office.register(&case_input("黄桥镇", "本局接收", "沈六", "违法建房"), None).unwrap();
    handle.notify_edit();
    // Dozens of backoff periods: unbounded doubling would be waiting for days by now.
    tokio::time::sleep(Duration::from_secs(4)).await;
    // The case, its identity, and the office's staff joining its roster.
    assert_eq!(a.office.store().outbox_len().unwrap(), 3);
    assert!(matches!(
        a.office.sync_status().unwrap().last_error.as_deref(),
        Some("offline" | "timeout")
    ));
    proxy.resume();
    let resumed = tokio::time::Instant::now();
    let mut status = handle.subscribe();
    tokio::time::timeout(Duration::from_secs(10), async {
        while a.office.store().outbox_len().unwrap() > 0 {
            let _ = tokio::time::timeout(Duration::from_millis(50), status.changed()).await;
        }
    })
    .await
    .unwrap();
    let waited = resumed.elapsed();
    // One maximum backoff (with jitter at most the maximum) plus the exchange itself.
    assert!(waited < max + Duration::from_secs(2), "waited {waited:?} after the link came back");
    handle.shutdown().await;
    hub.assert_log_exactly_once();
}

/// The background service as the app runs it: a hub that stops answering (a black hole) and
/// then one that refuses the connection both show as 离线 within seconds, not as 正在同步 for
/// ever; while it is gone the passes back off instead of retrying every second or two.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_says_offline_within_seconds_and_backs_off() {
    use ledger_client::SyncState;
    let hub = TestHub::start().await.unwrap();
    let ta = hub.add_office("hq", "黄桥镇国土所", Role::Township, &["黄桥镇"]).unwrap();
    let proxy = FaultProxy::start(hub.addr(), LinkProfile::clean()).await.unwrap();
    let a = TestOffice::enroll(&proxy.url(), &ta, "李娟", TODAY).await.unwrap();
    let config = SyncConfig {
        request_timeout: Duration::from_secs(20),
        stall: Duration::from_millis(800),
        probe: Duration::from_millis(300),
        interval: Duration::from_secs(3600),
        debounce: Duration::from_millis(10),
        backoff_base: Duration::from_millis(200),
        backoff_max: Duration::from_secs(2),
        ..SyncConfig::default()
    };
    let handle = ledger_client::SyncService::spawn(a.client().clone(), a.target(), config);
    let status = handle.subscribe();
    let wait_for = |want: SyncState, within: Duration| {
        let mut status = status.clone();
        async move {
            tokio::time::timeout(within, async {
                loop {
                    if status.borrow_and_update().state() == want {
                        return status.borrow().clone();
                    }
                    let _ = status.changed().await;
                }
            })
            .await
            .unwrap_or_else(|_| panic!("never {want:?}: {:?}", status.borrow()))
        }
    };
    a.office.register(&case_input("黄桥镇", "本局接收", "沈六", "违法建房"), None).unwrap();
    handle.notify_edit();
    wait_for(SyncState::Synced, Duration::from_secs(10)).await;

    // A black hole: a sync under way hears nothing back; within the stall it is 离线.
    proxy.set_profile(LinkProfile::black_hole());
    a.office.register(&case_input("黄桥镇", "本局接收", "韩七", "违法建房"), None).unwrap();
    handle.notify_edit();
    let dark = wait_for(SyncState::Offline, Duration::from_secs(3)).await;
    assert_eq!(dark.last_error.as_deref(), Some("no_answer"), "{dark:?}");
    proxy.set_profile(LinkProfile::clean());
    wait_for(SyncState::Synced, Duration::from_secs(25)).await;
    assert_eq!(a.office.store().outbox_len().unwrap(), 0);

    // The hub goes away while the office is idle: the probe notices within seconds.
    let failed_before = a.client().traffic().failed;
    proxy.shutdown().await;
    let gone = wait_for(SyncState::Offline, Duration::from_secs(3)).await;
    assert_eq!(gone.last_error.as_deref(), Some("offline"), "{gone:?}");
    assert!(gone.last_success.is_some(), "the header can say when it last synced");
    // Four seconds gone: backing off from 200 ms towards 2 s is a handful of attempts, where
    // retrying every second or two inside one pass would be dozens of failed exchanges.
    a.office.register(&case_input("黄桥镇", "本局接收", "蒋五", "违法建房"), None).unwrap();
    handle.notify_edit();
    tokio::time::sleep(Duration::from_secs(4)).await;
    let attempts = a.client().traffic().failed - failed_before;
    assert!((1..=12).contains(&attempts), "{attempts} failed attempts in 4 s");
    assert_eq!(handle.status().state(), SyncState::Offline);
    handle.shutdown().await;
}
