//! The hub's housekeeping and its smaller doors, on the real hub: abandoned attachment uploads
//! expire, an enrollment body is capped before it is read, `ledger-hub check` compares every
//! document with the change log, and imported history crosses the hub as its importer recorded
//! it.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use ledger_client::SyncTarget;
use ledger_domain::automerge::transaction::Transactable;
use ledger_domain::automerge::{ActorId, Automerge, ROOT, ReadDoc};
use ledger_domain::schema::{self, CaseField};
use ledger_domain::{ActionKind, CaseId, Role};
use ledger_office::{ImportOptions, LEDGER_COLUMNS, Office};
use ledger_protocol::{BlobChunk, DocKind, MIN_BATCH_BYTES, SyncRequest};
use ledger_tests::{County, TestHub, case_input};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const TODAY: &str = "2024-03-05";
const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

// ---------------------------------------------------------------------------------------------
// Abandoned uploads

/// A partial attachment upload untouched for more than 7 days is dropped at the hub; one that
/// received a piece within the window stays, and completes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abandoned_partial_uploads_expire_after_seven_days_and_fresh_ones_stay() {
    let c = County::start(TODAY).await.unwrap();
    let id =
        c.a.office.register(&case_input("黄桥镇", "本局接收", "周某", "宅基地纠纷"), None).unwrap();
    let old_file: Vec<u8> = (0..8192u32).map(|i| (i % 251) as u8).collect();
    let fresh_file: Vec<u8> = (0..8192u32).map(|i| (i % 241) as u8).collect();
    let old = c.a.office.attach(id, "旧照片.jpg", &old_file, "image/jpeg").unwrap();
    let fresh = c.a.office.attach(id, "新照片.jpg", &fresh_file, "image/jpeg").unwrap();
    let credential = c.a.office.store().meta("sync.credential").unwrap().unwrap();
    let caller = ledger_hub::auth::authenticate(c.hub.store().as_ref(), &credential).unwrap();
    let engine = c.hub.engine();
    let store = c.hub.store();

    // The case and its citations reach the hub at t0, without the files.
    let t0 = ledger_hub::now_ms();
    let mut req = c.a.office.prepare(1024 * 1024).unwrap();
    req.blobs.clear();
    req.blob_offers.clear();
    let answer = engine.sync(&caller, &req, t0).unwrap();
    assert!(answer.refused.is_empty(), "{:?}", answer.refused);
    assert_eq!(store.blob_cases(&old).unwrap(), vec![id], "the case cites the file");
    let piece = |hash: &str, file: &[u8], from: usize, to: usize| BlobChunk {
        hash: hash.to_owned(),
        offset: from as u64,
        total: file.len() as u64,
        bytes: file[from..to].to_vec(),
    };
    let send = |blobs: Vec<BlobChunk>, now: i64| {
        let req = SyncRequest { blobs, page_bytes: MIN_BATCH_BYTES, ..Default::default() };
        engine.sync(&caller, &req, now).unwrap();
    };
    // Half of each file arrives at t0, then the device goes quiet.
    send(vec![piece(&old, &old_file, 0, 4096), piece(&fresh, &fresh_file, 0, 4096)], t0);
    assert_eq!(store.blob_progress(&old).unwrap(), Err(4096));
    assert_eq!(store.blob_progress(&fresh).unwrap(), Err(4096));
    // Six days on, one more piece of one of them.
    send(vec![piece(&fresh, &fresh_file, 4096, 6144)], t0 + 6 * DAY);
    assert_eq!(store.blob_progress(&old).unwrap(), Err(4096), "not yet 7 days old");
    assert_eq!(store.blob_progress(&fresh).unwrap(), Err(6144));
    // Seven days and two hours after t0: the one untouched since t0 is gone, the other stays.
    send(Vec::new(), t0 + 7 * DAY + 2 * HOUR);
    assert_eq!(store.blob_progress(&old).unwrap(), Err(0), "the abandoned upload was dropped");
    assert_eq!(store.blob_progress(&fresh).unwrap(), Err(6144), "the fresh upload was kept");
    // The kept one completes from where it stood; the dropped one starts over.
    send(
        vec![piece(&fresh, &fresh_file, 6144, 8192), piece(&old, &old_file, 4096, 8192)],
        t0 + 7 * DAY + 3 * HOUR,
    );
    assert_eq!(store.blob(&fresh).unwrap().as_deref(), Some(fresh_file.as_slice()));
    assert_eq!(store.blob_progress(&old).unwrap(), Err(0), "a piece past the start is not taken");
}

// ---------------------------------------------------------------------------------------------
// Enrollment bodies

/// Enrollment is the one unauthenticated body: past 4 KiB it is refused, the token it carries
/// stays unused and no device is enrolled; a body declared far larger is answered once the cap
/// is read, not after it arrives whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_enrollment_body_is_refused_and_enrolls_nothing() {
    let hub = TestHub::start().await.unwrap();
    let token = hub.add_office("hq", "黄桥镇国土所", Role::Township, &["黄桥镇"]).unwrap();
    let token_hash = ledger_hub::auth::hash_secret(&token);
    let http = ledger_tests::raw_http();
    let enroll = |device_name: String| {
        let body = serde_json::json!({
            "token": token,
            "actor": Office::new_actor(),
            "device_name": device_name,
            "public_key": ledger_protocol::keys::SecretKey::from_seed([7; 32]).public().to_hex(),
        });
        http.post(format!("{}/v1/enroll", hub.url())).json(&body).send()
    };

    let big = enroll("大".repeat(2000)).await.unwrap();
    let status = big.status().as_u16();
    assert!(status == 413 || status == 400, "an oversized enrollment answered {status}");
    let body = big.text().await.unwrap();
    assert!(!body.contains("credential"), "{body}");
    let record = hub.store().token(&token_hash).unwrap().expect("the token is stored");
    assert!(record.used.is_none(), "the oversized body used the token");
    assert!(hub.store().devices(Some("hq")).unwrap().is_empty(), "a device was enrolled");

    // Declared at 1 MiB: the answer comes while most of it is still unsent.
    let mut s = ledger_tests::raw_tls(hub.addr()).await.unwrap();
    let head = format!(
        "POST /v1/enroll HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        hub.addr(),
        1024 * 1024
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let mut prefix = format!(r#"{{"token":"{token}","actor":"ab","device_name":""#).into_bytes();
    prefix.resize(8192, b'x');
    s.write_all(&prefix).await.unwrap();
    let mut answer = vec![0u8; 512];
    let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut answer))
        .await
        .expect("the hub answered before the body was sent")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer[..n]).to_string();
    assert!(answer.starts_with("HTTP/1.1 413") || answer.starts_with("HTTP/1.1 400"), "{answer}");
    drop(s);
    assert!(hub.store().token(&token_hash).unwrap().unwrap().used.is_none());

    // The same token in a body within the cap enrolls: the cap refused the others, not the token.
    let small = enroll("黄桥镇国土所-1".into()).await.unwrap();
    assert_eq!(small.status().as_u16(), 200, "{}", small.text().await.unwrap_or_default());
    assert_eq!(hub.store().devices(Some("hq")).unwrap().len(), 1);
}

// ---------------------------------------------------------------------------------------------
// The hub's check against its change log

/// A change of the hub's own copy of `id`, made on a fork by a stranger actor: real bytes, a
/// real hash, that no document holds.
fn stray_change(hub: &TestHub, id: CaseId) -> (String, Vec<u8>) {
    let (snapshot, tail) = hub.store().doc(id, DocKind::Case).unwrap().unwrap();
    let doc = ledger_hub::engine::check_doc(DocKind::Case, &snapshot, tail).unwrap();
    let mut doc: Automerge = doc.with_actor(ActorId::random());
    let mut tx = doc.transaction();
    tx.put(ROOT, "subject", "从未被接受的修改").unwrap();
    let (hash, _) = tx.commit();
    let hash = hash.unwrap();
    let bytes = doc.get_change_by_hash(&hash).unwrap().raw_bytes().to_vec();
    (hash.to_string(), bytes)
}

/// `ledger-hub check` compares every stored document with the hub's change log: a change the
/// hub acknowledged that its document lacks (a lost tail row, or a change row the document
/// never got), and a change in the document with no row, are each reported for their case
/// alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hub_check_finds_documents_that_disagree_with_the_change_log() {
    let c = County::start(TODAY).await.unwrap();
    let mut ids = Vec::new();
    for name in ["甲某", "乙某", "丙某", "丁某"] {
        let input = case_input("黄桥镇", "本局接收", name, "宅基地纠纷");
        ids.push(c.bureau.office.register(&input, None).unwrap());
    }
    c.bureau.sync().await.unwrap();
    // A second batch: these edits go to each document's tail.
    for id in &ids {
        c.bureau.office.set_field(*id, &CaseField::Subject, "界址纠纷（续）").unwrap();
    }
    c.bureau.sync().await.unwrap();
    let report = ledger_hub::check::check(c.hub.store().as_ref(), false, 0).unwrap();
    assert!(report.problems.is_empty(), "before tampering: {report:?}");
    let [lost_tail, extra_row, unrecorded, fine] = [ids[0], ids[1], ids[2], ids[3]];

    let conn = rusqlite::Connection::open(c.hub.dir().join("hub.db")).unwrap();
    conn.busy_timeout(Duration::from_secs(5)).unwrap();
    // 1. The document loses the last change of its tail; the change row stays.
    let lost: String = conn
        .query_row(
            "SELECT hash FROM doc_tail WHERE case_id = ?1 AND kind = 0 ORDER BY id DESC LIMIT 1",
            [lost_tail.to_string()],
            |r| r.get(0),
        )
        .unwrap();
    conn.execute("DELETE FROM doc_tail WHERE hash = ?1", [&lost]).unwrap();
    // 2. A change row for a document that never got the change.
    let (stray, bytes) = stray_change(&c.hub, extra_row);
    conn.execute(
        "INSERT INTO changes (hash, case_id, kind, device, received_at, bytes) VALUES (?1, ?2, 0, 'x', 0, ?3)",
        rusqlite::params![stray, extra_row.to_string(), bytes],
    )
    .unwrap();
    // 3. The row of a change the document holds (its creation, in the snapshot) disappears.
    let (snapshot, tail) = c.hub.store().doc(unrecorded, DocKind::Case).unwrap().unwrap();
    let doc = ledger_hub::engine::check_doc(DocKind::Case, &snapshot, tail).unwrap();
    let creation = doc.get_changes_meta(&[]).first().map(|m| m.hash.to_string()).unwrap();
    assert!(c.hub.store().has_change(&creation).unwrap());
    conn.execute("DELETE FROM changes WHERE hash = ?1", [&creation]).unwrap();
    drop(conn);

    let report = ledger_hub::check::check(c.hub.store().as_ref(), false, 0).unwrap();
    let reason = |id: CaseId| {
        let found: Vec<_> = report.problems.iter().filter(|p| p.case_id == id).collect();
        assert_eq!(found.len(), 1, "{id}: {report:?}");
        assert_eq!(found[0].kind, DocKind::Case);
        found[0].reason.clone()
    };
    let r = reason(lost_tail);
    assert!(r.contains("不在文档中") && r.contains(&lost), "{r}");
    let r = reason(extra_row);
    assert!(r.contains("不在文档中") && r.contains(&stray), "{r}");
    let r = reason(unrecorded);
    assert!(r.contains("没有接受记录") && r.contains(&creation), "{r}");
    assert!(report.problems.iter().all(|p| p.case_id != fine), "{report:?}");
    assert_eq!(report.problems.len(), 3, "{report:?}");
    // Reported, never set aside: every document still loads.
    let report = ledger_hub::check::check(c.hub.store().as_ref(), true, 0).unwrap();
    assert!(report.problems.iter().all(|p| !p.set_aside), "{report:?}");
    assert!(c.hub.store().doc(lost_tail, DocKind::Case).unwrap().is_some());
}

// ---------------------------------------------------------------------------------------------
// Imported history through the hub

/// A one-row ledger CSV in the canonical layout.
fn ledger_csv(path: &std::path::Path, values: &[(&str, &str)]) {
    let mut row: Vec<String> = LEDGER_COLUMNS.iter().map(|_| String::new()).collect();
    for (col, v) in values {
        let i = LEDGER_COLUMNS.iter().position(|c| c == col).unwrap();
        row[i] = (*v).to_owned();
    }
    std::fs::write(path, format!("{}\n{}\n", LEDGER_COLUMNS.join(","), row.join(","))).unwrap();
}

/// The hub's own copy of a case.
fn at_hub(hub: &TestHub, id: CaseId) -> ledger_domain::Case {
    let (snapshot, tail) = hub.store().doc(id, DocKind::Case).unwrap().expect("the hub has it");
    let doc = ledger_hub::engine::check_doc(DocKind::Case, &snapshot, tail).unwrap();
    schema::read_case(&doc).unwrap()
}

/// A township imports its ledger and syncs: the hub accepts the case with its imported history
/// recorded as the township (the bureau's decisions left out). The bureau imports its own
/// ledger, with its decisions, and the hub accepts that too; each reaches the other office.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imported_ledgers_sync_through_the_hub_as_their_importer_recorded_them() {
    let today = "2024-06-01";
    let c = County::start(today).await.unwrap();

    let csv = c.a.dir.path().join("台账.csv");
    ledger_csv(
        &csv,
        &[
            ("登记日期", "2024-03-01"),
            ("答复日期", "2024-04-01"),
            ("办结日期", "2024-04-20"),
            ("信访形式", "来访"),
            ("信访来源", "本局接收"),
            ("问题类别", "纠纷调处"),
            ("涉及领域", "涉土"),
            ("所属乡镇", "黄桥镇"),
            ("信访人", "王五"),
            ("诉求内容", "宅基地界址纠纷"),
            ("办理状态", "办结"),
        ],
    );
    let report = c.a.office.import_csv(&csv, ImportOptions::default(), &mut |_| {}).unwrap();
    assert_eq!(report.cases, 1, "{report:?}");
    assert!(report.bureau_steps_left_out >= 2, "{report:?}");
    let township_case = c.a.office.list(&Default::default()).unwrap().rows[0].id;
    let synced = c.a.sync().await.unwrap();
    assert_eq!(synced.refused, 0, "{synced:?}");
    assert_eq!(c.a.office.store().outbox_len().unwrap(), 0, "every change acknowledged");
    assert!(c.a.office.quarantine().unwrap().is_empty());
    let case = at_hub(&c.hub, township_case);
    assert!(case.events.len() >= 2, "{:?}", case.events);
    assert!(case.events.iter().all(|e| e.imported), "{:?}", case.events);
    assert!(case.events.iter().all(|e| e.office == "hq" && e.role == Role::Township));
    assert!(case.events.iter().any(|e| e.action == ActionKind::Reply), "{:?}", case.events);
    assert!(case.events.iter().all(|e| e.action != ActionKind::Close));

    let csv = c.bureau.dir.path().join("台账.csv");
    ledger_csv(
        &csv,
        &[
            ("登记日期", "2024-03-02"),
            ("答复日期", "2024-04-02"),
            ("办结日期", "2024-04-22"),
            ("信访形式", "来信"),
            ("信访来源", "本局接收"),
            ("问题类别", "纠纷调处"),
            ("涉及领域", "涉土"),
            ("所属乡镇", "黄桥镇"),
            ("信访人", "赵六"),
            ("诉求内容", "承包地调整纠纷"),
            ("办理状态", "办结"),
        ],
    );
    let report = c.bureau.office.import_csv(&csv, ImportOptions::default(), &mut |_| {}).unwrap();
    assert_eq!(report.cases, 1, "{report:?}");
    let bureau_case = c
        .bureau
        .office
        .list(&Default::default())
        .unwrap()
        .rows
        .iter()
        .find(|r| r.id != township_case)
        .unwrap()
        .id;
    let synced = c.bureau.sync().await.unwrap();
    assert_eq!(synced.refused, 0, "{synced:?}");
    assert_eq!(c.bureau.office.store().outbox_len().unwrap(), 0);
    let case = at_hub(&c.hub, bureau_case);
    let imported: Vec<_> = case.events.iter().filter(|e| e.imported).collect();
    assert!(imported.iter().all(|e| e.office == "county" && e.role == Role::Bureau));
    for decision in [ActionKind::Assign, ActionKind::Close] {
        assert!(imported.iter().any(|e| e.action == decision), "{decision:?}: {imported:?}");
    }
    assert!(c.hub.store().quarantined(100).unwrap().is_empty(), "nothing refused at the hub");

    // Each reaches the other office as imported.
    c.a.sync().await.unwrap();
    c.bureau.sync().await.unwrap();
    let seen = c.a.office.case(bureau_case).unwrap();
    assert!(seen.events.iter().any(|e| e.imported && e.action == ActionKind::Close));
    let seen = c.bureau.office.case(township_case).unwrap();
    assert!(seen.events.iter().all(|e| e.imported && e.office == "hq"));
    let report = ledger_hub::check::check(c.hub.store().as_ref(), false, 0).unwrap();
    assert!(report.problems.is_empty(), "{report:?}");
}
